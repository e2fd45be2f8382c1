# Relative PLQ maps on real faces (numpy reference, occlusion figures).
xfiq_add_c_test(test_plq_relative ${XFIQ_TEST_DIR}/test_plq_relative.c LABELS "quality;real")
set_tests_properties(test_plq_relative PROPERTIES TIMEOUT 1200)
# Models known by sha256, card integrity, the uncalibrated warning and column.
xfiq_add_c_test(test_card_known ${XFIQ_TEST_DIR}/test_card_known.c LABELS "engine")
# Packaging tests: the installed library linked by a C program, and the
# Python package loading libxfiq.so. Not in a sanitizer build: its libraries
# need the sanitizer runtimes, which neither an outside C program nor Python
# load (the normal suite of tools/test.sh runs both).
if(NOT XFIQ_SANITIZE)
# cmake --install into a temporary prefix, then a C program built against it
# with pkg-config and with find_package(xfiq), shared and static.
add_test(NAME install_consumer COMMAND bash ${XFIQ_TEST_DIR}/install/install_test.sh ${CMAKE_BINARY_DIR} ${CMAKE_SOURCE_DIR})
set_tests_properties(install_consumer PROPERTIES LABELS install TIMEOUT 600
  ENVIRONMENT "XFIQ_DATA_DIR=${XFIQ_DATA_DIR}")
# The Python package (python/): installed offline into a venv, compared with the CLI and numpy.
add_test(NAME python_package COMMAND bash ${XFIQ_TEST_DIR}/python/run_python_test.sh ${CMAKE_BINARY_DIR}
         ${CMAKE_SOURCE_DIR} ${XFIQ_DATA_DIR} ${XFIQ_PYTHON})
set_tests_properties(python_package PROPERTIES LABELS python SKIP_RETURN_CODE 77 TIMEOUT 900)
endif()
