#pragma once
// Expectation files (props/expectations/<implementation>.json), in the style of test262.status
// and WPT's metadata: the clauses, engine properties and CPython tests an implementation is
// known to fail, each with a reason. A run given one passes when exactly the expected failures
// occur, and fails on a new failure and on an unexpected pass (so the file stays true).
//
//   {"format": "mpconform-expectations/1", "implementation": "billiard", "about": "...",
//    "clauses": {"Q-FULL-1": {"reason": "...", "link": "..."}},
//    "properties": {"queue": {"reason": "...", "link": "...", "clause": "Q-ORDER-2", "flaky": false}},
//    "cpython_tests": {"_TestQueue.test_fork": {"reason": "..."}}}
//
// The engine uses `properties` (`mpconform run --expectations FILE`); pytest uses `clauses`
// (conftest.py); the CPython-tests command uses `cpython_tests`. One file per implementation.
#include <filesystem>
#include <map>
#include <string>

#include "mpconform/fuzz.hpp"

namespace mpconform::cli {

inline constexpr const char* kExpectationsFormat = "mpconform-expectations/1";

struct Expectation {
  std::string reason;  // one line: what the implementation does instead
  std::string link;    // optional: the bug or discussion
  std::string clause;  // properties only, optional: the clause the failure must name
  bool flaky = false;  // fails in some runs only: passing is not an unexpected pass
};

struct Expectations {
  std::filesystem::path file;
  std::string implementation;
  std::map<std::string, Expectation, std::less<>> clauses;
  std::map<std::string, Expectation, std::less<>> properties;
  std::map<std::string, Expectation, std::less<>> cpython_tests;
};

/// Reads and checks a file: the format, known keys only, clause ids that exist in the catalogue,
/// properties the engine has, a reason for every entry. Throws std::invalid_argument "FILE:
/// field F: ..." (one line) for anything else.
Expectations load_expectations(const std::filesystem::path& file);

/// How a property's result compares with the file: "expected failure", "unexpected pass" (it
/// passed, or failed on another clause than the entry names: then "new failure"), "new failure",
/// or "" (nothing expected and it passed, was undecided or not applicable; an expected failure
/// that is undecided or not applicable, or a flaky one that passed, is not judged either).
std::string judge(const Expectations& e, const PropertyReport& r);

/// One line for the console: what to do about a judged property ("" when nothing to say).
std::string expectation_line(const Expectations& e, const PropertyReport& r);

}  // namespace mpconform::cli
