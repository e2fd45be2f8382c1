# Quality building blocks (host/quality): Philox masks, SER-FIQ statistics,
# PLQ map and regression seeds, colour map and PNG pictures.
xfiq_add_c_test(test_philox ${XFIQ_TEST_DIR}/test_philox.c LABELS quality)
xfiq_add_c_test(test_serfiq_math ${XFIQ_TEST_DIR}/test_serfiq_math.c LABELS quality)
xfiq_add_c_test(test_png ${XFIQ_TEST_DIR}/test_png.c LABELS quality)
# Where the reference scripts are when the tests run outside ctest.
foreach(t test_serfiq_math test_png)
  target_compile_definitions(${t} PRIVATE XFIQ_SOURCE_DIR_DEFAULT="${CMAKE_SOURCE_DIR}")
endforeach()
