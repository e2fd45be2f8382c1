# Backward-data ops (host/ops/ops_bwd_cpu.h): fast vs reference, adjoint
# identities, central differences, accumulate, reproducibility; and the same
# binary against PyTorch autograd in float64 (skips without torch).
xfiq_add_c_test(test_ops_bwd ${XFIQ_TEST_DIR}/test_ops_bwd.c LABELS ops)
target_compile_definitions(test_ops_bwd PRIVATE XFIQ_SOURCE_DIR_DEFAULT="${CMAKE_SOURCE_DIR}")
add_test(NAME test_ops_bwd_torch COMMAND test_ops_bwd --torch)
set_tests_properties(test_ops_bwd_torch PROPERTIES SKIP_RETURN_CODE 77 LABELS ops
  ENVIRONMENT "XFIQ_SOURCE_DIR=${CMAKE_SOURCE_DIR};XFIQ_PYTHON=${XFIQ_PYTHON}")
