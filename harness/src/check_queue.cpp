// The queue checker (see mpconform/checkers/queue.hpp for the rules).
#include <algorithm>

#include "channel.hpp"
#include "mpconform/checkers/queue.hpp"
#include "mpconform/linearizability.hpp"
#include "mpconform/tiers.hpp"

namespace mpconform {
namespace {

using detail::Channel;
using detail::ChannelItem;
using detail::npos;
using detail::PresentIndex;
using detail::short_name;

struct Bounds {
  std::int64_t lower = 0;  // L: definitely present during all of q
  std::int64_t upper = 0;  // U: possibly present at some instant of q
  std::vector<std::size_t> lower_ops;  // puts (and later gets) of the L items
  std::vector<std::size_t> upper_ops;  // puts of the U items and gets of the items gone before
};

Bounds bounds_of(const History& h, const Channel& ch, const Op& q) {
  Bounds b;
  for (const ChannelItem& it : ch.items) {
    const Op& put = h.ops[it.put];
    const std::int64_t tb = detail::take_bound(h, ch, it);
    if (put.ok() && put.return_ns < q.invoke_ns && tb > q.return_ns) {
      ++b.lower;
      b.lower_ops.push_back(it.put);
      if (it.get != npos) b.lower_ops.push_back(it.get);
    }
    const bool gone_before = it.get != npos && h.ops[it.get].return_ns < q.invoke_ns;
    if (gone_before) {
      b.upper_ops.push_back(it.put);
      b.upper_ops.push_back(it.get);
    } else if (put.invoke_ns <= q.return_ns) {  // equal instants overlap (as in the search)
      ++b.upper;
      b.upper_ops.push_back(it.put);
    }
  }
  return b;
}

// For each query interval [invoke, return], how many items were definitely in the queue during
// all of it (ok put returned before invoke, take bound after return): offline, O(n log n).
std::vector<std::size_t> present_counts(const History& h, const Channel& ch,
                                        const std::vector<std::size_t>& queries) {
  std::vector<std::pair<std::int64_t, std::int64_t>> items;  // (put return, take bound)
  for (const ChannelItem& it : ch.items)
    if (h.ops[it.put].ok()) items.emplace_back(h.ops[it.put].return_ns, detail::take_bound(h, ch, it));
  std::sort(items.begin(), items.end());
  std::vector<std::int64_t> bounds;
  for (const auto& [p, tb] : items) bounds.push_back(tb);
  std::sort(bounds.begin(), bounds.end());
  bounds.erase(std::unique(bounds.begin(), bounds.end()), bounds.end());
  std::vector<std::size_t> tree(bounds.size() + 1, 0);  // Fenwick tree over the take bounds
  std::size_t inserted = 0;
  std::vector<std::size_t> order(queries.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::sort(order.begin(), order.end(),
            [&](std::size_t a, std::size_t b) { return h.ops[queries[a]].invoke_ns < h.ops[queries[b]].invoke_ns; });
  std::vector<std::size_t> out(queries.size(), 0);
  std::size_t next = 0;
  for (std::size_t k : order) {
    const Op& q = h.ops[queries[k]];
    for (; next < items.size() && items[next].first < q.invoke_ns; ++next, ++inserted) {
      const auto pos = static_cast<std::size_t>(std::lower_bound(bounds.begin(), bounds.end(), items[next].second) -
                                                bounds.begin());
      for (std::size_t x = pos + 1; x < tree.size(); x += x & (~x + 1)) ++tree[x];
    }
    // Inserted items whose take bound is <= return: a prefix of `bounds`.
    const auto upto = static_cast<std::size_t>(std::upper_bound(bounds.begin(), bounds.end(), q.return_ns) -
                                               bounds.begin());
    std::size_t gone = 0;
    for (std::size_t x = upto; x > 0; x -= x & (~x + 1)) gone += tree[x];
    out[k] = inserted - gone;
  }
  return out;
}

// Rule 6b: a put with a positive timeout that raised queue.Full while the queue certainly had
// a free slot for longer than the `notice` tier of its wait. At most U(t) items can be in the
// queue at t: puts (ok or info) invoked by t, minus items whose get returned before t; the
// put waited during [invoke, min(return, invoke + timeout)].
std::optional<Verdict> full_while_room(const History& h, const Channel& ch, const QueueCheckOptions& o) {
  std::vector<std::int64_t> in, out;  // put invokes; got items' get returns
  for (const ChannelItem& it : ch.items) {
    in.push_back(h.ops[it.put].invoke_ns);
    if (it.get != npos) out.push_back(h.ops[it.get].return_ns);
  }
  const detail::TimeCount puts(in), gone(out);
  std::vector<std::int64_t> changes = in;  // where U changes: a put's invoke, just after a get's return
  for (std::int64_t r : out) changes.push_back(r + 1);
  std::sort(changes.begin(), changes.end());
  const std::int64_t notice = nanoseconds(o.notice);
  const auto upper = [&](std::int64_t t) {
    return static_cast<std::int64_t>(puts.not_after(t)) - static_cast<std::int64_t>(gone.less(t));
  };
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& p = h.ops[i];
    if (!detail::gave_up(p, o.object, OpKind::put, ErrorKind::Full)) continue;
    const std::int64_t end = detail::waited_until(p);
    if (end - p.invoke_ns <= notice) continue;
    // U is constant between change points: walk the pieces of [invoke, end] and measure each
    // run with a free slot.
    std::int64_t run_from = -1;
    for (std::int64_t t = p.invoke_ns;;) {
      const auto piece_end = std::upper_bound(changes.begin(), changes.end(), t);
      const std::int64_t next = piece_end == changes.end() ? end : std::min(end, *piece_end);
      const bool room = upper(t) < o.maxsize;
      if (room && run_from < 0) run_from = t;
      if (!room) run_from = -1;
      if (run_from >= 0 && next - run_from > notice)
        return Verdict::illegal(
            "Q-FULL-3", {i},
            fmt::format("{} (timeout {}) raised queue.Full although at most {} of {} slots could be used for "
                        "longer than tier {} ({}) of its wait, from {}",
                        short_name(h, i), detail::seconds_str(p.timeout_ns), upper(t), o.maxsize, o.notice.name,
                        detail::seconds_str(notice), detail::seconds_str(run_from)));
      if (next >= end) break;
      t = next;
    }
  }
  return std::nullopt;
}

std::vector<std::size_t> with(std::vector<std::size_t> v, std::size_t i) {
  v.push_back(i);
  return v;
}

}  // namespace

Verdict check_queue(const History& h, const QueueCheckOptions& o) {
  const std::string order_clause = o.simple_queue ? "SQ-10" : "Q-ORDER-2";
  if (h.dropped != 0) return detail::incomplete(h, order_clause);
  const detail::ChannelClauses clauses{order_clause, order_clause, o.simple_queue ? "" : "Q-FULL-7"};

  Channel ch;
  if (auto v = detail::build_channel(h, o.object, OpKind::put, OpKind::get, clauses, ch)) return *v;
  // A queue that claims to be linearizable (rule 9 applies) is FIFO across producers too.
  const bool linearizable = o.exact && !o.cpython_racy_get && !o.cpython_racy_empty;
  if (auto v = detail::check_channel_order(h, ch, /*per_producer=*/!linearizable, clauses)) return *v;

  std::string note;
  // Rule 4: nothing lost.
  if (o.drained) {
    std::vector<std::size_t> missing;
    for (const ChannelItem& it : ch.items)
      if (it.get == npos && h.ops[it.put].ok()) missing.push_back(it.put);
    if (missing.size() > ch.info_takes.size()) {
      const std::size_t lost = missing.front();
      std::vector<std::size_t> window{lost};
      // Show the drain: the last get that raised Empty after the lost put returned.
      for (std::size_t i = h.ops.size(); i-- > 0;) {
        const Op& g = h.ops[i];
        if (g.object == o.object && g.kind == OpKind::get && g.failed() && g.error == ErrorKind::Empty &&
            g.invoke_ns > h.ops[lost].return_ns) {
          window.push_back(i);
          break;
        }
      }
      return Verdict::illegal(order_clause, window,
                              fmt::format("{} of {} ok puts never got although the queue was drained "
                                          "({} info gets); first: {}",
                                          missing.size(), ch.items.size(), ch.info_takes.size(),
                                          short_name(h, lost)));
    }
    if (!missing.empty())
      note = fmt::format("{} items not got may have been taken by the {} info gets", missing.size(),
                         ch.info_takes.size());
  }

  // Rule 5: Empty only when allowed.
  const PresentIndex present(h, ch);
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& g = h.ops[i];
    if (g.object != o.object || g.kind != OpKind::get || !g.failed() || g.error != ErrorKind::Empty) continue;
    if (g.timeout_ns == kNoTimeout) {
      return Verdict::illegal("Q-GET-1", {i},
                              fmt::format("{} has no timeout but raised queue.Empty", short_name(h, i)));
    }
    if (o.cpython_racy_get) continue;
    const std::size_t w = present.witness(g.invoke_ns, g.return_ns);
    if (w == npos) continue;
    const ChannelItem& it = ch.items[w];
    std::vector<std::size_t> window{it.put, i};
    if (it.get != npos) window.push_back(it.get);
    return Verdict::illegal("Q-SIZE-9", window,
                            fmt::format("{} raised queue.Empty while {} was in the queue for the whole call",
                                        short_name(h, i), short_name(h, it.put)));
  }

  // Rule 6: a timed get notices an item that arrives while it waits.
  if (!o.cpython_racy_get) {
    const std::int64_t notice = nanoseconds(o.notice);
    const PresentIndex lasting(h, ch, notice);
    for (std::size_t i = 0; i < h.ops.size(); ++i) {
      const Op& g = h.ops[i];
      if (!detail::gave_up(g, o.object, OpKind::get, ErrorKind::Empty)) continue;
      const std::int64_t end = detail::waited_until(g);
      const std::size_t w = lasting.lasting(g.invoke_ns, end);
      if (w == npos) continue;
      const auto [window, from, to] = PresentIndex::stretch(h, ch, w, i, end);
      return Verdict::illegal(
          "Q-EMPTY-3", window,
          fmt::format("{} (timeout {}) raised queue.Empty although {} was in the queue for {} of its wait, "
                      "longer than tier {} ({})",
                      short_name(h, i), detail::seconds_str(g.timeout_ns), short_name(h, window[0]),
                      detail::seconds_str(to - from), o.notice.name, detail::seconds_str(notice)));
    }
  }

  // Rule 6b: a timed put notices a slot that frees while it waits.
  if (o.maxsize > 0)
    if (auto v = full_while_room(h, ch, o)) return *v;

  // Rule 7: never more than maxsize items.
  const bool bounded = o.maxsize > 0;
  if (bounded) {
    // A put succeeds only with a free slot: not while maxsize items were there all along.
    std::vector<std::size_t> puts;
    for (std::size_t i = 0; i < h.ops.size(); ++i)
      if (h.ops[i].object == o.object && h.ops[i].kind == OpKind::put && h.ops[i].ok()) puts.push_back(i);
    const std::vector<std::size_t> held = present_counts(h, ch, puts);
    for (std::size_t k = 0; k < puts.size(); ++k) {
      if (static_cast<std::int64_t>(held[k]) < o.maxsize) continue;
      const Bounds b = bounds_of(h, ch, h.ops[puts[k]]);
      return Verdict::illegal("Q-MAX-3", with(b.lower_ops, puts[k]),
                              fmt::format("{} succeeded while the queue held {} items (maxsize {}) during the whole call",
                                          short_name(h, puts[k]), b.lower, o.maxsize));
    }
    // At no instant more than maxsize items certainly there (put returned, take bound later):
    // a sweep over [put return, take bound) intervals; at one instant, takes before puts.
    std::vector<std::pair<std::int64_t, std::size_t>> events;  // (time, item + 1 for a put, 0 for a take)
    for (std::size_t k = 0; k < ch.items.size(); ++k) {
      const Op& put = h.ops[ch.items[k].put];
      const std::int64_t tb = detail::take_bound(h, ch, ch.items[k]);
      if (!put.ok() || tb <= put.return_ns) continue;
      events.emplace_back(put.return_ns, k + 1);
      if (tb != kNever) events.emplace_back(tb, 0);
    }
    std::sort(events.begin(), events.end());
    std::int64_t n = 0;
    for (const auto& [t, item] : events) {
      n += item == 0 ? -1 : 1;
      if (item == 0 || n <= o.maxsize) continue;
      const std::size_t last = ch.items[item - 1].put;
      std::vector<std::size_t> window;
      for (const ChannelItem& it : ch.items) {
        const Op& put = h.ops[it.put];
        if (!put.ok() || put.return_ns > t || detail::take_bound(h, ch, it) <= t) continue;
        window.push_back(it.put);
        if (it.get != npos) window.push_back(it.get);
      }
      return Verdict::illegal("Q-MAX-3", window,
                              fmt::format("when {} returned, {} items were in the queue (maxsize {}): each put had "
                                          "returned and none was taken yet",
                                          short_name(h, last), n, o.maxsize));
    }
  }

  // Rule 8: bounds.
  std::vector<std::size_t> size_ops;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.object != o.object) continue;
    const bool full_put = op.kind == OpKind::put && op.failed() && op.error == ErrorKind::Full;
    const bool size_op = (op.kind == OpKind::qsize || op.kind == OpKind::full || op.kind == OpKind::empty) && op.ok();
    if (full_put || size_op) size_ops.push_back(i);
  }
  const double work = static_cast<double>(size_ops.size()) * static_cast<double>(ch.items.size());
  if (work > static_cast<double>(o.max_work)) {
    return Verdict::unknown("Q-SIZE-2", fmt::format("size bounds not checked: {} size ops x {} items exceeds "
                                                    "the budget of {}",
                                                    size_ops.size(), ch.items.size(), o.max_work));
  }
  for (std::size_t i : size_ops) {
    const Op& q = h.ops[i];
    const auto n = static_cast<std::int64_t>(q.value);
    if (q.kind == OpKind::qsize && n < 0)
      return Verdict::illegal("Q-SIZE-2", {i}, fmt::format("{} returned a negative size", short_name(h, i)));
    if (q.kind == OpKind::qsize && bounded && n > o.maxsize)
      return Verdict::illegal("Q-MAX-3", {i},
                              fmt::format("{} exceeds maxsize {}", short_name(h, i), o.maxsize));
    if (!bounded && ((q.kind == OpKind::full && q.value != 0) || q.kind == OpKind::put))
      return Verdict::illegal("Q-MAX-1", {i},
                              fmt::format("{} on an unbounded queue", q.kind == OpKind::put
                                                                         ? short_name(h, i) + " raised queue.Full"
                                                                         : short_name(h, i) + " returned True"));
    const Bounds b = bounds_of(h, ch, q);
    switch (q.kind) {
      case OpKind::qsize:
        if (n < b.lower)
          return Verdict::illegal("Q-SIZE-2", with(b.lower_ops, i),
                                  fmt::format("{} but {} items were in the queue during the whole call",
                                              short_name(h, i), b.lower));
        if (n > b.upper)
          return Verdict::illegal("Q-SIZE-2", with(b.upper_ops, i),
                                  fmt::format("{} but at most {} items can have been in the queue",
                                              short_name(h, i), b.upper));
        break;
      case OpKind::full:
        if (q.value != 0 && b.upper < o.maxsize)
          return Verdict::illegal("Q-SIZE-3", with(b.upper_ops, i),
                                  fmt::format("full() returned True but at most {} of {} slots were used",
                                              b.upper, o.maxsize));
        if (q.value == 0 && bounded && b.lower >= o.maxsize)
          return Verdict::illegal("Q-SIZE-3", with(b.lower_ops, i),
                                  fmt::format("full() returned False while the queue held {} of {} items",
                                              b.lower, o.maxsize));
        break;
      case OpKind::empty:
        if (q.value != 0 && b.lower > 0 && !o.cpython_racy_empty)
          return Verdict::illegal("Q-SIZE-7", with(b.lower_ops, i),
                                  fmt::format("empty() returned True while {} items were in the queue",
                                              b.lower));
        if (q.value == 0 && b.upper == 0)
          return Verdict::illegal("Q-SIZE-6", with(b.upper_ops, i),
                                  "empty() returned False while the queue was certainly empty");
        break;
      case OpKind::put:
        if (b.upper < o.maxsize)
          return Verdict::illegal("Q-PUT-1", with(b.upper_ops, i),
                                  fmt::format("{} raised queue.Full but at most {} of {} slots were used",
                                              short_name(h, i), b.upper, o.maxsize));
        break;
      default:
        break;
    }
  }
  // Rule 9: some order explains it all (the exact search over the queue models' semantics),
  // for what rules 1-8 do not see: order across producers, counts that only a whole order
  // contradicts. Not with CPython's races: the models have no feeder threads, whose
  // reordering of different producers' items CPython shows.
  if (linearizable) {
    LinearizabilityOptions lo;
    lo.object = o.object;
    lo.kind = o.simple_queue ? LinearizableKind::simple_queue
              : o.joinable   ? LinearizableKind::joinable_queue
                             : LinearizableKind::queue;
    lo.maxsize = o.maxsize;
    lo.drained = o.drained;
    lo.method = LinearizabilityMethod::native;
    lo.max_states = o.max_states;
    Verdict exact = check_linearizable(h, lo);
    if (exact.is_illegal()) {
      exact.message = "rule 9: " + exact.message;
      return exact;
    }
    if (exact.is_unknown()) note += (note.empty() ? "" : "; ") + ("rule 9 not decided: " + exact.message);
  }
  return Verdict::ok(note);
}

}  // namespace mpconform
