# mpi.cmake - the commands under mpirun (registered only when xfiq is built
# with MPI: -DXFIQ_MPI=AUTO finds it, or ON).
if(XFIQ_HAVE_MPI)
  add_test(NAME cli_mpi COMMAND bash ${XFIQ_TEST_DIR}/cli/mpi.sh commands)
  add_test(NAME cli_mpi_allvsall COMMAND bash ${XFIQ_TEST_DIR}/cli/mpi.sh allvsall)
  set_tests_properties(cli_mpi cli_mpi_allvsall PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 1800 LABELS "cli;mpi;realdata"
    ENVIRONMENT "XFIQ_BIN=$<TARGET_FILE:xfiq_cli>;XFIQ_SOURCE_DIR=${CMAKE_SOURCE_DIR};XFIQ_DATA_DIR=${XFIQ_DATA_DIR}")
endif()
