# cuDNN planner tests (cuda/cudnn_conv.cu, cuda/cudnn_tune.cu).
# test_cudnn_deviceless (label unit): every conv of the test models and of
# iResNet-18/50/100, forward and backward-data, planned from the committed H100
# description with no GPU. iResNet-100 comes from the iresnet100 fixture
# (engine.cmake); 18 and 50 are exported here once (random weights, about half
# a minute and a minute; written under a temporary name, then renamed).
# test_cuda_conv_bwd (label gpu): backward-data on a device, else SKIPPED.
if(XFIQ_HAVE_CUDA)
  foreach(depth 18 50)
    set(out ${XFIQ_FIXTURE_DIR}/cudnn/iresnet${depth}.onnx)
    add_test(NAME fixtures_cudnn_iresnet${depth}
      COMMAND sh -c "test -s '${out}' || { mkdir -p '${XFIQ_FIXTURE_DIR}/cudnn' && '${XFIQ_PYTHON}' '${CMAKE_SOURCE_DIR}/models/export_iresnet.py' --depth ${depth} --seed ${depth} --out '${out}.tmp.onnx' && mv '${out}.tmp.onnx' '${out}'; }")
    set_tests_properties(fixtures_cudnn_iresnet${depth} PROPERTIES FIXTURES_SETUP cudnn_iresnet TIMEOUT 900)
  endforeach()
  xfiq_add_c_test(test_cudnn_deviceless ${XFIQ_TEST_DIR}/test_cudnn_deviceless.c LABELS unit
    FIXTURES "golden;iresnet100;cudnn_iresnet")
  set_tests_properties(test_cudnn_deviceless PROPERTIES TIMEOUT 900)
endif()
xfiq_add_c_test(test_cuda_conv_bwd ${XFIQ_TEST_DIR}/test_cuda_conv_bwd.c LABELS gpu)
set_tests_properties(test_cuda_conv_bwd PROPERTIES TIMEOUT 300)
