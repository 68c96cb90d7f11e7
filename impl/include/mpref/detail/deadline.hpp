#pragma once
// mpref/detail/deadline.hpp: CPython's timeout rules turned into an absolute CLOCK_MONOTONIC
// deadline, shared by every blocking call (acquire, put, get, join, poll).
//
// The rules (cpython-semantics.md 1.10): `block == false` ignores the timeout and does not wait;
// `timeout == nullopt` waits forever; a zero or negative timeout does not wait (it is clamped to
// 0, unlike threading's "-1 means forever"); a positive timeout waits at most that long.
#include <cmath>
#include <ctime>
#include <optional>

namespace mpref::detail {

/// Seconds as a CLOCK_MONOTONIC reading.
inline double monotonic_now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

class Deadline {
 public:
  /// Never expires.
  static Deadline forever() noexcept { return Deadline(Kind::forever, 0.0); }
  /// Already expired: try once, do not wait.
  static Deadline now() noexcept { return Deadline(Kind::immediate, 0.0); }
  /// After `seconds` from now; zero, negative or NaN mean now().
  static Deadline after(double seconds) noexcept {
    if (!(seconds > 0.0)) return now();
    return Deadline(Kind::at, monotonic_now() + seconds);
  }
  /// CPython's (block, timeout) pair.
  static Deadline from(bool block, std::optional<double> timeout) noexcept {
    if (!block) return now();
    if (!timeout) return forever();
    return after(*timeout);
  }

  [[nodiscard]] bool is_forever() const noexcept { return kind_ == Kind::forever; }
  [[nodiscard]] bool is_immediate() const noexcept { return kind_ == Kind::immediate; }
  /// True when a wait must not start or go on.
  [[nodiscard]] bool expired() const noexcept {
    return kind_ == Kind::immediate || (kind_ == Kind::at && monotonic_now() >= at_);
  }
  /// Seconds left (0 when expired); meaningless for forever().
  [[nodiscard]] double remaining() const noexcept {
    if (kind_ != Kind::at) return 0.0;
    double left = at_ - monotonic_now();
    return left > 0.0 ? left : 0.0;
  }
  /// The sooner of this deadline and `seconds` from now: for a wait that must wake up now and
  /// then to look again (reads the clock unless already expired).
  [[nodiscard]] Deadline capped(double seconds) const noexcept {
    if (kind_ == Kind::immediate) return *this;
    const double t = monotonic_now() + seconds;
    if (kind_ == Kind::at && at_ <= t) return *this;
    return Deadline(Kind::at, t);
  }
  /// The absolute CLOCK_MONOTONIC time, for pthread_cond_timedwait / sem_clockwait.
  /// Requires: !is_forever().
  [[nodiscard]] timespec abs_monotonic() const noexcept {
    double t = kind_ == Kind::at ? at_ : monotonic_now();
    timespec ts{};
    double whole = std::floor(t);
    ts.tv_sec = static_cast<time_t>(whole);
    ts.tv_nsec = static_cast<long>((t - whole) * 1e9);
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec += 1; ts.tv_nsec -= 1000000000L; }
    return ts;
  }

 private:
  enum class Kind { forever, immediate, at };
  Deadline(Kind k, double at) noexcept : kind_(k), at_(at) {}
  Kind kind_;
  double at_;
};

}  // namespace mpref::detail
