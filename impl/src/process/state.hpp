#pragma once
// Internals of mpref/process.hpp: the per-object state behind Process handles and the
// per-process runtime (counter, current/parent process, children registry, hooks).
//
// Locking: one process-local mutex (Runtime::mu) guards every ProcessState and the runtime.
// It is never held while waiting for a child, while running user code (targets, hooks), or
// while destroying something that may own user code (a target): such objects are moved out
// and destroyed after unlocking. A pthread_atfork handler takes it around every fork(), so a
// child (of mpref or of anyone) never inherits it locked.
#include <sys/types.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "mpref/process.hpp"

namespace mpref::detail {

struct ProcessState {
  Process::Target target;
  bool target_dropped = false;  // start() released the target in the parent (P-START-8)
  std::string name;
  bool daemon = false;
  std::vector<unsigned> identity;  // creator's identity + (n,); empty for MainProcess
  pid_t parent_pid = 0;            // creating process; 0 for MainProcess (nobody's child)
  std::string parent_name;
  bool popen = false;  // CPython's `_popen is not None`: started (and not closed)
  pid_t pid = 0;
  int pidfd = -1;  // the sentinel; owned
  std::optional<int> returncode;
  bool closed = false;

  ProcessState() = default;
  ProcessState(const ProcessState&) = delete;
  ProcessState& operator=(const ProcessState&) = delete;
  ~ProcessState();
};

struct ParentInfo {
  std::string name;
  pid_t pid;
};

struct Runtime {
  std::mutex mu;
  unsigned counter = 0;                  // the last number handed out; restarts in each child
  std::shared_ptr<ProcessState> current; // lazily MainProcess
  std::optional<ParentInfo> parent;      // set in children started by mpref
  int parent_fd = -1;                    // lazily opened watch on `parent`
  std::vector<std::shared_ptr<ProcessState>> children;  // started, not yet reaped (start order)
  bool exiting = false;                  // exit_function has run
  bool atexit_registered = false;
  Bootstrap bootstrap;                   // empty: default_bootstrap

  std::mutex hooks_mu;  // guards hooks only; taken before mu when both are needed
  std::vector<AtFork> hooks;

  Runtime();
};

/// The process-wide runtime (never destroyed: the exit function runs from std::atexit, after
/// or between static destructors).
Runtime& runtime();

/// Requires runtime().mu held. The calling process's own object (created on first use).
ProcessState& current_locked();

/// Requires mu held. Non-blocking waitpid of a started child of the calling process; on exit
/// records the return code and drops it from the registry (which may destroy `s` if the
/// caller holds no reference: callers hold one).
enum class Poll { running, exited, unknown };
Poll poll_locked(ProcessState& s);

/// Requires mu held. Polls every registered child (CPython's _cleanup).
void cleanup_locked();

/// Flushes C stdio stdout/stderr and std::cout/cerr/clog.
void flush_std_streams() noexcept;

/// Waits until `fd` is readable or the deadline passes (timeout: nullopt forever, <= 0 none).
bool wait_readable(int fd, std::optional<double> timeout);

int pidfd_open(pid_t pid) noexcept;

/// Everything a child does after fork() in Process::start(); never returns.
[[noreturn]] void child_main(std::shared_ptr<ProcessState> self, pid_t parent_pid,
                             const std::vector<AtFork>& hooks, const Bootstrap& bootstrap);

}  // namespace mpref::detail

namespace mpref {
/// Friend of Process: builds handles on existing state and reaches the state of a handle.
class ProcessAccess {
 public:
  static Process make(std::shared_ptr<detail::ProcessState> s) noexcept {
    return Process(std::move(s));
  }
  static const std::shared_ptr<detail::ProcessState>& state(const Process& p) noexcept {
    return p.s_;
  }
};
}  // namespace mpref
