#pragma once
// Internal: what the property files share. TypedProperty<S> turns a property written against
// its own scenario struct S (JSON through nlohmann's macros) into a Property; the helpers draw
// random calls, check ranges with the field's path, and build common steps.
#include <algorithm>
#include <limits>
#include <type_traits>
#include <cstdint>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mpconform/plan.hpp"
#include "mpconform/property.hpp"

namespace mpconform::properties::detail {

/// A scenario field that could not be read: its path ("producers[2].puts[0].timeout") and why.
struct FieldError : std::invalid_argument {
  FieldError(std::string path_, const std::string& why)
      : std::invalid_argument(why), path(std::move(path_)) {}
  std::string path;
};

inline std::string join_path(const std::string& outer, const std::string& inner) {
  if (inner.empty()) return outer;
  return inner.front() == '[' ? outer + inner : outer + "." + inner;
}

// nlohmann's "[json.exception.type_error.302] type must be number, but is string" -> the reason.
inline std::string reason(std::string_view what) {
  const auto bracket = what.find("] ");
  return std::string(bracket == std::string_view::npos ? what : what.substr(bracket + 2));
}

template <class T>
void read_value(const nlohmann::json& j, T& out);

template <class T>
void read_value(const nlohmann::json& j, std::optional<T>& out) {
  if (j.is_null()) {
    out = std::nullopt;
    return;
  }
  T v{};
  read_value(j, v);
  out = std::move(v);
}

template <class T>
void read_value(const nlohmann::json& j, std::vector<T>& out) {
  if (!j.is_array()) throw FieldError("", fmt::format("must be an array, not {}", j.type_name()));
  out.assign(j.size(), T{});
  for (std::size_t i = 0; i < j.size(); ++i) try {
      read_value(j[i], out[i]);
    } catch (const FieldError& e) {
      throw FieldError(join_path(fmt::format("[{}]", i), e.path), e.what());
    }
}

template <class T>
void read_value(const nlohmann::json& j, T& out) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!j.is_boolean()) throw FieldError("", fmt::format("must be true or false, not {}", j.dump()));
  } else if constexpr (std::is_integral_v<T>) {
    if (!j.is_number_integer()) throw FieldError("", fmt::format("must be an integer, not {}", j.dump()));
    if (std::is_unsigned_v<T> && !j.is_number_unsigned() && j.get<std::int64_t>() < 0)
      throw FieldError("", fmt::format("must not be negative, not {}", j.dump()));
    if (j.is_number_unsigned() ? j.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<T>::max())
                               : j.get<std::int64_t>() < static_cast<std::int64_t>(std::numeric_limits<T>::min()))
      throw FieldError("", fmt::format("{} is out of range", j.dump()));
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!j.is_number()) throw FieldError("", fmt::format("must be a number, not {}", j.dump()));
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!j.is_string()) throw FieldError("", fmt::format("must be a string, not {}", j.dump()));
  } else {
    if (!j.is_object()) throw FieldError("", fmt::format("must be an object, not {}", j.type_name()));
  }
  try {
    j.get_to(out);
  } catch (const nlohmann::json::exception& e) {
    throw FieldError("", reason(e.what()));
  }
}

/// Reads member `key` of object `j` into `out` when present (else `out` keeps its default);
/// a FieldError names the path.
template <class T>
void read_field(const nlohmann::json& j, const char* key, T& out) {
  if (!j.contains(key)) return;
  try {
    read_value(j.at(key), out);
  } catch (const FieldError& e) {
    throw FieldError(join_path(key, e.path), e.what());
  }
}

}  // namespace mpconform::properties::detail

// std::optional<T> <-> JSON null or T (nlohmann 3.11 has no built-in support).
namespace nlohmann {
template <class T>
struct adl_serializer<std::optional<T>> {
  static void to_json(json& j, const std::optional<T>& o) {
    if (o)
      j = *o;
    else
      j = nullptr;
  }
  static void from_json(const json& j, std::optional<T>& o) { mpconform::properties::detail::read_value(j, o); }
};
}  // namespace nlohmann

#define MPC_JSON_READ_FIELD(v1) ::mpconform::properties::detail::read_field(nlohmann_json_j, #v1, nlohmann_json_t.v1);

/// Like NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT (absent fields keep their defaults),
/// but a field of the wrong type is reported with its path (detail::FieldError).
#define MPC_JSON_FIELDS(Type, ...)                                                                 \
  inline void to_json(nlohmann::json& nlohmann_json_j, const Type& nlohmann_json_t) {              \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(NLOHMANN_JSON_TO, __VA_ARGS__))                       \
  }                                                                                                \
  inline void from_json(const nlohmann::json& nlohmann_json_j, Type& nlohmann_json_t) {            \
    NLOHMANN_JSON_EXPAND(NLOHMANN_JSON_PASTE(MPC_JSON_READ_FIELD, __VA_ARGS__))                    \
  }

namespace mpconform {
// CallSpec as a scenario field: {"block": true, "timeout": null, "delay_us": 0}.
MPC_JSON_FIELDS(CallSpec, block, timeout, delay_us)
}  // namespace mpconform

namespace mpconform::properties {

[[noreturn]] inline void bad(std::string_view path, const std::string& what) {
  throw std::invalid_argument(path.empty() ? fmt::format("scenario: {}", what) : fmt::format("scenario.{}: {}", path, what));
}

/// n in lo..hi, else "scenario.<path>: n, expected lo..hi".
inline void check_range(std::size_t n, std::size_t lo, std::size_t hi, std::string_view path) {
  if (n < lo || n > hi) bad(path, fmt::format("is {}, expected {}..{}", n, lo, hi));
}

inline void check_call(const CallSpec& c, std::string_view path) {
  if (c.timeout && !std::isfinite(*c.timeout)) bad(path, "timeout is not finite");
  if (c.timeout && *c.timeout > 10.0) bad(path, "timeout exceeds 10 s");
  if (c.delay_us > 1'000'000) bad(path, "delay_us exceeds 1 s");
}

inline void check_delay(std::uint32_t us, std::string_view path) {
  if (us > 1'000'000) bad(path, fmt::format("is {} us, at most 1 s", us));
}

/// The random choices of a generator (std::mt19937_64 drawn in the parent, before fork).
class Rng {
 public:
  explicit Rng(std::mt19937_64& g) : g_(g) {}
  std::uint32_t u(std::uint32_t lo, std::uint32_t hi) {
    return std::uniform_int_distribution<std::uint32_t>(lo, hi)(g_);
  }
  double real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(g_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(g_); }
  /// 0 half of the time, else uniform in 0..max_us.
  std::uint32_t delay(std::uint32_t max_us) { return chance(0.5) ? 0 : u(0, max_us); }

 private:
  std::mt19937_64& g_;
};

/// Arguments of a call that may block: the mix of Python spellings a program uses
/// (block=False, None, 0, negative, positive timeouts).
CallSpec blocking_call(Rng& r, const GenLimits& l, bool allow_forever);

/// True when the last op of `process` (by invoke time) is a `kind` that failed with `error`
/// (e.g. the drainer's final Empty: the queue was drained).
bool ended_with(const History& h, std::uint32_t process, OpKind kind, ErrorKind error);

/// Shrinking helpers: variants of `s` with fewer elements in its list `field`, most promising
/// first: only the first `keep` (when it has more), all but the last, all but the first
/// (`drop_first`). Nothing when the list has one element.
template <class S, class V>
void fewer(const S& s, std::vector<V> S::*field, std::vector<S>& out, std::size_t keep, bool drop_first = false) {
  const std::vector<V>& list = s.*field;
  if (list.size() > keep && keep > 0) {
    S c = s;
    (c.*field).resize(keep);
    out.push_back(std::move(c));
  }
  if (list.size() > 1) {
    S c = s;
    (c.*field).pop_back();
    out.push_back(std::move(c));
    if (drop_first) {
      S d = s;
      (d.*field).erase((d.*field).begin());
      out.push_back(std::move(d));
    }
  }
}

/// A variant of `s` whose inner lists (`field` is a list of lists) each keep their first half
/// (or their first `keep` entries when keep > 0).
template <class S, class V>
void shorter_each(const S& s, std::vector<std::vector<V>> S::*field, std::vector<S>& out, std::size_t keep = 0) {
  S c = s;
  for (auto& inner : c.*field) inner.resize(keep ? std::min(keep, inner.size()) : (inner.size() + 1) / 2);
  out.push_back(std::move(c));
}

/// A step with op and obj set.
inline Step step(StepOp op, std::uint32_t obj = 0) {
  Step s;
  s.op = op;
  s.obj = obj;
  return s;
}

/// The clauses a property reports: those of the checkers it runs (checker_clauses(name)), then
/// `own` (clauses of rules the property checks itself), without duplicates.
std::vector<std::string_view> clauses_of(std::initializer_list<std::string_view> checkers,
                                         std::initializer_list<std::string_view> own = {});

/// Adapts a property written against its scenario struct S (with nlohmann to_json/from_json,
/// e.g. NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT) to Property. Parsing rejects fields S
/// does not have and names the field of a type error.
template <class S>
class TypedProperty : public Property {
 public:
  /// `checkers`: the checkers the property's judge() runs; `own`: clauses of rules it checks
  /// itself. clauses() is derived from both (clauses_of).
  TypedProperty(std::string_view name, std::string_view summary, std::initializer_list<std::string_view> checkers,
                std::initializer_list<std::string_view> own = {})
      : name_(name), summary_(summary), clauses_(clauses_of(checkers, own)) {}
  [[nodiscard]] std::string_view name() const noexcept final { return name_; }
  [[nodiscard]] std::string_view summary() const noexcept final { return summary_; }
  [[nodiscard]] std::span<const std::string_view> clauses() const noexcept final { return clauses_; }

  [[nodiscard]] nlohmann::json generate(std::mt19937_64& rng, const GenLimits& limits) const final {
    Rng r(rng);
    return nlohmann::json(draw(r, limits));
  }
  void validate(const nlohmann::json& params) const final { verify(parse(params)); }
  [[nodiscard]] std::string describe(const nlohmann::json& params) const final {
    return describe_scenario(parse(params));
  }
  [[nodiscard]] std::vector<nlohmann::json> smaller(const nlohmann::json& params) const final {
    const S s = parse(params);
    std::vector<nlohmann::json> out;
    for (S& c : shrink(s))
      if (!(c == s)) out.emplace_back(c);
    return out;
  }
  [[nodiscard]] Plan plan(const nlohmann::json& params) const final {
    const S s = parse(params);
    verify(s);
    Plan p = make_plan(s);
    p.timing = plan_timing();
    return p;
  }
  [[nodiscard]] Verdict check(const nlohmann::json& params, const History& h, Profile p) const final {
    return judge(parse(params), h, p);
  }
  [[nodiscard]] std::function<Verdict(const History&)> checker(const nlohmann::json& params,
                                                               Profile p) const final {
    return [this, s = parse(params), p](const History& h) { return judge(s, h, p); };
  }
  [[nodiscard]] std::vector<LinearizabilityOptions> models(const nlohmann::json& params,
                                                           const History& h) const final {
    return models_of(parse(params), h);
  }

 protected:
  /// A random scenario within the limits.
  virtual S draw(Rng& r, const GenLimits& l) const = 0;
  /// Throws std::invalid_argument (bad()) naming the field out of range.
  virtual void verify(const S& s) const = 0;
  virtual std::string describe_scenario(const S& s) const = 0;
  /// Smaller variants, most promising first (unchanged copies are dropped).
  virtual std::vector<S> shrink(const S& s) const = 0;
  /// The plan (timing is filled in by the caller).
  virtual Plan make_plan(const S& s) const = 0;
  /// The property's checks on a history of the plan.
  virtual Verdict judge(const S& s, const History& h, Profile p) const = 0;
  /// The searched objects of a history of the plan (Property::models); none by default.
  virtual std::vector<LinearizabilityOptions> models_of(const S& /*s*/, const History& /*h*/) const { return {}; }

  static S parse(const nlohmann::json& params) {
    if (!params.is_object()) bad("", "must be a JSON object");
    S s;
    try {
      detail::read_value(params, s);
    } catch (const detail::FieldError& e) {
      bad(e.path, e.what());
    }
    reject_unknown(params, nlohmann::json(s), "");
    return s;
  }

 private:
  std::string_view name_;
  std::string_view summary_;
  std::vector<std::string_view> clauses_;

  // Every key of `given` must exist in `known` (the parsed struct written back).
  static void reject_unknown(const nlohmann::json& given, const nlohmann::json& known, const std::string& path) {
    if (given.is_object() && known.is_object()) {
      for (const auto& [k, v] : given.items()) {
        const std::string p = path.empty() ? k : path + "." + k;
        if (!known.contains(k)) bad(p, "unknown field");
        reject_unknown(v, known.at(k), p);
      }
    } else if (given.is_array() && known.is_array() && given.size() == known.size()) {
      for (std::size_t i = 0; i < given.size(); ++i)
        reject_unknown(given[i], known[i], fmt::format("{}[{}]", path, i));
    }
  }
};

}  // namespace mpconform::properties
