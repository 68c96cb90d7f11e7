// The fuzz loop (fuzz.hpp).
#include "mpconform/fuzz.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "mpconform/property.hpp"

namespace mpconform {
namespace {

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string shell_quote(const std::string& s) {
  if (!s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/=+,") ==
                        std::string::npos)
    return s;
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

std::string PropertyReport::verdict() const {
  if (failure) return std::string(to_string(failure->result.verdict));
  if (!not_applicable.empty()) return "n/a";
  if (unknown > 0) return "unknown";
  return "pass";
}

std::string replay_command(const std::string& backend_spec, std::string_view property, std::uint64_t seed,
                           const GenLimits& limits, const std::string& scenario_file, ScheduleMode mode,
                           std::uint32_t depth) {
  if (!scenario_file.empty())
    return fmt::format("mpconform run --backend {} --scenario-file {} --scenarios 1", shell_quote(backend_spec),
                       shell_quote(scenario_file));
  std::string cmd = fmt::format("mpconform run --backend {} --property {} --seed {} --scenarios 1",
                                shell_quote(backend_spec), property, seed);
  const GenLimits d{};
  if (limits.max_processes != d.max_processes) cmd += fmt::format(" --max-processes {}", limits.max_processes);
  if (limits.max_items != d.max_items) cmd += fmt::format(" --max-items {}", limits.max_items);
  if (limits.max_delay_us != d.max_delay_us) cmd += fmt::format(" --max-delay-us {}", limits.max_delay_us);
  if (mode == ScheduleMode::pct) cmd += fmt::format(" --mode pct --depth {}", depth);
  if (mode == ScheduleMode::overlap) cmd += " --mode overlap";
  return cmd;
}

void shrink_failure(Executor& e, FailureReport& f, const FuzzOptions& options) {
  const double t0 = now_s();
  const double stop = t0 + options.shrink_seconds;
  Scenario current = f.scenario;
  // A variant must fail the same way (same verdict and clause) to replace the failure: shrinking
  // must not wander from a clause violation to an unrelated hang.
  const ScenarioVerdict want = f.result.verdict;
  const std::string clause = f.result.clause;
  for (bool improved = true; improved && now_s() < stop;) {
    improved = false;
    for (const Scenario& c : smaller(current)) {
      if (now_s() >= stop) break;
      for (int t = 0; t < options.shrink_tries && now_s() < stop; ++t) {
        ++f.shrink_runs;
        ScenarioResult r = run_scenario(e, c, options.run);
        if (r.verdict == want && r.clause == clause) {
          current = c;
          f.shrunk = c;
          f.shrunk_result = std::move(r);
          improved = true;
          break;
        }
      }
      if (improved) break;
    }
  }
  f.shrink_s = now_s() - t0;
}

PropertyReport fuzz_property(Executor& e, std::string_view name, const FuzzOptions& options) {
  const Property& property = property_named(name);
  PropertyReport rep;
  rep.property = std::string(name);
  for (std::string_view c : property.clauses()) rep.clauses.emplace_back(c);
  rep.profile = options.run.profile.value_or(e.default_profile());
  RunOptions o = options.run;
  o.keep_history_when_passing = false;
  const bool no_budget = !options.scenarios && !options.seconds;
  const std::uint64_t max_scenarios = options.scenarios.value_or(no_budget ? 20 : UINT64_MAX);
  const double t0 = now_s();
  rep.mode = options.fixed ? options.fixed->schedule.mode : options.mode;
  std::string skip_reason;
  const std::uint64_t step = std::max<std::uint32_t>(options.shards, 1);
  for (std::uint64_t k = options.shard; k < max_scenarios; k += step) {
    if (options.seconds && rep.scenarios > 0 && now_s() - t0 >= *options.seconds) break;
    const Scenario s = options.fixed ? *options.fixed
                                     : generate(name, options.seed + k, options.limits, options.mode, options.depth);
    // Overlap repeats a plan on the same objects: a scenario that starts processes or closes pipe
    // ends cannot run (skipped, counted); a property with no other kind is not applicable.
    if (s.schedule.mode == ScheduleMode::overlap) {
      if (std::string why = overlap_unsupported(property.plan(s.params)); !why.empty()) {
        ++rep.skipped;
        skip_reason = std::move(why);
        if (rep.scenarios == 0 && (rep.skipped >= 100 || options.fixed)) break;
        continue;
      }
    }
    if (s.schedule.mode == ScheduleMode::pct) {
      rep.mode = ScheduleMode::pct;
      rep.depth = std::max(rep.depth, s.schedule.depth);
      const auto n = static_cast<std::uint32_t>(s.schedule.priorities.size());
      rep.pct_max_processes = std::max(rep.pct_max_processes, n);
      rep.pct_max_calls = std::max(rep.pct_max_calls, s.schedule.calls);
      const double hit = 1.0 / (static_cast<double>(n) * std::pow(static_cast<double>(s.schedule.calls),
                                                                   static_cast<double>(s.schedule.depth - 1)));
      rep.pct_miss *= 1.0 - std::min(1.0, hit);
    }
    ScenarioResult r = run_scenario(e, s, o);
    ++rep.scenarios;
    rep.iterations += r.iterations;
    if (r.iterations > 0) rep.iteration_seconds += r.run_s;
    rep.processes += r.process_count;
    rep.scenario_seconds += r.total_s;
    if (options.on_scenario) options.on_scenario(rep.scenarios, now_s() - t0);
    if (r.verdict == ScenarioVerdict::unknown) {
      ++rep.unknown;
      if (rep.unknown_example.empty()) rep.unknown_example = r.message;
    }
    if (!is_failure(r.verdict)) continue;
    FailureReport f;
    f.scenario = s;
    f.result = std::move(r);
    f.time_to_catch_s = now_s() - t0;
    f.replay = replay_command(options.backend_spec, name, s.seed, options.limits, options.fixed_file, options.mode,
                              options.depth);
    // An error (the module cannot be imported, a factory is missing) is not a race to confirm or
    // a scenario to shrink: it happens on every scenario.
    const bool runnable = f.result.verdict != ScenarioVerdict::error;
    for (int i = 0; runnable && i < options.confirm_reruns; ++i) {
      ++f.reruns;
      f.reruns_failed += is_failure(run_scenario(e, s, o).verdict) ? 1 : 0;
    }
    if (runnable && options.shrink && !options.fixed) shrink_failure(e, f, options);
    rep.failure = std::move(f);
    break;
  }
  if (rep.scenarios == 0 && rep.skipped > 0) rep.not_applicable = skip_reason;
  rep.seconds = now_s() - t0;
  return rep;
}

}  // namespace mpconform
