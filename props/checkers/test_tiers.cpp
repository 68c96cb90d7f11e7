// Tolerance tiers and MPCONFORM_TIME_SCALE.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "mpconform/tiers.hpp"

namespace {

using namespace mpconform;

TEST(Tiers, ScaleParsesPositiveNumbersOnly) {
  EXPECT_EQ(parse_time_scale(nullptr), 1.0);
  EXPECT_EQ(parse_time_scale(""), 1.0);
  EXPECT_EQ(parse_time_scale("4"), 4.0);
  EXPECT_EQ(parse_time_scale("0.5"), 0.5);
  EXPECT_EQ(parse_time_scale(" 4"), 4.0);   // strtod skips leading white space ...
  EXPECT_EQ(parse_time_scale("0x10"), 16.0);  // ... and reads hexadecimal
  for (const char* bad : {"0", "-1", "abc", "2x", "nan", "inf", "4 ", "1e400", "1_0", " "})
    EXPECT_THROW(parse_time_scale(bad), std::invalid_argument) << bad;
}

TEST(Tiers, AreNamedOrderedAndScaled) {
  const auto all = all_tiers();
  ASSERT_GE(all.size(), 4u);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].base_seconds, all[i].base_seconds);
  for (const Tier& t : all) {
    ASSERT_TRUE(tier_by_name(t.name).has_value());
    EXPECT_EQ(*tier_by_name(t.name), t);
    EXPECT_DOUBLE_EQ(seconds(t), t.base_seconds * time_scale());
  }
  EXPECT_EQ(tier_by_name("short")->base_seconds, tiers::short_.base_seconds);
  EXPECT_FALSE(tier_by_name("medium").has_value());
  // The process-wide scale is whatever the environment says (the sanitizer job sets 4).
  EXPECT_EQ(time_scale(), parse_time_scale(std::getenv(tiers::scale_variable.data())));
}

// harness/tiers.json is the one definition; the table compiled in (generated from it by
// cmake/Tiers.cmake) must say exactly what it says, in its order, to the last bit of each value.
// (props/tooling/test_tiers.py checks the Python reader against this table.)
TEST(Tiers, CompiledTableIsTiersJson) {
  std::ifstream in(MPCONFORM_TIERS_JSON);
  ASSERT_TRUE(in) << "cannot read " << MPCONFORM_TIERS_JSON;
  const nlohmann::json doc = nlohmann::json::parse(in);
  EXPECT_EQ(doc.at("scale_variable").get<std::string>(), tiers::scale_variable);
  const nlohmann::json& list = doc.at("tiers");
  const auto all = all_tiers();
  ASSERT_EQ(list.size(), all.size()) << MPCONFORM_TIERS_JSON;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const std::string name = list[i].at("name").get<std::string>();
    const double base = list[i].at("base_seconds").get<double>();
    EXPECT_EQ(all[i].name, name) << "tier " << i;
    EXPECT_EQ(all[i].base_seconds, base) << "tier " << name;  // exact: the same literal
    ASSERT_TRUE(tier_by_name(name).has_value()) << name;
    EXPECT_EQ(tier_by_name(name)->base_seconds, base) << name;
  }
  // The named constants the harness and the tests use are that table's entries.
  for (const Tier& t : {tiers::clock, tiers::instant, tiers::wait, tiers::short_, tiers::late,
                        tiers::long_, tiers::watchdog})
    EXPECT_EQ(tier_by_name(t.name), t) << t.name;
}

}  // namespace
