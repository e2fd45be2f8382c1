# Relative PLQ maps on real faces (numpy reference, occlusion figures).
xfiq_add_c_test(test_plq_relative ${XFIQ_TEST_DIR}/test_plq_relative.c LABELS "quality;real")
set_tests_properties(test_plq_relative PROPERTIES TIMEOUT 1200)
