// The bug benchmark (bench_bugs.hpp).
#include "bench_bugs.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "mpconform/executor.hpp"
#include "mpconform/fuzz.hpp"
#include "progress.hpp"

namespace mpconform::cli {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

constexpr const char* kKinds[] = {"order", "atomicity", "control"};

std::string cell_text(const BenchCell& c) {
  if (c.verdict == "n/a") return "n/a";
  return c.caught ? fmt::format("{:.2f} s", c.seconds) : std::string("-");
}

}  // namespace

std::vector<BenchMode> bench_modes() {
  return {{"delays", ScheduleMode::delays, 2},
          {"pct d=1", ScheduleMode::pct, 1},
          {"pct d=2", ScheduleMode::pct, 2},
          {"pct d=3", ScheduleMode::pct, 3},
          {"overlap", ScheduleMode::overlap, 2}};
}

std::vector<BenchCell> bench_bugs(const BenchOptions& options, std::ostream& out) {
  std::vector<BackendInfo> mutants;
  for (const BackendInfo& b : builtin_backends())
    if (b.mutant && (options.mutants.empty() ||
                     std::find(options.mutants.begin(), options.mutants.end(), b.name) != options.mutants.end() ||
                     std::find(options.mutants.begin(), options.mutants.end(), b.name.substr(7)) != options.mutants.end()))
      mutants.push_back(b);
  if (mutants.size() < std::max<std::size_t>(options.mutants.size(), 1))
    throw std::invalid_argument("--mutant: not every name is a built-in mutant (see `mpconform backends`)");
  std::vector<BenchMode> modes;
  for (const BenchMode& m : bench_modes())
    if (options.modes.empty() || std::find(options.modes.begin(), options.modes.end(), m.name) != options.modes.end())
      modes.push_back(m);
  if (modes.size() < std::max<std::size_t>(options.modes.size(), 1))
    throw std::invalid_argument("--modes: not every name is a mode (delays, \"pct d=1\" .. \"pct d=3\", overlap)");
  if (!pct_permitted())
    std::erase_if(modes, [&](const BenchMode& m) {
      if (m.mode != ScheduleMode::pct) return false;
      out << fmt::format("bench-bugs: SCHED_FIFO is not permitted here: {} left out\n", m.name);
      return true;
    });

  out << fmt::format("mpconform bench-bugs: {} mutants x {} modes, seed {}, at most {:.0f} s each, {} re-runs of each "
                     "failure\n",
                     mutants.size(), modes.size(), options.seed, options.seconds, options.replays);
  out << fmt::format("{:<28} {:<9} {:<8} {:<8} {:>9} {:>9}  {}\n", "mutant", "kind", "property", "mode", "caught",
                     "replays", "verdict");
  out.flush();
  std::vector<BenchCell> cells;
  Progress progress;
  const std::size_t total = mutants.size() * modes.size();
  for (const BackendInfo& info : mutants)
    for (const BenchMode& m : modes) {
      auto executor = make_executor(info.name);
      FuzzOptions o;
      o.seconds = options.seconds;
      o.seed = options.seed;
      o.backend_spec = info.name;
      o.mode = m.mode;
      o.depth = m.depth;
      o.confirm_reruns = options.replays;
      o.shrink = false;
      o.on_scenario = [&](std::uint64_t, double seconds) {
        progress.update(fmt::format("cell {}/{} {} {}", cells.size() + 1, total, info.name.substr(7), m.name),
                        (static_cast<double>(cells.size()) + std::min(1.0, seconds / options.seconds)) /
                            static_cast<double>(total));
      };
      const PropertyReport r = fuzz_property(*executor, info.caught_by, o);
      progress.clear();
      BenchCell c;
      c.mutant = info.name;
      c.kind = info.kind;
      c.property = info.caught_by;
      c.mode = m.name;
      c.scenarios = r.scenarios;
      c.caught = r.failure.has_value();
      c.seconds = c.caught ? r.failure->time_to_catch_s : r.seconds;
      if (c.caught) {
        c.verdict = to_string(r.failure->result.verdict);
        c.clause = r.failure->result.clause;
        c.seed = r.failure->scenario.seed;
        c.replays = r.failure->reruns;
        c.replays_failed = r.failure->reruns_failed;
        c.replay = r.failure->replay;
      } else if (!r.not_applicable.empty()) {
        c.verdict = "n/a";
      }
      out << fmt::format("{:<28} {:<9} {:<8} {:<8} {:>9} {:>9}  {}\n", c.mutant.substr(7), c.kind, c.property, c.mode,
                         c.caught ? cell_text(c) : c.verdict == "n/a" ? "n/a" : "SURVIVED",
                         c.caught ? fmt::format("{}/{}", c.replays_failed, c.replays) : "",
                         c.caught ? c.verdict + " " + c.clause : fmt::format("{} scenarios", c.scenarios));
      out.flush();
      cells.push_back(std::move(c));
    }

  // The table: one row per mutant, one column per mode.
  out << fmt::format("\ntime to the first failure ('-': not caught within {:.0f} s; n/a: the mode cannot run the "
                     "property, left out of the medians)\n",
                     options.seconds);
  out << fmt::format("{:<28} {:<9}", "mutant", "kind");
  for (const BenchMode& m : modes) out << fmt::format(" {:>9}", m.name);
  out << "\n";
  for (const BackendInfo& info : mutants) {
    out << fmt::format("{:<28} {:<9}", info.name.substr(7), info.kind);
    for (const BenchMode& m : modes)
      for (const BenchCell& c : cells)
        if (c.mutant == info.name && c.mode == m.name) out << fmt::format(" {:>9}", cell_text(c));
    out << "\n";
  }
  out << fmt::format("\nmedian time to catch per kind (a survivor counts as {:.0f} s), and caught/mutants\n",
                     options.seconds);
  out << fmt::format("{:<28} {:<9}", "kind", "");
  for (const BenchMode& m : modes) out << fmt::format(" {:>9}", m.name);
  out << "\n";
  for (const char* kind : kKinds) {
    std::string line = fmt::format("{:<28} {:<9}", kind, "");
    bool any = false;
    for (const BenchMode& m : modes) {
      std::vector<double> t;
      for (const BenchCell& c : cells)
        if (c.kind == kind && c.mode == m.name && c.verdict != "n/a") t.push_back(c.caught ? c.seconds : options.seconds);
      any = any || !t.empty();
      line += fmt::format(" {:>9}", t.empty() ? "" : fmt::format("{:.2f} s", median(t)));
    }
    if (!any) continue;
    out << line << "\n";
    std::string counts = fmt::format("{:<28} {:<9}", "", "caught");
    for (const BenchMode& m : modes) {
      int n = 0, caught = 0;
      for (const BenchCell& c : cells)
        if (c.kind == kind && c.mode == m.name && c.verdict != "n/a") {
          ++n;
          caught += c.caught ? 1 : 0;
        }
      counts += fmt::format(" {:>9}", fmt::format("{}/{}", caught, n));
    }
    out << counts << "\n";
  }
  int replays = 0, replayed = 0;
  for (const BenchCell& c : cells)
    if (c.mode.starts_with("pct") && c.caught) {
      replays += c.replays;
      replayed += c.replays_failed;
    }
  if (replays > 0)
    out << fmt::format("\nPCT failures replayed (failed again) in {} of {} re-runs ({:.0f}%)\n", replayed, replays,
                       100.0 * replayed / replays);
  std::vector<std::string> survivors;
  for (const BackendInfo& info : mutants) {
    bool caught = false;
    for (const BenchCell& c : cells) caught = caught || (c.mutant == info.name && c.caught);
    if (!caught) survivors.push_back(info.name);
  }
  out << fmt::format("{} of {} mutants caught by at least one mode{}\n", mutants.size() - survivors.size(),
                     mutants.size(), survivors.empty() ? "" : "; survived every mode:");
  for (const std::string& s : survivors) out << "  " << s << "\n";
  return cells;
}

nlohmann::json bench_json(const BenchOptions& options, const std::vector<BenchCell>& cells) {
  nlohmann::json list = nlohmann::json::array();
  for (const BenchCell& c : cells) {
    nlohmann::json j{{"mutant", c.mutant}, {"kind", c.kind},         {"property", c.property},
                     {"mode", c.mode},     {"caught", c.caught},     {"seconds", c.seconds},
                     {"scenarios", c.scenarios}};
    if (c.caught) {
      j["verdict"] = c.verdict;
      j["clause"] = c.clause;
      j["seed"] = c.seed;
      j["replays"] = c.replays;
      j["replays_failed"] = c.replays_failed;
      j["replay"] = c.replay;
    }
    list.push_back(std::move(j));
  }
  return {{"format", "mpconform-bench-bugs/1"},
          {"seed", options.seed},
          {"seconds_per_run", options.seconds},
          {"replays", options.replays},
          {"cells", list}};
}

}  // namespace mpconform::cli
