// The property registry (property.hpp) and the scenario functions that dispatch through it
// (scenario.hpp).
#include <algorithm>
#include <array>
#include <random>
#include <stdexcept>

#include <fmt/format.h>

#include "mpconform/property.hpp"
#include "mpconform/scenario.hpp"
#include "support.hpp"

namespace mpconform {

namespace properties {
#define MPC_PROPERTY(name) const Property& name##_property();
#include "list.hpp"
#undef MPC_PROPERTY
}  // namespace properties

namespace {

const std::vector<const Property*>& registry() {
  static const std::vector<const Property*> all{
#define MPC_PROPERTY(name) &properties::name##_property(),
#include "list.hpp"
#undef MPC_PROPERTY
  };
  return all;
}

// Mixes the property's name into the seed: one seed gives unrelated streams per property.
std::uint64_t mix(std::string_view name, std::uint64_t seed) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  for (char c : name) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
  return seed ^ (0x9e3779b97f4a7c15ULL * h);
}

}  // namespace

std::span<const Property* const> all_properties() noexcept { return registry(); }

const Property* find_property(std::string_view name) noexcept {
  for (const Property* p : registry())
    if (p->name() == name) return p;
  return nullptr;
}

const Property& property_named(std::string_view name) {
  if (const Property* p = find_property(name)) return *p;
  std::string known;
  for (const Property* p : registry()) known += fmt::format("{}{}", known.empty() ? "" : ", ", p->name());
  throw std::invalid_argument(fmt::format("unknown property '{}' (known: {})", name, known));
}

std::string_view to_string(Profile p) noexcept { return p == Profile::reference ? "reference" : "cpython"; }

Profile profile_from_string(std::string_view name) {
  if (name == "reference") return Profile::reference;
  if (name == "cpython") return Profile::cpython;
  throw std::invalid_argument(fmt::format("unknown profile '{}' (reference, cpython)", name));
}

std::string_view to_string(ScheduleMode m) noexcept {
  switch (m) {
    case ScheduleMode::delays: return "delays";
    case ScheduleMode::pct: return "pct";
    case ScheduleMode::overlap: return "overlap";
  }
  return "?";
}

ScheduleMode schedule_mode_from_string(std::string_view name) {
  if (name == "delays") return ScheduleMode::delays;
  if (name == "pct") return ScheduleMode::pct;
  if (name == "overlap") return ScheduleMode::overlap;
  throw std::invalid_argument(fmt::format("unknown schedule mode '{}' (delays, pct, overlap)", name));
}

namespace {
std::uint64_t splitmix(std::uint64_t z) noexcept {
  z += 0x9E3779B97F4A7C15ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
}  // namespace

std::uint32_t overlap_offset_ns(const Schedule& sch, std::uint64_t iteration, std::uint32_t process) noexcept {
  const std::uint64_t r = splitmix(sch.offset_seed ^ splitmix(iteration * 64 + process));
  return static_cast<std::uint32_t>(r % (std::uint64_t{sch.max_offset_ns} + 1));
}

std::uint64_t plan_calls(const Plan& plan) {
  std::uint64_t k = 0;
  for (const PlanProcess& p : plan.processes)
    for (const Step& s : p.steps) switch (s.op) {
        case StepOp::sleep: break;
        case StepOp::consume: k += std::uint64_t{s.quota} * (s.task_done ? 3u : 2u) + 1; break;
        case StepOp::drain: k += s.limit / 2 + 2; break;
        case StepOp::critical_section: k += 2 * std::uint64_t{s.depth} + 1; break;
        case StepOp::buy: k += s.attempts; break;
        case StepOp::recv_all: k += std::uint64_t{s.limit} * (1u + (s.polls.empty() ? 0u : 1u) + (s.until_quiet ? 1u : 0u)); break;
        case StepOp::start_children: k += s.children.size(); break;
        case StepOp::observe: k += s.watch.size(); break;
        default: k += 1;
      }
  return std::max<std::uint64_t>(k, 1);
}

Schedule draw_schedule(ScheduleMode mode, std::uint32_t depth, std::uint64_t seed, const Plan& plan) {
  Schedule sch;
  sch.mode = mode;
  if (mode == ScheduleMode::delays) return sch;
  if (mode == ScheduleMode::overlap) {
    std::mt19937_64 rng(mix("overlap", seed));
    // Offsets from none (a pure race of the release) to a few operations' length: a window of
    // a few hundred ns is hit often only when the range is not much wider.
    constexpr std::array<std::uint32_t, 6> kRanges{0, 250, 500, 1000, 2000, 5000};
    sch.max_offset_ns = kRanges[std::uniform_int_distribution<std::size_t>(0, kRanges.size() - 1)(rng)];
    sch.offset_seed = rng();
    sch.iterations = 100000;
    sch.seconds = 0.1;  // more scenario shapes per second; a forbidden outcome ends one early
    return sch;
  }
  if (depth < 1 || depth > 4) throw std::invalid_argument(fmt::format("PCT depth {} is not 1..4", depth));
  sch.depth = depth;
  std::mt19937_64 rng(mix("schedule", seed));
  std::uint32_t n = 0;
  for (const PlanProcess& p : plan.processes) n = std::max(n, p.index + 1);
  // Initial priorities depth+1 .. depth+n, a random permutation; change point i sets i + 1.
  for (std::uint32_t i = 0; i < n; ++i) sch.priorities.push_back(depth + 1 + i);
  std::shuffle(sch.priorities.begin(), sch.priorities.end(), rng);
  sch.calls = plan_calls(plan);
  for (std::uint32_t i = 0; i + 1 < depth; ++i)
    sch.change_points.push_back(std::uniform_int_distribution<std::uint64_t>(1, sch.calls)(rng));
  std::sort(sch.change_points.begin(), sch.change_points.end());
  return sch;
}

Scenario generate(std::string_view property, std::uint64_t seed, const GenLimits& limits, ScheduleMode mode,
                  std::uint32_t depth) {
  GenLimits l = limits;
  if (mode == ScheduleMode::overlap) {
    l.max_processes = std::min<std::uint32_t>(l.max_processes, 2);
    l.max_items = std::min<std::uint32_t>(l.max_items, 3);
  }
  const Property& p = property_named(property);
  Scenario s = generate(property, seed, l);
  // Overlap: one actor has nothing to overlap with; draw again (from the same seed, so the
  // scenario still replays from it) until two or more processes run in phase 0.
  auto actors = [&] {
    const Plan plan = p.plan(s.params);
    return std::count_if(plan.processes.begin(), plan.processes.end(), [](const PlanProcess& q) { return q.phase == 0; });
  };
  for (std::uint64_t again = 1; mode == ScheduleMode::overlap && again <= 16 && actors() < 2; ++again)
    s = generate(property, mix(property, seed) + again, l);
  s.seed = seed;
  s.schedule = draw_schedule(mode, depth, seed, p.plan(s.params));
  return s;
}

Scenario generate(std::string_view property, std::uint64_t seed, const GenLimits& limits) {
  const Property& p = property_named(property);
  GenLimits l = limits;
  l.max_processes = std::clamp<std::uint32_t>(l.max_processes, 1, 8);
  l.max_items = std::clamp<std::uint32_t>(l.max_items, 1, 64);
  l.max_delay_us = std::min<std::uint32_t>(l.max_delay_us, 100000);
  l.max_timeout_s = std::clamp(l.max_timeout_s, 0.002, 0.1);
  std::mt19937_64 rng(mix(property, seed));
  return Scenario{std::string(property), seed, p.generate(rng, l), {}};
}

void validate_schedule(const Schedule& sch, const Plan& plan) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("scenario.schedule." + what); };
  if (sch.mode != ScheduleMode::pct && (!sch.priorities.empty() || !sch.change_points.empty()))
    bad("priorities: only for mode pct");
  if (sch.mode != ScheduleMode::overlap && (sch.iterations != 0 || sch.seconds != 0 || sch.max_offset_ns != 0))
    bad("iterations: only for mode overlap");
  if (sch.mode == ScheduleMode::delays) return;
  if (sch.mode == ScheduleMode::overlap) {
    if (sch.iterations < 1 || sch.iterations > 1'000'000)
      bad(fmt::format("iterations: is {}, expected 1..1000000", sch.iterations));
    if (!(sch.seconds > 0 && sch.seconds <= 60)) bad(fmt::format("seconds: is {}, expected (0, 60]", sch.seconds));
    if (sch.max_offset_ns > 1'000'000) bad(fmt::format("max_offset_ns: is {}, at most 1000000", sch.max_offset_ns));
    if (const std::string why = overlap_unsupported(plan); !why.empty())
      bad("mode: overlap cannot run this scenario: " + why);
    return;
  }
  if (sch.depth < 1 || sch.depth > 4) bad(fmt::format("depth: is {}, expected 1..4", sch.depth));
  if (sch.change_points.size() + 1 != sch.depth)
    bad(fmt::format("change_points: {} of them, a depth of {} needs {}", sch.change_points.size(), sch.depth,
                    sch.depth - 1));
  if (!std::is_sorted(sch.change_points.begin(), sch.change_points.end()))
    bad("change_points: must be ascending");
  for (const PlanProcess& p : plan.processes)
    if (p.index >= sch.priorities.size())
      bad(fmt::format("priorities: none for process {}", p.index));
  std::vector<std::uint32_t> sorted = sch.priorities;
  std::sort(sorted.begin(), sorted.end());
  if (std::adjacent_find(sorted.begin(), sorted.end()) != sorted.end()) bad("priorities: must be distinct");
  for (std::uint32_t p : sch.priorities)
    if (p < sch.depth || p > 98) bad(fmt::format("priorities: {} is not in {}..98 (1..depth-1 are the change points')", p, sch.depth));
}

void validate(const Scenario& s) {
  // plan() validates the params (naming the field) before it builds the plan.
  validate_schedule(s.schedule, property_named(s.property).plan(s.params));
}

std::string describe(const Scenario& s) { return property_named(s.property).describe(s.params); }

std::uint32_t process_count(const Plan& plan) {
  std::uint32_t n = static_cast<std::uint32_t>(plan.processes.size());
  for (const PlanProcess& p : plan.processes)
    for (const Step& st : p.steps) {
      n += static_cast<std::uint32_t>(st.children.size());
      n += st.op == StepOp::timed_process_join ? 1 : 0;
    }
  return n;
}

std::uint32_t process_count(const Scenario& s) { return process_count(property_named(s.property).plan(s.params)); }

std::vector<Scenario> smaller(const Scenario& s) {
  std::vector<Scenario> out;
  // A shallower schedule first (fewer change points), then smaller scenarios with the same one.
  if (s.schedule.mode == ScheduleMode::pct && !s.schedule.change_points.empty()) {
    Scenario c = s;
    c.schedule.change_points.pop_back();
    c.schedule.depth -= 1;
    out.push_back(std::move(c));
  }
  for (nlohmann::json& p : property_named(s.property).smaller(s.params))
    out.push_back(Scenario{s.property, s.seed, std::move(p), s.schedule});
  return out;
}

nlohmann::json to_json(const Scenario& s) {
  nlohmann::json j{{"property", s.property}, {"seed", s.seed}, {"scenario", s.params}};
  if (s.schedule.mode != ScheduleMode::delays) j["schedule"] = schedule_json(s.schedule);
  if (s.schedule.mode == ScheduleMode::pct) {  // what a plan's schedule derives or does not need
    j["schedule"]["depth"] = s.schedule.depth;
    j["schedule"]["calls"] = s.schedule.calls;
  }
  return j;
}


Scenario scenario_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("scenario file: must be a JSON object");
  for (const auto& [k, v] : j.items())
    if (k != "property" && k != "seed" && k != "scenario" && k != "schedule")
      throw std::invalid_argument(fmt::format("scenario file: {}: unknown field", k));
  if (!j.contains("property") || !j.at("property").is_string())
    throw std::invalid_argument("scenario file: property: must be a property name");
  if (!j.contains("seed") || !j.at("seed").is_number_unsigned())
    throw std::invalid_argument("scenario file: seed: must be a non-negative integer");
  if (!j.contains("scenario")) throw std::invalid_argument("scenario file: scenario: missing");
  Scenario s{j.at("property").get<std::string>(), j.at("seed").get<std::uint64_t>(), j.at("scenario"), {}};
  if (j.contains("schedule")) try {
      s.schedule = schedule_from_json(j.at("schedule"));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(std::string("scenario file: ") + e.what());
    }
  validate(s);
  return s;
}

}  // namespace mpconform
