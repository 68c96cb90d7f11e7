#pragma once
// The `mpconform` command's reports: the console table, JSON and JUnit XML.
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mpconform/backend.hpp"
#include "mpconform/runner.hpp"
#include "mpconform/scenario.hpp"

namespace mpconform::cli {

struct FailureReport {
  Scenario scenario;
  ScenarioResult result;
  double time_to_catch_s = 0;  // from the start of the property to the failure
  std::string replay;          // the exact command that replays it
  int reruns = 0;              // re-runs of the failing scenario ...
  int reruns_failed = 0;       // ... and how many of them failed again
  std::optional<Scenario> shrunk;  // the smallest variant that still failed
  ScenarioResult shrunk_result;
};

struct PropertyReport {
  Property property = Property::queue;
  std::vector<std::string> clauses;
  std::uint64_t scenarios = 0;
  std::uint64_t processes = 0;
  std::uint64_t unknown = 0;
  std::string unknown_example;
  double seconds = 0;           // wall time of the property (including confirming/shrinking)
  double scenario_seconds = 0;  // time inside run_scenario for the counted scenarios
  std::optional<FailureReport> failure;

  [[nodiscard]] std::string verdict() const;
};

struct SuiteReport {
  std::string backend;
  std::string backend_spec;
  std::uint64_t seed = 0;
  std::string budget;
  double seconds = 0;
  std::vector<PropertyReport> properties;
};

struct MutantReport {
  BackendInfo info;
  PropertyReport report;
};

/// `mpconform run --backend X --property P --seed S --scenarios 1` (plus non-default limits), or
/// `mpconform run --backend X --scenario-file F --scenarios 1` for a scenario read from a file.
std::string replay_command(const std::string& backend_spec, Property p, std::uint64_t seed,
                           const GenLimits& limits, const std::string& scenario_file);

void print_backends(std::ostream& out, const std::vector<BackendInfo>& backends);
/// `mpconform tiers`: every tier (harness/tiers.json) with its base and scaled seconds.
/// Reads the time scale (throws std::invalid_argument while it is malformed).
void print_tiers(std::ostream& out);
/// `mpconform tiers --json`: {"scale_variable", "time_scale", "tiers": [{"name",
/// "base_seconds", "seconds"}, ...]}, shortest first.
nlohmann::json tiers_json();
void print_suite_header(std::ostream& out, const SuiteReport& suite);
void print_property_line(std::ostream& out, const PropertyReport& r);
void print_suite_footer(std::ostream& out, const SuiteReport& suite);
void print_mutant_line(std::ostream& out, const MutantReport& m);
void print_mutant_summary(std::ostream& out, const std::vector<MutantReport>& ms);

nlohmann::json suite_json(const SuiteReport& suite);
std::string suite_junit(const SuiteReport& suite);
nlohmann::json mutants_json(const std::vector<MutantReport>& ms, std::uint64_t seed);
std::string mutants_junit(const std::vector<MutantReport>& ms);

}  // namespace mpconform::cli
