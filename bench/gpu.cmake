# Whole-model GPU throughput (embed / SER-FIQ / PLQ per precision) through the
# public API (never run by ctest directly; bench/gpu_check.sh runs it on a
# lent GPU machine, and in --dry-run on the CPU backend). Built in every
# configuration: without the CUDA backend it still runs with --backend cpu.
add_executable(bench_gpu ${CMAKE_CURRENT_SOURCE_DIR}/bench_gpu.c)
target_link_libraries(bench_gpu PRIVATE xfiq ${CMAKE_DL_LIBS})
if(XFIQ_HAVE_CUDA)
  # xfiq_cudnn_dump_device_json is referenced weakly (it may not exist yet):
  # a weak reference does not pull an archive member, so the CUDA archive is
  # linked whole and a definition, where there is one, is found.
  target_link_options(bench_gpu PRIVATE
    "LINKER:--whole-archive" "$<TARGET_FILE:xfiq_cuda>" "LINKER:--no-whole-archive")
  add_dependencies(bench_gpu xfiq_cuda)
endif()
