# Image and file I/O tests (host/image, host/io): decoding against Pillow,
# resizing and warping against PyTorch, Umeyama against numpy, landmarks
# files, npy files against numpy, CSV against Python's csv module.
add_test(NAME fixtures_image
  COMMAND ${XFIQ_PYTHON} ${XFIQ_TEST_DIR}/ref/image_ref.py ${XFIQ_FIXTURE_DIR}/image ${XFIQ_DATA_DIR})
set_tests_properties(fixtures_image PROPERTIES FIXTURES_SETUP image_ref SKIP_RETURN_CODE 77 LABELS image)
add_test(NAME fixtures_io
  COMMAND ${XFIQ_PYTHON} ${XFIQ_TEST_DIR}/ref/io_ref.py make ${XFIQ_FIXTURE_DIR}/io)
set_tests_properties(fixtures_io PROPERTIES FIXTURES_SETUP io_ref SKIP_RETURN_CODE 77 LABELS image)

xfiq_add_c_test(test_image ${XFIQ_TEST_DIR}/test_image.c FIXTURES image_ref LABELS image)
xfiq_add_c_test(test_io ${XFIQ_TEST_DIR}/test_io.c FIXTURES io_ref LABELS image)

# Real JPEGs (LFW) decoded exactly as Pillow does, and their embeddings
# against PyTorch on Pillow's pixels.
add_test(NAME fixtures_jpeg_real
  COMMAND ${XFIQ_PYTHON} ${XFIQ_TEST_DIR}/ref/jpeg_real_ref.py ${XFIQ_FIXTURE_DIR}/jpeg_real ${XFIQ_DATA_DIR}
          ${CMAKE_SOURCE_DIR}/models/.cache/fr_feature.onnx ${CMAKE_SOURCE_DIR}/models/faceplugin-mobilefacenet.card.json)
set_tests_properties(fixtures_jpeg_real PROPERTIES FIXTURES_SETUP jpeg_real SKIP_RETURN_CODE 77 LABELS image)
xfiq_add_c_test(test_decode_real ${XFIQ_TEST_DIR}/test_decode_real.c FIXTURES jpeg_real LABELS image)
