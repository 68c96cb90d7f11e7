# mpconform_add_gtest(<target> SOURCES ... [LIBS ...] [TIMEOUT seconds] [LABELS ...])
# A GoogleTest (optionally RapidCheck) executable whose tests are registered with ctest
# one by one. Every test gets a ctest TIMEOUT, so ctest can never hang, even when a test's
# own watchdog fails.
include(GoogleTest)
function(mpconform_add_gtest target)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  add_executable(${target} ${ARG_SOURCES})
  target_link_libraries(${target} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main mpconform_options)
  gtest_discover_tests(${target}
    DISCOVERY_MODE PRE_TEST
    DISCOVERY_TIMEOUT 60
    PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
endfunction()
