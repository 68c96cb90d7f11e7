#pragma once
// The generic linearizability search (Wing & Gong 1993, with Lowe's 2017 memo; the event-list
// form of Porcupine), over any sequential model of spec/models. Private to harness/src.
//
// An adapter A tells the search how one model reads a history:
//   using State; using Call;
//   static bool reads(const Op&);           the op is a call on this kind of object
//   static std::optional<Call> to_call(const Op&, const LinearizabilityOptions&);
//                                           nullopt: the model has no such call (Unknown)
//   static Expected expected(const Op&);    what the history says the call did
//   static std::string clause(const Op&, const LinearizabilityOptions&);  hint on Illegal
//   static void encode(const State&, std::vector<std::uint64_t>& key);    memo key
//   static std::vector<spec::Value> leftover(const State&);  what a drained object still holds
//   static bool produced(const Op&, const spec::Value&);     the op put/sent that value
//   static std::string_view drained_clause(const LinearizabilityOptions&);
// and optionally, instead of the model's step():
//   static void alternatives(const State&, const Call&, const Expected&, std::vector<State>& out);
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
  /// Room for about `n` keys without growing (growing copies the table).
  void reserve(std::size_t n) {
    std::size_t slots = 1024;
    while (slots < 2 * n) slots *= 2;
    if (slots > slots_.size()) rehash(slots);
  }
  /// True when `key` was not seen before (and records it).
  bool insert(const std::vector<std::uint64_t>& key) {
    std::uint64_t a = 0x243f6a8885a308d3ull, b = 0x13198a2e03707344ull;
    for (std::uint64_t x : key) {
      a = mix64(a ^ x);
      b = mix64(b + x + 0x9e3779b97f4a7c15ull);
    }
    if (b == 0) b = 1;  // 0 marks a free slot
    if ((size_ + 1) * 2 > slots_.size()) grow();
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = static_cast<std::size_t>(a) & mask;; i = (i + 1) & mask) {
      if (slots_[i].b == 0) {
        slots_[i] = {a, b};
        ++size_;
        return true;
      }
      if (slots_[i].a == a && slots_[i].b == b) return false;
    }
  }

 private:
  struct Slot {
    std::uint64_t a = 0, b = 0;
  };
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

// One op of the object, as a model call with what it must do.
template <class A>
struct Entry {
  std::size_t index;  // into History::ops
  typename A::Call call;
  Expected expect;
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

// The object's ops as entries, or the Unknown verdict for an op the model does not have.
template <class A>
std::optional<Verdict> read_entries(const History& h, const LinearizabilityOptions& o, std::vector<Entry<A>>& out) {
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.object != o.object || !A::reads(op)) continue;
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
    if (std::optional<Verdict> bad = read_entries<A>(h_, o_, entries_)) return *bad;
    // Invoke order, so that the placed set is a prefix plus a few bits (see key()); sorted as
    // (time, position) pairs, then moved once.
    std::vector<std::pair<std::int64_t, std::size_t>> order(entries_.size());
    for (std::size_t k = 0; k < entries_.size(); ++k) order[k] = {h_.ops[entries_[k].index].invoke_ns, k};
    std::sort(order.begin(), order.end());
    std::vector<Entry<A>> sorted;
    sorted.reserve(entries_.size());
    for (const auto& [t, k] : order) sorted.push_back(std::move(entries_[k]));
    entries_ = std::move(sorted);
    build_events();
    return search();
  }

 private:
  // One node of the doubly linked event list: the call or the return of entry `entry`.
  struct Event {
    std::size_t entry;
    bool is_call;
    std::size_t match;  // the other event of the same entry
    std::size_t prev, next;
  };
  struct Frame {
    std::size_t call_event;
    std::size_t alternative;  // which of the entry's next states was taken
    State before;
  };

  // Events sorted by time; at equal times calls come first, so ops that touch overlap (an op
  // "definitely happened before t" only when it returned strictly before t).
  void build_events() {
    const std::size_t n = entries_.size();
    std::vector<std::pair<std::pair<std::int64_t, int>, std::size_t>> order;  // ((t, ret?), event)
    events_.resize(2 * n + 2);
    for (std::size_t k = 0; k < n; ++k) {
      const Op& op = h_.ops[entries_[k].index];
      events_[2 * k] = Event{k, true, 2 * k + 1, 0, 0};
      events_[2 * k + 1] = Event{k, false, 2 * k, 0, 0};
      order.push_back({{op.invoke_ns, 0}, 2 * k});
      order.push_back({{op.return_ns, 1}, 2 * k + 1});
    }
    std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    head_ = 2 * n;
    end_ = 2 * n + 1;
    std::size_t prev = head_;
    for (const auto& [key, ev] : order) {
      events_[prev].next = ev;
      events_[ev].prev = prev;
      prev = ev;
    }
    events_[prev].next = end_;
    events_[end_].prev = prev;
  }

  void lift(std::size_t call) {
    for (std::size_t e : {call, events_[call].match}) {
      events_[events_[e].prev].next = events_[e].next;
      events_[events_[e].next].prev = events_[e].prev;
    }
  }
  // Undoes lift(call): the return first, then the call (reverse order of removal).
  void unlift(std::size_t call) {
    for (std::size_t e : {events_[call].match, call}) {
      events_[events_[e].prev].next = e;
      events_[events_[e].next].prev = e;
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
  void set_placed(std::size_t entry, bool on) {
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

  // The ops that could come next at `stuck` (a return event): every call before it.
  std::vector<std::size_t> frontier(std::size_t stuck) const {
    std::vector<std::size_t> w;
    for (std::size_t e = events_[head_].next; e != stuck; e = events_[e].next)
      if (events_[e].is_call) w.push_back(entries_[events_[e].entry].index);
    w.push_back(entries_[events_[stuck].entry].index);
    return w;
  }

  Verdict search() {
    placed_.assign((entries_.size() + 63) / 64, 0);
    Fingerprints seen;
    seen.reserve(entries_.size());  // a legal history needs about one state per op
    std::vector<Frame> stack;
    State state = initial_;
    std::vector<State> alts;
    std::uint64_t states = 0;
    // The best failed attempt: the deepest stack at which the search had to go back. Only what
    // it met is kept here; its window and message are built once, at the end (the producers
    // of what the object held are a scan of every op).
    std::optional<Best> best;

    std::size_t entry = events_[head_].next;
    std::size_t start_alt = 0;
    // Undoes the last placement and resumes with its next alternative; false when there is
    // nothing left to undo.
    auto back = [&]() -> bool {
      if (stack.empty()) return false;
      Frame f = std::move(stack.back());
      stack.pop_back();
      state = std::move(f.before);
      set_placed(events_[f.call_event].entry, false);
      unlift(f.call_event);
      entry = f.call_event;
      start_alt = f.alternative + 1;
      return true;
    };

    for (;;) {
      if (events_[head_].next == end_) {
        // Every op placed.
        const std::vector<spec::Value> left = o_.drained ? A::leftover(state) : std::vector<spec::Value>{};
        if (left.empty())
          return Verdict::ok(fmt::format("linearizable: {} ops, {} states searched", entries_.size(), states));
        if (!best || stack.size() >= best->depth) best = Best{stack.size(), state, {}, npos};
        if (!back()) break;
        continue;
      }
      const Event& ev = events_[entry];
      if (ev.is_call) {
        const Entry<A>& e = entries_[ev.entry];
        alternatives<A>(state, e, alts);
        bool placed = false;
        for (std::size_t k = start_alt; k < alts.size(); ++k) {
          set_placed(ev.entry, true);
          if (seen.insert(key(alts[k]))) {
            if (++states > o_.max_states)
              return Verdict::unknown(A::clause(h_.ops[e.index], o_),
                                      fmt::format("linearizability search over its budget of {} states ({} ops)",
                                                  o_.max_states, entries_.size()));
            stack.push_back(Frame{entry, k, state});
            state = std::move(alts[k]);
            lift(entry);
            entry = events_[head_].next;
            placed = true;
            break;
          }
          set_placed(ev.entry, false);
        }
        start_alt = 0;
        if (!placed) entry = ev.next;
      } else {
        // An op returned before it could be placed: go back.
        if (!best || stack.size() > best->depth)
          best = Best{stack.size(), state, frontier(entry), entries_[ev.entry].index};
        if (!back()) break;
      }
    }
    return best_failure(*best, states);
  }

  // What the deepest failed attempt met: the op that could not be placed (npos: every op was,
  // but a drained object was left holding values) and the object's state then.
  struct Best {
    std::size_t depth;
    State state;
    std::vector<std::size_t> frontier;  // the ops that could have come next (stuck op last)
    std::size_t stuck;                  // index into History::ops, or npos
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
    return verdict(A::clause(h_.ops[b.stuck], o_), std::move(window),
                   fmt::format("after {} op(s) placed, {} cannot be placed before it returns", b.depth,
                               short_name(h_, b.stuck)));
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
  std::vector<Event> events_;
  std::size_t head_ = 0, end_ = 0;
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
      lanes_[static_cast<std::size_t>(p - processes.begin())].push_back(k);
    }
    for (auto& lane : lanes_)
      std::stable_sort(lane.begin(), lane.end(), [this](std::size_t a, std::size_t b) {
        return h_.ops[entries_[a].index].invoke_ns < h_.ops[entries_[b].index].invoke_ns;
      });
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
