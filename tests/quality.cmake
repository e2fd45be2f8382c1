# Quality building blocks (host/quality): Philox masks, SER-FIQ statistics,
# PLQ map and regression seeds, colour map and PNG pictures.
xfiq_add_c_test(test_philox ${XFIQ_TEST_DIR}/test_philox.c LABELS quality)
xfiq_add_c_test(test_serfiq_math ${XFIQ_TEST_DIR}/test_serfiq_math.c LABELS quality)
xfiq_add_c_test(test_png ${XFIQ_TEST_DIR}/test_png.c LABELS quality)
