// Named tolerance tiers (generated from harness/tiers.json) and the MPCONFORM_TIME_SCALE setting.
#include "mpconform/tiers.hpp"

#include <cmath>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace mpconform {

std::span<const Tier> all_tiers() noexcept { return tiers::table; }

std::optional<Tier> tier_by_name(std::string_view name) noexcept {
  for (const Tier& t : tiers::table)
    if (t.name == name) return t;
  return std::nullopt;
}

double parse_time_scale(const char* text) {
  if (text == nullptr || *text == '\0') return 1.0;
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !std::isfinite(v) || !(v > 0))
    throw std::invalid_argument(
        fmt::format("{} must be a positive number, not '{}'", tiers::scale_variable, text));
  return v;
}

double time_scale() {
  // Cached once valid; an invalid value throws on every call rather than being remembered.
  static std::once_flag once;
  static double cached = 0;
  // (scale_variable views a string literal, so data() is NUL-terminated)
  std::call_once(once, [] { cached = parse_time_scale(std::getenv(tiers::scale_variable.data())); });
  return cached;
}

double seconds(const Tier& tier) { return tier.base_seconds * time_scale(); }

std::int64_t nanoseconds(const Tier& tier) {
  return static_cast<std::int64_t>(std::llround(seconds(tier) * 1e9));
}

}  // namespace mpconform
