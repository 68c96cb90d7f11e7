# Runs ${EXE} ${ARGS}; checks the exit code is ${CODE} and stdout+stderr match ${REGEX}.
execute_process(COMMAND ${EXE} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 250)
if(NOT rc STREQUAL "${CODE}")
  message(FATAL_ERROR "expected exit code ${CODE}, got '${rc}'\nstdout: ${out}\nstderr: ${err}")
endif()
if(NOT "${out}${err}" MATCHES "${REGEX}")
  message(FATAL_ERROR "output does not match '${REGEX}':\nstdout: ${out}\nstderr: ${err}")
endif()
message(STATUS "exit ${rc}, matched '${REGEX}'")
