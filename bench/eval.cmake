# Evaluation-suite throughput against the numpy/scikit-learn reference (never
# run by ctest): build-dir/bench/bench_eval [--quick]. Runs bench_eval_peer.py.
add_executable(bench_eval ${CMAKE_CURRENT_SOURCE_DIR}/bench_eval.c)
target_link_libraries(bench_eval PRIVATE xfiq)
target_compile_definitions(bench_eval PRIVATE XFIQ_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
                           XFIQ_PYTHON="${XFIQ_PYTHON}")
