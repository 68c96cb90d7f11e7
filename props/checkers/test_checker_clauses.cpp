// Every clause id a checker can put in a verdict exists in spec/clauses/*.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "mpconform/checkers.hpp"

namespace {

TEST(CheckerClauses, ExistInTheCatalogue) {
  std::set<std::string> known;
  for (const auto& entry : std::filesystem::directory_iterator(MPCONFORM_CLAUSES_DIR)) {
    if (entry.path().extension() != ".json") continue;
    std::ifstream in(entry.path());
    const auto j = nlohmann::json::parse(in);
    for (const auto& c : j.at("clauses")) known.insert(c.at("id").get<std::string>());
  }
  ASSERT_FALSE(known.empty());
  for (std::string_view id : mpconform::checker_clauses())
    EXPECT_TRUE(known.count(std::string(id))) << id << " is not in spec/clauses";
}

}  // namespace
