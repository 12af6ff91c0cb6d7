# Helpers that give every raftkit target the same warnings, sanitizers and include layout.

set(RAFTKIT_WARNINGS
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
    -Wimplicit-fallthrough -Wcast-qual -Wmissing-declarations)
if(RAFTKIT_WERROR)
  list(APPEND RAFTKIT_WARNINGS -Werror)
endif()

if(RAFTKIT_SANITIZE)
  add_compile_options(-fsanitize=${RAFTKIT_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${RAFTKIT_SANITIZE})
endif()
# Fuzzing: every library gets coverage instrumentation; the fuzz targets add the libFuzzer main.
if(RAFTKIT_FUZZ)
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# raftkit_library(<name> [PUBLIC_DEPS ...] [PRIVATE_DEPS ...] SOURCES ...)
# A static library for one layer. Public headers live in include/raftkit/<layer>/, private ones
# next to the sources.
function(raftkit_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/include
                                     PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(${name} PRIVATE ${RAFTKIT_WARNINGS})
  target_link_libraries(${name} PUBLIC ${ARG_PUBLIC_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()

# raftkit_test(<name> LABELS <label...> SOURCES ... [DEPS ...] [TIMEOUT s])
# One GoogleTest binary; every TEST becomes a ctest test carrying the given labels.
function(raftkit_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src ${PROJECT_SOURCE_DIR}/tests)
  target_compile_options(${name} PRIVATE ${RAFTKIT_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  # gtest_discover_tests' PROPERTIES cannot carry list values (several labels, several
  # environment variables): they would be split into separate property arguments. So the
  # properties are set by a script ctest runs after discovery, over the discovered test list.
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST TEST_LIST ${name}_TESTS)
  set(props "${CMAKE_CURRENT_BINARY_DIR}/${name}_props.cmake")
  file(WRITE "${props}"
    "foreach(t IN LISTS ${name}_TESTS)\n"
    "  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"${ARG_LABELS}\" TIMEOUT ${ARG_TIMEOUT}\n"
    "    ENVIRONMENT \"RAFTKIT_BUDGET=${RAFTKIT_BUDGET};RAFTKIT_SOURCE_DIR=${PROJECT_SOURCE_DIR}\")\n"
    "endforeach()\n")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES "${props}")
endfunction()
