#pragma once
// The `mpconform` command's reports: the console table, JSON and JUnit XML.
#include <cstdint>
#include <map>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mpconform/backend.hpp"
#include "mpconform/fuzz.hpp"
#include "mpconform/runner.hpp"
#include "mpconform/scenario.hpp"
#include "expectations.hpp"
#include "timeline.hpp"

namespace mpconform::cli {

struct SuiteReport {
  std::string backend;
  std::string backend_spec;
  std::uint64_t seed = 0;
  std::string budget;
  Profile profile = Profile::reference;
  std::string mode = "delays";  // "delays", or "pct d=2"
  std::uint32_t shard = 1;      // this run is shard `shard` (1-based) of `shards`
  std::uint32_t shards = 1;
  double seconds = 0;
  std::vector<PropertyReport> properties;
  /// The timeline of each failing property with a recorded call, by property (add_timelines).
  std::map<std::string, Timeline, std::less<>> timelines;
  /// --expectations: the file each property's result is judged against (nullptr: none).
  const Expectations* expectations = nullptr;

  /// Every property passed, or (with expectations) failed exactly as expected.
  [[nodiscard]] bool passed() const;
  /// Draws `timelines` once (the accepted-prefix search runs the checker many times), for the
  /// JSON report and the history files alike.
  void add_timelines();
};

struct MutantReport {
  BackendInfo info;
  PropertyReport report;
};

/// The JSON document in `file`; throws std::invalid_argument "FILE: cannot read the file" or
/// "FILE: not JSON (...)" (every report and expectation file is read through it).
nlohmann::json read_json_file(const std::filesystem::path& file);

/// The implementation a backend is, as pytest and expectation files name it: a Python module by
/// its name (`python:billiard` -> `billiard`), a plugin by the name it gives itself
/// (`plugin:boost-interprocess` -> `boost-interprocess`), a built-in backend as it is.
std::string implementation_of(const std::string& backend);

/// `s` with XML's special characters escaped (and control characters XML 1.0 forbids as '?').
std::string xml_escape(const std::string& s);
/// One JUnit <testcase>; with `failure_message`, a <failure> holding `details`.
std::string testcase_xml(const std::string& classname, const std::string& name, double seconds,
                         const std::optional<std::string>& failure_message, const std::string& details);

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

/// The version of the JSON run report (`format`); `mpconform merge` reads only this one.
inline constexpr const char* kReportFormat = "mpconform-report/1";

nlohmann::json suite_json(const SuiteReport& suite);
std::string suite_junit(const SuiteReport& suite);
nlohmann::json mutants_json(const std::vector<MutantReport>& ms, std::uint64_t seed);
std::string mutants_junit(const std::vector<MutantReport>& ms);

}  // namespace mpconform::cli
