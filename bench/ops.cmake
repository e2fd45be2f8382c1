# CPU conv/gemm throughput on the face-network layer shapes (never run by
# ctest): build/bench/bench_ops [threads] [reps].
add_executable(bench_ops ${CMAKE_CURRENT_SOURCE_DIR}/bench_ops.c)
target_link_libraries(bench_ops PRIVATE xfiq)
