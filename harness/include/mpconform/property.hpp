#pragma once
// mpconform/property.hpp: a property, and the registry that lists them.
//
// A property is one family of randomized scenarios and its checks. Each lives in one file
// (harness/src/properties/<name>.cpp) that owns its scenario type, generation, validation,
// JSON, description, shrinking, its plan (what each process does) and its checks, and the
// clauses those checks can report. harness/src/properties/list.hpp lists them: adding a
// property is one new file and one line there.
//
// Everything here is pure (no fork, no I/O): the runner (runner.hpp) asks a property for a
// plan, an executor runs it, and the property checks the history.
#include <cstdint>
#include <functional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "mpconform/history.hpp"
#include "mpconform/linearizability.hpp"
#include "mpconform/plan.hpp"
#include "mpconform/scenario.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform {

class Property {
 public:
  virtual ~Property() = default;
  /// The --property name ("queue").
  [[nodiscard]] virtual std::string_view name() const noexcept = 0;
  /// One line: what it runs and what it checks.
  [[nodiscard]] virtual std::string_view summary() const noexcept = 0;
  /// Every clause id its checks can name in a verdict (a verdict naming another is a bug the
  /// runner reports as such; a test checks each exists in spec/clauses).
  [[nodiscard]] virtual std::span<const std::string_view> clauses() const noexcept = 0;

  /// The scenario drawn from `rng` within `limits` (the property's params JSON).
  [[nodiscard]] virtual nlohmann::json generate(std::mt19937_64& rng, const GenLimits& limits) const = 0;
  /// Throws std::invalid_argument naming the field ("scenario.consumers[1].quota: ...").
  virtual void validate(const nlohmann::json& params) const = 0;
  [[nodiscard]] virtual std::string describe(const nlohmann::json& params) const = 0;
  /// Smaller valid variants, most promising first; empty when minimal.
  [[nodiscard]] virtual std::vector<nlohmann::json> smaller(const nlohmann::json& params) const = 0;
  /// What each process does. Throws std::invalid_argument as validate() does.
  [[nodiscard]] virtual Plan plan(const nlohmann::json& params) const = 0;
  /// The property's checks on a history of its plan, judged by `profile`. Pure.
  [[nodiscard]] virtual Verdict check(const nlohmann::json& params, const History& history,
                                      Profile profile) const = 0;
  /// check() with the params parsed once: overlap mode judges thousands of histories of one
  /// scenario. The function refers to this property (registered properties live forever).
  [[nodiscard]] virtual std::function<Verdict(const History&)> checker(const nlohmann::json& params,
                                                                       Profile profile) const = 0;
  /// The objects of a history of this scenario that the exact search judges, with their models
  /// (kind, maxsize, drained, writers): what classify() reads to say where a failure stands.
  /// Empty for a property without such objects.
  [[nodiscard]] virtual std::vector<LinearizabilityOptions> models(const nlohmann::json& params,
                                                                   const History& history) const = 0;
};

/// Every registered property, in the order of properties/list.hpp.
std::span<const Property* const> all_properties() noexcept;
/// nullptr for an unknown name.
const Property* find_property(std::string_view name) noexcept;
/// Throws std::invalid_argument "unknown property 'x' (known: queue, lock, ...)".
const Property& property_named(std::string_view name);

}  // namespace mpconform
