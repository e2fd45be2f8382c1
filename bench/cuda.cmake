# CUDA op throughput (never run by ctest; bench/gpu_check.sh runs it on a GPU
# machine). Built in every configuration: without CUDA it prints SKIPPED.
add_executable(bench_cuda ${CMAKE_CURRENT_SOURCE_DIR}/bench_cuda.c)
target_link_libraries(bench_cuda PRIVATE xfiq)
