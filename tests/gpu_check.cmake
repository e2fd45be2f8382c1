# The dry run of the prepared GPU-machine script (bench/gpu_check.sh
# --dry-run): assembles the bundle from this build (GPU tests found by label),
# runs every step without a GPU (GPU tests must say SKIPPED, bench_gpu and the
# PyTorch peer on the CPU at batch 2), formats the table, appends it to a
# temporary copy of bench/RESULTS.md and checks the bundle size. About a
# minute; skipped (77) when the default model or the sample faces are absent.
if(XFIQ_BUILD_BENCH)
  add_test(NAME gpu_check_dry_run
    COMMAND bash ${CMAKE_SOURCE_DIR}/bench/gpu_check.sh --dry-run --build-dir ${CMAKE_BINARY_DIR}
            --out ${CMAKE_BINARY_DIR}/gpu-check-dry)
  set_tests_properties(gpu_check_dry_run PROPERTIES LABELS bench TIMEOUT 300 SKIP_RETURN_CODE 77
    FIXTURES_REQUIRED golden ENVIRONMENT "XFIQ_GPU_PYTHON=${XFIQ_PYTHON}")
endif()
