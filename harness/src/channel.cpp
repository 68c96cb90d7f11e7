// Matching producers to consumers and the order rule shared by the queue and pipe checkers.
#include "channel.hpp"

#include <algorithm>
#include <limits>
#include <map>

namespace mpconform::detail {

std::optional<Verdict> build_channel(const History& h, std::uint32_t object, OpKind produce,
                                     OpKind consume, const ChannelClauses& clauses, Channel& out) {
  ValueIndex produced;  // ok and info producing ops
  ValueIndex failed;    // producing ops that definitely did not happen
  ValueIndex consumed;  // ok consuming ops
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.object != object) continue;
    if (op.kind == produce) {
      if (op.failed()) {
        failed.add(op.value, i);
      } else {
        produced.add(op.value, i);
      }
    } else if (op.kind == consume) {
      if (op.ok()) {
        consumed.add(op.value, i);
      } else if (op.info()) {
        out.info_takes.push_back(i);
        out.first_info_take = std::min(out.first_info_take, op.invoke_ns);
      }
    }
  }
  produced.sort();
  failed.sort();
  consumed.sort();

  if (auto [a, b] = produced.first_duplicate(); a != npos) {
    return Verdict::unknown(clauses.exactly_once,
                            fmt::format("values are not unique: {} and {} carry the same value, so "
                                        "consumed values cannot be matched (use make_tag)",
                                        short_name(h, a), short_name(h, b)));
  }

  // Walk the consumed values in value order alongside the produced ones.
  std::vector<std::size_t> get_of(produced.entries.size(), npos);
  std::size_t p = 0;
  for (std::size_t c = 0; c < consumed.entries.size(); ++c) {
    const auto [value, gi] = consumed.entries[c];
    while (p < produced.entries.size() && produced.entries[p].first < value) ++p;
    if (p == produced.entries.size() || produced.entries[p].first != value) {
      if (std::size_t f = failed.find(value); f != npos && !clauses.failed_put.empty()) {
        return Verdict::illegal(clauses.failed_put, {f, gi},
                                fmt::format("{} got a value whose {} failed ({})", short_name(h, gi),
                                            to_string(produce), short_name(h, f)));
      }
      return Verdict::illegal(clauses.exactly_once, {gi},
                              fmt::format("{} got a value nobody {}", short_name(h, gi), to_string(produce)));
    }
    const std::size_t pi = produced.entries[p].second;
    if (get_of[p] != npos) {
      return Verdict::illegal(clauses.exactly_once, {pi, get_of[p], gi},
                              fmt::format("value of {} was got twice: {} and {}", short_name(h, pi),
                                          short_name(h, get_of[p]), short_name(h, gi)));
    }
    if (h.ops[gi].return_ns < h.ops[pi].invoke_ns) {
      return Verdict::illegal(clauses.exactly_once, {pi, gi},
                              fmt::format("{} returned before {} was invoked", short_name(h, gi),
                                          short_name(h, pi)));
    }
    get_of[p] = gi;
  }

  out.items.clear();
  out.items.reserve(produced.entries.size());
  for (std::size_t k = 0; k < produced.entries.size(); ++k)
    out.items.push_back(ChannelItem{produced.entries[k].second, get_of[k]});
  std::sort(out.items.begin(), out.items.end(),
            [](const ChannelItem& a, const ChannelItem& b) { return a.put < b.put; });
  return std::nullopt;
}

std::int64_t take_bound(const History& h, const Channel& ch, const ChannelItem& item) {
  if (item.get != npos) return h.ops[item.get].invoke_ns;
  if (h.ops[item.put].ok()) return ch.first_info_take;
  return std::numeric_limits<std::int64_t>::min();  // info put never got: maybe never put
}

PresentIndex::PresentIndex(const History& h, const Channel& ch, std::int64_t longer_than) : longer_than_(longer_than) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < ch.items.size(); ++i) {
    const ChannelItem& it = ch.items[i];
    if (!h.ops[it.put].ok()) continue;
    if (longer_than != std::numeric_limits<std::int64_t>::min() &&
        take_bound(h, ch, it) - h.ops[it.put].return_ns <= longer_than)
      continue;
    order.push_back(i);
  }
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    return h.ops[ch.items[a].put].return_ns < h.ops[ch.items[b].put].return_ns;
  });
  put_ret_.reserve(order.size());
  best_.reserve(order.size());
  std::int64_t best = std::numeric_limits<std::int64_t>::min();
  std::size_t best_item = npos;
  for (std::size_t i : order) {
    put_ret_.push_back(h.ops[ch.items[i].put].return_ns);
    const std::int64_t tb = take_bound(h, ch, ch.items[i]);
    if (tb > best) {
      best = tb;
      best_item = i;
    }
    best_.emplace_back(best, best_item);
  }
}

PresentIndex::Stretch PresentIndex::stretch(const History& h, const Channel& ch, std::size_t item, std::size_t waiter,
                                            std::int64_t end) {
  const ChannelItem& it = ch.items[item];
  Stretch s{{it.put, waiter}, std::max(h.ops[it.put].return_ns, h.ops[waiter].invoke_ns),
            std::min(take_bound(h, ch, it), end)};
  if (it.get != npos) s.window.push_back(it.get);
  return s;
}

std::size_t PresentIndex::witness(std::int64_t t0, std::int64_t t1) const {
  const auto n = static_cast<std::size_t>(std::lower_bound(put_ret_.begin(), put_ret_.end(), t0) - put_ret_.begin());
  if (n == 0) return npos;
  const auto& [best, item] = best_[n - 1];
  return best > t1 ? item : npos;
}

namespace {

// The real-time order rule over one group of items (see check_channel_order).
std::optional<Verdict> order_in_group(const History& h, const Channel& ch,
                                      const std::vector<std::size_t>& group,
                                      const ChannelClauses& clauses) {
  if (group.size() < 2) return std::nullopt;
  // a-candidates by produce return, b-candidates by produce invoke.
  std::vector<std::size_t> by_ret = group;
  std::vector<std::size_t> by_inv = group;
  const auto& items = ch.items;
  std::sort(by_ret.begin(), by_ret.end(), [&](std::size_t x, std::size_t y) {
    return h.ops[items[x].put].return_ns < h.ops[items[y].put].return_ns;
  });
  std::sort(by_inv.begin(), by_inv.end(), [&](std::size_t x, std::size_t y) {
    return h.ops[items[x].put].invoke_ns < h.ops[items[y].put].invoke_ns;
  });
  std::size_t next_a = 0;
  std::int64_t best = std::numeric_limits<std::int64_t>::min();
  std::size_t best_item = npos;
  for (std::size_t b : by_inv) {
    const Op& put_b = h.ops[items[b].put];
    while (next_a < by_ret.size() && h.ops[items[by_ret[next_a]].put].return_ns < put_b.invoke_ns) {
      const std::size_t a = by_ret[next_a++];
      const std::int64_t tb = take_bound(h, ch, items[a]);
      if (tb > best) {
        best = tb;
        best_item = a;
      }
    }
    if (items[b].get == npos || best_item == npos) continue;
    const Op& get_b = h.ops[items[b].get];
    if (best <= get_b.return_ns) continue;
    const ChannelItem& a = items[best_item];
    if (a.get != npos) {
      return Verdict::illegal(
          clauses.order, {a.put, items[b].put, a.get, items[b].get},
          fmt::format("{} was ahead of {}, but {} returned before {} was invoked", short_name(h, a.put),
                      short_name(h, items[b].put), short_name(h, items[b].get), short_name(h, a.get)));
    }
    return Verdict::illegal(
        clauses.order, {a.put, items[b].put, items[b].get},
        fmt::format("{} was ahead of {}, which {} got, but nobody ever got it{}", short_name(h, a.put),
                    short_name(h, items[b].put), short_name(h, items[b].get),
                    ch.info_takes.empty() ? "" : " (and no unfinished consumer could have taken it in time)"));
  }
  return std::nullopt;
}

}  // namespace

std::optional<Verdict> check_channel_order(const History& h, const Channel& ch, bool per_producer,
                                           const ChannelClauses& clauses) {
  if (!per_producer) {
    std::vector<std::size_t> all(ch.items.size());
    for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
    return order_in_group(h, ch, all, clauses);
  }
  std::map<std::uint32_t, std::vector<std::size_t>> groups;
  for (std::size_t i = 0; i < ch.items.size(); ++i) groups[h.ops[ch.items[i].put].process].push_back(i);
  for (const auto& [process, group] : groups) {
    if (auto v = order_in_group(h, ch, group, clauses)) return v;
  }
  return std::nullopt;
}

}  // namespace mpconform::detail
