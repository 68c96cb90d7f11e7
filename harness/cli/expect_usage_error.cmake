# Runs ${EXE} ${ARGS} and checks that it exits with 2 and prints exactly one line on stderr
# (matching ${EXPECT} when given).
execute_process(COMMAND ${EXE} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err
                TIMEOUT 50)
string(STRIP "${err}" stripped)
string(REGEX MATCHALL "\n" newlines "${stripped}")
list(LENGTH newlines extra_lines)
if(NOT rc STREQUAL "2")
  message(FATAL_ERROR "expected exit code 2, got '${rc}'\nstderr: ${err}\nstdout: ${out}")
endif()
if(stripped STREQUAL "" OR NOT extra_lines EQUAL 0)
  message(FATAL_ERROR "expected one line on stderr, got:\n${err}")
endif()
if(DEFINED EXPECT AND NOT stripped MATCHES "${EXPECT}")
  message(FATAL_ERROR "the line does not match '${EXPECT}':\n${stripped}")
endif()
message(STATUS "exit 2: ${stripped}")
