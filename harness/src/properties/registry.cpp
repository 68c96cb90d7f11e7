// The property registry (property.hpp) and the scenario functions that dispatch through it
// (scenario.hpp).
#include <array>
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

Scenario generate(std::string_view property, std::uint64_t seed, const GenLimits& limits) {
  const Property& p = property_named(property);
  GenLimits l = limits;
  l.max_processes = std::clamp<std::uint32_t>(l.max_processes, 1, 8);
  l.max_items = std::clamp<std::uint32_t>(l.max_items, 1, 64);
  l.max_delay_us = std::min<std::uint32_t>(l.max_delay_us, 100000);
  l.max_timeout_s = std::clamp(l.max_timeout_s, 0.002, 0.1);
  std::mt19937_64 rng(mix(property, seed));
  return Scenario{std::string(property), seed, p.generate(rng, l)};
}

void validate(const Scenario& s) { property_named(s.property).validate(s.params); }

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
  for (nlohmann::json& p : property_named(s.property).smaller(s.params))
    out.push_back(Scenario{s.property, s.seed, std::move(p)});
  return out;
}

nlohmann::json to_json(const Scenario& s) {
  return nlohmann::json{{"property", s.property}, {"seed", s.seed}, {"scenario", s.params}};
}

Scenario scenario_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("scenario file: must be a JSON object");
  for (const auto& [k, v] : j.items())
    if (k != "property" && k != "seed" && k != "scenario")
      throw std::invalid_argument(fmt::format("scenario file: {}: unknown field", k));
  if (!j.contains("property") || !j.at("property").is_string())
    throw std::invalid_argument("scenario file: property: must be a property name");
  if (!j.contains("seed") || !j.at("seed").is_number_unsigned())
    throw std::invalid_argument("scenario file: seed: must be a non-negative integer");
  if (!j.contains("scenario")) throw std::invalid_argument("scenario file: scenario: missing");
  Scenario s{j.at("property").get<std::string>(), j.at("seed").get<std::uint64_t>(), j.at("scenario")};
  validate(s);
  return s;
}

}  // namespace mpconform
