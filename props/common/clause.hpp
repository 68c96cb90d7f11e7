#pragma once
// MPC_CLAUSE(id, ...): names the clauses a test checks (spec/clauses/README.md).
// ci/clauses reads the ids from the source; at run time they are recorded as the GoogleTest
// property "clauses", so they appear in --gtest_output=xml reports too.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

namespace mpconform::testing {
inline void record_clauses(std::initializer_list<const char*> ids) {
  std::string joined;
  for (const char* id : ids) {
    if (!joined.empty()) joined += ' ';
    joined += id;
  }
  ::testing::Test::RecordProperty("clauses", joined);
}
}  // namespace mpconform::testing

#define MPC_CLAUSE(...) ::mpconform::testing::record_clauses({__VA_ARGS__})
