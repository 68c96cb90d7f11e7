#include "mpconform/linearizability.hpp"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "checker_support.hpp"
#include "detail/lin_search.hpp"
#include "detail/lin_sync.hpp"
#include "mpconform/spec/joinable_queue.hpp"
#include "mpconform/spec/queue.hpp"
#include "mpconform/spec/limits.hpp"

namespace mpconform {

namespace {

using detail::Expected;

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

// What an ok queue op returned, as the models return it.
spec::Value queue_result(const Op& op) {
  switch (op.kind) {
    case OpKind::get: return detail::item_of(op.value);
    case OpKind::qsize: return spec::Value::integer(static_cast<std::int64_t>(op.value));
    case OpKind::empty:
    case OpKind::full: return spec::Value::boolean(op.value != 0);
    default: return spec::Value::none();
  }
}

// The clause hint for the op at which the best attempt got stuck (see the header).
std::string queue_clause(const Op& op, const LinearizabilityOptions& o) {
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
    case OpKind::empty: return op.value != 0 ? "Q-SIZE-7" : "Q-SIZE-6";  // as check_queue names it
    case OpKind::full: return op.value != 0 && !bounded ? "Q-MAX-1" : "Q-SIZE-3";
    case OpKind::task_done: return op.failed() ? "JQ-11" : "JQ-2";
    case OpKind::join: return "JQ-9";
    default: return simple ? "SQ-10" : "Q-API-1";
  }
}

// What both queue adapters share: the op kinds, results, clauses and items.
struct QueueCommon {
  static bool reads(const Op& op) { return is_queue_op(op.kind); }
  static Expected expected(const Op& op) { return detail::expected_from(op, queue_result(op)); }
  static std::string clause(const Op& op, const LinearizabilityOptions& o) { return queue_clause(op, o); }
  static bool produced(const Op& op, const spec::Value& v) {
    return op.kind == OpKind::put && detail::item_of(op.value) == v;
  }
  static std::string_view drained_clause(const LinearizabilityOptions& o) {
    return o.kind == LinearizableKind::simple_queue ? "SQ-10" : "Q-ORDER-2";
  }
  // The search's guess at the order ops took effect: a put whose item was got when that get
  // was invoked (items leave a FIFO in the order they came in, so the gets order the puts),
  // one whose item never left after every other op, anything else when invoked.
  template <class E>
  static void ranks(const History& h, const std::vector<E>& entries, std::vector<std::int64_t>& out) {
    std::vector<std::pair<std::uint64_t, std::int64_t>> got;  // (item, its get's invoke), by item
    for (const E& e : entries)
      if (const Op& op = h.ops[e.index]; op.kind == OpKind::get && op.ok()) got.emplace_back(op.value, op.invoke_ns);
    std::sort(got.begin(), got.end());
    out.resize(entries.size());
    for (std::size_t k = 0; k < entries.size(); ++k) {
      const Op& op = h.ops[entries[k].index];
      out[k] = op.invoke_ns;
      if (op.kind != OpKind::put) continue;
      const auto g = std::lower_bound(got.begin(), got.end(), std::make_pair(op.value, std::int64_t{0}),
                                      [](const auto& a, const auto& b) { return a.first < b.first; });
      out[k] = g != got.end() && g->first == op.value ? g->second : kNever;
    }
  }
  static void encode_items(const std::deque<spec::Value>& items, std::vector<std::uint64_t>& key) {
    key.push_back(items.size());
    for (const spec::Value& v : items) key.push_back(static_cast<std::uint64_t>(v.as_int()));
  }
};

struct QueueAdapter : QueueCommon {
  using State = spec::QueueState;
  using Call = spec::QueueOp;

  static std::optional<Call> to_call(const Op& op, const LinearizabilityOptions& o) {
    const bool joinable = o.kind == LinearizableKind::joinable_queue;
    const bool simple = o.kind == LinearizableKind::simple_queue;
    const auto [block, timeout] = detail::block_timeout(op.timeout_ns);
    switch (op.kind) {
      case OpKind::put: return Call::put(detail::item_of(op.value), block, timeout);
      case OpKind::get: return Call::get(block, timeout);
      case OpKind::qsize: return simple ? std::nullopt : std::optional(Call::qsize());
      case OpKind::empty: return Call::empty();
      case OpKind::full: return simple ? std::nullopt : std::optional(Call::full());
      case OpKind::task_done: return joinable ? std::optional(Call::task_done()) : std::nullopt;
      case OpKind::join: return joinable ? std::optional(Call::join()) : std::nullopt;
      default: return std::nullopt;
    }
  }
  // The state minus what never changes in a search (capacity, races, kind, surface).
  static void encode(const State& s, std::vector<std::uint64_t>& key) {
    key.push_back(static_cast<std::uint64_t>(s.unfinished));
    key.push_back((s.closed ? 1u : 0u) | (s.feeder_started ? 2u : 0u));
    encode_items(s.items, key);
  }
  static std::vector<spec::Value> leftover(const State& s) { return {s.items.begin(), s.items.end()}; }
};

// The queue models' semantics without races on a native state: the items as tags in a
// vector (front first), the unfinished-task count, the capacity. Every call is the op itself.
// Same answers as QueueAdapter/SimpleQueueAdapter (checked by the differential tests).
struct NativeQueueAdapter : QueueCommon {
  // The items of the search's current path, in put order; a state is a window [head, tail) of
  // it, so a state is a few words and copying one (each search frame keeps one) costs nothing
  // whatever the queue's length. The search is depth first: a put writes at its state's tail,
  // above every state still on its stack. One search per thread at a time (make() resets it).
  static inline thread_local std::vector<std::uint64_t> path;
  struct State {
    std::uint64_t head = 0, tail = 0;
    std::int64_t unfinished = 0;
    // Two polynomial hashes of the items path[head, tail) (the memo key: 128 bits of the
    // content whatever its length; see detail::Fingerprints for what a collision would cost).
    std::uint64_t h1 = 0, h2 = 0;

    [[nodiscard]] std::int64_t size() const { return static_cast<std::int64_t>(tail - head); }
    void push(std::uint64_t v) {
      if (path.size() <= tail) path.resize(tail + 1);
      path[tail++] = v;
      h1 = h1 * kB1 + detail::mix64(v);
      h2 = h2 * kB2 + detail::mix64(v ^ kSalt);
    }
    std::uint64_t pop() {
      const std::uint64_t v = path[head];
      const std::uint64_t n = tail - head - 1;  // items behind it
      h1 -= detail::mix64(v) * power(kB1, n);
      h2 -= detail::mix64(v ^ kSalt) * power(kB2, n);
      ++head;
      return v;
    }
  };
  static constexpr std::uint64_t kB1 = 0x100000001b3ull, kB2 = 0x9e3779b97f4a7c15ull, kSalt = 0x5bd1e995ull;
  static std::uint64_t power(std::uint64_t b, std::uint64_t n) {
    std::uint64_t r = 1;
    for (; n != 0; n >>= 1, b *= b)
      if (n & 1) r *= b;
    return r;
  }
  // The object, constant during a search (set by make(), like `path`).
  static inline thread_local std::int64_t capacity = spec::kSemValueMax;
  static inline thread_local bool joinable = false;
  using Call = const Op*;  // the op itself (the history outlives the search)

  // What the op must do: the result and the error are read from the op itself, so an entry
  // is three words.
  static detail::Seen expected(const Op& op) { return detail::expected_from(op, spec::Value::none()).seen; }

  static State make(const LinearizabilityOptions& o) {
    path.clear();
    joinable = o.kind == LinearizableKind::joinable_queue;
    capacity = o.kind != LinearizableKind::simple_queue && o.maxsize > 0 ? o.maxsize : spec::kSemValueMax;
    return State{};
  }
  static std::optional<Call> to_call(const Op& op, const LinearizabilityOptions& o) {
    const bool simple = o.kind == LinearizableKind::simple_queue;
    const bool joinable = o.kind == LinearizableKind::joinable_queue;
    if ((op.kind == OpKind::qsize || op.kind == OpKind::full) && simple) return std::nullopt;
    if ((op.kind == OpKind::task_done || op.kind == OpKind::join) && !joinable) return std::nullopt;
    return &op;
  }
  static void encode(const State& s, std::vector<std::uint64_t>& key) {
    key.insert(key.end(), {static_cast<std::uint64_t>(s.unfinished), static_cast<std::uint64_t>(s.size()), s.h1, s.h2});
  }
  static std::vector<spec::Value> leftover(const State& s) {
    std::vector<spec::Value> v;
    for (std::uint64_t i = s.head; i < s.tail; ++i) v.push_back(detail::item_of(path[i]));
    return v;
  }

  // What FIFO order proves (with no races: a native search has none). Items leave in the order
  // they came in, so when x's get returned before y's get was invoked, x's put took effect
  // before y's; and when no get could have taken an item unseen (no info get), an item never
  // got came in after every item got. Only items put once (ok or info) and got once count.
  static constexpr std::string_view chain_reason = "its item was got first, and a queue is FIFO";
  template <class E>
  static void chain(const History& h, const std::vector<E>& entries, detail::Chain& out) {
    std::vector<std::pair<std::uint64_t, std::size_t>> puts, gets;  // (item, entry), by item
    bool info_get = false;
    for (std::size_t k = 0; k < entries.size(); ++k) {
      const Op& op = h.ops[entries[k].index];
      if (op.kind == OpKind::put && !op.failed()) puts.emplace_back(op.value, k);
      if (op.kind == OpKind::get && op.ok()) gets.emplace_back(op.value, k);
      info_get |= op.kind == OpKind::get && op.info();
    }
    std::sort(puts.begin(), puts.end());
    std::sort(gets.begin(), gets.end());
    const auto once = [](const auto& v, std::size_t i) {
      return (i == 0 || v[i - 1].first != v[i].first) && (i + 1 == v.size() || v[i + 1].first != v[i].first);
    };
    // The chain: each item put once and got once, by its get's return.
    struct Link {
      std::int64_t got_return, got_invoke;
      std::size_t put;  // the put's entry
      std::size_t get;  // the get's op (History index): what proves the put's place
    };
    std::vector<Link> links;
    for (std::size_t i = 0, j = 0; i < puts.size(); ++i) {
      if (!once(puts, i)) continue;
      while (j < gets.size() && gets[j].first < puts[i].first) ++j;
      if (j == gets.size() || gets[j].first != puts[i].first || !once(gets, j)) continue;
      const Op& g = h.ops[entries[gets[j].second].index];
      links.push_back({g.return_ns, g.invoke_ns, puts[i].second, entries[gets[j].second].index});
    }
    if (links.empty()) return;
    std::sort(links.begin(), links.end(),
              [](const Link& a, const Link& b) { return std::tie(a.got_return, a.put) < std::tie(b.got_return, b.put); });
    out.position.assign(entries.size(), detail::Chain::kNone);
    out.needs.assign(entries.size(), 0);
    out.proof.assign(entries.size(), detail::npos);
    std::vector<std::int64_t> returns;
    for (std::size_t c = 0; c < links.size(); ++c) {
      out.position[links[c].put] = static_cast<std::uint32_t>(c);
      out.proof[links[c].put] = links[c].get;
      returns.push_back(links[c].got_return);
    }
    for (const Link& l : links)  // the gets that returned before this one was invoked
      out.needs[l.put] = static_cast<std::uint32_t>(std::lower_bound(returns.begin(), returns.end(), l.got_invoke) -
                                                    returns.begin());
    if (info_get) return;
    for (std::size_t k = 0; k < entries.size(); ++k) {  // ok puts whose item no get returned
      const Op& op = h.ops[entries[k].index];
      if (op.kind == OpKind::put && op.ok() &&
          !std::binary_search(gets.begin(), gets.end(), std::make_pair(op.value, std::size_t{0}),
                              [](const auto& a, const auto& b) { return a.first < b.first; }))
        out.needs[k] = static_cast<std::uint32_t>(links.size());
    }
  }

  // What the call may do in `s`, as the models say (see spec/models/.../queue.hpp,
  // for a SimpleQueue too, as QueueAdapter reads it).
  enum class Does : std::uint8_t { returns, raises, blocks };
  static void alternatives(const State& s, const Op* call, detail::Seen seen, std::vector<State>& out) {
    const Op& op = *call;
    const std::int64_t size = s.size();
    const bool waits = op.timeout_ns == kNoTimeout;
    Does does = Does::returns;
    std::uint64_t result = 0;  // get: the tag; qsize: the size; empty/full: 1 or 0
    std::string_view error;    // the Python type raised
    bool changes = false;      // returning changes the state
    switch (op.kind) {
      case OpKind::put:
        if (size < capacity) changes = true;
        else if (waits) does = Does::blocks;
        else does = Does::raises, error = "queue.Full";
        break;
      case OpKind::get:
        if (size > 0) changes = true, result = path[s.head];
        else if (waits) does = Does::blocks;
        else does = Does::raises, error = "queue.Empty";
        break;
      case OpKind::qsize: result = static_cast<std::uint64_t>(size); break;
      case OpKind::empty: result = size == 0 ? 1 : 0; break;
      case OpKind::full: result = size >= capacity ? 1 : 0; break;
      case OpKind::task_done:
        if (s.unfinished == 0) does = Does::raises, error = "ValueError";
        else changes = true;
        break;
      case OpKind::join:
        if (s.unfinished != 0) does = Does::blocks;
        break;
      default: return;
    }
    // The state after returning, built only when an expectation takes it (the search tries
    // most ops in states where they do not fit).
    auto returned = [&] {
      State next = s;
      switch (op.kind) {
        case OpKind::put:
          next.push(op.value);
          if (joinable) ++next.unfinished;
          break;
        case OpKind::get: next.pop(); break;
        case OpKind::task_done: --next.unfinished; break;
        default: break;
      }
      return next;
    };
    const bool has_result = op.kind == OpKind::get || op.kind == OpKind::qsize || op.kind == OpKind::empty ||
                            op.kind == OpKind::full;
    switch (seen) {
      case detail::Seen::returned:
        if (does == Does::returns && (!has_result || result == op.value)) out.push_back(changes ? returned() : s);
        break;
      case detail::Seen::raised:
        if (does == Does::raises && detail::python_type(op.error) == error) out.push_back(s);
        break;
      case detail::Seen::nothing: out.push_back(s); break;
      case detail::Seen::unknown:
        if (does == Does::returns && changes) out.push_back(returned());
        out.push_back(s);
        break;
    }
  }
};

template <class A>
Verdict decide(const History& h, const LinearizabilityOptions& o, typename A::State initial) {
  if (!o.real_time) return detail::SequentialSearch<A>(h, o, std::move(initial)).run();
  if (o.method == LinearizabilityMethod::native && !o.cpython_races)
    return detail::Search<NativeQueueAdapter>(h, o, NativeQueueAdapter::make(o)).run();
  return detail::Search<A>(h, o, std::move(initial)).run();
}

}  // namespace

std::string_view to_string(LinearizableKind kind) noexcept {
  switch (kind) {
    case LinearizableKind::queue: return "queue";
    case LinearizableKind::joinable_queue: return "joinable_queue";
    case LinearizableKind::simple_queue: return "simple_queue";
    case LinearizableKind::lock: return "lock";
    case LinearizableKind::rlock: return "rlock";
    case LinearizableKind::pipe: return "pipe";
  }
  return "?";
}

Verdict check_linearizable(const History& history, const LinearizabilityOptions& options) {
  if (history.dropped > 0) return detail::incomplete(history, "Q-ORDER-2");
  const spec::QueueRaces races{options.cpython_races, options.cpython_races};
  switch (options.kind) {
    case LinearizableKind::queue:
      return decide<QueueAdapter>(history, options, spec::QueueState::make(options.maxsize, races));
    case LinearizableKind::joinable_queue:
      return decide<QueueAdapter>(history, options, spec::make_joinable_queue(options.maxsize, races));
    case LinearizableKind::simple_queue:
      // SimpleQueue's put/get/empty are Queue's, unbounded. Its Python get() has no timeout,
      // but the harness's drain and the C++ API time out; the Queue model has timed gets.
      // SimpleQueue.put writes the pipe itself (no feeder thread): no races.
      return decide<QueueAdapter>(history, options, spec::QueueState::make(0, {}));
    case LinearizableKind::lock:
    case LinearizableKind::rlock:
    case LinearizableKind::pipe: break;
  }
  // The synchronisation objects' searches (linearizability_sync.cpp). A pipe's derived closes
  // (a writer seen gone) have no place in their process's own order: no program-order search.
  if (!options.real_time && options.kind == LinearizableKind::pipe)
    return Verdict::unknown("", "no sequential-consistency search for a pipe");
  switch (options.kind) {
    case LinearizableKind::lock: return detail::search_lock(history, options);
    case LinearizableKind::rlock: return detail::search_rlock(history, options);
    case LinearizableKind::pipe: return detail::search_pipe(history, options);
    default: break;
  }
  return Verdict::unknown("Q-ORDER-2", "unknown model kind");
}

std::string_view to_string(HistoryClass c) noexcept {
  switch (c) {
    case HistoryClass::linearizable: return "linearizable";
    case HistoryClass::cpython_weak: return "cpython-weak";
    case HistoryClass::sequential_only: return "sequentially-consistent-only";
    case HistoryClass::illegal: return "illegal";
    case HistoryClass::unknown: return "unknown";
  }
  return "?";
}

Classification classify(const History& history, const std::vector<LinearizabilityOptions>& objects) {
  // How bad each class is: the weakest object decides; unknown only when nothing is known.
  const auto rank = [](HistoryClass c) {
    switch (c) {
      case HistoryClass::unknown: return 0;
      case HistoryClass::linearizable: return 1;
      case HistoryClass::cpython_weak: return 2;
      case HistoryClass::sequential_only: return 3;
      case HistoryClass::illegal: return 4;
    }
    return 0;
  };
  Classification out;
  for (LinearizabilityOptions o : objects) {
    const bool queue = o.kind == LinearizableKind::queue || o.kind == LinearizableKind::joinable_queue;
    o.cpython_races = false;
    o.real_time = true;
    HistoryClass c = HistoryClass::unknown;
    std::string why;
    const Verdict exact = check_linearizable(history, o);
    if (exact.is_ok()) {
      c = HistoryClass::linearizable;
    } else if (exact.is_illegal()) {
      Verdict racy = exact;
      if (queue) {
        o.cpython_races = true;
        racy = check_linearizable(history, o);
      }
      if (racy.is_ok()) {
        c = HistoryClass::cpython_weak;
      } else if (racy.is_illegal()) {
        o.real_time = false;
        const Verdict sc = check_linearizable(history, o);
        c = sc.is_ok() ? HistoryClass::sequential_only : sc.is_illegal() ? HistoryClass::illegal : HistoryClass::unknown;
        if (c == HistoryClass::unknown) why = sc.message;
      } else {
        why = racy.message;
      }
    } else {
      why = exact.message;
    }
    std::string line = fmt::format("object {} ({}): {}", o.object, to_string(o.kind), to_string(c));
    if (!why.empty()) line += " (" + why + ")";
    out.message += (out.message.empty() ? "" : "; ") + line;
    if (rank(c) > rank(out.cls)) out.cls = c;
  }
  if (objects.empty()) out.message = "no object of a searched kind";
  return out;
}

}  // namespace mpconform
