# Command-line behaviour: determinism across batch size and threads, bad inputs.
foreach(t determinism bad_inputs hostile resume diskfull detect_cli)
  add_test(NAME cli_${t} COMMAND bash ${XFIQ_TEST_DIR}/cli/${t}.sh)
  set_tests_properties(cli_${t} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1800 LABELS cli
    ENVIRONMENT "XFIQ_BIN=$<TARGET_FILE:xfiq_cli>;XFIQ_SOURCE_DIR=${CMAKE_SOURCE_DIR};XFIQ_DATA_DIR=${XFIQ_DATA_DIR}")
endforeach()

# --detect end to end: LFW re-cropped off centre loses at most 0.5 accuracy points.
add_test(NAME cli_detect_offcentre COMMAND bash ${XFIQ_TEST_DIR}/cli/detect_offcentre.sh)
set_tests_properties(cli_detect_offcentre PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1800 LABELS cli
  ENVIRONMENT "XFIQ_BIN=$<TARGET_FILE:xfiq_cli>;XFIQ_SOURCE_DIR=${CMAKE_SOURCE_DIR};XFIQ_DATA_DIR=${XFIQ_DATA_DIR}")
