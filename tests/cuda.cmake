# CUDA backend tests (label gpu) and the per-element formulas both backends
# share. test_cuda_ops is registered in every build: without the CUDA backend
# or without a device it reports "SKIPPED: no CUDA device (...)" (exit 77).
xfiq_add_c_test(test_elem ${XFIQ_TEST_DIR}/test_elem.c LABELS unit)
xfiq_add_c_test(test_cuda_ops ${XFIQ_TEST_DIR}/test_cuda_ops.c LABELS gpu)
set_tests_properties(test_cuda_ops PROPERTIES TIMEOUT 300)
# Whole pipelines (embed, SER-FIQ, PLQ, masks, pools) on the GPU against the CPU.
xfiq_add_c_test(test_cuda_pipeline ${XFIQ_TEST_DIR}/test_cuda_pipeline.c FIXTURES golden LABELS gpu)
set_tests_properties(test_cuda_pipeline PROPERTIES TIMEOUT 600)
# The --detect networks on the GPU against the CPU (raw outputs, then faces).
xfiq_add_c_test(test_cuda_detect ${XFIQ_TEST_DIR}/test_cuda_detect.c LABELS gpu)
set_tests_properties(test_cuda_detect PROPERTIES TIMEOUT 300)
