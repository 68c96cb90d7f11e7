// Every file in histories/ is one hand-made history, named by the verdict its checker must
// give (Porcupine style): <checker>-<what>-ok.jsonl, -bad.jsonl or -unknown.jsonl. Its first
// line is the fixture's header:
//   {"meta": {"checker": "queue", "options": {...}, "clause": "Q-ORDER-2", "window": [1, 4],
//             "about": "why this history is (il)legal"}}
// For a -bad history the verdict must name `clause` and its window must contain every op
// index in `window` (0-based, counting op lines only).
#include <gtest/gtest.h>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mpconform/checkers.hpp"
#include "fixtures.hpp"

namespace {

using namespace mpconform;

using fixtures::Fixture;
using fixtures::fixture_names;
using fixtures::load_fixture;

Status expected_status(const std::string& name) {
  if (name.ends_with("-ok")) return Status::ok;
  if (name.ends_with("-bad")) return Status::illegal;
  if (name.ends_with("-unknown")) return Status::unknown;
  ADD_FAILURE() << name << ": a fixture's name must end in -ok, -bad or -unknown";
  return Status::unknown;
}

class HistoryFile : public ::testing::TestWithParam<std::string> {};

TEST_P(HistoryFile, GivesTheVerdictInItsName) {
  const std::string name = GetParam();
  const Fixture f = load_fixture(name);
  const std::string checker = f.meta.at("checker").get<std::string>();
  const nlohmann::json options = f.meta.value("options", nlohmann::json::object());
  const Verdict v = check(checker, f.history, options);
  SCOPED_TRACE(f.meta.value("about", std::string()));
  SCOPED_TRACE(describe(f.history, v));
  ASSERT_EQ(to_string(v.status), to_string(expected_status(name)));
  for (std::size_t i : v.window) EXPECT_LT(i, f.history.ops.size());
  if (v.is_illegal()) {
    EXPECT_FALSE(v.window.empty());
    EXPECT_FALSE(v.message.empty());
    ASSERT_TRUE(f.meta.contains("clause")) << "a -bad fixture names the clause it breaks";
    EXPECT_EQ(v.clause, f.meta.at("clause").get<std::string>());
    ASSERT_TRUE(f.meta.contains("window")) << "a -bad fixture names its offending ops";
    for (const auto& i : f.meta.at("window")) {
      const auto idx = i.get<std::size_t>();
      EXPECT_TRUE(std::binary_search(v.window.begin(), v.window.end(), idx))
          << "offending op #" << idx << " is missing from the window";
    }
  }
  if (v.is_unknown()) {
    EXPECT_FALSE(v.message.empty());
    if (f.meta.contains("clause")) {
      EXPECT_EQ(v.clause, f.meta.at("clause").get<std::string>());
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Checkers, HistoryFile, ::testing::ValuesIn(fixture_names()),
                         [](const ::testing::TestParamInfo<std::string>& p) {
                           std::string s = p.param;
                           std::replace(s.begin(), s.end(), '-', '_');
                           return s;
                         });

// Every checker has at least one legal and one illegal fixture.
TEST(HistoryFiles, CoverEveryCheckerBothWays) {
  const auto names = fixture_names();
  for (std::string_view checker : checker_names()) {
    bool ok = false;
    bool bad = false;
    for (const auto& n : names) {
      if (!n.starts_with(std::string(checker) + "-")) continue;
      ok = ok || n.ends_with("-ok");
      bad = bad || n.ends_with("-bad");
    }
    EXPECT_TRUE(ok) << checker << " has no -ok fixture";
    EXPECT_TRUE(bad) << checker << " has no -bad fixture";
  }
}

// A fixture survives a JSON Lines round trip unchanged.
TEST(HistoryFiles, RoundTripThroughJsonLines) {
  for (const auto& name : fixture_names()) {
    const Fixture f = load_fixture(name);
    const History back = history_from_jsonl(to_jsonl(f.history));
    EXPECT_EQ(back.ops, f.history.ops) << name;
    EXPECT_EQ(back.dropped, f.history.dropped) << name;
  }
}

TEST(Check, RejectsUnknownCheckersAndOptions) {
  History h;
  EXPECT_THROW(check("nope", h, nlohmann::json::object()), std::invalid_argument);
  EXPECT_THROW(check("queue", h, nlohmann::json{{"maxsise", 2}}), std::invalid_argument);
  EXPECT_THROW(check("queue", h, nlohmann::json{{"maxsize", "two"}}), std::invalid_argument);
  EXPECT_THROW(check("timeouts", h, nlohmann::json{{"late", "medium"}}), std::invalid_argument);
  EXPECT_TRUE(check("queue", h, nlohmann::json::object()).is_ok());
}

}  // namespace
