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

struct Scenario {
  std::string property;    // a registered property's name
  /// The seed the scenario was generated from (0 when built by hand); reports print it.
  std::uint64_t seed = 0;
  nlohmann::json params;   // the property's scenario, as its file defines it
  friend bool operator==(const Scenario&, const Scenario&) = default;
};

/// A scenario of property `property` drawn from `seed`: the same (property, seed, limits)
/// gives the same scenario on every machine. Throws std::invalid_argument for an unknown
/// property.
Scenario generate(std::string_view property, std::uint64_t seed, const GenLimits& limits = {});

/// Throws std::invalid_argument naming the first field that is malformed or out of range
/// ("scenario.producers[2].puts: 70 entries, expected 1..64"), or an unknown property.
void validate(const Scenario& s);

/// One line: "Queue: 3 producers, 15 items, 2 consumers, maxsize 2".
std::string describe(const Scenario& s);

/// The number of processes the scenario forks (including children it starts), for reports.
std::uint32_t process_count(const Scenario& s);

/// Smaller variants of `s` (fewer processes, fewer items, no delays), most promising first, for
/// shrinking: each is valid and keeps s's property and seed. Empty when s is minimal.
std::vector<Scenario> smaller(const Scenario& s);

// JSON (replay files): {"property":"queue","seed":7,"scenario":{...}}.
nlohmann::json to_json(const Scenario& s);
/// Throws std::invalid_argument naming the field for a malformed document (validate() runs).
Scenario scenario_from_json(const nlohmann::json& j);

}  // namespace mpconform
