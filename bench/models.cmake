# Whole-model throughput of embed / SER-FIQ / PLQ through the public API (never
# run by ctest): build-dir/bench/bench_models --mode embed --model M.onnx ...;
# bench/run_cpu_bench.sh runs it against the PyTorch and ONNX Runtime peers.
add_executable(bench_models ${CMAKE_CURRENT_SOURCE_DIR}/bench_models.c)
target_link_libraries(bench_models PRIVATE xfiq)
