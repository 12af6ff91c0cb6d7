# Runs one libFuzzer target for SECONDS, starting from the kept corpus CORPUS. New inputs go to a
# scratch directory (the repo's corpus is read, never written) that is always removed; a crashing
# input is first copied to OUT (the build directory) so it can be replayed and added to the corpus.
string(MD5 tag "${FUZZER}")
set(scratch "$ENV{TMPDIR}")
if(NOT scratch)
  set(scratch "/tmp")
endif()
set(scratch "${scratch}/raftkit-fuzz-${tag}")
file(REMOVE_RECURSE "${scratch}")
file(MAKE_DIRECTORY "${scratch}/corpus" "${scratch}/artifacts")
execute_process(
  COMMAND "${FUZZER}" -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048
          -artifact_prefix=${scratch}/artifacts/ -print_final_stats=1
          "${scratch}/corpus" "${CORPUS}"
  RESULT_VARIABLE rc)
file(GLOB crashes "${scratch}/artifacts/*")
if(crashes)
  file(COPY ${crashes} DESTINATION "${OUT}")
endif()
file(REMOVE_RECURSE "${scratch}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "fuzzer ${FUZZER} failed (exit ${rc}); reproducer(s) copied to ${OUT}")
endif()
message(STATUS "fuzzer ${FUZZER}: ${SECONDS} s without a crash")
