// Tolerance tiers and MPCONFORM_TIME_SCALE.
#include <gtest/gtest.h>

#include <cstdlib>

#include "mpconform/tiers.hpp"

namespace {

using namespace mpconform;

TEST(Tiers, ScaleParsesPositiveNumbersOnly) {
  EXPECT_EQ(parse_time_scale(nullptr), 1.0);
  EXPECT_EQ(parse_time_scale(""), 1.0);
  EXPECT_EQ(parse_time_scale("4"), 4.0);
  EXPECT_EQ(parse_time_scale("0.5"), 0.5);
  for (const char* bad : {"0", "-1", "abc", "2x", "nan", "inf"})
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
  EXPECT_EQ(time_scale(), parse_time_scale(std::getenv("MPCONFORM_TIME_SCALE")));
}

}  // namespace
