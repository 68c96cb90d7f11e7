#pragma once
// mpconform/plan.hpp: what a scenario asks the processes to do, as data.
//
// A property turns a scenario into a Plan; an executor (the C++ one in executor.hpp, the Python
// one in harness/python/mpconform_exec.py) creates the plan's objects with the implementation
// under test, forks its processes, runs each process's steps in order and records every call in
// a history. The plan is plain JSON; its grammar and the meaning of every step are the
// executor protocol, harness/INTERPRETING.md ("Plans"). This header is that grammar in C++.
//
// A plan never depends on the executor: the same plan runs on the reference, a plugin, or a
// Python module, and its history is judged by the same property checks.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace mpconform {

/// The kinds of object a plan creates (in the executor's parent, before any fork).
enum class ObjectType : std::uint8_t {
  queue,           // Queue(maxsize)
  joinable_queue,  // JoinableQueue(maxsize)
  simple_queue,    // SimpleQueue()
  lock,            // Lock()
  rlock,           // RLock()
  pipe,            // Pipe(duplex): end 0 and end 1 (simplex: end 0 reads, end 1 writes)
  value,           // Value('Q', initial) with its lock; `initial` its first value
  ticket_file,     // a temporary file holding one count (`initial`), removed after the run
};

struct PlanObject {
  ObjectType type = ObjectType::queue;
  std::int64_t maxsize = 0;   // queue, joinable_queue: <= 0 unbounded
  bool duplex = true;         // pipe
  std::uint64_t initial = 0;  // value, ticket_file
  friend bool operator==(const PlanObject&, const PlanObject&) = default;
};

/// The arguments of one blocking call. timeout nullopt = Python's None.
struct CallSpec {
  bool block = true;
  std::optional<double> timeout;
  std::uint32_t delay_us = 0;  // slept before the call
  friend bool operator==(const CallSpec&, const CallSpec&) = default;
};

/// Every step an executor must know. The simple ones are one call each (one history op); the
/// composite ones are small loops the properties need (INTERPRETING.md says exactly what each
/// records and when it stops).
enum class StepOp : std::uint8_t {
  // simple
  sleep,      // us
  put,        // obj, item, call; retry_full: retry a Full put (same item) with backoff
  get,        // obj, call (SimpleQueue: get(timeout), block=false meaning timeout 0)
  qsize,      // obj
  empty,      // obj
  full,       // obj
  task_done,  // obj
  join,       // obj, call.timeout (JoinableQueue.join bounded by the timeout)
  acquire,    // obj, call
  release,    // obj
  send,       // obj, end, item (a definite failure ends the process's steps)
  recv,       // obj, end
  poll,       // obj, end, call.timeout
  close,      // obj, end
  read,       // obj (value or ticket_file)
  // composite
  consume,           // obj, quota, gets, probes, task_done (+ task_pause_us)
  drain,             // obj, limit
  critical_section,  // obj, call (the acquire), depth, hold_us, release_unowned_first
  increment,         // obj (value), hold_us: with v.get_lock(): v.value += 1
  buy,               // obj (lock), store (value or ticket_file), attempts, hold_us
  recv_all,          // obj, end, polls, limit, until_quiet
  start_children,    // children: start each (daemon flag), publish their pids
  exit_handling,     // the process's exit work (util._exit_function), recorded as `exit`
  observe,           // watch: wait until each listed process has ended (pidfd), record `gone`
  timed_process_join,  // call.timeout: start a child that outlives it, join(timeout), kill it
};

/// A child that start_children starts: its scenario-local process index, its daemon flag, and
/// how long it works (non-daemonic; a daemonic child lives until killed, at most daemon life).
struct ChildSpec {
  std::uint32_t process = 0;
  bool daemon = false;
  std::uint32_t run_us = 0;
  friend bool operator==(const ChildSpec&, const ChildSpec&) = default;
};

/// One step. Only the fields its op reads are meaningful (and written to JSON).
struct Step {
  StepOp op = StepOp::sleep;
  std::uint32_t obj = 0;     // index into Plan::objects
  std::uint32_t end = 0;     // pipe end (0 or 1)
  /// The object index recorded in the history (Op::object); nullopt: `obj`. Pipes record a
  /// direction, not the pipe (INTERPRETING.md).
  std::optional<std::uint32_t> record;
  std::uint64_t item = 0;    // put, send: the tag
  CallSpec call;             // put, get, join, acquire, poll, critical_section, timed_process_join
  bool retry_full = false;   // put
  bool bytes = false;        // send, recv, recv_all: send_bytes/recv_bytes of the 8-byte tag
  std::uint32_t us = 0;      // sleep
  std::uint32_t quota = 0;   // consume
  std::vector<CallSpec> gets;          // consume (cycled)
  std::vector<std::string> probes;     // consume: "", "qsize", "empty", "full" after get i
  bool task_done = false;              // consume: task_done after each item
  std::uint32_t task_pause_us = 0;     // consume: before that task_done
  std::uint32_t limit = 0;             // drain, recv_all: at most this many items
  std::uint32_t depth = 1;             // critical_section
  std::uint32_t hold_us = 0;           // critical_section, increment, buy (between read and write)
  bool release_unowned_first = false;  // critical_section
  std::uint32_t store = 0;             // buy
  std::uint32_t attempts = 1;          // buy
  std::vector<std::optional<double>> polls;  // recv_all: poll(timeout) before each recv
  bool until_quiet = false;            // recv_all: stop at a poll(observe) that times out
  std::vector<ChildSpec> children;     // start_children
  std::vector<std::uint32_t> watch;    // observe

  [[nodiscard]] std::uint32_t recorded_object() const noexcept { return record.value_or(obj); }
  friend bool operator==(const Step&, const Step&) = default;
};

/// One process the executor forks.
struct PlanProcess {
  std::uint32_t index = 0;  // Op::process of its calls
  std::string role;         // "producer 0", for reports
  /// Phase 0 starts together (released at one gate); phase n+1 is forked when every process of
  /// phase n has ended.
  int phase = 0;
  /// Pipe ends this process closes right after fork, before the gate: {obj, end}.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> close_first;
  std::vector<Step> steps;
  friend bool operator==(const PlanProcess&, const PlanProcess&) = default;
};

/// The waits of the composite steps, in seconds, already scaled (from the tiers, timing()).
struct PlanTiming {
  double patience = 0.5;     // a put/consume/drain gives up after this long without progress
  double daemon_life = 1.0;  // a daemonic child lives this long unless killed
  double observe = 1.5;      // observe's, join's (consume) and recv_all until_quiet's longest wait
  double settle = 0.002;     // drain's last get waits this long (CPython's feeder may lag)
  double wait = 2.0;         // the longest wait for the gate or for another process's signal
  friend bool operator==(const PlanTiming&, const PlanTiming&) = default;
};

/// PlanTiming from the tiers (tiers.hpp), scaled by MPCONFORM_TIME_SCALE.
PlanTiming plan_timing();

struct Plan {
  PlanTiming timing;
  std::vector<PlanObject> objects;
  /// Steps the executor runs in its own process after creating the objects and before forking,
  /// recorded as process `setup_process`. None may block (use block=false).
  std::vector<Step> setup;
  std::uint32_t setup_process = 0;
  std::vector<PlanProcess> processes;
  friend bool operator==(const Plan&, const Plan&) = default;
};

/// The limits every executor may rely on (a plan beyond them is refused).
inline constexpr std::size_t kMaxPlanProcesses = 32;  // process indices 0..31 incl. children
inline constexpr std::size_t kMaxPlanObjects = 16;
inline constexpr std::size_t kMaxPlanSteps = 4096;    // per process

/// An estimate of the calls a plan makes (k in PCT's bound): one per simple step, a quota's worth
/// for consume, and so on.
std::uint64_t plan_calls(const Plan& plan);

/// The processes a plan forks, including the children its steps start (start_children,
/// timed_process_join).
std::uint32_t process_count(const Plan& plan);

std::string_view to_string(ObjectType t) noexcept;
std::string_view to_string(StepOp op) noexcept;

/// The JSON of INTERPRETING.md ("Plans"): only the fields an op reads are written.
nlohmann::json to_json(const Plan& plan);
/// Throws std::invalid_argument naming the field ("processes[2].steps[5].op: unknown op 'pot'")
/// for a malformed plan, an unknown op or object type, an index out of range, or a plan past
/// the limits above. Runs validate_plan().
Plan plan_from_json(const nlohmann::json& j);
struct Schedule;
/// A plan document may carry how to run it (INTERPRETING.md, "Plans"): {"schedule": {"mode":
/// "pct", "priorities": [...], "change_points": [...]}}. schedule_json() writes that member's
/// value; schedule_from_plan_json() reads it from a plan document (delays when absent) and
/// throws std::invalid_argument naming the field when it is malformed.
nlohmann::json schedule_json(const Schedule& schedule);
Schedule schedule_from_plan_json(const nlohmann::json& plan);
/// The schedule member's value itself (also a scenario file's "schedule", which adds pct's
/// "depth" and "calls"; without "depth", depth is the change points + 1). Throws
/// std::invalid_argument naming the field ("schedule.seconds: ...").
Schedule schedule_from_json(const nlohmann::json& schedule);

/// Why `plan` cannot run in overlap mode (setup steps, or a step that starts or observes
/// processes, runs the exit work, or closes a pipe end: repeating them on the same objects is
/// impossible), naming the step ("processes[1].steps[0]: close"); empty when it can.
std::string overlap_unsupported(const Plan& plan);

/// Throws std::invalid_argument naming the field for indices out of range, objects of the wrong
/// type for a step, or a plan past the limits.
void validate_plan(const Plan& plan);

}  // namespace mpconform
