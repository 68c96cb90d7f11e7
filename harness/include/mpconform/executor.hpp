#pragma once
// mpconform/executor.hpp: runs a plan on one implementation and records the history.
//
// Two executors ship, both following the executor protocol (INTERPRETING.md, "Plans"):
//   - the C++ executor, for a C++ Backend (the reference, a mutant, a plugin .so): it forks
//     every process of the plan itself and runs its steps against the backend's objects;
//   - the Python executor, for `python:MODULE`: it runs harness/python/mpconform_exec.py with
//     /usr/bin/python3, which forks through the module's own Process and writes JSON Lines that
//     this side merges into the same History.
// Both run inside one new process group under the same watchdog (no new call for the `long`
// tier while processes are alive, or the time bound in all: a hang, with each live process's
// pending call and /proc state), kill the group and reap everything (the calling process is a
// child subreaper), and remove their temporary files. Nothing is left behind, also when the
// harness is SIGKILLed (every process dies with its parent: PR_SET_PDEATHSIG).
#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "mpconform/backend.hpp"
#include "mpconform/history.hpp"
#include "mpconform/plan.hpp"
#include "mpconform/scenario.hpp"

namespace mpconform {

/// What one process of a plan did, for reports (and, on a hang or a crash, what it was doing).
struct ProcessReport {
  std::uint32_t process = 0;  // scenario-local index (Op::process)
  pid_t pid = 0;
  std::string role;  // "producer 0", "consumer 1", "drainer", "child", ...
  /// Exit status once reaped: the exit code, or -signal. nullopt: not known (never started,
  /// or hung and killed).
  std::optional<int> status;
  bool hung = false;     // still running when the watchdog fired
  std::string pending;   // describe() of the last call invoked and not completed, if any
  std::string note;      // why it stopped early, in its own words (an unexpected exception)
  std::string wchan;     // /proc/<pid>/wchan when hung
  char state = '?';      // the state letter of /proc/<pid>/stat when hung
  double cpu_s = 0;      // when hung: CPU time it used, and how long it had lived
  double alive_s = 0;
  double cpu_share = 0;  // when hung: the share of a CPU it used while the watchdog looked (0.1 s)
  int rt_priority = 0;   // when hung: its SCHED_FIFO priority (0: not real-time)
  /// When hung: running and using most of a CPU (a busy-wait, or a spin at a real-time priority
  /// that starves the processes below it).
  [[nodiscard]] bool spinning() const noexcept { return state == 'R' && cpu_share > 0.5; }
};

struct ExecOptions {
  /// The bound of the whole run in seconds; nullopt: seconds(tiers::watchdog).
  std::optional<double> time_bound_s;
  /// Recorder slots (each call takes one).
  std::size_t capacity = std::size_t{1} << 14;
  /// How the interleaving is chosen (scenario.hpp). pct requires pct_permitted().
  Schedule schedule;
  /// Overlap mode, C++ executor: called in the executor's process, between its watchdog checks
  /// (every 20 ms at most), with each completed iteration's history in order; true ends the run
  /// after the iteration in flight (the first forbidden outcome need not wait for the budget).
  std::function<bool(const History&)> stop_when;
};

/// True when this process may put its children under SCHED_FIFO and pin them to a CPU (root,
/// or CAP_SYS_NICE). Probed once, in a forked child, so nothing of the probe outlives it.
bool pct_permitted();
/// The CPU every process of a PCT run is pinned to: the last one (the harness keeps the others).
int pct_cpu();

/// The record of one run of a plan.
struct Execution {
  History history;
  std::vector<ProcessReport> processes;
  /// The watchdog fired: `hang` says why and what each live process was doing.
  bool hung = false;
  std::string hang;
  /// The executor could not run the plan at all (a factory threw, a Python module could not be
  /// imported or lacks an API): one line. The history is then empty or partial.
  std::string error;
  double setup_s = 0;  // creating objects and forking
  double run_s = 0;    // from the start gate to the last process reaped
  /// Overlap mode: when each iteration started (CLOCK_MONOTONIC ns, ascending). Every op of
  /// iteration i was invoked at or after iteration_starts[i] and returned before
  /// iteration_starts[i + 1]. Empty in the other modes.
  std::vector<std::int64_t> iteration_starts;
};

/// Exit code of a process that stopped on an error its steps do not expect (its note says
/// which); both executors use it.
inline constexpr int kExitUnexpected = 3;

class Executor {
 public:
  virtual ~Executor() = default;
  /// The implementation's name for reports ("reference", "python:billiard").
  [[nodiscard]] virtual std::string name() const = 0;
  /// The legality its histories are judged by unless told otherwise (C++: reference; Python
  /// modules: cpython).
  [[nodiscard]] virtual Profile default_profile() const = 0;
  /// Runs `plan` (validate_plan() must pass). Never throws for what the implementation does;
  /// throws std::runtime_error only when the harness itself cannot work (fork failed).
  virtual Execution execute(const Plan& plan, const ExecOptions& options = {}) = 0;
};

/// The executor for `spec`: "python:MODULE" (any module importable by /usr/bin/python3 with the
/// multiprocessing API; see python_setup below), else a C++ backend as make_backend(spec).
/// Throws std::invalid_argument with a one-line reason for an unknown or unloadable backend.
std::unique_ptr<Executor> make_executor(std::string_view spec);

/// The C++ executor over `backend`.
std::unique_ptr<Executor> make_cpp_executor(std::unique_ptr<Backend> backend);

/// Where the Python executor comes from: $MPCONFORM_PYTHON (default /usr/bin/python3), the
/// script harness/python/mpconform_exec.py of this source tree ($MPCONFORM_EXEC_SCRIPT
/// overrides), and PYTHONPATH entries put before the user's: the built mpref module and
/// props/pymutants ($MPCONFORM_BUILD_DIR/impl/python, default this build's).
struct PythonSetup {
  std::string python;
  std::string script;
  std::vector<std::string> path;
};
PythonSetup python_setup();

/// Makes the calling process a child subreaper (once; idempotent). Executors call it.
void become_subreaper();

}  // namespace mpconform
