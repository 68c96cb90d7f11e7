#include "mpconform/linearizability.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_set>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "checker_support.hpp"
#include "mpconform/spec/joinable_queue.hpp"
#include "mpconform/spec/queue.hpp"
#include "mpconform/spec/simple_queue.hpp"

namespace mpconform {

namespace {

using detail::npos;

// ---------------------------------------------------------------------------------------------
// From history ops to model calls

// What the history says about one op, in the model's terms.
enum class Seen : std::uint8_t {
  returned,  // ok: the model must return `value`
  raised,    // fail with a modelled error: the model must raise `error_type`
  nothing,   // fail with an error the models do not raise: no effect, no constraint
  unknown,   // info: no effect, or any non-blocking result
};

// The Python class of a recorded error, as the models spell it; empty when no model raises it
// from a queue call (the op then constrains nothing).
std::string python_type(ErrorKind e) {
  switch (e) {
    case ErrorKind::Empty: return "queue.Empty";
    case ErrorKind::Full: return "queue.Full";
    case ErrorKind::ValueError: return "ValueError";
    case ErrorKind::OSError: return "OSError";
    case ErrorKind::AssertionError: return "AssertionError";
    default: return {};
  }
}

// Python's (block, timeout) from Op::timeout_ns (kNoTimeout, 0 for "do not wait", or ns).
std::pair<bool, std::optional<double>> block_timeout(std::int64_t timeout_ns) {
  if (timeout_ns == kNoTimeout) return {true, std::nullopt};
  if (timeout_ns <= 0) return {false, std::nullopt};
  return {true, static_cast<double>(timeout_ns) / 1e9};
}

spec::Value item_of(std::uint64_t tag) { return spec::Value::integer(static_cast<spec::PyInt>(tag)); }

// The adapters: one per model, saying how an Op becomes a model call and how a state is
// written into a memo key.
struct QueueAdapter {
  using State = spec::QueueState;
  using Call = spec::QueueOp;

  static std::optional<Call> to_call(const Op& op, bool joinable) {
    const auto [block, timeout] = block_timeout(op.timeout_ns);
    switch (op.kind) {
      case OpKind::put: return Call::put(item_of(op.value), block, timeout);
      case OpKind::get: return Call::get(block, timeout);
      case OpKind::qsize: return Call::qsize();
      case OpKind::empty: return Call::empty();
      case OpKind::full: return Call::full();
      case OpKind::task_done: return joinable ? std::optional(Call::task_done()) : std::nullopt;
      case OpKind::join: return joinable ? std::optional(Call::join()) : std::nullopt;
      default: return std::nullopt;
    }
  }
  // The state minus what never changes in a search (capacity, races, kind, surface).
  static void encode(const State& s, std::vector<std::uint64_t>& key) {
    key.push_back(static_cast<std::uint64_t>(s.unfinished));
    key.push_back((s.closed ? 1u : 0u) | (s.feeder_started ? 2u : 0u));
    key.push_back(s.items.size());
    for (const spec::Value& v : s.items) key.push_back(static_cast<std::uint64_t>(v.as_int()));
  }
  static const std::deque<spec::Value>& items(const State& s) { return s.items; }
};

struct SimpleQueueAdapter {
  using State = spec::SimpleQueueState;
  using Call = spec::SimpleQueueOp;

  // SimpleQueue has no timeouts: every get is get().
  static std::optional<Call> to_call(const Op& op, bool /*joinable*/) {
    switch (op.kind) {
      case OpKind::put: return Call::put(item_of(op.value));
      case OpKind::get: return Call::get();
      case OpKind::empty: return Call::empty();
      default: return std::nullopt;
    }
  }
  static void encode(const State& s, std::vector<std::uint64_t>& key) {
    key.push_back(s.closed ? 1u : 0u);
    key.push_back(s.items.size());
    for (const spec::Value& v : s.items) key.push_back(static_cast<std::uint64_t>(v.as_int()));
  }
  static const std::deque<spec::Value>& items(const State& s) { return s.items; }
};

bool is_queue_op(OpKind k) {
  switch (k) {
    case OpKind::put:
    case OpKind::get:
    case OpKind::qsize:
    case OpKind::empty:
    case OpKind::full:
    case OpKind::task_done:
    case OpKind::join: return true;
    default: return false;
  }
}

// The clause hint for the op at which the best attempt got stuck (see the header).
std::string clause_hint(const Op& op, const LinearizabilityOptions& o) {
  const bool simple = o.kind == LinearizableKind::simple_queue;
  const bool bounded = !simple && o.maxsize > 0;
  switch (op.kind) {
    case OpKind::put:
      if (op.failed() && op.error == ErrorKind::Full) return bounded ? "Q-PUT-1" : "Q-MAX-1";
      return simple ? "SQ-10" : "Q-ORDER-2";
    case OpKind::get:
      if (op.failed() && op.error == ErrorKind::Empty) return op.timeout_ns == kNoTimeout ? "Q-GET-1" : "Q-SIZE-9";
      return simple ? "SQ-10" : "Q-ORDER-2";
    case OpKind::qsize:
      return bounded && static_cast<std::int64_t>(op.value) > o.maxsize ? "Q-MAX-3" : "Q-SIZE-2";
    case OpKind::empty: return simple ? "SQ-8" : (op.value != 0 ? "Q-SIZE-7" : "Q-SIZE-6");
    case OpKind::full: return op.value != 0 && !bounded ? "Q-MAX-1" : "Q-SIZE-3";
    case OpKind::task_done: return op.failed() ? "JQ-11" : "JQ-2";
    case OpKind::join: return "JQ-9";
    default: return "Q-ORDER-2";
  }
}

struct KeyHash {
  std::size_t operator()(const std::vector<std::uint64_t>& key) const noexcept {
    std::uint64_t h = 0xcbf29ce484222325ull;
    for (std::uint64_t x : key) {
      x *= 0x9e3779b97f4a7c15ull;
      h ^= x ^ (x >> 29);
      h *= 0x100000001b3ull;
    }
    return static_cast<std::size_t>(h);
  }
};

// ---------------------------------------------------------------------------------------------
// The search (Wing & Gong 1993, with Lowe's 2017 memo; the event-list form of Porcupine)

template <class A>
class Search {
 public:
  using State = typename A::State;
  using Call = typename A::Call;

  Search(const History& h, const LinearizabilityOptions& o, State initial)
      : h_(h), o_(o), initial_(std::move(initial)) {}

  Verdict run() {
    // The object's ops, as model calls.
    for (std::size_t i = 0; i < h_.ops.size(); ++i) {
      const Op& op = h_.ops[i];
      if (op.object != o_.object || !is_queue_op(op.kind)) continue;
      std::optional<Call> call = A::to_call(op, o_.kind == LinearizableKind::joinable_queue);
      if (!call)
        return Verdict::unknown("Q-API-1", fmt::format("{}: the {} model has no such call",
                                                       detail::short_name(h_, i), to_string(o_.kind)));
      Entry e{i, std::move(*call), Seen::unknown, {}, {}};
      if (op.ok()) {
        e.seen = Seen::returned;
        e.value = observed_value(op);
      } else if (op.failed()) {
        e.error_type = python_type(op.error);
        e.seen = e.error_type.empty() ? Seen::nothing : Seen::raised;
      }
      entries_.push_back(std::move(e));
    }
    build_events();
    return search();
  }

 private:
  struct Entry {
    std::size_t index;  // into History::ops
    Call call;
    Seen seen;
    spec::Value value;       // Seen::returned
    std::string error_type;  // Seen::raised
  };
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

  spec::Value observed_value(const Op& op) const {
    switch (op.kind) {
      case OpKind::get: return item_of(op.value);
      case OpKind::qsize: return spec::Value::integer(static_cast<std::int64_t>(op.value));
      case OpKind::empty:
      case OpKind::full: return spec::Value::boolean(op.value != 0);
      default: return spec::Value::none();
    }
  }

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
    std::stable_sort(order.begin(), order.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
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

  // The states `e` may leave when linearized in `s`, in a fixed order.
  void alternatives(const State& s, const Entry& e, std::vector<State>& out) const {
    out.clear();
    const spec::Outcome<State> outcome = spec::step(s, e.call);
    auto add = [&](const State& next) {
      if (std::find(out.begin(), out.end(), next) == out.end()) out.push_back(next);
    };
    switch (e.seen) {
      case Seen::returned:
        for (const auto& a : outcome.allowed())
          if (a.result.returned() && a.result.value == e.value) add(a.next);
        break;
      case Seen::raised:
        for (const auto& a : outcome.allowed())
          if (a.result.raised() && a.result.error.type == e.error_type) add(a.next);
        break;
      case Seen::nothing: add(s); break;
      case Seen::unknown:
        for (const auto& a : outcome.allowed())
          if (!a.result.is_blocks()) add(a.next);
        add(s);  // never took effect
        break;
    }
  }

  std::vector<std::uint64_t> key(const State& s) const {
    std::vector<std::uint64_t> k = placed_;
    A::encode(s, k);
    return k;
  }
  void set_placed(std::size_t entry, bool on) {
    const std::uint64_t bit = std::uint64_t{1} << (entry % 64);
    if (on)
      placed_[entry / 64] |= bit;
    else
      placed_[entry / 64] &= ~bit;
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
    std::unordered_set<std::vector<std::uint64_t>, KeyHash> seen;
    std::vector<Frame> stack;
    State state = initial_;
    std::vector<State> alts;
    std::uint64_t states = 0;
    // The best failed attempt: the deepest stack at which the search had to go back.
    std::size_t best_depth = 0;
    bool have_best = false;
    std::vector<std::size_t> best_window;
    std::string best_clause, best_what;

    // Records a dead end at depth stack.size() (if deepest so far) and undoes the last
    // placement; false when there is nothing left to undo. `resume` is where to go on.
    std::size_t entry = events_[head_].next;
    std::size_t start_alt = 0;
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
        if (!o_.drained || A::items(state).empty())
          return Verdict::ok(fmt::format("linearizable: {} ops, {} states searched", entries_.size(), states));
        if (!have_best || stack.size() >= best_depth) {
          have_best = true;
          best_depth = stack.size();
          best_window = puts_of(A::items(state));
          best_clause = o_.kind == LinearizableKind::simple_queue ? "SQ-10" : "Q-ORDER-2";
          best_what = fmt::format("every op placed, but {} item(s) left in a drained queue", A::items(state).size());
        }
        if (!back()) break;
        continue;
      }
      const Event& ev = events_[entry];
      if (ev.is_call) {
        const Entry& e = entries_[ev.entry];
        alternatives(state, e, alts);
        bool placed = false;
        for (std::size_t k = start_alt; k < alts.size(); ++k) {
          set_placed(ev.entry, true);
          if (seen.insert(key(alts[k])).second) {
            if (++states > o_.max_states)
              return Verdict::unknown(
                  clause_hint(h_.ops[e.index], o_),
                  fmt::format("linearizability search over its budget of {} states ({} ops)", o_.max_states,
                              entries_.size()));
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
        if (!have_best || stack.size() > best_depth) {
          have_best = true;
          best_depth = stack.size();
          best_window = frontier(entry);
          const std::size_t stuck = entries_[ev.entry].index;
          best_clause = clause_hint(h_.ops[stuck], o_);
          best_what = fmt::format("after {} op(s) placed, {} cannot be placed before it returns",
                                  stack.size(), detail::short_name(h_, stuck));
        }
        if (!back()) break;
      }
    }
    return Verdict::illegal(best_clause, best_window,
                            fmt::format("not linearizable ({} states searched): best attempt: {}", states, best_what));
  }

  // The ok or info puts of these items (the ops to blame for a failed drain).
  std::vector<std::size_t> puts_of(const std::deque<spec::Value>& items) const {
    std::vector<std::size_t> w;
    for (const spec::Value& v : items)
      for (const Entry& e : entries_) {
        const Op& op = h_.ops[e.index];
        if (op.kind == OpKind::put && !op.failed() && item_of(op.value) == v) w.push_back(e.index);
      }
    return w;
  }

  const History& h_;
  const LinearizabilityOptions& o_;
  State initial_;
  std::vector<Entry> entries_;
  std::vector<Event> events_;
  std::size_t head_ = 0, end_ = 0;
  std::vector<std::uint64_t> placed_;  // bitset over entries_
};

}  // namespace

std::string_view to_string(LinearizableKind kind) noexcept {
  switch (kind) {
    case LinearizableKind::queue: return "queue";
    case LinearizableKind::joinable_queue: return "joinable_queue";
    case LinearizableKind::simple_queue: return "simple_queue";
  }
  return "?";
}

Verdict check_linearizable(const History& history, const LinearizabilityOptions& options) {
  if (history.dropped > 0) return detail::incomplete(history, "Q-ORDER-2");
  const spec::QueueRaces races{options.cpython_races, options.cpython_races};
  switch (options.kind) {
    case LinearizableKind::queue:
      return Search<QueueAdapter>(history, options, spec::QueueState::make(options.maxsize, races)).run();
    case LinearizableKind::joinable_queue:
      return Search<QueueAdapter>(history, options, spec::make_joinable_queue(options.maxsize, races)).run();
    case LinearizableKind::simple_queue:
      return Search<SimpleQueueAdapter>(history, options, spec::SimpleQueueState::make()).run();
  }
  return Verdict::unknown("Q-ORDER-2", "unknown model kind");
}

}  // namespace mpconform
