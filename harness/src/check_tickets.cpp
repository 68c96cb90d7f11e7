// The ticket-grab checker (see mpconform/checkers/tickets.hpp for the rules).
#include <algorithm>
#include <map>

#include "checker_support.hpp"
#include "mpconform/checkers/tickets.hpp"

namespace mpconform {

using detail::npos;
using detail::short_name;

Verdict check_tickets(const History& h, const TicketCheckOptions& o) {
  if (h.dropped != 0) return detail::incomplete(h, o.clause);
  std::vector<std::size_t> sold;
  std::vector<std::size_t> refused;
  std::vector<std::size_t> infos;
  std::vector<std::size_t> reads;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.object != o.object) continue;
    if (op.kind == OpKind::buy) {
      if (op.ok()) {
        sold.push_back(i);
      } else if (op.failed()) {
        refused.push_back(i);
      } else {
        infos.push_back(i);
      }
    } else if (op.kind == OpKind::read && op.ok()) {
      reads.push_back(i);
    }
  }

  // Rule 1: ticket numbers.
  std::map<std::uint64_t, std::size_t> by_number;
  for (std::size_t i : sold) {
    const std::uint64_t n = h.ops[i].value;
    if (n == 0) continue;
    if (static_cast<std::int64_t>(n) > o.tickets || static_cast<std::int64_t>(n) < 1)
      return Verdict::illegal(o.clause, {i},
                              fmt::format("{} sold ticket {} of {}", short_name(h, i), n, o.tickets));
    if (auto [it, fresh] = by_number.emplace(n, i); !fresh)
      return Verdict::illegal(o.clause, {it->second, i},
                              fmt::format("ticket {} sold twice: {} and {}", n, short_name(h, it->second),
                                          short_name(h, i)));
  }
  // Rule 2: buyers.
  std::map<std::uint32_t, std::size_t> by_buyer;
  for (std::size_t i : sold) {
    if (auto [it, fresh] = by_buyer.emplace(h.ops[i].process, i); !fresh)
      return Verdict::illegal(o.clause, {it->second, i},
                              fmt::format("buyer p{} was sold two tickets: {} and {}", h.ops[i].process,
                                          short_name(h, it->second), short_name(h, i)));
  }
  // Rule 3: oversold.
  if (static_cast<std::int64_t>(sold.size()) > o.tickets)
    return Verdict::illegal(o.clause, sold,
                            fmt::format("{} tickets sold but only {} were on sale", sold.size(), o.tickets));
  // Rule 4: refused while tickets remained.
  {
    std::vector<std::int64_t> inv;
    for (std::size_t i : sold) inv.push_back(h.ops[i].invoke_ns);
    for (std::size_t i : infos) inv.push_back(h.ops[i].invoke_ns);
    const detail::TimeCount before(std::move(inv));
    for (std::size_t i : refused) {
      const auto possible = static_cast<std::int64_t>(before.less(h.ops[i].return_ns));
      if (possible < o.tickets)
        return Verdict::illegal(o.clause, {i},
                                fmt::format("{} was refused but at most {} of {} tickets can have been sold "
                                            "by then",
                                            short_name(h, i), possible, o.tickets));
    }
  }
  // Rule 5: sold == min(buyers, tickets).
  if (o.buyers > 0 && infos.empty()) {
    const std::int64_t expect = std::min(o.buyers, o.tickets);
    if (static_cast<std::int64_t>(sold.size()) != expect) {
      if (static_cast<std::int64_t>(sold.size() + refused.size()) < o.buyers)
        return Verdict::unknown(o.clause, fmt::format("only {} of {} buyers recorded a purchase",
                                                      sold.size() + refused.size(), o.buyers));
      return Verdict::illegal(o.clause, static_cast<std::int64_t>(sold.size()) < expect ? refused : sold,
                              fmt::format("{} tickets sold, expected min(buyers {}, tickets {}) = {}",
                                          sold.size(), o.buyers, o.tickets, expect));
    }
  }
  // Rule 6: the counter.
  std::vector<std::int64_t> ok_ret;
  std::vector<std::int64_t> any_inv;
  for (std::size_t i : sold) {
    ok_ret.push_back(h.ops[i].return_ns);
    any_inv.push_back(h.ops[i].invoke_ns);
  }
  for (std::size_t i : infos) any_inv.push_back(h.ops[i].invoke_ns);
  const detail::TimeCount done(std::move(ok_ret));
  const detail::TimeCount maybe(std::move(any_inv));
  for (std::size_t i : reads) {
    const Op& r = h.ops[i];
    const auto n = static_cast<std::int64_t>(r.value);
    if (n < 0)
      return Verdict::illegal(o.clause, {i}, fmt::format("{}: the ticket count went negative", short_name(h, i)));
    const std::int64_t hi = o.tickets - static_cast<std::int64_t>(done.less(r.invoke_ns));
    const std::int64_t lo = std::max<std::int64_t>(0, o.tickets - static_cast<std::int64_t>(maybe.less(r.return_ns)));
    if (n < lo || n > hi) {
      std::vector<std::size_t> window{i};
      for (std::size_t s : sold)
        if (n > hi ? h.ops[s].return_ns < r.invoke_ns : h.ops[s].invoke_ns < r.return_ns) window.push_back(s);
      return Verdict::illegal(o.clause, window,
                              fmt::format("{} but the count must have been in [{}, {}]", short_name(h, i), lo, hi));
    }
  }
  return Verdict::ok();
}

}  // namespace mpconform
