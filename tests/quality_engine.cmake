# SER-FIQ / PLQ through the engine: golden against PyTorch autograd, real-face behaviour, CLI determinism.
xfiq_add_c_test(test_quality_golden ${XFIQ_TEST_DIR}/test_quality_golden.c FIXTURES golden)
xfiq_add_c_test(test_quality_real ${XFIQ_TEST_DIR}/test_quality_real.c LABELS "slow;real")
set_tests_properties(test_quality_real PROPERTIES TIMEOUT 1200)
