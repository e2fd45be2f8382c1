# Convolution backward-data vs forward throughput on MobileFaceNet and
# iResNet-50 layer shapes (never run by ctest): build-dir/bench/bench_ops_bwd.
add_executable(bench_ops_bwd ${CMAKE_CURRENT_SOURCE_DIR}/bench_ops_bwd.c)
target_link_libraries(bench_ops_bwd PRIVATE xfiq)
