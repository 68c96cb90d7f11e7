#pragma once
// Internal: the producers and quota-holding consumers that the queue and joinable properties
// share (their scenario fields, generation, shrinking and steps).
#include <cstdint>
#include <vector>

#include "support.hpp"

namespace mpconform::properties {

struct Producer {
  /// puts[i] puts make_tag(p, i); a put that raises Full is retried (same item) until it
  /// succeeds or the producer has made no progress for the patience. SimpleQueue ignores
  /// block/timeout. Size 1..64.
  std::vector<CallSpec> puts;
  friend bool operator==(const Producer&, const Producer&) = default;
};
MPC_JSON_FIELDS(Producer, puts)

inline std::uint64_t total_items(const std::vector<Producer>& ps) {
  std::uint64_t n = 0;
  for (const Producer& p : ps) n += p.puts.size();
  return n;
}

inline std::vector<Producer> gen_producers(Rng& r, const GenLimits& l, std::uint32_t count) {
  std::vector<Producer> ps(count);
  for (Producer& p : ps) {
    p.puts.resize(r.u(1, std::min<std::uint32_t>(l.max_items, 64)));
    for (CallSpec& c : p.puts) c = blocking_call(r, l, true);
  }
  return ps;
}

inline void check_producers(const std::vector<Producer>& ps, std::size_t max, std::string_view path) {
  check_range(ps.size(), 1, max, path);
  for (std::size_t p = 0; p < ps.size(); ++p) {
    check_range(ps[p].puts.size(), 1, 64, fmt::format("{}[{}].puts", path, p));
    for (std::size_t i = 0; i < ps[p].puts.size(); ++i) check_call(ps[p].puts[i], fmt::format("{}[{}].puts[{}]", path, p, i));
  }
}

/// Each item goes to a random consumer.
template <class C>
void assign_quotas(Rng& r, std::vector<C>& cs, std::uint64_t items) {
  for (std::uint64_t i = 0; i < items; ++i) ++cs[r.u(0, static_cast<std::uint32_t>(cs.size() - 1))].quota;
}

template <class C>
void check_quotas(const std::vector<C>& cs, std::uint64_t items, std::string_view path) {
  std::uint64_t q = 0;
  for (const C& c : cs) q += c.quota;
  if (q != items) bad(path, fmt::format("quotas add up to {}, but {} items are put", q, items));
}

/// Spreads `total` over the consumers' quotas in proportion to the old ones.
template <class C>
void rebalance(std::vector<C>& cs, std::uint64_t total) {
  std::uint64_t old = 0;
  for (const C& c : cs) old += c.quota;
  std::uint64_t given = 0;
  for (C& c : cs) {
    c.quota = old == 0 ? 0 : static_cast<std::uint32_t>(c.quota * total / old);
    given += c.quota;
  }
  for (std::size_t i = 0; given < total; i = (i + 1) % cs.size(), ++given) ++cs[i].quota;
}

/// Shrinking candidates over producers and consumers (S has `producers` and `consumers`),
/// most promising first: one producer, one consumer, two items, fewer producers, fewer items,
/// no delays.
template <class S>
void shrink_producers(const S& s, std::vector<S>& out) {
  auto with_items = [&](S c) {
    rebalance(c.consumers, total_items(c.producers));
    out.push_back(std::move(c));
  };
  if (s.producers.size() > 1) {  // only the first producer, then all but the last
    S c = s;
    c.producers.resize(1);
    with_items(std::move(c));
    S d = s;
    d.producers.pop_back();
    with_items(std::move(d));
    S e = s;
    e.producers.erase(e.producers.begin());
    with_items(std::move(e));
  }
  if (s.consumers.size() > 1) {  // one consumer takes everything, then one fewer
    S c = s;
    std::uint32_t q = 0;
    for (const auto& k : c.consumers) q += k.quota;
    c.consumers.resize(1);
    c.consumers[0].quota = q;
    out.push_back(std::move(c));
    S d = s;
    const std::uint32_t last = d.consumers.back().quota;
    d.consumers.pop_back();
    d.consumers.front().quota += last;
    out.push_back(std::move(d));
  }
  for (std::size_t keep : {std::size_t{2}, std::size_t{0}}) {  // two items each, then half
    S c = s;
    for (Producer& p : c.producers) {
      const std::size_t n = keep ? std::min(keep, p.puts.size()) : (p.puts.size() + 1) / 2;
      p.puts.resize(n);
    }
    with_items(std::move(c));
  }
  {
    S c = s;
    for (Producer& p : c.producers)
      if (p.puts.size() > 1) p.puts.pop_back();
    with_items(std::move(c));
  }
  {
    S c = s;
    for (Producer& p : c.producers)
      for (CallSpec& a : p.puts) a.delay_us = 0;
    for (auto& k : c.consumers)
      for (CallSpec& a : k.gets) a.delay_us = 0;
    out.push_back(std::move(c));
  }
}

/// The steps of producer `index` on queue object `obj`.
inline std::vector<Step> producer_steps(const Producer& p, std::uint32_t index, std::uint32_t obj) {
  std::vector<Step> steps;
  for (std::size_t i = 0; i < p.puts.size(); ++i) {
    Step s = step(StepOp::put, obj);
    s.item = make_tag(index, i);
    s.call = p.puts[i];
    s.retry_full = true;
    steps.push_back(s);
  }
  return steps;
}

}  // namespace mpconform::properties
