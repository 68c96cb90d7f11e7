// The longest prefix of a history that a checker accepts.
#include "mpconform/prefix.hpp"

#include <algorithm>
#include <vector>

namespace mpconform {
namespace {

// Kinds whose `value` is what the call returned (cleared when the cut leaves it pending).
bool value_is_result(OpKind k) noexcept {
  switch (k) {
    case OpKind::get:
    case OpKind::qsize:
    case OpKind::empty:
    case OpKind::full:
    case OpKind::recv:
    case OpKind::read:
    case OpKind::increment:
    case OpKind::buy:
      return true;
    default:
      return false;
  }
}

}  // namespace

History cut_history(const History& history, std::int64_t until_ns) {
  History out;
  out.dropped = history.dropped;
  out.torn = history.torn;
  for (const Op& op : history.ops) {
    if (op.invoke_ns >= until_ns) continue;
    Op o = op;
    if (o.return_ns != kNever && o.return_ns >= until_ns) {
      o.return_ns = kNever;
      o.outcome = Outcome::info;
      o.error = ErrorKind::none;
      if (value_is_result(o.kind)) o.value = 0;
    }
    out.ops.push_back(o);
  }
  return out;
}

std::optional<AcceptedPrefix> longest_accepted_prefix(const History& history,
                                                      const std::function<Verdict(const History&)>& check,
                                                      std::size_t max_checks) {
  // Candidate cuts: just after each distinct event time, so the prefix holds that event.
  std::vector<std::int64_t> cuts;
  for (const Op& op : history.ops) {
    cuts.push_back(op.invoke_ns + 1);
    if (op.return_ns != kNever) cuts.push_back(op.return_ns + 1);
  }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  for (std::size_t i = cuts.size(), tried = 0; i-- > 0 && tried < max_checks; ++tried) {
    const History h = cut_history(history, cuts[i]);
    if (!check(h).is_illegal()) return AcceptedPrefix{cuts[i], h.ops.size()};
  }
  return std::nullopt;
}

}  // namespace mpconform
