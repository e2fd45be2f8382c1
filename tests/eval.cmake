# eval.cmake - tests of the evaluation suite (QMagFace, metrics, readers,
# EDC, the eval/edc/qmagface-train commands). Included by tests/CMakeLists.txt.
set(XFIQ_EVAL_CLI_SOURCES
    ${CMAKE_SOURCE_DIR}/host/cli/cmd_eval.c
    ${CMAKE_SOURCE_DIR}/host/cli/cmd_edc.c
    ${CMAKE_SOURCE_DIR}/host/cli/cmd_qmagface.c
    ${CMAKE_SOURCE_DIR}/host/cli/ranks.c ${CMAKE_SOURCE_DIR}/host/cli/mpi_job.c ${CMAKE_SOURCE_DIR}/host/cli/cmd_merge.c)

xfiq_add_c_test(test_eval_ref ${XFIQ_TEST_DIR}/eval/test_eval_ref.c LABELS eval)
xfiq_add_c_test(test_eval_qmag ${XFIQ_TEST_DIR}/eval/test_eval_qmag.c LABELS eval)
xfiq_add_c_test(test_roc_part ${XFIQ_TEST_DIR}/eval/test_roc_part.c LABELS eval mpi)
xfiq_add_c_test(test_eval_pickle ${XFIQ_TEST_DIR}/eval/test_eval_pickle.c LABELS eval)
xfiq_add_c_test(test_eval_readers ${XFIQ_TEST_DIR}/eval/test_eval_readers.c LABELS eval)
xfiq_add_c_test(test_lfw_header ${XFIQ_TEST_DIR}/eval/test_lfw_header.c LABELS eval realdata)
xfiq_add_c_test(test_eval_realdata ${XFIQ_TEST_DIR}/eval/test_eval_realdata.c LABELS eval realdata)
# The command-line tests link the three commands (and the CLI helpers they
# use) directly, so they do not depend on the rest of the xfiq program.
xfiq_add_c_test(test_eval_cli ${XFIQ_TEST_DIR}/eval/test_eval_cli.c ${XFIQ_EVAL_CLI_SOURCES}
                ${CMAKE_SOURCE_DIR}/host/cli/common.c ${CMAKE_SOURCE_DIR}/host/cli/all_faces.c ${CMAKE_SOURCE_DIR}/host/cli/ckpt.c ${CMAKE_SOURCE_DIR}/host/cli/progress.c LABELS eval)
target_compile_definitions(test_eval_cli PRIVATE XFIQ_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
# Real faces through the default model (minutes on two cores; skips without
# the data or the model): ctest -L model.
xfiq_add_c_test(test_eval_lfw_model ${XFIQ_TEST_DIR}/eval/test_eval_lfw_model.c ${XFIQ_EVAL_CLI_SOURCES}
                ${CMAKE_SOURCE_DIR}/host/cli/common.c ${CMAKE_SOURCE_DIR}/host/cli/all_faces.c ${CMAKE_SOURCE_DIR}/host/cli/ckpt.c ${CMAKE_SOURCE_DIR}/host/cli/progress.c
                LABELS eval realdata model)
target_compile_definitions(test_eval_lfw_model PRIVATE XFIQ_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
set_tests_properties(test_eval_lfw_model PROPERTIES TIMEOUT 1800)
