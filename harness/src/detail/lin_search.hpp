#pragma once
// The generic linearizability search (Wing & Gong 1993, with Lowe's 2017 memo; the event-list
// form of Porcupine), over any sequential model of spec/models. Private to harness/src.
//
// An adapter A tells the search how one model reads a history:
//   using State; using Call;
//   static bool reads(const Op&);           the op is a call on this kind of object
//   static std::optional<Call> to_call(const Op&, const LinearizabilityOptions&);
//                                           nullopt: the model has no such call (Unknown)
//   static Expected expected(const Op&);    what the history says the call did (an adapter
//                                           with its own alternatives() may return its own type)
//   static std::string clause(const Op&, const LinearizabilityOptions&);  hint on Illegal
//   static void encode(const State&, std::vector<std::uint64_t>& key);    memo key
//   static std::vector<spec::Value> leftover(const State&);  what a drained object still holds
//   static bool produced(const Op&, const spec::Value&);     the op put/sent that value
//   static std::string_view drained_clause(const LinearizabilityOptions&);
// and optionally, instead of the model's step():
//   static void alternatives(const State&, const Call&, const Expect&, std::vector<State>& out);
// and, to guide the search (any answer is exact; a good one makes it go back less):
//   static void ranks(const History&, const std::vector<Entry<A>>&, std::vector<std::int64_t>& out);
//                                           per entry, a guess at when it took effect
// and, to prune it (must hold in every legal order, beyond real time: see Chain):
//   static void chain(const History&, const std::vector<Entry<A>>&, Chain& out);
//   static constexpr std::string_view chain_reason;  why, for the failure message
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "../checker_support.hpp"
#include "mpconform/history.hpp"
#include "mpconform/linearizability.hpp"
#include "mpconform/spec/outcome.hpp"
#include "mpconform/spec/value.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform::detail {

// What the history says about one op, in the model's terms.
enum class Seen : std::uint8_t {
  returned,  // the model must return `value`
  raised,    // the model must raise `error_type`
  nothing,   // no effect, no constraint (a fail with an error no model raises)
  unknown,   // info: no effect, or any non-blocking result
};

struct Expected {
  Seen seen = Seen::unknown;
  spec::Value value;       // Seen::returned
  std::string_view error_type;  // Seen::raised (a literal of python_type)
};

// The Python class of a recorded error, as the models spell it; empty when no model raises it
// (the op then constrains nothing).
inline std::string_view python_type(ErrorKind e) {
  switch (e) {
    case ErrorKind::Empty: return "queue.Empty";
    case ErrorKind::Full: return "queue.Full";
    case ErrorKind::ValueError: return "ValueError";
    case ErrorKind::OSError: return "OSError";
    case ErrorKind::AssertionError: return "AssertionError";
    case ErrorKind::EOFError: return "EOFError";
    case ErrorKind::BrokenPipeError: return "BrokenPipeError";
    default: return {};
  }
}

// The usual reading: ok returns `value`, fail raises its error (or constrains nothing), info
// is unknown.
inline Expected expected_from(const Op& op, spec::Value value) {
  Expected e;
  if (op.ok()) {
    e.seen = Seen::returned;
    e.value = std::move(value);
  } else if (op.failed()) {
    e.error_type = python_type(op.error);
    e.seen = e.error_type.empty() ? Seen::nothing : Seen::raised;
  }
  return e;
}

// Python's (block, timeout) from Op::timeout_ns (kNoTimeout, 0 for "do not wait", or ns).
inline std::pair<bool, std::optional<double>> block_timeout(std::int64_t timeout_ns) {
  if (timeout_ns == kNoTimeout) return {true, std::nullopt};
  if (timeout_ns <= 0) return {false, std::nullopt};
  return {true, static_cast<double>(timeout_ns) / 1e9};
}

inline spec::Value item_of(std::uint64_t tag) { return spec::Value::integer(static_cast<spec::PyInt>(tag)); }

// The search's memo: 128-bit fingerprints of the keys (two independent 64-bit hashes) in an
// open-addressing table: 16 bytes per key however long, so memory stays linear in the history.
// Two different keys share a fingerprint with probability about n^2 / 2^129 for n keys (below
// 10^-24 for 10^7), the price TLC's fingerprinted state sets also pay; a collision could only
// prune a branch, i.e. turn an ok into illegal, never the reverse.
// splitmix64's finalizer: spreads structured words (tags, counts) over all 64 bits.
inline std::uint64_t mix64(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class Fingerprints {
 public:
  /// True when `key` was not seen before (and records it).
  bool insert(const std::vector<std::uint64_t>& key) {
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const Slot f = fingerprint(key);
    Slot& slot = slots_[find(f)];
    if (slot.b != 0) return false;
    slot = f;
    ++size_;
    return true;
  }
  bool contains(const std::vector<std::uint64_t>& key) const {
    return size_ != 0 && slots_[find(fingerprint(key))].b != 0;
  }
  [[nodiscard]] bool empty() const { return size_ == 0; }

 private:
  struct Slot {
    std::uint64_t a = 0, b = 0;
  };
  static Slot fingerprint(const std::vector<std::uint64_t>& key) {
    Slot f{0x243f6a8885a308d3ull, 0x13198a2e03707344ull};
    for (std::uint64_t x : key) {
      f.a = mix64(f.a ^ x);
      f.b = mix64(f.b + x + 0x9e3779b97f4a7c15ull);
    }
    if (f.b == 0) f.b = 1;  // 0 marks a free slot
    return f;
  }
  // The slot holding `f`, or the free slot where it would go.
  std::size_t find(const Slot& f) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = static_cast<std::size_t>(f.a) & mask;; i = (i + 1) & mask)
      if (slots_[i].b == 0 || (slots_[i].a == f.a && slots_[i].b == f.b)) return i;
  }
  void grow() { rehash(slots_.empty() ? 1024 : 2 * slots_.size()); }
  void rehash(std::size_t slots) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(slots, Slot{});
    const std::size_t mask = slots_.size() - 1;
    for (const Slot& s : old)
      if (s.b != 0) {
        std::size_t i = static_cast<std::size_t>(s.a) & mask;
        while (slots_[i].b != 0) i = (i + 1) & mask;
        slots_[i] = s;
      }
  }
  std::vector<Slot> slots_;
  std::size_t size_ = 0;
};

// An order that some ops take effect in, in every legal order of the history (proved by the
// model's semantics, e.g. a FIFO's puts in the order their items were got), given as a chain
// and prefixes of it: entry k may be placed only once the chain's first needs[k] entries are.
struct Chain {
  static constexpr std::uint32_t kNone = ~std::uint32_t{0};
  std::vector<std::uint32_t> position;  // by entry: its place in the chain, or kNone
  std::vector<std::uint32_t> needs;     // by entry: how many of the chain's first entries come before it
  std::vector<std::size_t> proof;       // by entry: the op that places it (History index), or npos
};

// What the adapter says an op must do: Expected, or a native adapter's own (smaller) type.
template <class A>
using ExpectOf = decltype(A::expected(std::declval<const Op&>()));

// One op of the object, as a model call with what it must do.
template <class A>
struct Entry {
  std::size_t index;  // into History::ops
  typename A::Call call;
  ExpectOf<A> expect;
};

// The states `e` may leave when linearized in `s`, in a fixed order (no duplicates).
// An adapter may answer this itself (a native state, faster than the model's step()).
template <class A>
void alternatives(const typename A::State& s, const Entry<A>& e, std::vector<typename A::State>& out) {
  out.clear();
  if constexpr (requires { A::alternatives(s, e.call, e.expect, out); }) {
    A::alternatives(s, e.call, e.expect, out);
  } else {
    const auto outcome = step(s, e.call);  // found by ADL in the model's namespace
    auto add = [&](const typename A::State& next) {
      if (std::find(out.begin(), out.end(), next) == out.end()) out.push_back(next);
    };
    switch (e.expect.seen) {
      case Seen::returned:
        for (const auto& a : outcome.allowed())
          if (a.result.returned() && a.result.value == e.expect.value) add(a.next);
        break;
      case Seen::raised:
        for (const auto& a : outcome.allowed())
          if (a.result.raised() && a.result.error.type == e.expect.error_type) add(a.next);
        break;
      case Seen::nothing: add(s); break;
      case Seen::unknown:
        for (const auto& a : outcome.allowed())
          if (!a.result.is_blocks()) add(a.next);
        add(s);  // never took effect
        break;
    }
  }
}

// The object's ops as entries in invoke order (ties: history order), or the Unknown verdict
// for an op the model does not have.
template <class A>
std::optional<Verdict> read_entries(const History& h, const LinearizabilityOptions& o, std::vector<Entry<A>>& out) {
  std::vector<std::pair<std::int64_t, std::size_t>> order;  // (invoke, index): sorted, then read once
  for (std::size_t i = 0; i < h.ops.size(); ++i)
    if (h.ops[i].object == o.object && A::reads(h.ops[i])) order.emplace_back(h.ops[i].invoke_ns, i);
  if (!std::is_sorted(order.begin(), order.end())) std::sort(order.begin(), order.end());
  out.reserve(order.size());
  for (const auto& [t, i] : order) {
    const Op& op = h.ops[i];
    std::optional<typename A::Call> call = A::to_call(op, o);
    if (!call)
      return Verdict::unknown(A::clause(op, o),
                              fmt::format("{}: the {} model has no such call", short_name(h, i), to_string(o.kind)));
    out.push_back(Entry<A>{i, std::move(*call), A::expected(op)});
  }
  return std::nullopt;
}

template <class A>
class Search {
 public:
  using State = typename A::State;

  Search(const History& h, const LinearizabilityOptions& o, State initial)
      : h_(h), o_(o), initial_(std::move(initial)) {}

  Verdict run() {
    // Entries in invoke order, so that the placed set is a prefix plus a few bits (see key()).
    if (std::optional<Verdict> bad = read_entries<A>(h_, o_, entries_)) return *bad;
    if (entries_.size() >= (std::size_t{1} << 30))
      return Verdict::unknown("", fmt::format("linearizability search: {} ops is over its limit", entries_.size()));
    build_events();
    if constexpr (requires { A::ranks(h_, entries_, rank_); }) A::ranks(h_, entries_, rank_);
    if constexpr (requires { A::chain(h_, entries_, chain_); }) A::chain(h_, entries_, chain_);
    return search();
  }

 private:
  // The events: 2k is entry k's call, 2k + 1 its return; a node of the doubly linked event
  // list is just its links (32 bits: an event list of 10^7 ops fits in 160 MB).
  using Ev = std::uint32_t;
  struct Links {
    Ev prev = 0, next = 0;
  };
  static bool is_call(Ev e) { return e % 2 == 0; }
  static std::size_t entry_of(Ev e) { return e / 2; }
  // Each frame of the search's stack: the call placed, which of its next states was taken, the
  // state before it.
  struct Frame {
    Ev call_event;
    std::uint32_t candidate;  // its position among the configuration's candidates
    std::uint32_t alternative;
    State before;
  };

  // Events sorted by time; at equal times calls come first, so ops that touch overlap (an op
  // "definitely happened before t" only when it returned strictly before t). The calls are in
  // order already (entries are); the returns are sorted and merged in.
  void build_events() {
    const std::size_t n = entries_.size();
    std::vector<std::pair<std::int64_t, Ev>> returns(n);
    for (std::size_t k = 0; k < n; ++k) returns[k] = {h_.ops[entries_[k].index].return_ns, static_cast<Ev>(2 * k + 1)};
    if (!std::is_sorted(returns.begin(), returns.end())) std::sort(returns.begin(), returns.end());
    links_.assign(2 * n + 2, Links{});
    head_ = static_cast<Ev>(2 * n);
    end_ = head_ + 1;
    Ev prev = head_;
    auto append = [&](Ev e) {
      links_[prev].next = e;
      links_[e].prev = prev;
      prev = e;
    };
    std::size_t r = 0;
    for (std::size_t k = 0; k < n; ++k) {
      const std::int64_t t = h_.ops[entries_[k].index].invoke_ns;
      for (; r < n && returns[r].first < t; ++r) append(returns[r].second);
      append(static_cast<Ev>(2 * k));
    }
    for (; r < n; ++r) append(returns[r].second);
    links_[prev].next = end_;
    links_[end_].prev = prev;
  }

  void lift(Ev call) {
    for (Ev e : {call, call + 1}) {
      links_[links_[e].prev].next = links_[e].next;
      links_[links_[e].next].prev = links_[e].prev;
    }
  }
  // Undoes lift(call): the return first, then the call (reverse order of removal).
  void unlift(Ev call) {
    for (Ev e : {call + 1, call}) {
      links_[links_[e].prev].next = e;
      links_[links_[e].next].prev = e;
    }
  }

  // The memo key: the state and which ops are placed. Entries are in invoke order and ops are
  // placed roughly in time order, so the placed set is "every entry below low_" plus a few
  // bits above it: the key holds low_ and the words up to high_'s, not the whole bitset (which
  // made the search quadratic in the history's length).
  const std::vector<std::uint64_t>& key(const State& s) {
    std::vector<std::uint64_t>& k = key_;
    k.assign({low_, 0});
    if (high_ != npos && high_ >= low_) {
      for (std::size_t w = low_ / 64; w <= high_ / 64; ++w) k.push_back(placed_[w]);
      k[1] = high_ / 64 - low_ / 64 + 1;  // how many words follow, so keys never run together
    }
    A::encode(s, k);
    return k;
  }
  bool placed(std::size_t entry) const { return (placed_[entry / 64] >> (entry % 64)) & 1u; }
  // Whether the chain lets `entry` be placed now.
  bool ready(std::size_t entry) const { return chain_.needs.empty() || chain_.needs[entry] <= chain_low_; }
  void set_placed(std::size_t entry, bool on) {
    if (!chain_.position.empty()) {
      if (const std::uint32_t c = chain_.position[entry]; c != Chain::kNone) {
        chain_placed_[c] = on;
        if (on)
          while (chain_low_ < chain_placed_.size() && chain_placed_[chain_low_]) ++chain_low_;
        else
          chain_low_ = std::min<std::size_t>(chain_low_, c);
      }
    }
    const std::uint64_t bit = std::uint64_t{1} << (entry % 64);
    if (on) {
      placed_[entry / 64] |= bit;
      while (low_ < entries_.size() && placed(low_)) ++low_;
      if (high_ == npos || entry > high_) high_ = entry;
    } else {
      placed_[entry / 64] &= ~bit;
      low_ = std::min(low_, entry);
      if (entry == high_) {
        high_ = npos;
        for (std::size_t e = entry; e-- > 0;)
          if (placed(e)) {
            high_ = e;
            break;
          }
      }
    }
  }

  // The calls that may be placed next (every call before the first return event), in the
  // order to try them: by the adapter's rank when it has one (a guess at the order the ops
  // took effect: a good guess makes the search go back less, any order is exact), else in
  // invoke order. Returns that first return event.
  Ev candidates(std::vector<Ev>& out) const {
    out.clear();
    Ev e = links_[head_].next;
    for (; is_call(e); e = links_[e].next) out.push_back(e);
    if (!rank_.empty())
      std::stable_sort(out.begin(), out.end(),
                       [this](Ev a, Ev b) { return rank_[entry_of(a)] < rank_[entry_of(b)]; });
    return e;
  }

  // The ops that could come next at `stuck` (a return event): every call before it.
  std::vector<std::size_t> frontier(Ev stuck) const {
    std::vector<std::size_t> w;
    for (Ev e = links_[head_].next; e != stuck; e = links_[e].next)
      if (is_call(e)) w.push_back(entries_[entry_of(e)].index);
    w.push_back(entries_[entry_of(stuck)].index);
    return w;
  }

  // The memo holds the configurations (state, placed set) the search left for good: every
  // way on from them failed. One on the stack needs no entry: the search only goes deeper
  // from the stack's top, and a deeper configuration has more ops placed. So a search that
  // never goes back never touches the memo (a legal history costs one small step per op).
  Verdict search() {
    placed_.assign((entries_.size() + 63) / 64, 0);
    for (std::size_t k = 0; k < chain_.position.size(); ++k)
      if (const std::uint32_t c = chain_.position[k]; c != Chain::kNone) {
        if (c >= chain_entry_.size()) chain_entry_.resize(c + 1);
        chain_entry_[c] = k;
      }
    chain_placed_.assign(chain_entry_.size(), false);
    Fingerprints failed;
    std::vector<Frame> stack;
    stack.reserve(entries_.size());  // at most one frame per op
    State state = initial_;
    std::vector<State> alts;
    std::uint64_t states = 0;
    // The best failed attempt: the deepest stack at which the search had to go back. Only what
    // it met is kept here; its window and message are built once, at the end (the producers
    // of what the object held are a scan of every op).
    std::optional<Best> best;

    // Where the search resumes at the current configuration: the candidate, and its
    // alternative (both 0 on arriving; the next ones after going back).
    std::size_t start_cand = 0, start_alt = 0;
    // Leaves the configuration for good (into the memo), undoes the last placement and resumes
    // with its next alternative; false when there is nothing left to undo.
    auto back = [&]() -> bool {
      if (stack.empty()) return false;
      failed.insert(key(state));
      Frame f = std::move(stack.back());
      stack.pop_back();
      state = std::move(f.before);
      set_placed(entry_of(f.call_event), false);
      unlift(f.call_event);
      start_cand = f.candidate;
      start_alt = f.alternative + 1;
      return true;
    };

    std::vector<Ev> cands;
    for (;;) {
      if (links_[head_].next == end_) {
        // Every op placed.
        const std::vector<spec::Value> left = o_.drained ? A::leftover(state) : std::vector<spec::Value>{};
        if (left.empty())
          return Verdict::ok(fmt::format("linearizable: {} ops, {} states searched", entries_.size(), states));
        if (!best || stack.size() >= best->depth) best = Best{stack.size(), state, {}, npos, npos};
        if (!back()) break;
        continue;
      }
      const Ev stuck = candidates(cands);
      bool placed = false;
      for (std::size_t c = start_cand; c < cands.size() && !placed; ++c, start_alt = 0) {
        const Ev call = cands[c];
        const std::size_t k_entry = entry_of(call);
        if (!ready(k_entry)) continue;
        const Entry<A>& e = entries_[k_entry];
        alternatives<A>(state, e, alts);
        for (std::size_t k = start_alt; k < alts.size(); ++k) {
          set_placed(k_entry, true);
          if (failed.empty() || !failed.contains(key(alts[k]))) {
            if (++states > o_.max_states)
              return Verdict::unknown(A::clause(h_.ops[e.index], o_),
                                      fmt::format("linearizability search over its budget of {} states ({} ops)",
                                                  o_.max_states, entries_.size()));
            stack.push_back(Frame{call, static_cast<std::uint32_t>(c), static_cast<std::uint32_t>(k), state});
            state = std::move(alts[k]);
            lift(call);
            placed = true;
            break;
          }
          set_placed(k_entry, false);
        }
      }
      start_cand = start_alt = 0;
      if (placed) continue;
      // No candidate fits: the first op to return cannot be placed before it returns. Go back.
      if (!best || stack.size() > best->depth) {
        const std::size_t k = entry_of(stuck);  // the chain may have held it back: say behind what
        best = Best{stack.size(), state, frontier(stuck), k, ready(k) ? npos : chain_entry_[chain_low_]};
      }
      if (!back()) break;
    }
    return best_failure(*best, states);
  }

  // What the deepest failed attempt met: the op that could not be placed (npos: every op was,
  // but a drained object was left holding values) and the object's state then.
  struct Best {
    std::size_t depth;
    State state;
    std::vector<std::size_t> frontier;  // the ops that could have come next (stuck op last)
    std::size_t stuck;                  // the entry that could not be placed, or npos
    std::size_t after;                  // the entry the chain makes it wait for, or npos
  };

  Verdict best_failure(const Best& b, std::uint64_t states) const {
    std::vector<spec::Value> held = A::leftover(b.state);
    const auto verdict = [&](std::string clause, std::vector<std::size_t> window, const std::string& what) {
      return Verdict::illegal(std::move(clause), std::move(window),
                              fmt::format("not linearizable ({} states searched): best attempt: {}", states, what));
    };
    if (b.stuck == npos)
      return verdict(std::string(A::drained_clause(o_)), producers_of(held),
                     fmt::format("every op placed, but {} value(s) left in a drained object", held.size()));
    // And what the object held then (a queue's first items): what the stuck op met.
    held.resize(std::min<std::size_t>(held.size(), 4));
    std::vector<std::size_t> window = b.frontier;
    for (std::size_t i : producers_of(held)) window.push_back(i);
    if (b.after != npos)
      for (std::size_t i : {entries_[b.after].index, chain_.proof[b.after], chain_.proof[b.stuck]})
        if (i != npos) window.push_back(i);
    const std::size_t stuck = entries_[b.stuck].index;
    return verdict(A::clause(h_.ops[stuck], o_), std::move(window),
                   fmt::format("after {} op(s) placed, {} cannot be placed before it returns{}", b.depth,
                               short_name(h_, stuck), chain_note(b.after)));
  }

  // Why the chain held the stuck entry back behind entry `after`, for the message ("" when it
  // did not).
  std::string chain_note(std::size_t after) const {
    if constexpr (requires { A::chain_reason; })
      if (after != npos)
        return fmt::format(" (it must follow {}: {})", short_name(h_, entries_[after].index), A::chain_reason);
    return {};
  }

  // The ok or info ops that produced these values (the ops to blame for a failed drain).
  std::vector<std::size_t> producers_of(const std::vector<spec::Value>& values) const {
    std::vector<std::size_t> w;
    for (const spec::Value& v : values)
      for (const Entry<A>& e : entries_) {
        const Op& op = h_.ops[e.index];
        if (!op.failed() && A::produced(op, v)) w.push_back(e.index);
      }
    return w;
  }

  const History& h_;
  const LinearizabilityOptions& o_;
  State initial_;
  std::vector<Entry<A>> entries_;
  std::vector<Links> links_;  // by event
  std::vector<std::int64_t> rank_;  // by entry: the adapter's guess at its order (empty: none)
  Chain chain_;                     // the adapter's proved order (empty: none)
  std::vector<bool> chain_placed_;  // by chain position
  std::vector<std::size_t> chain_entry_;  // by chain position: the entry
  std::size_t chain_low_ = 0;       // the chain's first entries placed
  Ev head_ = 0, end_ = 0;
  std::vector<std::uint64_t> placed_;  // bitset over entries_
  std::size_t low_ = 0;                 // the lowest entry not placed (entries_.size(): none)
  std::size_t high_ = npos;             // the highest entry placed (npos: none)
  std::vector<std::uint64_t> key_;      // key()'s buffer
};

}  // namespace mpconform::detail


namespace mpconform::detail {

// Sequential consistency: is there a total order that keeps each process's own order (invoke
// order within the process) but ignores real time across processes, accepted by the model?
// A depth-first search over (per-process positions, state) with the same memo and budget.
// Used to classify a history that is not linearizable (linearizability.hpp, classify()).
template <class A>
class SequentialSearch {
 public:
  using State = typename A::State;

  SequentialSearch(const History& h, const LinearizabilityOptions& o, State initial)
      : h_(h), o_(o), initial_(std::move(initial)) {}

  Verdict run() {
    if (std::optional<Verdict> bad = read_entries<A>(h_, o_, entries_)) return *bad;
    std::vector<std::uint32_t> processes;
    for (const Entry<A>& e : entries_) processes.push_back(h_.ops[e.index].process);
    std::sort(processes.begin(), processes.end());
    processes.erase(std::unique(processes.begin(), processes.end()), processes.end());
    lanes_.resize(processes.size());
    for (std::size_t k = 0; k < entries_.size(); ++k) {
      const auto p = std::lower_bound(processes.begin(), processes.end(), h_.ops[entries_[k].index].process);
      lanes_[static_cast<std::size_t>(p - processes.begin())].push_back(k);  // in invoke order, as entries_
    }
    std::vector<std::size_t> pos(lanes_.size(), 0);
    std::uint64_t states = 0;
    Fingerprints seen;
    std::vector<std::uint64_t> key;
    std::vector<State> alts;
    // Iterative DFS: each frame is (positions, state); children are generated on the spot.
    struct Frame {
      std::vector<std::size_t> pos;
      State state;
    };
    std::vector<Frame> stack{Frame{pos, initial_}};
    while (!stack.empty()) {
      Frame f = std::move(stack.back());
      stack.pop_back();
      bool done = true;
      for (std::size_t l = 0; l < lanes_.size(); ++l) {
        if (f.pos[l] == lanes_[l].size()) continue;
        done = false;
        alternatives<A>(f.state, entries_[lanes_[l][f.pos[l]]], alts);
        for (State& s : alts) {
          Frame child{f.pos, std::move(s)};
          ++child.pos[l];
          key.assign(child.pos.begin(), child.pos.end());
          A::encode(child.state, key);
          if (!seen.insert(key)) continue;
          if (++states > o_.max_states)
            return Verdict::unknown("", fmt::format("sequential-consistency search over its budget of {} states",
                                                    o_.max_states));
          stack.push_back(std::move(child));
        }
      }
      if (done && (!o_.drained || A::leftover(f.state).empty()))
        return Verdict::ok(fmt::format("sequentially consistent: {} ops, {} states searched", entries_.size(), states));
    }
    return Verdict::illegal("", {}, fmt::format("not sequentially consistent ({} states searched)", states));
  }

 private:
  const History& h_;
  const LinearizabilityOptions& o_;
  State initial_;
  std::vector<Entry<A>> entries_;
  std::vector<std::vector<std::size_t>> lanes_;  // per process: its entries in invoke order
};

}  // namespace mpconform::detail
