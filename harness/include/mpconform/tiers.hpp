#pragma once
// mpconform/tiers.hpp: named time tolerances, scaled by one setting.
//
// Checkers and tests never write a tolerance as a literal: they name a tier. Every tier is
// multiplied by the time scale, MPCONFORM_TIME_SCALE (a positive float, default 1), so a slow
// build (the sanitizer job sets 4) loosens every bound at once and nothing else changes.
//
// The tiers are defined once, in harness/tiers.json (each tier's name, base seconds and
// meaning, and the scale variable's name): the build generates mpconform/tiers_table.inc from
// it (cmake/Tiers.cmake), and the Python tests read it through harness/python/mpconform_tiers.py.
// `mpconform tiers` prints them; harness/INTERPRETING.md ("Tolerance tiers") explains them.
#include <array>
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
// One `inline constexpr Tier <name>` per tier of harness/tiers.json (a name that is a C++
// keyword gets an underscore: short_, long_), `table` (all of them, shortest first) and
// `scale_variable` (the environment variable's name).
#include "mpconform/tiers_table.inc"
}  // namespace tiers

/// Every tier, shortest first.
std::span<const Tier> all_tiers() noexcept;
/// The tier called `name` ("clock", "instant", "wait", "short", "late", "long", "watchdog"),
/// or nullopt.
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
