#pragma once
// The time tiers of the C++ tests: the harness's tiers (mpconform/tiers.hpp, generated from
// harness/tiers.json, the one definition for the harness, the C++ and the Python tests), under
// the tests' one time scale: MPCONFORM_TIME_SCALE read through the harness's parser (a
// malformed value is an error, never silently 1), never below 1 (it stretches upper bounds
// only), and at least 3 in a sanitizer build even when unset.
#include <algorithm>

#include "mpconform/tiers.hpp"

namespace mpconform::testing {
inline double time_scale() {
  static const double scale = [] {
    double v = std::max(1.0, mpconform::time_scale());
#ifdef MPCONFORM_SANITIZE
    v = std::max(v, 3.0);
#endif
    return v;
  }();
  return scale;
}

/// A tier in seconds under the tests' time scale (above): base_seconds * time_scale(). (Not
/// mpconform::seconds(), which uses the harness's scale as it is.)
inline double test_seconds(const mpconform::Tier& tier) { return tier.base_seconds * time_scale(); }

/// The tiers under the names the C++ tests use (core_test::Tier, process_test::Tier and the
/// qtest constants are this).
struct TestTiers {
  /// The timeout a timing test passes ("acquire(timeout=0.2)", "join(0.2)"). Not scaled: it is
  /// what the call is asked to wait, and the lower bound checked against it stays.
  static constexpr double wait = mpconform::tiers::wait.base_seconds;
  /// A timed wait returned "after about t": in [t - 0.01, t + late()].
  static double late() { return test_seconds(mpconform::tiers::late); }
  /// A call returned "at once".
  static double at_once() { return test_seconds(mpconform::tiers::instant); }
  /// Bound on anything that should finish promptly (a child's whole life, a hand-off, a
  /// message arriving): past it the test is hung.
  static double bound() { return test_seconds(mpconform::tiers::watchdog); }
};
}  // namespace mpconform::testing
