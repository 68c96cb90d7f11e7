#pragma once
// A progress line for long runs (`--seconds`, campaigns): elapsed time and an estimate of the
// time left, redrawn in place on a terminal (stderr) at most a few times a second, and nothing
// at all when stderr is not a terminal (CI logs keep their plain lines).
#include <chrono>
#include <string>

namespace mpconform::cli {

class Progress {
 public:
  /// Enabled when stderr is a terminal (and TERM is not "dumb").
  Progress();
  /// Redraws the line: "[label] elapsed 1m03s, ~2m10s left" (`fraction_done` in [0, 1]; the
  /// estimate is left out while it is 0).
  void update(const std::string& label, double fraction_done);
  /// Erases the line (before printing a result line).
  void clear();
  [[nodiscard]] bool enabled() const noexcept { return enabled_; }

 private:
  bool enabled_ = false;
  bool shown_ = false;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

/// "42s", "3m05s", "1h02m".
std::string format_duration(double seconds);

}  // namespace mpconform::cli
