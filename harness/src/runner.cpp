// The runner: plan, execute, judge (runner.hpp).
#include "mpconform/runner.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "detail/group.hpp"
#include "mpconform/property.hpp"

namespace mpconform {
namespace {

double since(std::int64_t t0) { return static_cast<double>(monotonic_ns() - t0) / 1e9; }

ScenarioVerdict from_status(Status s) {
  switch (s) {
    case Status::ok: return ScenarioVerdict::pass;
    case Status::illegal: return ScenarioVerdict::fail;
    case Status::unknown: return ScenarioVerdict::unknown;
  }
  return ScenarioVerdict::error;
}

// A process that did not end its steps normally: killed by a signal it was not sent by the
// harness, stopped on an unexpected error (its note says which), or exited with another code.
std::string crashes_of(const std::vector<ProcessReport>& processes, const History& h,
                       std::vector<std::size_t>& window) {
  std::string text;
  for (const ProcessReport& p : processes) {
    if (p.hung || !p.status || *p.status == 0) continue;
    for (std::size_t i = 0; i < h.ops.size(); ++i)
      if (h.ops[i].process == p.process && !h.ops[i].completed()) window.push_back(i);
    std::string how = detail::status_text(*p.status);
    if (*p.status == kExitUnexpected && !p.note.empty()) how = "stopped on an unexpected error: " + p.note;
    else if (!p.note.empty()) how += ": " + p.note;
    text += fmt::format("\n  p{} {} (pid {}) {}{}", p.process, p.role, p.pid, how,
                        p.pending.empty() ? "" : fmt::format("; pending call: {}", p.pending));
  }
  return text;
}

// Overlap mode: each iteration judged on its own. Fills `checked` from the first failing
// iteration (its history replaces the whole run's) or from the last one when all passed.
ScenarioResult judged(const Property& p, const Verdict& v, const History& history, Profile profile);

ScenarioResult check_iterations(const Scenario& scenario, const Plan& plan, History& history,
                                const std::vector<std::int64_t>& starts, Profile profile, ScenarioResult& result) {
  const Property& property = property_named(scenario.property);
  const auto check = property.checker(scenario.params, profile);
  std::stable_sort(history.ops.begin(), history.ops.end(),
                   [](const Op& a, const Op& b) { return a.invoke_ns < b.invoke_ns; });
  ScenarioResult first;
  History failing;
  std::size_t at = 0;
  std::uint64_t unknown = 0;
  while (at < history.ops.size() && history.ops[at].invoke_ns < starts.front()) ++at;  // none expected
  for (std::size_t i = 0; i < starts.size(); ++i) {
    History h;
    const std::int64_t end = i + 1 < starts.size() ? starts[i + 1] : INT64_MAX;
    for (; at < history.ops.size() && history.ops[at].invoke_ns < end; ++at) h.ops.push_back(history.ops[at]);
    if (i + 1 == starts.size()) h.dropped = history.dropped;
    ScenarioResult r = judged(property, check(h), h, profile);
    if (r.verdict == ScenarioVerdict::unknown) ++unknown;
    if (!is_failure(r.verdict)) continue;
    if (result.failed_iterations++ == 0) {
      first = std::move(r);
      failing = std::move(h);
      result.failing_iteration = i;
    }
  }
  result.iterations = starts.size();
  if (!result.failing_iteration) {
    ScenarioResult ok;
    ok.verdict = unknown > 0 ? ScenarioVerdict::unknown : ScenarioVerdict::pass;
    ok.message = fmt::format("{} iterations, every outcome allowed{}", starts.size(),
                             unknown > 0 ? fmt::format(" ({} undecided)", unknown) : "");
    return ok;
  }
  std::string offsets;
  for (const PlanProcess& p : plan.processes)
    if (p.phase == 0)
      offsets += fmt::format("{}p{} +{} ns", offsets.empty() ? "" : ", ", p.index,
                             overlap_offset_ns(scenario.schedule, *result.failing_iteration, p.index));
  first.message = fmt::format("iteration {} of {} (start offsets {}); forbidden outcome in {} of {} iterations:\n{}",
                              *result.failing_iteration, starts.size(), offsets, result.failed_iterations,
                              starts.size(), first.message);
  history = std::move(failing);
  return first;
}

}  // namespace

std::string_view to_string(ScenarioVerdict v) noexcept {
  switch (v) {
    case ScenarioVerdict::pass: return "pass";
    case ScenarioVerdict::fail: return "fail";
    case ScenarioVerdict::crash: return "crash";
    case ScenarioVerdict::hang: return "hang";
    case ScenarioVerdict::unknown: return "unknown";
    case ScenarioVerdict::error: return "error";
  }
  return "?";
}

bool is_failure(ScenarioVerdict v) noexcept {
  return v == ScenarioVerdict::fail || v == ScenarioVerdict::crash || v == ScenarioVerdict::hang ||
         v == ScenarioVerdict::error;
}

ScenarioResult check_history(const Scenario& scenario, const History& history, Profile profile) {
  const Property& p = property_named(scenario.property);
  return judged(p, p.check(scenario.params, history, profile), history, profile);
}

namespace {
// The result of verdict `v` of property `p` on `history`.
ScenarioResult judged(const Property& p, const Verdict& v, const History& history, Profile profile) {
  ScenarioResult r;
  r.profile = profile;
  r.verdict = from_status(v.status);
  r.clause = v.clause;
  r.window = v.window;
  r.message = v.status == Status::ok ? v.message : describe(history, v);
  const auto listed = p.clauses();
  if (!v.clause.empty() && std::find(listed.begin(), listed.end(), v.clause) == listed.end()) {
    r.verdict = ScenarioVerdict::error;
    r.message = fmt::format("harness bug: the {} property's checks named clause {}, which the property does not "
                            "list:\n{}",
                            p.name(), v.clause, r.message);
  }
  return r;
}
}  // namespace

ScenarioResult run_scenario(Executor& executor, const Scenario& scenario, const RunOptions& options) {
  const Property& property = property_named(scenario.property);
  const std::int64_t t0 = monotonic_ns();
  const Plan plan = property.plan(scenario.params);  // validates the scenario's params first
  validate_schedule(scenario.schedule, plan);
  ExecOptions exec = options.exec;
  exec.schedule = scenario.schedule;
  if (scenario.schedule.mode == ScheduleMode::overlap && !exec.stop_when) {
    // The first forbidden outcome ends the run (all iterations run are judged again below).
    auto check = property.checker(scenario.params, options.profile.value_or(executor.default_profile()));
    exec.stop_when = [check](const History& h) { return check(h).status == Status::illegal; };
  }
  Execution e = executor.execute(plan, exec);

  ScenarioResult result;
  result.profile = options.profile.value_or(executor.default_profile());
  result.process_count = process_count(plan);
  result.setup_s = e.setup_s;
  result.run_s = e.run_s;
  result.processes = std::move(e.processes);
  auto finish = [&]() -> ScenarioResult {
    if (is_failure(result.verdict) || result.verdict == ScenarioVerdict::unknown ||
        options.keep_history_when_passing)
      result.history = std::move(e.history);
    result.total_s = since(t0);
    return std::move(result);
  };
  if (!e.error.empty()) {
    result.verdict = ScenarioVerdict::error;
    result.message = e.error;
    if (e.hung) result.message += "\n" + e.hang;
    return finish();
  }

  const std::int64_t tc = monotonic_ns();
  const ScenarioResult checked = e.iteration_starts.empty()
                                     ? check_history(scenario, e.history, result.profile)
                                     : check_iterations(scenario, plan, e.history, e.iteration_starts, result.profile, result);
  result.check_s = since(tc);
  std::vector<std::size_t> crash_window;
  const std::string crashes = crashes_of(result.processes, e.history, crash_window);

  if (!crashes.empty()) {
    result.verdict = ScenarioVerdict::crash;
    result.window = crash_window;
    result.message = "a process of the implementation crashed:" + crashes;
    if (checked.verdict == ScenarioVerdict::fail)
      result.message += fmt::format("\nthe checks also failed {}: {}", checked.clause, checked.message);
    if (e.hung) result.message += "\nthe others then hung: " + e.hang;
  } else if (checked.verdict == ScenarioVerdict::fail || checked.verdict == ScenarioVerdict::error) {
    result.verdict = checked.verdict;
    result.clause = checked.clause;
    result.window = checked.window;
    result.message = checked.message;
    if (e.hung) result.message += "\nthe scenario also hung: " + e.hang;
  } else if (e.hung) {
    result.verdict = ScenarioVerdict::hang;
    result.message = "hang: " + e.hang;
  } else {
    result.verdict = checked.verdict;
    result.clause = checked.clause;
    result.message = checked.message;
  }
  return finish();
}

}  // namespace mpconform
