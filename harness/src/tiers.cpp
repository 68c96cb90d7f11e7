// Named tolerance tiers and the MPCONFORM_TIME_SCALE setting.
#include "mpconform/tiers.hpp"

#include <array>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

namespace mpconform {
namespace {
constexpr std::array<Tier, 5> kTiers{tiers::clock, tiers::instant, tiers::short_, tiers::long_,
                                     tiers::watchdog};
}  // namespace

std::span<const Tier> all_tiers() noexcept { return kTiers; }

std::optional<Tier> tier_by_name(std::string_view name) noexcept {
  for (const Tier& t : kTiers)
    if (t.name == name) return t;
  return std::nullopt;
}

double parse_time_scale(const char* text) {
  if (text == nullptr || *text == '\0') return 1.0;
  char* end = nullptr;
  const double v = std::strtod(text, &end);
  if (end == text || *end != '\0' || !std::isfinite(v) || !(v > 0))
    throw std::invalid_argument(
        fmt::format("MPCONFORM_TIME_SCALE must be a positive number, not '{}'", text));
  return v;
}

double time_scale() {
  // Cached once valid; an invalid value throws on every call rather than being remembered.
  static std::once_flag once;
  static double cached = 0;
  std::call_once(once, [] { cached = parse_time_scale(std::getenv("MPCONFORM_TIME_SCALE")); });
  return cached;
}

double seconds(const Tier& tier) { return tier.base_seconds * time_scale(); }

std::int64_t nanoseconds(const Tier& tier) {
  return static_cast<std::int64_t>(std::llround(seconds(tier) * 1e9));
}

}  // namespace mpconform
