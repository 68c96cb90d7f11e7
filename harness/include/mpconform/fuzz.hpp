#pragma once
// mpconform/fuzz.hpp: the fuzz loop, as a library. The `mpconform` command and the RapidCheck
// glue both use it: one generator (generate() in scenario.hpp), one rerun policy, one shrinker.
//
//   fuzz_property(executor, property, options)
//     runs scenarios of the property, seed = options.seed + k for the k-th, until the budget is
//     spent or one fails (fail, crash, hang, error); then confirms it (re-runs the same
//     scenario; a race may not repeat) and shrinks it (smaller variants, each tried a few times,
//     kept while they still fail), and says how to replay it.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mpconform/executor.hpp"
#include "mpconform/runner.hpp"
#include "mpconform/scenario.hpp"

namespace mpconform {

struct FuzzOptions {
  /// Budget: at most `scenarios` scenarios, and/or at most `seconds` (both unset: 20 scenarios).
  std::optional<std::uint64_t> scenarios;
  std::optional<double> seconds;
  std::uint64_t seed = 0;  // scenario k is generated from seed + k
  /// Shard `shard` of `shards` (0-based) runs only the scenarios k with k % shards == shard, so
  /// N runs with the same seed and budget cover disjoint parts of one run (`scenarios` counts
  /// the scenarios of every shard together).
  std::uint32_t shard = 0;
  std::uint32_t shards = 1;
  GenLimits limits;
  ScheduleMode mode = ScheduleMode::delays;  // how each scenario's interleaving is chosen
  std::uint32_t depth = 2;                   // pct: the bug depth d searched for (1..4)
  /// Run this scenario (a replay file) instead of generating; repeated for the budget.
  std::optional<Scenario> fixed;
  std::string fixed_file;        // the file it came from, for the replay command
  std::string backend_spec;      // for the replay command ("reference", "python:billiard")
  int confirm_reruns = 3;        // re-runs of a failing scenario (0: none)
  bool shrink = true;
  double shrink_seconds = 30;    // wall-clock budget of shrinking
  int shrink_tries = 3;          // runs of each candidate before it counts as passing
  RunOptions run;
  /// Called after each counted scenario with the scenarios run so far and the seconds since the
  /// property started (progress lines); may be empty.
  std::function<void(std::uint64_t scenarios, double seconds)> on_scenario;
};

struct FailureReport {
  Scenario scenario;
  ScenarioResult result;
  double time_to_catch_s = 0;  // from the start of the property to the failure
  std::string replay;          // the exact command that replays it
  int reruns = 0;              // re-runs of the failing scenario ...
  int reruns_failed = 0;       // ... and how many of them failed again
  std::optional<Scenario> shrunk;  // the smallest variant that still failed
  ScenarioResult shrunk_result;
  int shrink_runs = 0;
  double shrink_s = 0;
};

struct PropertyReport {
  std::string property;
  std::vector<std::string> clauses;  // what its checks can report
  Profile profile = Profile::reference;
  std::uint64_t scenarios = 0;
  std::uint64_t processes = 0;
  std::uint64_t unknown = 0;
  std::string unknown_example;
  double seconds = 0;           // wall time (including confirming and shrinking)
  double scenario_seconds = 0;  // time inside run_scenario for the counted scenarios
  std::optional<FailureReport> failure;
  /// PCT's guarantee over the runs made (mode pct only): a bug of depth <= `depth` that every
  /// scenario of the property can show is hit by one run with probability >= 1/(n k^(d-1));
  /// `pct_miss` is the probability that all the runs missed it, the product of (1 - that) over
  /// the runs (n: the scenario's processes, k: its estimated calls).
  ScheduleMode mode = ScheduleMode::delays;
  std::uint32_t depth = 0;
  std::uint32_t pct_max_processes = 0;
  std::uint64_t pct_max_calls = 0;
  double pct_miss = 1.0;
  /// Overlap mode: iterations run over all scenarios; scenarios skipped because their plan cannot
  /// be repeated (overlap_unsupported()); and, when no scenario could run, why.
  std::uint64_t iterations = 0;
  double iteration_seconds = 0;  // the executions' run time (from the first release)
  std::uint64_t skipped = 0;
  std::string not_applicable;

  /// "pass", "unknown" (some scenario undecided, none failed), "n/a" (not_applicable), or the
  /// failure's verdict.
  [[nodiscard]] std::string verdict() const;
};

/// `mpconform run --backend X --property P --seed S --scenarios 1` (plus non-default limits),
/// or `... --scenario-file F --scenarios 1` for a scenario read from a file.
std::string replay_command(const std::string& backend_spec, std::string_view property, std::uint64_t seed,
                           const GenLimits& limits, const std::string& scenario_file,
                           ScheduleMode mode = ScheduleMode::delays, std::uint32_t depth = 2);

/// Shrinks a failing scenario greedily: tries smaller() variants in order, keeps the first that
/// still fails (within options.shrink_tries runs) and starts again from it, until none fails or
/// the budget is spent. Fills failure.shrunk / shrunk_result / shrink_runs / shrink_s.
void shrink_failure(Executor& e, FailureReport& failure, const FuzzOptions& options);

/// The loop described at the top. Never throws for what the implementation does.
PropertyReport fuzz_property(Executor& e, std::string_view property, const FuzzOptions& options);

}  // namespace mpconform
