#pragma once
// mpconform/scenario.hpp: what one run of a property does, as plain data.
//
// A scenario is every random choice of one run, drawn in the parent before anything forks
// (RapidCheck's generators, and the harness's own generator below, are not usable in forked
// children): how many producers and consumers, which items, which block/timeout arguments,
// which delays are injected where. The runner (runner.hpp) turns it into processes; the same
// scenario replays the same choices (not the same interleaving: the OS schedules).
//
// Processes are numbered in the history (Op::process) as each scenario type says. Delays are
// microseconds, slept before the call they belong to (0: none). Items a producer p puts are
// make_tag(p, i) for its i-th item, so every item is unique and names its producer.
//
// Field ranges below are what the generator draws and what the runner supports; a scenario
// outside them is rejected by validate() (std::invalid_argument naming the field).
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mpconform {

/// The properties of the suite. Names (to_string) are the command line's --property values.
enum class Property : std::uint8_t {
  queue,     // "queue": FIFO per producer, nothing lost/duplicated/invented, Empty/Full/qsize
  lock,      // "lock": critical sections never overlap; RLock ownership
  tickets,   // "tickets": sold == min(buyers, tickets), count never negative, no double sale
  joinable,  // "joinable": join never early, task count exact, extra task_done raises
  timeouts,  // "timeouts": timed calls never return early and return within a tier
  daemon,    // "daemon": daemonic children die with their parent; others are joined first
  pipe,      // "pipe": per-direction FIFO, EOF only after every writer closed
  value,     // "value": no lost update under a shared Value's lock
};

/// Every property, in the order above.
std::span<const Property> all_properties() noexcept;
std::string_view to_string(Property p) noexcept;
/// nullopt for an unknown name.
std::optional<Property> property_from_string(std::string_view name) noexcept;

/// One call's arguments and the delay injected before it.
struct CallArgs {
  bool block = true;
  std::optional<double> timeout;  // seconds; nullopt = Python's None
  std::uint32_t delay_us = 0;     // slept before the call
  friend bool operator==(const CallArgs&, const CallArgs&) = default;
};

/// A call made next to a get to observe the queue.
enum class Probe : std::uint8_t { none, qsize, empty, full };

// ---------------------------------------------------------------------------------------------
// queue: processes 0..P-1 are producers, P..P+C-1 consumers, P+C the drainer (after all).

enum class QueueType : std::uint8_t { queue, simple_queue };

struct Producer {
  /// puts[i] puts make_tag(p, i). A put that raises Full is retried (a new call, same item)
  /// until it succeeds or the producer has made no progress for the patience (see runner.hpp).
  /// SimpleQueue ignores block/timeout (its put does not wait). Size: 1..64.
  std::vector<CallArgs> puts;
  friend bool operator==(const Producer&, const Producer&) = default;
};

struct Consumer {
  /// How many items this consumer takes before it stops (the quotas add up to the items put).
  std::uint32_t quota = 0;
  /// The arguments of its gets, used in turn (cycled). SimpleQueue: get(timeout), with
  /// block=false meaning timeout 0. Size: 1..16.
  std::vector<CallArgs> gets;
  /// probes[i % size] is made right after gets[i % size] (none: no probe). Same size as gets.
  std::vector<Probe> probes;
  friend bool operator==(const Consumer&, const Consumer&) = default;
};

struct QueueScenario {
  QueueType type = QueueType::queue;
  std::int64_t maxsize = 0;          // <= 0: unbounded; else 1..16 (SimpleQueue: 0)
  std::vector<Producer> producers;   // 1..8
  std::vector<Consumer> consumers;   // 1..8
  friend bool operator==(const QueueScenario&, const QueueScenario&) = default;
};

// ---------------------------------------------------------------------------------------------
// lock: process w runs workers[w] in order.

enum class LockType : std::uint8_t { lock, rlock };

struct LockAttempt {
  CallArgs acquire;               // a failed (timed-out) acquire skips the hold
  std::uint32_t hold_us = 0;  // time inside the critical section
  std::uint32_t depth = 1;    // RLock: acquires (recursion) then as many releases; Lock: 1
  /// RLock only: first call release() without owning the lock (must raise AssertionError).
  bool release_unowned_first = false;
  friend bool operator==(const LockAttempt&, const LockAttempt&) = default;
};

struct LockScenario {
  LockType type = LockType::lock;
  std::vector<std::vector<LockAttempt>> workers;  // 1..8 workers, 1..16 attempts each
  friend bool operator==(const LockScenario&, const LockScenario&) = default;
};

// ---------------------------------------------------------------------------------------------
// tickets: process b is buyer b; process B (after all) reads the final count.

enum class TicketStore : std::uint8_t { file, value };

struct Buyer {
  std::uint32_t start_delay_us = 0;
  std::uint32_t pause_us = 0;  // between reading and writing the count
  std::uint32_t attempts = 1;  // tries until it has a ticket: 1..3
  friend bool operator==(const Buyer&, const Buyer&) = default;
};

struct TicketScenario {
  TicketStore store = TicketStore::value;
  std::uint32_t tickets = 0;   // 0..16
  std::vector<Buyer> buyers;   // 1..8
  friend bool operator==(const TicketScenario&, const TicketScenario&) = default;
};

// ---------------------------------------------------------------------------------------------
// joinable: producers 0..P-1, consumers P..P+C-1 (get, pause, task_done), joiners after them,
// then one last process that calls task_done extra_task_done times (each must raise
// ValueError) and join() (must return at once).

struct JoinableConsumer {
  std::uint32_t quota = 0;
  std::vector<CallArgs> gets;            // cycled, 1..16
  std::uint32_t task_pause_us = 0;   // between get and task_done
  friend bool operator==(const JoinableConsumer&, const JoinableConsumer&) = default;
};

struct JoinableScenario {
  std::int64_t maxsize = 0;                  // <= 0 unbounded, else 1..16
  std::vector<Producer> producers;           // 1..4
  std::vector<JoinableConsumer> consumers;   // 1..4
  std::vector<std::uint32_t> joiners;        // start delay (us) of each joiner: 1..2 joiners
  std::uint32_t extra_task_done = 1;         // 0..2
  friend bool operator==(const JoinableScenario&, const JoinableScenario&) = default;
};

// ---------------------------------------------------------------------------------------------
// timeouts: process w runs workers[w]; every call is made where it must time out: get on an
// empty Queue (or SimpleQueue), put on a full Queue, acquire on a Lock / RLock the parent holds,
// join on a JoinableQueue with an unfinished task, poll on a pipe nothing is sent on,
// Process.join on a child that is still running.

enum class TimedOp : std::uint8_t {
  queue_get,
  queue_put,
  simple_get,
  lock_acquire,
  rlock_acquire,
  joinable_join,
  pipe_poll,
  process_join,
};

struct TimedCall {
  TimedOp op = TimedOp::queue_get;
  /// timeout: nullopt is not allowed (it would block forever); zero, negative and positive up
  /// to 0.2 s. block=false only for get/put/acquire.
  CallArgs call;
  friend bool operator==(const TimedCall&, const TimedCall&) = default;
};

struct TimeoutScenario {
  std::int64_t full_maxsize = 1;                // the full queue's maxsize: 1..4
  std::vector<std::vector<TimedCall>> workers;  // 1..8 workers, 1..8 calls each
  friend bool operator==(const TimeoutScenario&, const TimeoutScenario&) = default;
};

// ---------------------------------------------------------------------------------------------
// daemon: process 0 is the parent, 1 the observer, 2+i child i. The parent starts the children
// (through Backend::make_process), waits parent_delay_us, then runs Backend::exit_handling()
// and exits. Non-daemonic children work run_us and exit; daemonic children sleep until killed
// (at most the daemon life of runner.hpp). The observer watches every child and the parent end.

struct DaemonChild {
  bool daemon = true;
  std::uint32_t run_us = 0;  // non-daemonic: work time before exiting (0..50000)
  friend bool operator==(const DaemonChild&, const DaemonChild&) = default;
};

struct DaemonScenario {
  std::vector<DaemonChild> children;  // 1..4
  std::uint32_t parent_delay_us = 0;  // 0..20000
  friend bool operator==(const DaemonScenario&, const DaemonScenario&) = default;
};

// ---------------------------------------------------------------------------------------------
// pipe. Simplex: processes 0..W-1 write to the write end (each sends its messages, then closes
// it), process W reads until EOFError, polling first as `polls` say. Duplex (exactly 2
// writers): process 0 holds the first end, sends its messages, receives the other's, closes;
// process 1 holds the second end, sends its messages, receives until EOFError, closes.
// History objects (Op::object): direction 0 = the messages of the simplex writers, or of
// process 0 of a duplex pipe; direction 1 = the messages of process 1 of a duplex pipe.
// Message i of writer w is make_tag(w, i).

struct PipeWriter {
  std::vector<std::uint32_t> delays_us;  // one per message: 1..32 messages
  friend bool operator==(const PipeWriter&, const PipeWriter&) = default;
};

struct PipeScenario {
  bool duplex = false;
  std::vector<PipeWriter> writers;  // simplex 1..3, duplex exactly 2
  std::vector<CallArgs> polls;          // reader's poll before each recv, cycled (may be empty)
  friend bool operator==(const PipeScenario&, const PipeScenario&) = default;
};

// ---------------------------------------------------------------------------------------------
// value: process w does one `with v.get_lock(): v.value += 1` per entry of workers[w] (the entry
// is the pause between its read and its write); process W (after all) reads the final value.

struct ValueScenario {
  std::uint64_t initial = 0;
  std::vector<std::vector<std::uint32_t>> workers;  // 1..8 workers, 1..32 increments each
  friend bool operator==(const ValueScenario&, const ValueScenario&) = default;
};

// ---------------------------------------------------------------------------------------------

using ScenarioBody = std::variant<QueueScenario, LockScenario, TicketScenario, JoinableScenario,
                                  TimeoutScenario, DaemonScenario, PipeScenario, ValueScenario>;

struct Scenario {
  /// The seed the scenario was generated from (0 when built by hand); reports print it.
  std::uint64_t seed = 0;
  ScenarioBody body;
  [[nodiscard]] Property property() const noexcept;
  friend bool operator==(const Scenario&, const Scenario&) = default;
};

/// Throws std::invalid_argument naming the first field out of the ranges above.
void validate(const Scenario& s);

/// The number of processes the scenario forks (parent-level and children), for reports.
std::uint32_t process_count(const Scenario& s) noexcept;

/// One line: "queue: 3 producers x 5 items, 2 consumers, maxsize 2".
std::string describe(const Scenario& s);

// ---------------------------------------------------------------------------------------------
// Generation (the fuzz driver's generator: std::mt19937_64, no RapidCheck).

/// Bounds of what generate() draws (all inclusive; never beyond the ranges above).
struct GenLimits {
  std::uint32_t max_processes = 8;   // producers, consumers, workers, buyers each
  std::uint32_t max_items = 16;      // items per producer, attempts per worker, messages
  std::uint32_t max_delay_us = 500;  // injected delays
  double max_timeout_s = 0.05;       // positive timeouts
};

/// A scenario of property `p` drawn from `seed`: the same (p, seed, limits) gives the same
/// scenario on every machine. Scenario::seed is set to `seed`.
Scenario generate(Property p, std::uint64_t seed, const GenLimits& limits = {});

/// Smaller variants of `s` (fewer processes, fewer items, shorter delays), smallest first, for
/// simple shrinking: each is valid and keeps s's property and seed. Empty when s is minimal.
std::vector<Scenario> smaller(const Scenario& s);

// ---------------------------------------------------------------------------------------------
// JSON (replay files): {"property":"queue","seed":7,"scenario":{...}}; timeouts are numbers or
// null, enums their names.

nlohmann::json to_json(const Scenario& s);
/// Throws std::invalid_argument naming the field for a malformed document (validate() runs).
Scenario scenario_from_json(const nlohmann::json& j);

}  // namespace mpconform
