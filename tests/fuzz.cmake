# Fuzz targets: tests/fuzz/fuzz_<name>.c, seed corpora tests/fuzz/corpus/<name>/,
# hostile regression inputs tests/fuzz/hostile/<name>/.
#  - XFIQ_FUZZ=ON (clang): libFuzzer binaries fuzz_<name> with ASan + UBSan
#    (tools/fuzz.sh runs them).
#  - every other build: each target is linked with a replay driver and ctest
#    feeds it every seed and hostile file once (fuzz_replay_<name>).
set(XFIQ_FUZZ_DIR ${CMAKE_SOURCE_DIR}/tests/fuzz)
file(GLOB XFIQ_FUZZ_TARGETS CONFIGURE_DEPENDS ${XFIQ_FUZZ_DIR}/fuzz_*.c)
foreach(src ${XFIQ_FUZZ_TARGETS})
  get_filename_component(base ${src} NAME_WE)
  string(REGEX REPLACE "^fuzz_" "" name ${base})
  if(XFIQ_FUZZ)
    add_executable(${base} ${src})
    target_link_libraries(${base} PRIVATE xfiq)
    target_include_directories(${base} PRIVATE ${XFIQ_FUZZ_DIR})
    target_compile_options(${base} PRIVATE -fsanitize=fuzzer)
    target_link_options(${base} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(fuzz_replay_${name} ${src} ${XFIQ_FUZZ_DIR}/replay_main.c)
    target_link_libraries(fuzz_replay_${name} PRIVATE xfiq)
    target_include_directories(fuzz_replay_${name} PRIVATE ${XFIQ_FUZZ_DIR})
    set(dirs)
    foreach(d corpus hostile)
      if(EXISTS ${XFIQ_FUZZ_DIR}/${d}/${name})
        list(APPEND dirs ${XFIQ_FUZZ_DIR}/${d}/${name})
      endif()
    endforeach()
    add_test(NAME fuzz_replay_${name} COMMAND fuzz_replay_${name} ${dirs})
    set_tests_properties(fuzz_replay_${name} PROPERTIES LABELS fuzz TIMEOUT 600)
  endif()
endforeach()
