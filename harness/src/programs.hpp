#pragma once
// Internal: what each process of a scenario runs (the "programs"), and the scratch memory the
// runner shares with them.
//
// A Plan is built in the parent: it creates the scenario's objects through the backend and
// lists the processes, each with a body that runs in the forked child. The runner forks them
// phase by phase (phase 1 starts when every phase-0 process has ended), so a drainer or a final
// reader runs after the others.
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "mpconform/backend.hpp"
#include "mpconform/history.hpp"
#include "mpconform/runner.hpp"
#include "mpconform/scenario.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform::engine {

inline constexpr std::size_t kBoardProcs = 32;  // scenario-local process indices 0..31
inline constexpr std::size_t kNoteSize = 200;

/// Scratch memory shared by the runner and every scenario process (an anonymous MAP_SHARED
/// mapping made per scenario). All waits on it are bounded futex waits.
struct Board {
  std::atomic<std::uint32_t> gate;       // 0 until the runner lets phase 0 start
  std::atomic<std::uint32_t> watching;   // daemon: the observer is watching
  std::atomic<std::uint32_t> published;  // daemon: children whose pid the parent published
  std::atomic<std::int32_t> pids[kBoardProcs];  // pid of each scenario process (0: unknown)
  char notes[kBoardProcs][kNoteSize];           // why a process failed (written by itself)
};

/// Bounded wait until `word` != `value` (futex on shared memory). Returns false on time-out.
bool wait_while_equal(std::atomic<std::uint32_t>& word, std::uint32_t value, double timeout_s);
/// Wakes every waiter on `word`.
void wake_all(std::atomic<std::uint32_t>& word);
/// Sleeps `us` microseconds (0: returns at once).
void sleep_us(std::uint64_t us);

/// An error a process's program does not expect: the body records the call as info, notes the
/// reason on the board and exits with kExitUnexpected.
inline constexpr int kExitUnexpected = 3;
/// The start gate was not opened in time.
inline constexpr int kExitNoGate = 4;

struct ProcSpec {
  using Body = std::function<int(const ProcessLog&)>;
  ProcSpec() = default;
  ProcSpec(std::uint32_t index_, std::string role_, int phase_, Body body_,
           std::function<void()> before_gate_ = {})
      : index(index_), role(std::move(role_)), phase(phase_), body(std::move(body_)),
        before_gate(std::move(before_gate_)) {}

  std::uint32_t index = 0;
  std::string role;
  int phase = 0;
  /// Runs in the forked child after the start gate; returns the exit code. May throw: the
  /// runner notes the error and exits with kExitUnexpected.
  std::function<int(const ProcessLog&)> body;
  /// Runs in the forked child right after fork, before the start gate (close unused ends).
  std::function<void()> before_gate;
};

struct Plan {
  std::vector<ProcSpec> procs;
  /// In the parent once every phase-0 process is forked, before the gate opens.
  std::function<void()> after_fork_in_parent;
  /// In the parent after everything is reaped (remove temp files).
  std::function<void()> cleanup;
  /// The scenario's objects (destroyed after cleanup).
  std::shared_ptr<void> objects;
};

/// The scenario constants of runner.hpp, in seconds (scaled by MPCONFORM_TIME_SCALE).
double patience_s();
double daemon_life_s();
double observe_s();
/// No new call for this long while processes are alive: a hang (see runner.hpp).
double stall_s();

/// Builds the plan of `scenario` (creates its objects through `backend`, in this process).
/// Ops recorded in the parent during setup (e.g. filling a queue) use `recorder`.
Plan make_plan(Backend& backend, const Scenario& scenario, const Recorder& recorder, Board& board);

/// The property's checkers on a history (and the scenario-level rules of the programs).
Verdict check_scenario(const Scenario& scenario, const History& history);

}  // namespace mpconform::engine
