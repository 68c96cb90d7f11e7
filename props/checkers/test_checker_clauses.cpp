// The clauses the checkers and properties can report are derived, not kept by hand, and kept
// true both ways:
//   - every clause id a checker or property lists exists in spec/clauses/*.json;
//   - every -bad fixture (histories/) names a clause its checker lists: a checker that reports
//     a clause it does not list fails here;
//   - every clause a checker lists is produced by at least one -bad fixture: a listed clause
//     that nothing produces fails here;
//   - a property's list is the union of its checkers' lists (plus its own rules), so a property
//     can report only listed clauses; the runner turns a verdict naming an unlisted clause into
//     an error (runner.cpp, check_history).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "mpconform/checkers.hpp"
#include "mpconform/property.hpp"

namespace {

namespace fs = std::filesystem;

std::set<std::string> catalogue() {
  std::set<std::string> known;
  for (const auto& entry : fs::directory_iterator(MPCONFORM_CLAUSES_DIR)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    const auto j = nlohmann::json::parse(in);
    for (const auto& c : j.at("clauses")) known.insert(c.at("id").get<std::string>());
  }
  return known;
}

// checker -> the clauses its -bad fixtures name.
std::map<std::string, std::set<std::string>> fixture_clauses() {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& entry : fs::directory_iterator(MPCONFORM_CHECKER_HISTORIES)) {
    const std::string name = entry.path().filename().string();
    if (!name.ends_with("-bad.jsonl")) continue;
    std::ifstream in(entry.path());
    std::string first;
    std::getline(in, first);
    const auto meta = nlohmann::json::parse(first).at("meta");
    out[meta.at("checker").get<std::string>()].insert(meta.at("clause").get<std::string>());
  }
  return out;
}

TEST(CheckerClauses, ExistInTheCatalogue) {
  const std::set<std::string> known = catalogue();
  ASSERT_FALSE(known.empty());
  for (std::string_view id : mpconform::checker_clauses())
    EXPECT_TRUE(known.count(std::string(id))) << id << " is not in spec/clauses";
  for (const mpconform::Property* p : mpconform::all_properties())
    for (std::string_view id : p->clauses())
      EXPECT_TRUE(known.count(std::string(id))) << p->name() << " lists " << id << ", which is not in spec/clauses";
}

TEST(CheckerClauses, EveryFixtureNamesAClauseItsCheckerLists) {
  for (const auto& [checker, clauses] : fixture_clauses()) {
    const auto listed = mpconform::checker_clauses(checker);
    for (const std::string& c : clauses)
      EXPECT_NE(std::find(listed.begin(), listed.end(), c), listed.end())
          << "a " << checker << "-*-bad fixture expects " << c << ", which check_" << checker << " does not list";
  }
}

TEST(CheckerClauses, EveryListedClauseIsProducedByAFixture) {
  const auto produced = fixture_clauses();
  for (std::string_view checker : mpconform::checker_names())
    for (std::string_view c : mpconform::checker_clauses(checker)) {
      const auto it = produced.find(std::string(checker));
      EXPECT_TRUE(it != produced.end() && it->second.count(std::string(c)))
          << "check_" << checker << " lists " << c << " but no " << checker
          << "-*-bad.jsonl fixture produces it (add one, or drop the clause from the list)";
    }
}

TEST(CheckerClauses, APropertyListsEveryClauseOfTheCheckersItRuns) {
  // Spot checks of the derivation: the joinable property runs the queue checker too.
  const mpconform::Property& joinable = mpconform::property_named("joinable");
  const auto list = joinable.clauses();
  for (std::string_view c : mpconform::checker_clauses("queue"))
    EXPECT_NE(std::find(list.begin(), list.end(), c), list.end()) << c;
  for (std::string_view c : mpconform::checker_clauses("joinable"))
    EXPECT_NE(std::find(list.begin(), list.end(), c), list.end()) << c;
}

}  // namespace
