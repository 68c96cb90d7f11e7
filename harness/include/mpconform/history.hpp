#pragma once
// mpconform/history.hpp: what the processes of a scenario did, as Jepsen-style operations.
//
// One concept, three pieces:
//   Op / History   the data a checker reads (plain values, no shared memory);
//   Recorder       the log in shared memory that every forked process appends to;
//   JSON Lines     one Op per line, for reports and for the checkers' test fixtures.
//
// Every operation is recorded twice over the same slot: once when it is invoked (before the
// call) and once when it completes (after the call). A call whose process died in between
// keeps its invoke and becomes `info` (it may or may not have taken effect) when the parent
// reads the history. "When in doubt, indefinite": a harness records `fail` only when the call
// definitely did not take effect (it raised queue.Empty, acquire returned False, ...).
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mpref::detail {
class SharedRegion;
}

namespace mpconform {

// ---------------------------------------------------------------------------------------------
// Operations

/// What was called. Names follow the Python API; JSON uses the same spelling.
enum class OpKind : std::uint8_t {
  // Queue, SimpleQueue, JoinableQueue (object = the queue)
  put,        // value = the item (a tag, see make_tag); fail: Full
  get,        // value = the item got (ok only); fail: Empty
  qsize,      // value = the size returned (as int64)
  empty,      // value = 1 for True, 0 for False
  full,       // value = 1 for True, 0 for False
  task_done,  // JoinableQueue.task_done; fail: ValueError (called too many times)
  join,       // JoinableQueue.join (no timeout)
  // Lock, RLock, Semaphore (object = the lock)
  acquire,  // ok: returned True; fail Timeout: returned False (also for block=False)
  release,  // fail: ValueError (Lock) / AssertionError (RLock)
  // Connection (object = one direction of a pipe: its write end's messages)
  send,   // value = the message tag; fail: BrokenPipeError / OSError
  recv,   // value = the message got (ok only); fail: EOFError
  poll,   // ok: returned True; fail Timeout: returned False
  close,  // this process closed its copy of the end
  // shared Value (object = the value)
  read,       // value = the value read (as int64)
  write,      // value = the value written
  increment,  // one `with v.get_lock(): v.value += 1`; value = the new value, when recorded
  // ticket grab (object = the ticket counter)
  buy,  // ok: sold, value = ticket number (1..tickets); fail SoldOut: refused
  // processes (object unused)
  start,         // this process started child `value`; aux = 1 when the child is daemonic
  process_join,  // Process.join(timeout) of child `value`; ok: child ended; fail Timeout: alive
  exit,          // this process's exit work: invoke = target returned, return = just before _exit
  gone,          // observed by another process: process `value` ended within [invoke, return];
                 // fail Timeout: it was still alive at return
  kill,          // sent signal `aux` to process `value`
  exitcode,      // this process read child `aux`'s Process.exitcode after joining it: value = the
                 // code as int64 (-N: killed by signal N)
  custom,        // scenario-specific; checkers ignore it
};

/// ok: happened. fail: definitely did not happen. info: unknown (e.g. the process was killed
/// mid-call, or the call ended in an unexpected way).
enum class Outcome : std::uint8_t { ok, fail, info };

/// Why a call failed (`fail` outcomes) or was cut short. Named after the Python exceptions;
/// `Timeout` is a call that returned False or gave up without raising (acquire, poll,
/// Process.join with a live child), `SoldOut` a refused ticket purchase.
enum class ErrorKind : std::uint8_t {
  none,
  Empty,
  Full,
  Timeout,
  ValueError,
  EOFError,
  AssertionError,
  OSError,
  BrokenPipeError,
  RuntimeError,
  SoldOut,
  Other,
};

/// `timeout_ns` of a call that may block without limit (Python's timeout=None with block=True).
inline constexpr std::int64_t kNoTimeout = -1;
/// `return_ns` of a call that never completed (its process died mid-call).
inline constexpr std::int64_t kNever = std::numeric_limits<std::int64_t>::max();

/// One operation of one process. Times are CLOCK_MONOTONIC nanoseconds.
struct Op {
  std::uint32_t process = 0;  // scenario-local process index
  std::int32_t pid = 0;       // OS pid (diagnostics only; checkers use `process`)
  OpKind kind = OpKind::custom;
  std::uint32_t object = 0;  // scenario-local object index (which queue, lock, pipe direction)
  std::uint64_t value = 0;   // argument at invoke (put, send), or result at completion (get, recv)
  std::uint64_t aux = 0;     // a second quantity where the kind says so (start: daemon flag)
  // The effective timeout: kNoTimeout for "may block forever", 0 for block=False, timeout=0 and
  // negative timeouts (which CPython treats as "do not wait"), otherwise the timeout.
  std::int64_t timeout_ns = kNoTimeout;
  Outcome outcome = Outcome::ok;
  ErrorKind error = ErrorKind::none;  // set for fail (and optionally info)
  std::int64_t invoke_ns = 0;
  std::int64_t return_ns = kNever;  // kNever only for info

  [[nodiscard]] bool ok() const noexcept { return outcome == Outcome::ok; }
  [[nodiscard]] bool failed() const noexcept { return outcome == Outcome::fail; }
  [[nodiscard]] bool info() const noexcept { return outcome == Outcome::info; }
  [[nodiscard]] bool completed() const noexcept { return return_ns != kNever; }
  friend bool operator==(const Op&, const Op&) = default;
};

/// A whole run. `ops` are in the order the recorder claimed their slots (which is invoke
/// order up to clock resolution); checkers do not rely on that order and report windows as
/// indices into `ops`.
struct History {
  std::vector<Op> ops;
  // Operations that did not fit in the recorder (capacity overflow). A history with
  // dropped > 0 is incomplete, and every checker answers Unknown for it.
  std::uint64_t dropped = 0;
  // Slots claimed by a process that died before writing its invoke (the call never started;
  // they are not in `ops`). Diagnostics only.
  std::uint64_t torn = 0;
};

// ---------------------------------------------------------------------------------------------
// Value tags: every item a producer puts (every message a sender sends) is unique and says who
// made it. A tag is never 0, so a zero-filled result is never mistaken for an item.

// The producer field excludes 0xffff, so small negative int64 values (a qsize of -1) are never
// tags.
inline constexpr std::uint32_t kMaxTagProducer = (1u << 16) - 3;           // 0 .. 65533
inline constexpr std::uint64_t kMaxTagSeq = (std::uint64_t{1} << 48) - 1;  // 0 .. 2^48-1

/// The tag of the `seq`-th item of producer `producer`.
/// Requires: producer <= kMaxTagProducer and seq <= kMaxTagSeq (checked: throws
/// std::out_of_range).
std::uint64_t make_tag(std::uint32_t producer, std::uint64_t seq);
/// The producer of a tag made by make_tag (undefined for other values: check is_tag first).
constexpr std::uint32_t tag_producer(std::uint64_t tag) noexcept {
  return static_cast<std::uint32_t>(tag >> 48) - 1;
}
/// The sequence number of a tag made by make_tag.
constexpr std::uint64_t tag_seq(std::uint64_t tag) noexcept { return tag & kMaxTagSeq; }
/// True for values make_tag can return.
constexpr bool is_tag(std::uint64_t v) noexcept {
  const std::uint64_t p = v >> 48;
  return p >= 1 && p <= std::uint64_t{kMaxTagProducer} + 1;
}

// ---------------------------------------------------------------------------------------------
// Recording (shared memory)

namespace detail {
struct LogHeader;
struct LogSlot;
}  // namespace detail

class Recorder;

/// One call in flight, returned by ProcessLog::invoke. Complete it exactly once with ok(),
/// fail() or info(). Move-only. If it is destroyed without completion (an unexpected
/// exception unwound past it), it completes as info with the current time: the call ended,
/// but nobody said how. If the process dies first, the slot stays invoked and the parent
/// reads it as info with return_ns == kNever.
class Call {
 public:
  Call() = default;
  Call(Call&& other) noexcept;
  Call& operator=(Call&& other) noexcept;
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;
  ~Call();

  /// Effects: records that the call happened, returning now; keeps the invoke value.
  void ok();
  /// Effects: records that the call happened and returned `result` (get, recv, qsize, read...).
  void ok(std::uint64_t result);
  /// Effects: records that the call definitely did not take effect, for `why`.
  void fail(ErrorKind why);
  /// Effects: records that the call returned but whether it took effect is unknown.
  void info(ErrorKind why = ErrorKind::Other);
  /// True while the call is invoked and not yet completed (false for an overflowed slot,
  /// which records nothing).
  [[nodiscard]] bool pending() const noexcept { return slot_ != nullptr; }

 private:
  friend class ProcessLog;
  explicit Call(detail::LogSlot* slot) noexcept : slot_(slot) {}
  void complete(Outcome outcome, ErrorKind error, const std::uint64_t* result) noexcept;
  detail::LogSlot* slot_ = nullptr;
};

/// The view of the log that one process writes to. Make it in the process that records
/// (after fork): it remembers that process's pid. Cheap to copy.
class ProcessLog {
 public:
  /// Effects: claims a slot (one atomic fetch_add), writes the invoke (time now) and returns the
  /// call to complete. When the log is full, the returned Call records nothing and the overflow
  /// is counted (History::dropped), never silently lost.
  /// `timeout_ns`: kNoTimeout, 0 or the timeout (see Op::timeout_ns; use timeout_ns_of()).
  [[nodiscard]] Call invoke(OpKind kind, std::uint32_t object = 0, std::uint64_t value = 0,
                            std::int64_t timeout_ns = kNoTimeout, std::uint64_t aux = 0) const;
  /// Records an operation already known complete (invoke and return both now), e.g. `exit`.
  void instant(OpKind kind, std::uint32_t object = 0, std::uint64_t value = 0,
               std::uint64_t aux = 0) const;
  [[nodiscard]] std::uint32_t process() const noexcept { return process_; }

 private:
  friend class Recorder;
  ProcessLog(detail::LogHeader* header, detail::LogSlot* slots, std::uint32_t process,
             std::int32_t pid) noexcept
      : header_(header), slots_(slots), process_(process), pid_(pid) {}
  detail::LogHeader* header_;
  detail::LogSlot* slots_;
  std::uint32_t process_;
  std::int32_t pid_;
};

/// The shared log. Create it in the parent before forking; children inherit it (an anonymous
/// MAP_SHARED mapping: nothing in /dev/shm, nothing left behind, even after SIGKILL).
/// Copies share the same log. Appends from any number of processes are lock-free.
class Recorder {
 public:
  /// Requires: capacity >= 1. Reserves capacity slots (~80 bytes each, committed lazily).
  /// Throws std::invalid_argument for capacity 0, boost::interprocess::interprocess_exception
  /// when the mapping fails.
  explicit Recorder(std::size_t capacity);

  /// The log of scenario-local process `process`, for the calling process (pid = getpid()).
  [[nodiscard]] ProcessLog log(std::uint32_t process) const;

  /// The whole history: every claimed slot, in slot order. Call it after the run (all writers
  /// reaped): an invoked slot with no completion is returned as info, return_ns = kNever.
  [[nodiscard]] History read() const;
  /// The slots [first, last) (clamped to those claimed), read as read() does, without the
  /// dropped count: the calls recorded between two moments, while the writers may still be
  /// writing later slots (overlap mode reads each iteration as it completes).
  [[nodiscard]] History read(std::uint64_t first, std::uint64_t last) const;

  [[nodiscard]] std::size_t capacity() const noexcept { return capacity_; }
  /// Slots claimed so far (including overflowed claims, which are counted in dropped()).
  [[nodiscard]] std::uint64_t claimed() const noexcept;
  [[nodiscard]] std::uint64_t dropped() const noexcept;
  /// Empties the log. Requires: no process is writing to it.
  void clear() noexcept;

 private:
  std::shared_ptr<mpref::detail::SharedRegion> region_;
  detail::LogHeader* header_ = nullptr;
  detail::LogSlot* slots_ = nullptr;
  std::size_t capacity_ = 0;
};

/// CLOCK_MONOTONIC now, in nanoseconds (the clock of every Op time).
std::int64_t monotonic_ns() noexcept;

/// Op::timeout_ns from Python-style arguments: block=false or timeout <= 0 -> 0;
/// block=true and no timeout -> kNoTimeout; otherwise the timeout in nanoseconds.
std::int64_t timeout_ns_of(bool block, std::optional<double> timeout_seconds) noexcept;

// ---------------------------------------------------------------------------------------------
// Names and JSON Lines
//
// One op per line:
//   {"process":0,"pid":41,"op":"put","obj":0,"value":"0:3","timeout":0.25,"outcome":"ok",
//    "invoke":1200,"return":1300}
// Fields: "process" (required), "op" (required), "outcome" (required), "invoke" (required, ns),
// "return" (ns; null or absent only for info, meaning kNever), "pid", "obj", "value", "aux"
// (default 0), "timeout" (seconds; null or absent = no timeout), "error" (error name; absent =
// none). "value" is an integer or a tag written "P:S" (make_tag(P, S)); on output every tag is
// written "P:S", other values as integers (negative when they are negative as int64), so the
// text round-trips exactly. A line whose object has the key "meta" is metadata, not an op:
// {"meta":{"dropped":3}} sets History::dropped (and torn); other meta keys are ignored here
// (test fixtures keep their expectations there). Blank lines are skipped.

std::string_view to_string(OpKind kind) noexcept;
std::string_view to_string(Outcome outcome) noexcept;
std::string_view to_string(ErrorKind error) noexcept;
/// Throws std::invalid_argument for an unknown name.
OpKind op_kind_from_string(std::string_view name);
Outcome outcome_from_string(std::string_view name);
ErrorKind error_kind_from_string(std::string_view name);

nlohmann::json to_json(const Op& op);
/// Throws std::invalid_argument naming the field when the object is not a valid op.
Op op_from_json(const nlohmann::json& j);

/// JSON Lines text (a meta line first when dropped or torn is non-zero).
std::string to_jsonl(const History& history);
/// Throws std::invalid_argument with the line number on a malformed line.
History history_from_jsonl(std::string_view text);
History load_history(const std::filesystem::path& path);
void save_history(const std::filesystem::path& path, const History& history);

/// "p2 put(obj 0, 0:3) ok [1.200000 .. 1.300000]": one line for reports.
std::string describe(const Op& op);

}  // namespace mpconform
