# EDC in both conventions (SPEC 12) against numpy.
xfiq_add_c_test(test_edc_conventions ${XFIQ_TEST_DIR}/eval/test_edc_conventions.c LABELS eval)
