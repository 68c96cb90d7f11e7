#pragma once
// `mpconform bench-bugs`: the bug benchmark. Every built-in mutant under every schedule mode
// (delays, PCT d=1..3, overlap), each with the same seed and a fixed budget: caught or not, the
// time to the first failure, and for PCT how often that failure replays. Per mode and kind of
// bug (order, atomicity, control), the median time to catch, counting a mutant that survived
// as the whole budget (so a median is an upper bound when some survived).
#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mpconform/backend.hpp"
#include "mpconform/scenario.hpp"

namespace mpconform::cli {

struct BenchMode {
  std::string name;  // "delays", "pct d=2", "overlap"
  ScheduleMode mode = ScheduleMode::delays;
  std::uint32_t depth = 2;
};

/// The modes the benchmark compares, in column order.
std::vector<BenchMode> bench_modes();

struct BenchCell {
  std::string mutant, kind, property, mode;
  bool caught = false;
  double seconds = 0;  // time to the first failure, or the time spent when not caught
  std::uint64_t scenarios = 0;
  std::string verdict, clause;
  std::uint64_t seed = 0;  // of the failing scenario
  int replays = 0;         // re-runs of the failing scenario, and how many failed again
  int replays_failed = 0;
  std::string replay;      // the replay command
};

struct BenchOptions {
  double seconds = 60;      // budget per mutant and mode
  std::uint64_t seed = 1;
  int replays = 10;         // re-runs of each failure (PCT's replay rate)
  std::vector<std::string> mutants;  // empty: every built-in mutant
  std::vector<std::string> modes;    // empty: every mode of bench_modes()
};

/// Runs the benchmark, printing each cell as it completes and the summary at the end.
/// Throws std::invalid_argument for an unknown mutant or mode name.
std::vector<BenchCell> bench_bugs(const BenchOptions& options, std::ostream& out);

nlohmann::json bench_json(const BenchOptions& options, const std::vector<BenchCell>& cells);

}  // namespace mpconform::cli
