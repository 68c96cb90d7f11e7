#pragma once
// mpref/process.hpp: Process, current_process, parent_process, active_children, the exit
// function, and fork hooks (CPython's Lib/multiprocessing/process.py + popen_fork.py + the
// exit half of util.py), on fork() (Linux >= 5.3: sentinels are pidfds).
//
// A Process is a cheap copyable handle: copies name the same process object (operator==),
// and a forked child inherits the handles its parent had (as a Python child inherits the
// parent's objects). Handles are process-local: they are not in shared memory.
//
// Life cycle, as CPython (spec/clauses/process.json):
//   construct -> start() forks; the child runs the bootstrap (below) and _exit()s with its code
//             -> join()/is_alive()/exitcode()/active_children()/start() reap with waitpid.
// Exit codes: target returns 0; uncaught exception 1 (and "Process <name>:" plus the error on
// the child's stderr); mpref::exit(n) / throw SystemExit(n) -> n & 0xFF; killed by signal s -> -s.
//
// Reaping (no zombies left behind): a finished child is reaped by the first of start() of any
// Process, active_children(), is_alive(), exitcode(), join(), the destruction of a Process
// handle, or the exit function. A child whose last handle is destroyed while it still runs
// stays registered (active_children() lists it) and is reaped by one of those later (at the
// latest by the exit function at normal exit, which joins it).
//
// Exit function (CPython's util._exit_function, once per process): SIGTERM every active
// daemonic child, then join every active child (daemonic or not) without a timeout, then flush
// stdout/stderr. A child runs it when its target returns, throws or calls mpref::exit(); the
// main process runs it from std::atexit (registered by the first start()), i.e. when main()
// returns or std::exit() is called. Like CPython, a daemonic child that ignores SIGTERM blocks
// that exit.
//
// Divergence from CPython (X-EXIT-7): a daemonic child is armed with
// prctl(PR_SET_PDEATHSIG, SIGKILL) right after fork (then getppid() is re-checked, which closes
// the race with a parent that died during fork), so it is killed (exitcode -9) when its parent
// dies in any way, including SIGKILL and _exit(). Caveat of the kernel feature: the death
// signal follows the parent *thread* that called start(): a daemonic child started from a
// std::thread is killed when that thread ends. Start daemons from a long-lived thread.
//
// Thread safety: all members may be called from any thread; the process-wide state (registry,
// counter) is guarded by one mutex that is never held while waiting or around user code.
// start() must return before other threads use the same object (run(), join(), ...).
// Other forks (std::system, a raw fork()) are safe too: a pthread_atfork handler keeps that
// mutex consistent in their children.
//
// Mechanism (stronger than CPython's pipes; P-SENT-2/X-EXIT-12 hold as stated): sentinels are
// pidfds, so a child's sentinel becomes readable when *it* exits even if a grandchild inherited
// descriptors, and terminate()/kill() can never signal a recycled pid.
#include <sys/types.h>

#include <concepts>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "mpref/errors.hpp"

namespace mpref {

namespace detail {
struct ProcessState;
}  // namespace detail

/// Python's SystemExit: thrown by mpref::exit(code) in a target, it ends the child with exit
/// code `code & 0xFF` (3 -> 3, -1 -> 255, 256 -> 0) after the exit function has run.
/// Deliberately not a std::exception (Python's SystemExit is not an Exception): a
/// `catch (const std::exception&)` in the target does not swallow it.
class SystemExit {
 public:
  explicit SystemExit(int code = 0) noexcept : code_(code) {}
  [[nodiscard]] int code() const noexcept { return code_; }
  [[nodiscard]] static std::string_view python_type() noexcept { return "SystemExit"; }

 private:
  int code_;
};

/// sys.exit(code): throws SystemExit(code). In a child started by mpref, the default bootstrap
/// catches it: the stack unwinds (destructors run), the exit function runs, and the child exits
/// with `code & 0xFF`. In the main process, catch it in main() yourself (uncaught, it reaches
/// std::terminate). Prefer it to std::exit() in a child: std::exit would also run the
/// std::atexit handlers and static destructors inherited from the parent (X-EXIT-5).
[[noreturn]] inline void exit(int code = 0) { throw SystemExit(code); }

/// Construction options (Python's name= and daemon= arguments).
/// Designated initializers read like Python's keywords: Process(f, {.name = "w", .daemon = true})
/// (the `{}` initializers keep -Wmissing-field-initializers quiet for omitted members).
struct ProcessOptions {
  /// Empty: the default name "Process-<identity>" (P-NAME-1/3). The counter is consumed either way.
  std::string name{};
  /// nullopt: the creating process's own daemon flag (false in main, P-DAEMON-1).
  std::optional<bool> daemon{};
};

/// multiprocessing.Process (fork start method).
class Process {
 public:
  using Target = std::function<void()>;

  /// Effects: a new, unstarted process object with no target (run() does nothing; started, it
  ///   exits 0). Every constructor below takes the next number n from this process's counter
  ///   (it starts at 1 in every process): identity = creator's identity + n, default name
  ///   "Process-" + identity joined by ':' ("Process-3", "Process-7:1" in child Process-7).
  ///   The creator's pid is recorded: only this process may start, join or test the object.
  Process();

  /// Effects: as above, with `target` (may be empty) and `options`.
  explicit Process(Target target, ProcessOptions options = {});

  /// Convenience: target = f(args...) with f and args copied (decayed) now, as Python stores
  /// tuple(args) at construction (use std::ref to pass a reference; in a child it refers to
  /// the child's copy of the object). f and args must be copyable.
  template <class F, class... Args>
    requires std::invocable<std::decay_t<F>&, std::decay_t<Args>&...>
  Process(ProcessOptions options, F&& f, Args&&... args)
      : Process(bind(std::forward<F>(f), std::forward<Args>(args)...), std::move(options)) {}

  /// Convenience: as above with default options, e.g. Process(work, 3, "x").
  template <class F, class... Args>
    requires(sizeof...(Args) > 0 && !std::same_as<std::decay_t<F>, ProcessOptions> &&
             std::invocable<std::decay_t<F>&, std::decay_t<Args>&...>)
  explicit Process(F&& f, Args&&... args)
      : Process(bind(std::forward<F>(f), std::forward<Args>(args)...), ProcessOptions{}) {}

  /// Handles are copyable and movable; copies are the same process object. Destroying a
  /// handle never blocks and never signals; if the child has exited it is reaped now (see
  /// "Reaping" above). A moved-from handle may only be destroyed or assigned to.
  Process(const Process&) = default;
  Process(Process&&) noexcept = default;
  Process& operator=(const Process&) = default;
  Process& operator=(Process&&) noexcept = default;
  ~Process();

  /// Starts the child: flushes stdout/stderr (C stdio and the std:: streams, P-START-4), runs
  /// the before-fork hooks, forks, runs the after-fork hooks. The parent then drops its
  /// reference to the target (P-START-8); the child runs the bootstrap (see set_bootstrap)
  /// with stdin replaced by /dev/null and never returns from start().
  /// First reaps the children that have already exited (P-START-3).
  /// Throws, in this order of checks:
  ///   ValueError("process object is closed") after close();
  ///   AssertionError("cannot start a process twice") if already started (P-START-1);
  ///   AssertionError("can only start a process object created by current process") if this
  ///     object was created in another process, e.g. inherited by a child (P-START-2);
  ///   AssertionError("daemonic processes are not allowed to have children") when the calling
  ///     process is itself daemonic (P-DAEMON-3);
  ///   OSError if fork() fails (the object stays unstarted).
  void start();

  /// Calls the target in the calling process (no child; P-RUN-1). No target: does nothing.
  /// Throws: whatever the target throws; AttributeError("'Process' object has no attribute
  ///   '_target'") in the parent after start() has dropped the target (as CPython).
  void run();

  /// Waits until the child exits, at most `timeout` seconds: nullopt waits forever; 0 or
  /// negative returns at once (P-JOIN-5/6/7). Returns nothing even on timeout, like Python's
  /// None: check exitcode() or is_alive(). Reaps the child when it has exited; may be repeated.
  /// Throws: ValueError("process object is closed");
  ///   AssertionError("can only join a child process") unless called in the creating
  ///     process (also current_process().join(), P-JOIN-3);
  ///   AssertionError("can only join a started process") before start() (P-JOIN-2).
  void join(std::optional<double> timeout = std::nullopt);

  /// True while the child runs; false before start() and after exit (reaps it, P-ALIVE-1).
  /// current_process().is_alive() is true.
  /// Throws: ValueError("process object is closed");
  ///   AssertionError("can only test a child process") in a process other than the creator.
  [[nodiscard]] bool is_alive();

  /// SIGTERM / SIGKILL to the child; returns at once without waiting (P-TERM-1). Does nothing
  /// if the child has already been reaped or is gone (P-TERM-3). Sent through the pidfd, so
  /// a reused pid is never hit. Any process holding the handle may call them (as CPython).
  /// Throws: ValueError("process object is closed");
  ///   AttributeError("'NoneType' object has no attribute 'terminate'") (resp. 'kill') before
  ///   start() (P-TERM-2/6).
  void terminate();
  void kill();

  /// Releases the sentinel; afterwards only name()/daemon() (and set_*) work (P-CLOSE-*).
  /// Allowed on an unstarted or finished (reaped here if needed) object; repeating it is harmless.
  /// Throws: ValueError("Cannot close a process while it is still running. You should first
  ///   call join() or terminate().") while the child runs.
  void close();

  /// The child's pid; nullopt before start() (P-PID-1), kept after exit (P-PID-2).
  /// For current_process(): getpid(). Throws: ValueError("process object is closed").
  [[nodiscard]] std::optional<pid_t> pid() const;

  /// nullopt before start() and while running; then 0, 1, n & 0xFF, or -signum (P-EXIT-*).
  /// Reaps an exited child (non-blocking, P-EXIT-3); only the creator can reap.
  /// Throws: ValueError("process object is closed").
  [[nodiscard]] std::optional<int> exitcode();

  /// A file descriptor that becomes readable (POLLIN) when the child has exited (P-SENT-2),
  /// for poll()/select()/connection wait. It is a pidfd owned by this object (close() closes
  /// it; do not close it yourself).
  /// Throws: ValueError("process object is closed"); ValueError("process not started") (P-SENT-1).
  [[nodiscard]] int sentinel() const;

  /// The name (readable and settable also after close()).
  [[nodiscard]] std::string name() const;
  void set_name(std::string name);

  /// The daemon flag (P-DAEMON-1). A daemonic process is SIGTERMed by its parent's exit
  /// function, may not start children, and (mpref) dies with its parent (see top).
  [[nodiscard]] bool daemon() const;
  /// Throws: AssertionError("process has already started") after start() (P-DAEMON-2).
  void set_daemon(bool daemonic);

  friend bool operator==(const Process& a, const Process& b) noexcept { return a.s_ == b.s_; }

 private:
  friend class ProcessAccess;
  explicit Process(std::shared_ptr<detail::ProcessState> s) noexcept;

  template <class F, class... Args>
  static Target bind(F&& f, Args&&... args) {
    return [fn = std::decay_t<F>(std::forward<F>(f)),
            tup = std::make_tuple(std::forward<Args>(args)...)]() mutable { std::apply(fn, tup); };
  }

  std::shared_ptr<detail::ProcessState> s_;
};

/// multiprocessing.process._ParentProcess: what a child knows about its parent.
/// is_alive(), join() and sentinel() work in the child that got it from parent_process();
/// in any other process (e.g. a copy inherited by a grandchild) they throw ValueError.
/// The watch is a pidfd on the parent, opened on first use (and checked against getppid(), so
/// a parent that died before is reported dead, never a process that reused its pid).
class ParentProcess {
 public:
  ParentProcess(std::string name, pid_t pid) : name_(std::move(name)), pid_(pid) {}
  /// The parent's name (current_process().name() in the parent at construction of our
  /// Process object) and pid.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] pid_t pid() const noexcept { return pid_; }
  /// True while the parent runs (X-EXIT-12); false once it has exited or died.
  [[nodiscard]] bool is_alive() const;
  /// Waits until the parent has exited, at most `timeout` (nullopt: forever; <= 0: no wait).
  void join(std::optional<double> timeout = std::nullopt) const;
  /// A file descriptor readable once the parent has exited (owned by mpref, opened on first use).
  [[nodiscard]] int sentinel() const;

 private:
  std::string name_;
  pid_t pid_;
};

/// The Process object of the calling process: in main, "MainProcess" (pid getpid(), not
/// started, no parent: join() raises 'can only join a child process'); in a child, the same
/// process object its parent started (same name, pid()).
[[nodiscard]] Process current_process();

/// nullopt in the main process (P-NAME-5); in a child started by mpref, its parent.
[[nodiscard]] std::optional<ParentProcess> parent_process();

/// The started children of the calling process that have not been reaped, in start order;
/// reaps the finished ones first (P-ACT-1).
[[nodiscard]] std::vector<Process> active_children();

/// The exit function described at the top. Runs at most once per process (later calls return
/// at once); exceptions are swallowed. Public for bindings that run it from their own atexit.
void exit_function() noexcept;

// ------------------------------------------------------------------------------------------
// Hooks for bindings (the Python module must call PyOS_BeforeFork / PyOS_AfterFork_Parent /
// PyOS_AfterFork_Child around the fork, and run Python's bootstrap in the child).

/// Callbacks run around the fork() in Process::start() only (not around other forks), like
/// os.register_at_fork: `before` in the parent just before fork() (in reverse registration
/// order); `after_in_parent` in the parent just after it, also when fork() failed, and
/// `after_in_child` in the child (both in registration order). Empty members are skipped.
/// The child hooks run after mpref has reset its per-process state (current_process(),
/// parent_process(), counter, children, stdin) and before the bootstrap. Hooks may call mpref
/// functions but not Process::start(). Hooks cannot be removed.
struct AtFork {
  std::function<void()> before;
  std::function<void()> after_in_parent;
  std::function<void()> after_in_child;
};
void register_at_fork(AtFork hooks);

/// What the child runs after fork, given its own Process object; returns the exit code
/// (mpref then flushes stdout/stderr and calls _exit(code & 0xFF)). An exception escaping it
/// gives exit code 1.
using Bootstrap = std::function<int(Process& self)>;

/// Replaces the bootstrap of children started from now on in this process (and inherited by
/// them); an empty function restores default_bootstrap.
void set_bootstrap(Bootstrap bootstrap);

/// CPython's _bootstrap: run(), then the exit function (also when run() throws); returns 0;
/// SystemExit(n) -> n; any other exception -> 1 after writing "Process <name>:\n" and
/// "<type>: <what()>\n" to stderr (<type> is python_type() for mpref::Error, else the
/// demangled C++ type); then flushes stdout/stderr. Custom bootstraps may call it.
int default_bootstrap(Process& self);

}  // namespace mpref
