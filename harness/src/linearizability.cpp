#include "mpconform/linearizability.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "checker_support.hpp"
#include "detail/lin_search.hpp"
#include "detail/lin_sync.hpp"
#include "mpconform/spec/joinable_queue.hpp"
#include "mpconform/spec/queue.hpp"
#include "mpconform/spec/simple_queue.hpp"

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
    case OpKind::empty: return simple ? "SQ-8" : (op.value != 0 ? "Q-SIZE-7" : "Q-SIZE-6");
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
    const auto [block, timeout] = detail::block_timeout(op.timeout_ns);
    switch (op.kind) {
      case OpKind::put: return Call::put(detail::item_of(op.value), block, timeout);
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
    encode_items(s.items, key);
  }
  static std::vector<spec::Value> leftover(const State& s) { return {s.items.begin(), s.items.end()}; }
};

struct SimpleQueueAdapter : QueueCommon {
  using State = spec::SimpleQueueState;
  using Call = spec::SimpleQueueOp;

  // SimpleQueue has no timeouts: every get is get().
  static std::optional<Call> to_call(const Op& op, const LinearizabilityOptions& /*o*/) {
    switch (op.kind) {
      case OpKind::put: return Call::put(detail::item_of(op.value));
      case OpKind::get: return Call::get();
      case OpKind::empty: return Call::empty();
      default: return std::nullopt;
    }
  }
  static void encode(const State& s, std::vector<std::uint64_t>& key) {
    key.push_back(s.closed ? 1u : 0u);
    encode_items(s.items, key);
  }
  static std::vector<spec::Value> leftover(const State& s) { return {s.items.begin(), s.items.end()}; }
};

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
      return detail::Search<QueueAdapter>(history, options, spec::QueueState::make(options.maxsize, races)).run();
    case LinearizableKind::joinable_queue:
      return detail::Search<QueueAdapter>(history, options, spec::make_joinable_queue(options.maxsize, races)).run();
    case LinearizableKind::simple_queue:
      return detail::Search<SimpleQueueAdapter>(history, options, spec::SimpleQueueState::make()).run();
    case LinearizableKind::lock: return detail::search_lock(history, options);
    case LinearizableKind::rlock: return detail::search_rlock(history, options);
    case LinearizableKind::pipe: return detail::search_pipe(history, options);
  }
  return Verdict::unknown("Q-ORDER-2", "unknown model kind");
}

}  // namespace mpconform
