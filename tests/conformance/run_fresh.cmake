# Runs the differential oracle on fresh random scripts whose seed range derives from the current
# commit, so that every CI run explores new scripts; a divergence prints the seed and is saved.
#   cmake -DTOOL=... -DORACLE=... -DSOURCE_DIR=... -DSEEDS=n -DCOMMANDS=n -DSAVE_DIR=... -P run_fresh.cmake
execute_process(COMMAND git rev-parse HEAD WORKING_DIRECTORY ${SOURCE_DIR}
                OUTPUT_VARIABLE commit OUTPUT_STRIP_TRAILING_WHITESPACE
                RESULT_VARIABLE git_rc ERROR_QUIET)
if(NOT git_rc EQUAL 0 OR commit STREQUAL "")
  set(commit "no-git")
endif()
message("conformance: fresh scripts derived from commit ${commit} (${COMMANDS} commands)")
execute_process(COMMAND ${TOOL} diff --oracle ${ORACLE} --seeds ${SEEDS} --commands ${COMMANDS}
                        --seed-start-from "${commit}-${COMMANDS}" --save-dir ${SAVE_DIR}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "raftkit diverged from etcd (exit ${rc}); scripts saved in ${SAVE_DIR}")
endif()
