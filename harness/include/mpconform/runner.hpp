#pragma once
// mpconform/runner.hpp: runs one scenario on one implementation and judges it.
//
//   run_scenario(executor, scenario)
//     1. asks the scenario's property for its plan (property.hpp);
//     2. has the executor run the plan under its watchdog (executor.hpp): objects created,
//        processes forked into one process group and released together, every call recorded,
//        everything killed and reaped at the end, temporary files removed;
//     3. judges the run: a process that died in the middle of its steps is a crash; the
//        property's checks on the history (under the profile) give pass / fail / unknown; the
//        watchdog firing is a hang.
//
// Requires: the calling process has no other children it waits for with waitpid(-1) while a
// scenario runs, and SIGCHLD is not ignored. Not thread-safe: one scenario at a time.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mpconform/executor.hpp"
#include "mpconform/history.hpp"
#include "mpconform/scenario.hpp"

namespace mpconform {

/// pass: every check said Ok. fail: a check found a violation (clause, window). crash: a
/// process of the implementation died in the middle of its steps (a signal, an exception its
/// steps do not expect, an unexpected exit): the message names the process, its pending call
/// and the signal or exception. hang: the watchdog fired. unknown: a check could not decide
/// (not a failure). error: the scenario could not be run (a factory threw, a Python module
/// could not be imported or lacks an API).
enum class ScenarioVerdict : std::uint8_t { pass, fail, crash, hang, unknown, error };
std::string_view to_string(ScenarioVerdict v) noexcept;
/// fail, crash, hang and error fail a run; pass and unknown do not.
bool is_failure(ScenarioVerdict v) noexcept;

/// The result of one scenario.
struct ScenarioResult {
  ScenarioVerdict verdict = ScenarioVerdict::error;
  /// The clause the violation breaks ("" when none applies: pass, crash, hang, error).
  std::string clause;
  /// Indices into history.ops of the smallest window of events that shows the violation (for a
  /// crash: the pending call of the crashed process).
  std::vector<std::size_t> window;
  /// One paragraph: what went wrong (the checker's message, the hang report, the crash).
  std::string message;
  Profile profile = Profile::reference;  // the legality it was judged by
  History history;
  std::vector<ProcessReport> processes;
  std::uint32_t process_count = 0;  // processes the plan forks (process_count(plan))
  double setup_s = 0;  // creating objects and forking
  double run_s = 0;    // from the start gate to the last process reaped
  double check_s = 0;  // the checks
  double total_s = 0;
  /// Overlap mode: iterations run, how many of them failed their checks (jcstress's count of
  /// forbidden outcomes), and the first that did (its own history is `history`; the message
  /// says which iteration and the start offsets).
  std::uint64_t iterations = 0;
  std::uint64_t failed_iterations = 0;
  std::optional<std::uint64_t> failing_iteration;

  [[nodiscard]] bool passed() const noexcept { return verdict == ScenarioVerdict::pass; }
};

struct RunOptions {
  ExecOptions exec;
  /// The legality to judge by; nullopt: the executor's default.
  std::optional<Profile> profile;
  /// Keep the history in the result (reports need it; a fuzz loop may drop it when passing).
  bool keep_history_when_passing = true;
};

/// Runs `scenario` on `executor` as described at the top.
/// Throws: std::invalid_argument when the scenario is invalid (validate()).
ScenarioResult run_scenario(Executor& executor, const Scenario& scenario, const RunOptions& options = {});

/// The property's checks applied to a history (pure; run_scenario calls it). Fills verdict,
/// clause, window, message and profile of the returned result (nothing else). A verdict naming
/// a clause the property does not list is turned into an error (a harness bug, never silent).
ScenarioResult check_history(const Scenario& scenario, const History& history, Profile profile);

}  // namespace mpconform
