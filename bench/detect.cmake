# Detection + landmarks + alignment of one photo (--detect's path), never run by
# ctest: bench/run_detect_bench.sh runs it against ONNX Runtime on the same two networks.
add_executable(bench_detect ${CMAKE_CURRENT_SOURCE_DIR}/bench_detect.c)
target_link_libraries(bench_detect PRIVATE xfiq)
