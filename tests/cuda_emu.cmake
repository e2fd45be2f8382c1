# The CUDA backend verified without a GPU (SPEC 11): its .cu files compiled
# as host C++20 against cuda/emu/ (a kernel emulator and a cuBLAS shim over
# OpenBLAS), built with ASan + UBSan, and compared with the CPU ops. They
# need neither nvcc nor a device, so they run in every build.
#  test_cuda_emu    every custom kernel through its launcher (cuda/emu/cuda_emu.h)
#  test_cublas_shim every cuBLAS call's transposes and leading dimensions
set(XFIQ_EMU_DIR ${CMAKE_CURRENT_BINARY_DIR}/emu)
file(MAKE_DIRECTORY ${XFIQ_EMU_DIR})
# g++ takes .cu files for linker input: each is compiled through a .cc that includes it.
function(xfiq_emu_sources out)
  set(srcs)
  foreach(name ${ARGN})
    set(cc ${XFIQ_EMU_DIR}/${name}.cc)
    file(CONFIGURE OUTPUT ${cc} CONTENT "#include \"${CMAKE_SOURCE_DIR}/cuda/${name}.cu\"\n")
    list(APPEND srcs ${cc})
  endforeach()
  set(${out} ${srcs} PARENT_SCOPE)
endfunction()

function(xfiq_add_emu_test name)
  cmake_parse_arguments(T "" "" "CUDA;HOST" ${ARGN})
  xfiq_emu_sources(cu ${T_CUDA})
  set(host)
  foreach(h ${T_HOST})
    list(APPEND host ${CMAKE_SOURCE_DIR}/host/${h})
  endforeach()
  add_executable(${name} ${T_UNPARSED_ARGUMENTS} ${cu} ${host})
  set_target_properties(${name} PROPERTIES CXX_STANDARD 20 CXX_STANDARD_REQUIRED ON)
  target_compile_definitions(${name} PRIVATE XFIQ_CUDA_EMU=1)
  # The emulation headers come before any real CUDA header.
  target_include_directories(${name} BEFORE PRIVATE ${CMAKE_SOURCE_DIR}/cuda/emu/include)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/cuda ${CMAKE_SOURCE_DIR}/host
                             ${CMAKE_SOURCE_DIR}/include ${XFIQ_TEST_DIR})
  # No FMA contraction, like the device code (--fmad=false); sanitizers always.
  target_compile_options(${name} PRIVATE $<$<COMPILE_LANGUAGE:CXX>:-ffp-contract=off -Wall -Wextra>
                         -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(${name} PRIVATE -fsanitize=address,undefined)
  target_link_libraries(${name} PRIVATE PkgConfig::OPENBLAS OpenMP::OpenMP_C Threads::Threads m)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "unit;emu" TIMEOUT 600
    ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=0;UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1")
endfunction()

xfiq_add_emu_test(test_cuda_emu ${XFIQ_TEST_DIR}/test_cuda_emu.cc
  CUDA ops_elementwise ops_bwd ops_layout quality scores cublas_gemm launch
  HOST core/status.c ops/elementwise_cpu.c ops/elementwise_bwd.c ops/layout_cpu.c quality/serfiq.c
       quality/plq_regress.c quality/plq_map.c backend/backend_cpu_quality.c backend/layout_geometry.c eval/score.c)
xfiq_add_emu_test(test_cublas_shim ${XFIQ_TEST_DIR}/test_cublas_shim.cc
  CUDA cublas_gemm ops_elementwise launch
  HOST core/status.c ops/conv_ref.c ops/conv_bwd_ref.c)
