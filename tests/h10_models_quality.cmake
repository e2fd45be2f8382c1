# Relative PLQ maps on real faces (numpy reference, occlusion figures).
xfiq_add_c_test(test_plq_relative ${XFIQ_TEST_DIR}/test_plq_relative.c LABELS "quality;real")
set_tests_properties(test_plq_relative PROPERTIES TIMEOUT 1200)
# Models known by sha256, card integrity, the uncalibrated warning and column.
xfiq_add_c_test(test_card_known ${XFIQ_TEST_DIR}/test_card_known.c LABELS "engine")
