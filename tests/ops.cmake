# CPU ops: fast paths against the reference loops (shapes, activations,
# bitwise reproducibility across batch sizes and thread counts), and against
# PyTorch in float64 (skips when /usr/bin/python3 or torch is missing).
# Passive OpenMP waiting: the tests run many tiny multi-threaded calls, which
# spin-waiting threads slow down a hundredfold on a loaded 2-core machine.
xfiq_add_c_test(test_ops ${XFIQ_TEST_DIR}/test_ops.c LABELS unit)
xfiq_add_c_test(test_ops_torch ${XFIQ_TEST_DIR}/test_ops_torch.c LABELS unit)
foreach(t test_ops test_ops_torch)
  set_tests_properties(${t} PROPERTIES TIMEOUT 300)
  set_property(TEST ${t} APPEND PROPERTY ENVIRONMENT "OMP_WAIT_POLICY=passive")
endforeach()
# float32 <-> bfloat16 / float16 roundings (ops/elem_half.h) against numpy and PyTorch.
xfiq_add_c_test(test_half ${XFIQ_TEST_DIR}/test_half.c LABELS unit)
