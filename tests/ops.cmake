# CPU ops: fast paths against the reference loops (shapes, activations,
# bitwise reproducibility across batch sizes and thread counts), and against
# PyTorch in float64 (skips when /usr/bin/python3 or torch is missing).
xfiq_add_c_test(test_ops ${XFIQ_TEST_DIR}/test_ops.c LABELS unit)
set_tests_properties(test_ops PROPERTIES TIMEOUT 300)
xfiq_add_c_test(test_ops_torch ${XFIQ_TEST_DIR}/test_ops_torch.c LABELS unit)
set_tests_properties(test_ops_torch PROPERTIES TIMEOUT 300)
