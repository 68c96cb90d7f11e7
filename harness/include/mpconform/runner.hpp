#pragma once
// mpconform/runner.hpp: runs one scenario against one backend, under a watchdog, and checks it.
//
//   run_scenario(backend, scenario)
//     1. creates the scenario's objects through the backend (in the calling process);
//     2. forks the scenario's processes into one new process group, starts them together, and
//        records every call in a shared-memory history (history.hpp);
//     3. waits for them under a time bound (RunOptions::time_bound_s, default: the `watchdog`
//        tier) and a progress bound (no new call recorded for the `long` tier while processes
//        are alive: every program makes a call at least every observe period); on a hang,
//        reports for each live process the last call it invoked without completing and its
//        kernel state (/proc/<pid>/wchan, stat), then SIGKILLs the group;
//     4. kills whatever is left in the group (e.g. grandchildren of a broken backend), reaps
//        every process, closes its descriptors and removes its temp files;
//     5. runs the property's checkers on the history and returns the verdict.
// The calling process makes itself a child subreaper (prctl(PR_SET_CHILD_SUBREAPER)) on the
// first call, so grandchildren orphaned mid-scenario are reparented to it and reaped too.
// Nothing is left behind: no zombie, no process, no file in /dev/shm or /tmp.
//
// Requires: the calling process has no other children it waits for with waitpid(-1) while a
// scenario runs (the runner reaps only its scenario's process group), and SIGCHLD is not
// ignored. Not thread-safe: run one scenario at a time per process.
//
// Constants of the scenario programs (all from tiers.hpp, so MPCONFORM_TIME_SCALE scales them):
//   patience     = 2 x short   a producer/consumer gives up after this long without progress
//   daemon life  = 4 x short   how long a daemonic child of the daemon property lives unless
//                              it is killed (it must be killed long before); also the life of
//                              the child a timed Process.join waits for
//   observe      = 6 x short   the daemon observer's, joiners' and duplex readers' longest wait
//   stall        = long        no new call for this long: a hang
//
// The process group: a "keeper" process forked first leads it and only waits to be killed, so
// the group id stays valid (never reused) until the runner kills the group at the end.
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mpconform/backend.hpp"
#include "mpconform/history.hpp"
#include "mpconform/scenario.hpp"

namespace mpconform {

/// pass: every checker said Ok. fail: a checker found a violation (clause, window), or a
/// process ended in a way its program never does (an unexpected exception, a crash).
/// hang: the time bound passed. unknown: a checker could not decide (e.g. history overflow).
/// error: the harness could not run the scenario (e.g. fork failed, invalid scenario).
enum class ScenarioVerdict : std::uint8_t { pass, fail, hang, unknown, error };
std::string_view to_string(ScenarioVerdict v) noexcept;

/// What one scenario process did, for reports (and, on a hang, what it was doing).
struct ProcessReport {
  std::uint32_t process = 0;  // scenario-local index (Op::process)
  pid_t pid = 0;
  std::string role;           // "producer 0", "consumer 1", "drainer", ...
  /// Exit status once reaped: the exit code, or -signal. nullopt: never started.
  std::optional<int> status;
  bool hung = false;          // still running when the time bound passed
  std::string pending;        // describe() of the last call invoked and not completed
  std::string wchan;          // /proc/<pid>/wchan when hung ("" otherwise)
  char state = '?';           // the state letter of /proc/<pid>/stat when hung
};

/// The result of one scenario.
struct ScenarioResult {
  ScenarioVerdict verdict = ScenarioVerdict::error;
  /// The clause the violation breaks ("" when pass, or when no clause applies, e.g. a crash).
  std::string clause;
  /// Indices into history.ops of the smallest window of events that shows the violation.
  std::vector<std::size_t> window;
  /// One paragraph: what went wrong (the checker's message, the hang report, the crash).
  std::string message;
  History history;
  std::vector<ProcessReport> processes;
  double setup_s = 0;  // creating objects and forking
  double run_s = 0;    // from the start gate to the last process reaped
  double check_s = 0;  // the checkers
  double total_s = 0;

  [[nodiscard]] bool passed() const noexcept { return verdict == ScenarioVerdict::pass; }
};

struct RunOptions {
  /// The time bound of the whole scenario in seconds; nullopt: seconds(tiers::watchdog).
  std::optional<double> time_bound_s;
  /// Recorder slots (each call takes one).
  std::size_t capacity = std::size_t{1} << 14;
  /// Keep the history in the result (reports need it; a fuzz loop may drop it when passing).
  bool keep_history_when_passing = true;
};

/// Runs `scenario` against `backend` as described at the top.
/// Throws: std::invalid_argument when the scenario is invalid (validate()); any other problem,
/// including the backend throwing while creating objects, becomes verdict error or fail.
ScenarioResult run_scenario(Backend& backend, const Scenario& scenario,
                            const RunOptions& options = {});

/// The checkers of a property, applied to a history (pure; run_scenario calls it).
/// Fills verdict, clause, window and message of the returned result (nothing else).
ScenarioResult check_history(const Scenario& scenario, const History& history);

/// The clause ids a property checks (for the report table).
std::vector<std::string> property_clauses(Property p);

/// Makes the calling process a child subreaper (once; idempotent). run_scenario calls it.
void become_subreaper();

}  // namespace mpconform
