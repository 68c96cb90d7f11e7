#pragma once
// The one time scale of the C++ tests: MPCONFORM_TIME_SCALE read through the harness's parser
// (mpconform/tiers.hpp: a malformed value is an error, never silently 1), never below 1 (it
// stretches upper bounds only), and at least 3 in a sanitizer build even when unset.
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
}  // namespace mpconform::testing
