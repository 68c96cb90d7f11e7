# cmake -DBIN=<test_properties> -DFILTER=<suite.Property> -DBACKEND=<mutant:name> -P expect_caught.cmake
#
# Passes when the property catches the broken backend:
#   1. `BIN --gtest_filter=FILTER` with MPCONFORM_BACKEND=BACKEND exits non-zero,
#   2. its message names the backend and the verdict, prints the seed, and prints the replay
#      command with the backend, RC_PARAMS="reproduce=...", the binary and the filter,
#   3. running that replay command fails again.
# Shrinking is kept short (MPCONFORM_SHRINK_SECONDS, default 3 here) so the check stays quick.
foreach(var BIN FILTER BACKEND)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "expect_caught.cmake: -D${var}=... is required")
  endif()
endforeach()
if(NOT DEFINED ENV{MPCONFORM_SHRINK_SECONDS})
  set(ENV{MPCONFORM_SHRINK_SECONDS} 3)
endif()
set(ENV{MPCONFORM_BACKEND} "${BACKEND}")

string(TIMESTAMP t0 "%s")
execute_process(COMMAND "${BIN}" "--gtest_filter=${FILTER}"
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(TIMESTAMP t1 "%s")
message("${out}${err}")
math(EXPR secs "${t1} - ${t0}")

if(rc EQUAL 0)
  message(FATAL_ERROR "${BACKEND} SURVIVED ${FILTER}: the property passed (${secs} s)")
endif()
string(REPLACE "." "\\." filter_re "${FILTER}")
set(checks
  "backend ${BACKEND}: (fail|crash|hang|error)"
  "\nseed: [0-9]+ "
  "\nreplay: [^\n]*MPCONFORM_BACKEND='${BACKEND}' [^\n]*RC_PARAMS=\"reproduce=[^\"]+\" [^ \n]*/test_properties --gtest_filter=${filter_re}\n")
foreach(re ${checks})
  if(NOT out MATCHES "${re}")
    message(FATAL_ERROR "${BACKEND} on ${FILTER}: the output lacks /${re}/")
  endif()
endforeach()

# The replay command, as printed, must fail again.
string(REGEX MATCH "\nreplay: ([^\n]*)\n" line "${out}")
set(replay "${CMAKE_MATCH_1}")
execute_process(COMMAND sh -c "${replay}" RESULT_VARIABLE rc2 OUTPUT_VARIABLE out2 ERROR_VARIABLE err2)
if(rc2 EQUAL 0)
  message(FATAL_ERROR "${BACKEND} on ${FILTER}: the replay command passed:\n${replay}\n${out2}${err2}")
endif()
message("${BACKEND} caught by ${FILTER} in about ${secs} s; the replay command fails again")
