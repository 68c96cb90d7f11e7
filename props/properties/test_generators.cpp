// The harness's generator, validation, JSON and shrinking, for every registered property (no
// fork: these tests only draw and inspect scenarios and plans).
#include <gtest/gtest.h>

#include <cstdint>
#include <set>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "mpconform/plan.hpp"
#include "mpconform/property.hpp"
#include "mpconform/scenario.hpp"

namespace mpconform::props {
namespace {

constexpr std::uint64_t kSeeds = 300;

class EveryProperty : public ::testing::TestWithParam<std::string> {};

// Drawn scenarios are valid, their plans too, and the same seed draws the same scenario.
TEST_P(EveryProperty, DrawsValidScenariosWithValidPlansDeterministically) {
  const Property& p = property_named(GetParam());
  for (std::uint64_t seed = 0; seed < kSeeds; ++seed) {
    const Scenario s = generate(GetParam(), seed);
    ASSERT_NO_THROW(validate(s)) << to_json(s).dump();
    EXPECT_EQ(s, generate(GetParam(), seed));
    const Plan plan = p.plan(s.params);
    ASSERT_NO_THROW(validate_plan(plan)) << to_json(plan).dump();
    EXPECT_EQ(plan_from_json(to_json(plan)), plan) << "plan JSON does not round-trip";
    EXPECT_EQ(scenario_from_json(to_json(s)), s) << "scenario JSON does not round-trip";
    EXPECT_GE(process_count(s), 1u);
  }
}

// Different seeds draw different scenarios (a generator that ignores its seed is caught).
TEST_P(EveryProperty, DifferentSeedsDrawDifferentScenarios) {
  std::set<std::string> seen;
  for (std::uint64_t seed = 0; seed < 50; ++seed) seen.insert(generate(GetParam(), seed).params.dump());
  EXPECT_GT(seen.size(), 40u);
}

// Every shrink candidate is valid, keeps the property and seed, and is no bigger.
TEST_P(EveryProperty, ShrinkCandidatesAreValidAndNoBigger) {
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    const Scenario s = generate(GetParam(), seed);
    const std::size_t size = s.params.dump().size();
    for (const Scenario& c : smaller(s)) {
      ASSERT_NO_THROW(validate(c)) << to_json(c).dump();
      EXPECT_EQ(c.property, s.property);
      EXPECT_EQ(c.seed, s.seed);
      EXPECT_NE(c, s);
      EXPECT_LE(c.params.dump().size(), size + 8) << to_json(c).dump();
    }
  }
}

// Shrinking by always taking the first candidate ends (no cycle) at a small scenario.
TEST_P(EveryProperty, RepeatedShrinkingEnds) {
  Scenario s = generate(GetParam(), 7);
  int steps = 0;
  for (auto c = smaller(s); !c.empty() && steps < 200; c = smaller(s), ++steps) s = c.front();
  EXPECT_LT(steps, 200) << "shrinking does not end: " << to_json(s).dump();
  EXPECT_LE(process_count(s), 4u) << to_json(s).dump();
}

INSTANTIATE_TEST_SUITE_P(properties_generators, EveryProperty,
                         ::testing::Values("queue", "lock", "tickets", "joinable", "timeouts", "daemon", "pipe",
                                           "value"));

TEST(properties_generators, EveryRegisteredPropertyIsTested) {
  std::set<std::string> registered;
  for (const Property* p : all_properties()) registered.emplace(p->name());
  EXPECT_EQ(registered, (std::set<std::string>{"queue", "lock", "tickets", "joinable", "timeouts", "daemon",
                                                "pipe", "value"}));
}

// Smaller limits give smaller scenarios.
TEST(properties_generators, LimitsAreHonoured) {
  GenLimits l;
  l.max_processes = 2;
  l.max_items = 3;
  l.max_delay_us = 10;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    const Scenario q = generate("queue", seed, l);
    EXPECT_LE(q.params["producers"].size(), 2u);
    EXPECT_LE(q.params["consumers"].size(), 2u);
    for (const auto& p : q.params["producers"]) {
      EXPECT_LE(p["puts"].size(), 3u);
      for (const auto& c : p["puts"]) EXPECT_LE(c["delay_us"].get<std::uint32_t>(), 10u);
    }
    EXPECT_LE(generate("value", seed, l).params["workers"].size(), 2u);
  }
}

std::string error_of(const nlohmann::json& doc) {
  try {
    (void)scenario_from_json(doc);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// A malformed scenario is refused with one line naming the field.
TEST(properties_generators, BadScenariosNameTheField) {
  nlohmann::json doc = to_json(generate("queue", 3));
  auto with = [&](auto&& change) {
    nlohmann::json d = doc;
    change(d);
    return error_of(d);
  };
  EXPECT_EQ(with([](auto& d) { d["property"] = "qeue"; }).find("unknown property 'qeue'"), 0u);
  EXPECT_NE(with([](auto& d) { d["scenario"]["producers"][0]["puts"][0]["timeout"] = "soon"; })
                .find("scenario.producers[0].puts[0].timeout: must be a number"),
            std::string::npos);
  EXPECT_NE(with([](auto& d) { d["scenario"]["maxsize"] = 99; }).find("scenario.maxsize: is 99, at most 16"),
            std::string::npos);
  EXPECT_NE(with([](auto& d) { d["scenario"]["producres"] = 1; }).find("scenario.producres: unknown field"),
            std::string::npos);
  const std::string quota = with([](auto& d) { d["scenario"]["consumers"][0]["quota"] = 1000; });
  EXPECT_NE(quota.find("scenario.consumers: quotas add up"), std::string::npos) << quota;
  EXPECT_NE(with([](auto& d) { d["scenario"]["consumers"][0]["quota"] = -1; }).find("scenario.consumers[0].quota: must not be negative"),
            std::string::npos);
  EXPECT_NE(with([](auto& d) { d.erase("seed"); }).find("seed"), std::string::npos);
  for (const std::string& e : {with([](auto& d) { d["scenario"]["type"] = 3; })}) EXPECT_EQ(e.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace mpconform::props
