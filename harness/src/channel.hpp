#pragma once
// The part of the queue and pipe checkers they share: matching each consumed value to the op
// that produced it, then "nothing invented, nothing duplicated, order kept" (private).
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "checker_support.hpp"

namespace mpconform::detail {

struct ChannelClauses {
  std::string exactly_once;    // duplicated, invented, lost
  std::string order;           // order broken
  std::string failed_put;      // a value whose producing op failed was consumed (may be empty)
};

/// One produced value (an ok or info producing op) and the ok op that consumed it, if any.
struct ChannelItem {
  std::size_t put = npos;
  std::size_t get = npos;
};

struct Channel {
  std::vector<ChannelItem> items;  // one per ok/info producing op, in history order
  std::vector<std::size_t> info_takes;  // info consuming ops (each may have taken one item)
  // The earliest invoke of an info consuming op: an item nobody got may have been taken at or
  // after this instant (kNever when there is none).
  std::int64_t first_info_take = kNever;
};

/// Builds the channel of `produce`/`consume` ops on `object`. Returns a verdict when the
/// history is illegal (invented or duplicated value) or undecidable (producing values not
/// unique); otherwise fills `out` and returns nullopt.
std::optional<Verdict> build_channel(const History& h, std::uint32_t object, OpKind produce,
                                     OpKind consume, const ChannelClauses& clauses, Channel& out);

/// Order check. `per_producer`: items of one producing process must be consumed in the order
/// they were produced (Queue). Otherwise: real-time order across producers (Pipe: send is
/// synchronous, so a send that returned before another was invoked is ahead of it).
/// Rule: for items a, b with produce(a).return < produce(b).invoke, b consumed must not
/// return before a's consume was invoked; and if a (ok) was never consumed, b's consume must
/// not return before some info consume could have taken a. Returns the violation, if any.
std::optional<Verdict> check_channel_order(const History& h, const Channel& ch, bool per_producer,
                                           const ChannelClauses& clauses);

/// For each item: the instant by which it may have left the channel at the earliest (consume
/// invoke; for a never-consumed ok item, the first info take; kNever when nothing could have
/// taken it). npos items (info, never consumed) get a negative value: not known present.
std::int64_t take_bound(const History& h, const Channel& ch, const ChannelItem& item);

/// The ok items, sorted by produce return, with the running maximum of their take bound:
/// answers "is some item definitely in the channel during [t0, t1]?" in O(log n). An item is
/// definitely there from its produce's return to its take bound. With `longer_than`, only
/// items definitely there for longer than that are indexed.
class PresentIndex {
 public:
  PresentIndex(const History& h, const Channel& ch,
               std::int64_t longer_than = std::numeric_limits<std::int64_t>::min());
  /// An item (index into ch.items) produced before t0 that stayed until after t1, or npos.
  [[nodiscard]] std::size_t witness(std::int64_t t0, std::int64_t t1) const;
  /// With `longer_than` = d >= 0: an item definitely there for more than d of [from, to] (the
  /// wait of a timed call that gave up), or npos.
  [[nodiscard]] std::size_t lasting(std::int64_t from, std::int64_t to) const {
    return to - from > longer_than_ ? witness(to - longer_than_, from + longer_than_) : npos;
  }
  /// What lasting() found, for a verdict: the ops to show (the item's produce, the waiting
  /// op, the item's take if any) and the stretch [from, to] of the wait it was there.
  struct Stretch {
    std::vector<std::size_t> window;
    std::int64_t from, to;
  };
  [[nodiscard]] static Stretch stretch(const History& h, const Channel& ch, std::size_t item, std::size_t waiter,
                                       std::int64_t end);

 private:
  std::int64_t longer_than_;
  std::vector<std::int64_t> put_ret_;
  std::vector<std::pair<std::int64_t, std::size_t>> best_;  // (max take bound so far, its item)
};

}  // namespace mpconform::detail
