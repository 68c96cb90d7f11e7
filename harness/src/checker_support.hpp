#pragma once
// Shared helpers of the checkers (private to harness/src).
//
// Interval reasoning used throughout: an op's effect, if any, happened at one instant within
// [invoke_ns, return_ns]. So an effect "definitely happened before t" when return_ns < t, and
// "possibly happened before t" when invoke_ns < t. For an info op return_ns is kNever.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mpconform/history.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform::detail {

inline constexpr std::size_t npos = static_cast<std::size_t>(-1);

/// Indices of the ops on `object` whose kind is one of `kinds`, in history order.
inline std::vector<std::size_t> select(const History& h, std::uint32_t object,
                                       std::initializer_list<OpKind> kinds) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.object != object) continue;
    for (OpKind k : kinds)
      if (op.kind == k) {
        out.push_back(i);
        break;
      }
  }
  return out;
}

/// A sorted multiset of times answering "how many are < t" in O(log n).
class TimeCount {
 public:
  TimeCount() = default;
  explicit TimeCount(std::vector<std::int64_t> times) : t_(std::move(times)) {
    std::sort(t_.begin(), t_.end());
  }
  [[nodiscard]] std::size_t less(std::int64_t t) const {
    return static_cast<std::size_t>(std::lower_bound(t_.begin(), t_.end(), t) - t_.begin());
  }
  /// How many are <= t (an op invoked at the instant another returns may precede it).
  [[nodiscard]] std::size_t not_after(std::int64_t t) const {
    return static_cast<std::size_t>(std::upper_bound(t_.begin(), t_.end(), t) - t_.begin());
  }
  [[nodiscard]] std::size_t size() const { return t_.size(); }

 private:
  std::vector<std::int64_t> t_;
};

/// The verdict for an incomplete history.
inline Verdict incomplete(const History& h, std::string clause) {
  return Verdict::unknown(std::move(clause),
                          fmt::format("history incomplete: {} operations dropped (recorder full)", h.dropped));
}

/// "p3's put 1:7" style short name of an op for messages.
inline std::string short_name(const History& h, std::size_t i) {
  const Op& op = h.ops[i];
  std::string v = is_tag(op.value) ? fmt::format("{}:{}", tag_producer(op.value), tag_seq(op.value))
                                   : fmt::format("{}", static_cast<std::int64_t>(op.value));
  return fmt::format("#{} p{} {}({})", i, op.process, to_string(op.kind), v);
}

/// A call with a positive timeout that gave up (get raising Empty, acquire or poll returning
/// False) waited for its object during [invoke_ns, waited_until(op)] at least: a call may give
/// up late, never early.
inline std::int64_t waited_until(const Op& op) { return std::min(op.return_ns, op.invoke_ns + op.timeout_ns); }

/// A call of `kind` on `object` with a positive timeout that gave up with `error` (a timed
/// wait the "gave up during its wait" rules judge).
inline bool gave_up(const Op& op, std::uint32_t object, OpKind kind, ErrorKind error) {
  return op.object == object && op.kind == kind && op.failed() && op.error == error && op.timeout_ns > 0;
}

inline std::string seconds_str(std::int64_t ns) {
  return fmt::format("{:.3f} s", static_cast<double>(ns) / 1e9);
}

/// Values and the ops that carry them, sorted by value, for joins between producers and
/// consumers (put/get, send/recv) without hashing.
struct ValueIndex {
  std::vector<std::pair<std::uint64_t, std::size_t>> entries;  // (value, op index)

  void add(std::uint64_t value, std::size_t op) { entries.emplace_back(value, op); }
  void sort() { std::sort(entries.begin(), entries.end()); }
  /// First op index with this value, or npos.
  [[nodiscard]] std::size_t find(std::uint64_t value) const {
    auto it = std::lower_bound(entries.begin(), entries.end(), std::make_pair(value, std::size_t{0}));
    return (it != entries.end() && it->first == value) ? it->second : npos;
  }
  /// The first pair of entries sharing a value, or (npos, npos).
  [[nodiscard]] std::pair<std::size_t, std::size_t> first_duplicate() const {
    for (std::size_t i = 1; i < entries.size(); ++i)
      if (entries[i].first == entries[i - 1].first) return {entries[i - 1].second, entries[i].second};
    return {npos, npos};
  }
};

}  // namespace mpconform::detail
