#pragma once
// mpconform/backend.hpp: what an implementation under test provides to the harness.
//
// A backend is a factory of primitives (queues, locks, pipes, shared values, processes) with
// the multiprocessing API reduced to what the scenarios drive. Items and messages are uint64
// tags (see make_tag in history.hpp); nothing is pickled.
//
// The contract, in short (the one-page version is harness/INTERPRETING.md, "Backends"):
//   - Objects are created in the parent before fork and used, through the same pointer, from
//     forked children (fork copies the heap, so the child's copy of the object must refer to the
//     same primitive: state in shared memory or inherited descriptors). They need not work
//     across exec, nor from threads.
//   - Timeouts are Python's: `block` a bool, `timeout` std::optional<double> seconds;
//     block=false never waits (timeout ignored); nullopt waits forever; zero or negative do not
//     wait.
//   - Errors are reported by throwing mpref's exception classes (mpref/errors.hpp, header-only,
//     no link dependency): the harness records a failed call by python_type() ("queue.Empty",
//     "queue.Full", "ValueError", "AssertionError", "EOFError", "OSError", "BrokenPipeError").
//     Anything else thrown (or a python_type the harness does not expect) is recorded as an
//     indefinite outcome (info) and fails the scenario.
//   - A call that returns normally took effect. "When in doubt, indefinite": do not throw a
//     definite error (Empty, Full...) for a call that may have taken effect.
//   - No call may busy-wait: the scenarios fork up to 16 processes on 2 cores.
//
// A user's own implementation becomes a backend without editing the harness: build a shared
// library that defines MPCONFORM_EXPORT_BACKEND(YourBackend) (see the end of this header) and
// run `mpconform run --backend /path/to/libyours.so` (or MPCONFORM_BACKEND=/path/to/libyours.so).
// harness/examples/plugin_reference.cpp is a complete example; mpconform/reference_backend.hpp
// is the reference implementation of every interface, the file to copy for your own.
#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mpconform {

/// Bumped on every change to the classes of this header (their layout or virtual functions).
/// A plugin built against another version is refused at load time.
inline constexpr std::uint32_t kBackendAbiVersion = 1;

// ---------------------------------------------------------------------------------------------
// Primitives. Every class is an interface; a backend returns its own subclasses. Destroying an
// object in one process does not destroy the primitive for the others (as dropping a Python
// handle does not).

/// multiprocessing.Queue of uint64 items.
class Queue {
 public:
  virtual ~Queue() = default;
  /// Effects: appends `item`; on a full queue waits by the timeout rules for room.
  /// Throws: mpref::Full when still full after the wait (at once for block=false, timeout<=0).
  virtual void put(std::uint64_t item, bool block = true,
                   std::optional<double> timeout = std::nullopt) = 0;
  /// Effects: removes and returns the oldest item; on an empty queue waits by the timeout rules.
  /// Throws: mpref::Empty when still empty after the wait.
  virtual std::uint64_t get(bool block = true, std::optional<double> timeout = std::nullopt) = 0;
  /// Python's qsize(), empty(), full(). The reference is exact; CPython's empty() may lag a put.
  [[nodiscard]] virtual std::int64_t qsize() = 0;
  [[nodiscard]] virtual bool empty() = 0;
  [[nodiscard]] virtual bool full() = 0;
  /// Python's close() (this process only; items stay for the others).
  virtual void close() = 0;
};

/// multiprocessing.JoinableQueue: a Queue that counts unfinished tasks.
class JoinableQueue : public Queue {
 public:
  /// Effects: one task finished (count - 1); wakes join() at 0.
  /// Throws: mpref::ValueError("task_done() called too many times") when the count is 0.
  virtual void task_done() = 0;
  /// Waits until the count of unfinished tasks is 0, at most `timeout` seconds (nullopt:
  /// forever, as CPython's join(); <= 0: no wait; CPython's join() has no timeout, the harness
  /// uses one only to bound a wait). Returns: true when the count reached 0, false on time-out.
  virtual bool join(std::optional<double> timeout = std::nullopt) = 0;
};

/// multiprocessing.SimpleQueue. get(timeout) is an extension (CPython has no timeout); the
/// harness uses it only to bound waits, and a backend that cannot time out may wait forever.
class SimpleQueue {
 public:
  virtual ~SimpleQueue() = default;
  virtual void put(std::uint64_t item) = 0;
  /// Throws: mpref::Empty when `timeout` (not nullopt) passed with the queue still empty.
  virtual std::uint64_t get(std::optional<double> timeout = std::nullopt) = 0;
  [[nodiscard]] virtual bool empty() = 0;
  virtual void close() = 0;
};

/// multiprocessing.Lock (no owner) and RLock (owned by the acquiring process, recursive).
class Lock {
 public:
  virtual ~Lock() = default;
  /// Returns: true if taken, false if the wait ended first (timeout rules above). An RLock
  /// owner re-acquires at once (count + 1); a Lock holder that re-acquires waits.
  virtual bool acquire(bool block = true, std::optional<double> timeout = std::nullopt) = 0;
  /// Throws: Lock: mpref::ValueError("semaphore or lock released too many times") when
  /// unlocked. RLock: mpref::AssertionError("attempt to release recursive lock not owned by
  /// thread") when the caller does not own it.
  virtual void release() = 0;
};

/// One end of a multiprocessing.Pipe.
class Connection {
 public:
  virtual ~Connection() = default;
  /// Sends one message. Throws: mpref::BrokenPipeError / mpref::OSError.
  virtual void send(std::uint64_t message) = 0;
  /// Receives one message, waiting with no bound. Throws: mpref::EOFError when every copy of
  /// the peer end (in every process) is closed and nothing is left; mpref::OSError otherwise.
  virtual std::uint64_t recv() = 0;
  /// True when recv() would not block (a message or EOF); waits up to `timeout` (nullopt:
  /// forever, <= 0: no wait).
  virtual bool poll(std::optional<double> timeout = 0.0) = 0;
  /// Closes this process's copy of the end. Repeatable.
  virtual void close() = 0;
};

/// Both ends of a pipe. Duplex: both ends read and write. Simplex: `first` reads, `second`
/// writes (Python's Pipe(duplex=False) returns (reader, writer)).
struct PipeEnds {
  std::unique_ptr<Connection> first;
  std::unique_ptr<Connection> second;
};

/// multiprocessing.Value('Q', initial) with its lock (an RLock by default in CPython).
class SharedValue {
 public:
  virtual ~SharedValue() = default;
  /// v.value: read and write under the value's own lock (each call takes it on its own).
  virtual std::uint64_t read() = 0;
  virtual void write(std::uint64_t value) = 0;
  /// v.get_obj().value: read and write without the lock, for code that holds get_lock().
  virtual std::uint64_t read_raw() = 0;
  virtual void write_raw(std::uint64_t value) = 0;
  /// v.get_lock(): the lock guarding the value (an RLock unless the backend says otherwise).
  /// The reference stays valid as long as the SharedValue.
  virtual Lock& get_lock() = 0;
};

/// multiprocessing.Process with a target. Created and started by one process (the parent);
/// only that process may join, test or terminate it.
class Process {
 public:
  virtual ~Process() = default;
  /// Forks; the child runs the target, then the implementation's exit handling (Python's
  /// util._exit_function: terminate daemonic children, join the others), then exits with 0
  /// (1 if the target threw). Throws: mpref::AssertionError when started twice.
  virtual void start() = 0;
  /// The child's pid once started.
  [[nodiscard]] virtual std::optional<pid_t> pid() = 0;
  /// Waits for the child to end, at most `timeout` (nullopt: forever; <= 0: no wait); returns
  /// nothing, like Python's (check is_alive). Reaps the child when it has ended.
  virtual void join(std::optional<double> timeout = std::nullopt) = 0;
  [[nodiscard]] virtual bool is_alive() = 0;
  /// nullopt while running; then 0, 1, the exit code, or -signal.
  [[nodiscard]] virtual std::optional<int> exitcode() = 0;
  /// SIGTERM to the child (no wait).
  virtual void terminate() = 0;
};

// ---------------------------------------------------------------------------------------------
// The factory.

/// The ticket purchase the tickets property runs in each buyer: under `lock`, read the count
/// through `read`; if it is > 0 write count - 1 through `write` and return the ticket number
/// (the count read, 1..tickets); else return 0 (sold out). `pause` is called between the read
/// and the write to widen any race. The default is the correct program; only mutants replace
/// it (a purchase that checks the count outside the lock).
struct TicketIo {
  std::function<std::uint64_t()> read;
  std::function<void(std::uint64_t)> write;
  std::function<void()> pause;
};
using TicketProgram = std::uint64_t (*)(Lock& lock, const TicketIo& io);
/// The correct purchase (takes the lock around read-check-write). Inline, so a plugin needs no
/// harness library. Throws what the lock or the io throw (the lock is released first).
inline std::uint64_t correct_ticket_program(Lock& lock, const TicketIo& io) {
  lock.acquire();
  std::uint64_t ticket = 0;
  try {
    const std::uint64_t count = io.read();
    if (count > 0) {
      io.pause();
      io.write(count - 1);
      ticket = count;
    }
  } catch (...) {
    lock.release();
    throw;
  }
  lock.release();
  return ticket;
}

/// An implementation under test. One Backend object serves a whole run; its factories are
/// called in the harness's process (the parent) before it forks the scenario's processes,
/// except make_process, which is called in the forked process that starts the child.
class Backend {
 public:
  virtual ~Backend() = default;
  /// A short name for reports ("reference", "mutant:queue-drop", "plugin:libmine.so").
  [[nodiscard]] virtual std::string name() const = 0;

  /// maxsize <= 0: unbounded.
  virtual std::unique_ptr<Queue> make_queue(std::int64_t maxsize) = 0;
  virtual std::unique_ptr<JoinableQueue> make_joinable_queue(std::int64_t maxsize) = 0;
  virtual std::unique_ptr<SimpleQueue> make_simple_queue() = 0;
  virtual std::unique_ptr<Lock> make_lock() = 0;
  virtual std::unique_ptr<Lock> make_rlock() = 0;
  virtual PipeEnds make_pipe(bool duplex) = 0;
  virtual std::unique_ptr<SharedValue> make_value(std::uint64_t initial) = 0;
  /// An unstarted process that will run `target` (daemon: Python's daemon flag).
  virtual std::unique_ptr<Process> make_process(std::function<void()> target, bool daemon) = 0;

  /// Runs the calling process's exit handling (Python's util._exit_function: SIGTERM the
  /// active daemonic children, then join every active child), as at the normal end of a
  /// process. The harness calls it in a process it forked itself, just before _exit().
  virtual void exit_handling() = 0;

  /// Called in every process the harness forks, right after fork (before anything else):
  /// reset per-process state if the implementation needs it. Default: nothing.
  virtual void after_fork_in_child() {}

  /// The ticket purchase program (see TicketProgram). Real backends keep the default.
  [[nodiscard]] virtual TicketProgram ticket_program() const { return &correct_ticket_program; }
};

// ---------------------------------------------------------------------------------------------
// Selecting a backend.

/// A name the harness knows, for `mpconform backends`.
struct BackendInfo {
  std::string name;
  std::string description;
  bool mutant = false;
  /// For a mutant: the property expected to catch it (a property name, see scenario.hpp).
  std::string caught_by;
  /// For a mutant, the kind of bug: "order" (shows when two operations run in one particular
  /// order), "atomicity" (when two operations overlap within microseconds), or "control" (easy:
  /// shows in most runs). `mpconform mutants` runs each in the mode that suits its kind.
  std::string kind;
};

/// Every built-in backend: "reference" first, then every "mutant:<name>".
std::vector<BackendInfo> builtin_backends();

/// The backend named `spec`:
///   "reference" (also "" or "mpref")    the reference implementation (the default);
///   "mutant:<name>"                     a built-in mutant;
///   a path containing '/' or ending in ".so"  a plugin (see MPCONFORM_EXPORT_BACKEND).
/// Throws: std::invalid_argument with a one-line reason for an unknown name, or a plugin that
/// cannot be loaded, lacks the entry point, or has another ABI version.
std::unique_ptr<Backend> make_backend(std::string_view spec);

/// The backend chosen by a command line and the environment: `cli` when it has a value, else
/// $MPCONFORM_BACKEND when set and non-empty, else "reference".
std::string backend_spec(const std::optional<std::string>& cli);

/// The reference backend (mpref), as an object a wrapper can delegate to.
std::unique_ptr<Backend> make_reference_backend();

// ---------------------------------------------------------------------------------------------
// Plugins

/// What a plugin's entry point returns. Lives in the plugin (static storage).
struct BackendPlugin {
  std::uint32_t abi_version;  // must be kBackendAbiVersion
  const char* name;           // for reports
  Backend* (*create)();       // a new backend, owned by the caller (deleted with delete)
};

/// The entry point's symbol name.
inline constexpr const char* kBackendPluginSymbol = "mpconform_backend_plugin";

}  // namespace mpconform

/// Defines the plugin entry point for backend class `Class` (default-constructible, derived
/// from mpconform::Backend). Use once, in a shared library:
///   MPCONFORM_EXPORT_BACKEND(MyBackend, "mine")
#define MPCONFORM_EXPORT_BACKEND(Class, Name)                                                 \
  extern "C" __attribute__((visibility("default"))) const ::mpconform::BackendPlugin*         \
  mpconform_backend_plugin() {                                                                \
    static const ::mpconform::BackendPlugin plugin{                                           \
        ::mpconform::kBackendAbiVersion, Name,                                                \
        []() -> ::mpconform::Backend* { return new Class(); }};                               \
    return &plugin;                                                                           \
  }
