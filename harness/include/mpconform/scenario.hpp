#pragma once
// mpconform/scenario.hpp: what one run of a property does, as plain data.
//
// A scenario is every random choice of one run, drawn in the parent before anything forks: how
// many producers and consumers, which items, which block/timeout arguments, which delays. Its
// `params` are the property's own JSON (each property file says what they mean and which
// ranges it accepts); the property turns them into a plan (plan.hpp), and the same scenario
// replays the same choices (not the same interleaving: the OS schedules).
//
// Properties are looked up by name in the registry (property.hpp); every function below
// dispatches to the scenario's property.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mpconform/plan.hpp"

namespace mpconform {

/// Bounds of what generate() draws (all inclusive; never beyond what validate() accepts).
struct GenLimits {
  std::uint32_t max_processes = 8;   // producers, consumers, workers, buyers each (1..8)
  std::uint32_t max_items = 16;      // items per producer, attempts per worker, messages (1..64)
  std::uint32_t max_delay_us = 500;  // injected delays (0..100000)
  double max_timeout_s = 0.05;       // positive timeouts
  friend bool operator==(const GenLimits&, const GenLimits&) = default;
};

/// Which legality a history is judged by (INTERPRETING.md, "Profiles").
///   reference  the reference's promises: divergence clauses exact (empty() right after put
///              is False, get_nowait() sees an item whose put returned);
///   cpython    CPython's: racy clauses accept every outcome CPython allows.
/// C++ backends are judged by `reference`, Python modules by `cpython` (the oracle itself is
/// racy there), unless the command line says otherwise.
enum class Profile : std::uint8_t { reference, cpython };
std::string_view to_string(Profile p) noexcept;
/// Throws std::invalid_argument for an unknown name.
Profile profile_from_string(std::string_view name);

/// How the interleaving is chosen: part of the scenario, so it replays and shrinks with it.
///   delays  the plan's random delays (drawn with the scenario) and the OS scheduler;
///   pct     PCT (Burckhardt et al., ASPLOS 2010) across real processes: every process of the
///           scenario runs on one CPU under SCHED_FIFO with a distinct priority drawn from the
///           seed (`priorities`, by process index; children inherit their parent's); when the
///           scenario's calls reach the count `change_points[i]`, the process making that call
///           drops to priority i + 1, below every initial one, before the call. On one CPU with
///           strict priorities the highest runnable process runs until it blocks, so the kernel
///           enforces PCT's schedule inside the implementation too. The plan's injected delays
///           are not slept (the priorities choose the order). A bug of depth d among n
///           processes and k calls is hit with probability >= 1/(n k^(d-1)) per run.
///   overlap jcstress-style overlap stress, for bugs inside one operation (a check-then-act
///           window, a non-atomic counter): the plan's phase-0 processes (the actors) are forked
///           once and run their steps many times, released together at a shared-memory barrier
///           each iteration, each after its own start offset (0..max_offset_ns, from
///           overlap_offset_ns()); the steps of later phases (a drainer, a final read) run in the
///           leader (the lowest actor) after every actor is done; values and ticket files are
///           set back to their initial value before each iteration.
///           Each iteration's history is judged on its own. Plans that start processes or close
///           pipe ends cannot be repeated on the same objects (overlap_unsupported()).
enum class ScheduleMode : std::uint8_t { delays, pct, overlap };
std::string_view to_string(ScheduleMode m) noexcept;
/// Throws std::invalid_argument for an unknown name.
ScheduleMode schedule_mode_from_string(std::string_view name);

struct Schedule {
  ScheduleMode mode = ScheduleMode::delays;
  std::uint32_t depth = 1;                   // pct: d (1..4); d - 1 change points
  std::vector<std::uint32_t> priorities;     // pct: SCHED_FIFO priority of process i (distinct)
  std::vector<std::uint64_t> change_points;  // pct: call counts (1-based, ascending)
  std::uint64_t calls = 0;                   // pct: k, the scenario's estimated number of calls
  std::uint64_t iterations = 0;              // overlap: at most this many iterations (1..1e6)
  double seconds = 0;                        // overlap: none released after this long (0..60]
  std::uint32_t max_offset_ns = 0;           // overlap: start offsets are 0..this (<= 1e6)
  std::uint64_t offset_seed = 0;             // overlap: the offsets' seed
  friend bool operator==(const Schedule&, const Schedule&) = default;
};

/// The start offset of process `process` in overlap iteration `iteration` (0-based), in ns:
/// mix(offset_seed ^ mix(iteration * 64 + process)) % (max_offset_ns + 1), mix the splitmix64
/// finalizer (both executors compute the same).
std::uint32_t overlap_offset_ns(const Schedule& schedule, std::uint64_t iteration, std::uint32_t process) noexcept;

struct Scenario {
  std::string property;    // a registered property's name
  /// The seed the scenario was generated from (0 when built by hand); reports print it.
  std::uint64_t seed = 0;
  nlohmann::json params;   // the property's scenario, as its file defines it
  Schedule schedule;       // how the interleaving is chosen (delays unless asked otherwise)
  friend bool operator==(const Scenario&, const Scenario&) = default;
};

/// The schedule for `plan` drawn from `seed`: mode delays gives an empty one; pct draws a
/// priority permutation of the plan's processes and depth - 1 change points uniformly among the
/// plan's estimated calls (plan_calls()); overlap draws the offsets' seed and their range (0 to
/// 5 us) and runs up to 100000 iterations in 0.1 s.
Schedule draw_schedule(ScheduleMode mode, std::uint32_t depth, std::uint64_t seed, const Plan& plan);

/// A scenario of property `property` drawn from `seed`: the same (property, seed, limits)
/// gives the same scenario on every machine. Throws std::invalid_argument for an unknown
/// property.
Scenario generate(std::string_view property, std::uint64_t seed, const GenLimits& limits = {});
/// The same scenario with a schedule of `mode` (and `depth` for pct) drawn from the same seed.
/// overlap draws small scenarios (at most 2 processes per role, 3 items each: an iteration must
/// be short for many to run) with at least two processes in phase 0 where the property has such
/// scenarios (drawn again from the same seed, at most 16 times).
Scenario generate(std::string_view property, std::uint64_t seed, const GenLimits& limits, ScheduleMode mode,
                  std::uint32_t depth);

/// Throws std::invalid_argument naming the first field that is malformed or out of range
/// ("scenario.producers[2].puts: 70 entries, expected 1..64"), or an unknown property.
void validate(const Scenario& s);

/// Throws std::invalid_argument naming the field of a schedule that does not fit `plan`
/// (a priority missing for a process, change points not ascending or not depth - 1 of them).
void validate_schedule(const Schedule& schedule, const Plan& plan);

/// One line: "Queue: 3 producers, 15 items, 2 consumers, maxsize 2".
std::string describe(const Scenario& s);

/// The number of processes the scenario forks (including children it starts), for reports.
std::uint32_t process_count(const Scenario& s);

/// Smaller variants of `s` (fewer processes, fewer items, no delays), most promising first, for
/// shrinking: each is valid and keeps s's property and seed. Empty when s is minimal.
std::vector<Scenario> smaller(const Scenario& s);

// JSON (replay files): {"property":"queue","seed":7,"scenario":{...}}, plus
// "schedule": {"mode":"pct","depth":2,"priorities":[...],"change_points":[...],"calls":k}
// when the mode is not delays.
nlohmann::json to_json(const Scenario& s);
/// Throws std::invalid_argument naming the field for a malformed document (validate() runs).
Scenario scenario_from_json(const nlohmann::json& j);

}  // namespace mpconform
