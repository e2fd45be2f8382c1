# Engine tests: ONNX import, graph passes, forward against PyTorch, errors.
add_test(NAME fixtures_golden
  COMMAND ${XFIQ_PYTHON} ${XFIQ_TEST_DIR}/ref/make_golden.py ${XFIQ_FIXTURE_DIR}/golden)
set_tests_properties(fixtures_golden PROPERTIES FIXTURES_SETUP golden)
add_test(NAME fixtures_bad_models
  COMMAND ${XFIQ_PYTHON} ${XFIQ_TEST_DIR}/ref/make_bad_models.py ${XFIQ_FIXTURE_DIR}/bad_models)
set_tests_properties(fixtures_bad_models PROPERTIES FIXTURES_SETUP bad_models)

xfiq_add_c_test(test_engine_golden ${XFIQ_TEST_DIR}/test_engine_golden.c FIXTURES golden)
xfiq_add_c_test(test_onnx_errors ${XFIQ_TEST_DIR}/test_onnx_errors.c FIXTURES bad_models)
xfiq_add_c_test(test_default_model ${XFIQ_TEST_DIR}/test_default_model.c)
xfiq_add_c_test(test_plan ${XFIQ_TEST_DIR}/test_plan.c FIXTURES golden)

# iResNet-100 with random weights: export once, run at batch 32.
add_test(NAME fixtures_iresnet100
  COMMAND ${XFIQ_PYTHON} ${XFIQ_TEST_DIR}/ref/make_iresnet100.py ${XFIQ_FIXTURE_DIR}/iresnet100)
set_tests_properties(fixtures_iresnet100 PROPERTIES FIXTURES_SETUP iresnet100 TIMEOUT 900)
xfiq_add_c_test(test_iresnet100 ${XFIQ_TEST_DIR}/test_iresnet100.c FIXTURES iresnet100 LABELS slow)
set_tests_properties(test_iresnet100 PROPERTIES TIMEOUT 900)

# Detection + landmarks (--detect) on real faces: LFW 5-point error, ORL and MagFace toy photos all found.
xfiq_add_c_test(test_detect_real ${XFIQ_TEST_DIR}/test_detect_real.c)
set_tests_properties(test_detect_real PROPERTIES TIMEOUT 600)
# Both --detect networks against an independent PyTorch run of their ONNX graphs.
xfiq_add_c_test(test_detect_golden ${XFIQ_TEST_DIR}/test_detect_golden.c)
