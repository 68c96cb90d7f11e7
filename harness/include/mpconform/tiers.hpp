#pragma once
// mpconform/tiers.hpp: named time tolerances, scaled by one setting.
//
// Checkers and tests never write a tolerance as a literal: they name a tier. Every tier is
// multiplied by the time scale, MPCONFORM_TIME_SCALE (a positive float, default 1), so a slow
// build (the sanitizer job sets 4) loosens every bound at once and nothing else changes.
//
//   tier      base     used for
//   clock     0.002 s  clock granularity: how much "earlier than the timeout" is forgiven
//   instant   0.05 s   a call that must not wait (block=False, timeout 0) returns within it
//   short     0.25 s   a timed call returns within timeout + short; a daemon dies within it
//   long      2 s      slow events: a process start and exit, a drained pipe
//   watchdog  10 s     a scenario that has not finished by then is hung
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace mpconform {

/// A named tolerance. `base_seconds` is the unscaled value; use seconds() or nanoseconds().
struct Tier {
  std::string_view name;
  double base_seconds;
  friend bool operator==(const Tier&, const Tier&) = default;
};

namespace tiers {
inline constexpr Tier clock{"clock", 0.002};
inline constexpr Tier instant{"instant", 0.05};
inline constexpr Tier short_{"short", 0.25};  // `short` and `long` are C++ keywords
inline constexpr Tier long_{"long", 2.0};
inline constexpr Tier watchdog{"watchdog", 10.0};
}  // namespace tiers

/// Every tier, shortest first.
std::span<const Tier> all_tiers() noexcept;
/// The tier called `name` ("clock", "instant", "short", "long", "watchdog"), or nullopt.
std::optional<Tier> tier_by_name(std::string_view name) noexcept;

/// Parses a MPCONFORM_TIME_SCALE value. Returns: 1 for nullptr or "" (unset); the value for a
/// finite float > 0. Throws std::invalid_argument for anything else ("0", "-1", "abc", "2x"):
/// a mistyped scale must not silently become 1.
double parse_time_scale(const char* text);

/// The process-wide scale: parse_time_scale(getenv("MPCONFORM_TIME_SCALE")), read once and
/// cached. Throws as parse_time_scale (on every call, while the variable is invalid).
double time_scale();

/// tier.base_seconds * time_scale().
double seconds(const Tier& tier);
/// seconds(tier) in nanoseconds, rounded.
std::int64_t nanoseconds(const Tier& tier);

}  // namespace mpconform
