#pragma once
// Internal: the process group every run lives in, shared by the C++ and Python executors.
//
// A keeper process forked first leads a new process group and only waits to be killed, so the
// group id stays valid until the end; every process of the run joins the group; the watchdog
// polls pidfds of the direct children and a progress counter; finish() SIGKILLs the group and
// reaps everything in it (the caller is a child subreaper, so orphans come back to it).
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "mpconform/executor.hpp"

namespace mpconform::detail {

/// Sleeps `us` microseconds (0: returns at once).
void sleep_us(std::uint64_t us);
/// The contents of a small file ("" when unreadable).
std::string read_small_file(const std::string& path);
/// The state letter of /proc/<pid>/stat ('?' when gone).
char proc_state(pid_t pid);
/// "exit code 3" / "killed by signal 11 (Segmentation fault)".
std::string status_text(int status);
/// Dies with `parent` (PR_SET_PDEATHSIG SIGKILL), exiting at once if it is already gone.
void die_with_parent(pid_t parent);

/// One line of a hang report: the process, its pending call, state, wchan, CPU time, priority.
std::string describe_hung_line(const ProcessReport& r);
/// "starved: p3 worker 3 spun for 2.01 s at SCHED_FIFO priority 12, ...; " for the first hung
/// process that was spinning, "" when none was.
std::string starvation_of(const std::vector<ProcessReport>& processes);

class Group {
 public:
  explicit Group(Execution& out);
  ~Group();
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;

  /// Forks the keeper (first: it must inherit nothing of the run).
  void start();
  /// Forks a direct child into the group; `body` runs in it (after setpgid and the parent
  /// death signal) and must not return. Returns its pid; it is listed in out.processes.
  pid_t fork_child(std::uint32_t index, const std::string& role, const std::function<void()>& body);
  /// Waits until every direct child has ended (true), or the deadline passes or `progress()`
  /// stays the same for `stall_ns` (false).
  bool wait_all(std::int64_t deadline_ns, std::int64_t stall_ns, const std::function<std::uint64_t()>& progress);
  /// How long progress had stalled when wait_all gave up.
  std::int64_t stalled_for() const { return stalled_for_; }
  /// Live direct children (their reports are in out.processes).
  std::size_t live() const;
  /// Marks each report hung and fills its state, wchan, CPU time, priority and CPU share over
  /// 0.1 s (sampled twice, all together: a spinner shows a share near 1).
  void describe_hung(const std::vector<ProcessReport*>& reports);
  /// Kills the group and reaps everything (bounded: 5 s). Idempotent. Returns false when
  /// something could not be reaped.
  bool finish();
  pid_t pgid() const { return pgid_; }
  pid_t runner() const { return runner_; }

 private:
  bool reap();
  struct Child {
    std::size_t report;
    int pidfd = -1;
    bool done = false;
  };
  Execution& out_;
  pid_t runner_;
  pid_t pgid_ = -1;
  std::map<pid_t, Child> children_;
  std::int64_t stalled_for_ = 0;
};

}  // namespace mpconform::detail
