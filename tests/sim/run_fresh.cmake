# Runs raftkit-sim on fresh seeds derived from the current commit, so that every CI run explores
# new schedules while any failure stays reproducible from the printed seed range.
#   cmake -DSIM=<raftkit-sim> -DSOURCE_DIR=<repo> -DSEEDS=<n> -DNODES=<3|5|7> -P run_fresh.cmake
execute_process(COMMAND git rev-parse HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE git_rc ERROR_QUIET)
if(NOT git_rc EQUAL 0 OR commit STREQUAL "")
  set(commit "no-git")
endif()
message("sim: fresh seeds derived from commit ${commit} (nodes ${NODES})")
execute_process(COMMAND ${SIM} --seeds ${SEEDS} --nodes ${NODES}
                        --seed-start-from "${commit}-${NODES}"
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "raftkit-sim reported violations (exit ${rc})")
endif()
