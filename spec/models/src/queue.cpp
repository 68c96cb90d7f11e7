#include "mpconform/spec/queue.hpp"

#include <stdexcept>

#include "mpconform/spec/detail/format.hpp"
#include "mpconform/spec/error.hpp"
#include "mpconform/spec/joinable_queue.hpp"

namespace mpconform::spec {

namespace {

const char* class_path(QueueKind k) {
  return k == QueueKind::queue ? "multiprocessing.queues.Queue"
                               : "multiprocessing.queues.JoinableQueue";
}

// ValueError(f"Queue {self!r} is closed") with the default object repr.
PyError closed_error(QueueKind k) {
  return errors::value_error(std::string("Queue <") + class_path(k) +
                             " object at 0x\u2026> is closed");
}

PyError not_closed_error(QueueKind k) {
  return errors::assertion_error(std::string("Queue <") + class_path(k) +
                                 " object at 0x\u2026> not closed");
}

Outcome<QueueState> returns(Value v, QueueState next) {
  return Outcome<QueueState>::single(Result::returns(std::move(v)), std::move(next));
}

Outcome<QueueState> raises(PyError e, const QueueState& unchanged) {
  return Outcome<QueueState>::single(Result::raises(std::move(e)), unchanged);
}

// Shared by QueueState::make and make_joinable_queue.
QueueState make_state(std::int64_t maxsize, QueueRaces races, Surface surface, QueueKind kind) {
  if (maxsize > kSemValueMax) {
    throw std::invalid_argument("Queue maxsize above SEM_VALUE_MAX (CPython: OverflowError)");
  }
  QueueState s;
  s.kind = kind;
  s.capacity = maxsize <= 0 ? kSemValueMax : maxsize;
  s.races = races;
  s.surface = surface;
  return s;
}

Outcome<QueueState> step_put(const QueueState& s, const QueueOp& op) {
  if (s.closed) return raises(closed_error(s.kind), s);
  if (!s.full()) {
    QueueState next = s;
    next.items.push_back(op.item);
    next.feeder_started = true;
    if (s.kind == QueueKind::joinable_queue) ++next.unfinished;
    return returns(Value::none(), std::move(next));
  }
  // Full: the semaphore acquire either fails at once / after the timeout, or waits forever.
  if (op.block && !op.timeout) return Outcome<QueueState>::single(Result::blocks(), s);
  return raises(errors::full(), s);
}

Outcome<QueueState> step_get(const QueueState& s, const QueueOp& op) {
  if (s.closed) return raises(closed_error(s.kind), s);
  const bool waits_forever = op.block && !op.timeout;
  if (s.items.empty()) {
    if (waits_forever) return Outcome<QueueState>::single(Result::blocks(), s);
    return raises(errors::empty(), s);
  }
  QueueState next = s;
  Value front = next.items.front();
  next.items.pop_front();
  auto outcome = returns(std::move(front), std::move(next));
  // The feeder may not have written the item yet when the poll deadline passes.
  if (s.races.cpython_racy_get && !waits_forever)
    outcome.or_else(Result::raises(errors::empty()), s);
  return outcome;
}

Outcome<QueueState> step_empty(const QueueState& s) {
  const bool exact = s.items.empty();
  if (s.closed && s.feeder_started && s.surface == Surface::python) {
    // The feeder closes both pipe ends once it has flushed; until then empty() still polls.
    auto outcome = raises(errors::os_error(errors::kHandleClosed), s);
    if (s.races.cpython_racy_empty) {
      // Until the feeder closes the reader, empty() polls it; a poll that races with that
      // close sees a dead descriptor as readable (POLLNVAL), so False is possible with no
      // items at all (observed).
      outcome.or_else(Result::returns(Value::boolean(false)), s);
      outcome.or_else(Result::returns(Value::boolean(true)), s);
    }
    return outcome;
  }
  auto outcome = returns(Value::boolean(exact), s);
  if (!exact && s.races.cpython_racy_empty)
    outcome.or_else(Result::returns(Value::boolean(true)), s);
  return outcome;
}

}  // namespace

QueueState QueueState::make(std::int64_t maxsize, QueueRaces races, Surface surface) {
  return make_state(maxsize, races, surface, QueueKind::queue);
}

QueueState make_joinable_queue(std::int64_t maxsize, QueueRaces races, Surface surface) {
  return make_state(maxsize, races, surface, QueueKind::joinable_queue);
}

std::optional<PyError> queue_ctor_error(PyInt maxsize) {
  if (maxsize > kSemValueMax) return errors::c_int_overflow();
  return std::nullopt;
}

std::string QueueState::to_string() const {
  std::string out = kind == QueueKind::queue ? "Queue(" : "JoinableQueue(";
  if (capacity != kSemValueMax) out += "maxsize=" + std::to_string(capacity) + ", ";
  Value::List list(items.begin(), items.end());
  out += "items=" + Value::list(std::move(list)).repr();
  if (kind == QueueKind::joinable_queue) out += ", unfinished=" + std::to_string(unfinished);
  if (closed) out += ", closed";
  if (feeder_started) out += ", feeder";
  if (races.cpython_racy_empty) out += ", racy_empty";
  if (races.cpython_racy_get) out += ", racy_get";
  if (surface == Surface::python) out += ", python";
  return out + ")";
}

QueueOp QueueOp::put(Value item, bool block, std::optional<double> timeout) {
  QueueOp op;
  op.kind = Kind::put;
  op.item = std::move(item);
  op.block = block;
  op.timeout = timeout;
  return op;
}

QueueOp QueueOp::put_nowait(Value item) {
  QueueOp op = put(std::move(item), false);
  op.nowait_spelling = true;
  return op;
}

QueueOp QueueOp::get(bool block, std::optional<double> timeout) {
  QueueOp op;
  op.kind = Kind::get;
  op.block = block;
  op.timeout = timeout;
  return op;
}

QueueOp QueueOp::get_nowait() {
  QueueOp op = get(false);
  op.nowait_spelling = true;
  return op;
}

std::string QueueOp::to_string() const {
  using detail::call;
  switch (kind) {
    case Kind::put: {
      if (nowait_spelling) return call("q.put_nowait", {item.repr()});
      std::vector<std::string> args{item.repr()};
      for (auto& a : detail::block_timeout_args(block, timeout)) args.push_back(std::move(a));
      return call("q.put", args);
    }
    case Kind::get:
      if (nowait_spelling) return "q.get_nowait()";
      return call("q.get", detail::block_timeout_args(block, timeout));
    case Kind::qsize:
      return "q.qsize()";
    case Kind::empty:
      return "q.empty()";
    case Kind::full:
      return "q.full()";
    case Kind::close:
      return "q.close()";
    case Kind::join_thread:
      return "q.join_thread()";
    case Kind::cancel_join_thread:
      return "q.cancel_join_thread()";
    case Kind::task_done:
      return "q.task_done()";
    case Kind::join:
      return "q.join()";
  }
  return "q.?()";
}

Outcome<QueueState> step(const QueueState& s, const QueueOp& op) {
  switch (op.kind) {
    case QueueOp::Kind::put:
      return step_put(s, op);
    case QueueOp::Kind::get:
      return step_get(s, op);
    case QueueOp::Kind::qsize:
      return returns(Value::integer(s.qsize()), s);
    case QueueOp::Kind::full:
      return returns(Value::boolean(s.full()), s);
    case QueueOp::Kind::empty:
      return step_empty(s);
    case QueueOp::Kind::close: {
      QueueState next = s;
      next.closed = true;
      return returns(Value::none(), std::move(next));
    }
    case QueueOp::Kind::join_thread:
      if (!s.closed) return raises(not_closed_error(s.kind), s);
      return returns(Value::none(), s);
    case QueueOp::Kind::cancel_join_thread:
      return returns(Value::none(), s);
    case QueueOp::Kind::task_done:
      if (s.kind != QueueKind::joinable_queue) {
        return Outcome<QueueState>::illegal("Queue has no task_done(); use a JoinableQueue");
      }
      if (s.unfinished == 0) return raises(errors::value_error(errors::kTaskDoneTooMany), s);
      {
        QueueState next = s;
        --next.unfinished;
        return returns(Value::none(), std::move(next));
      }
    case QueueOp::Kind::join:
      if (s.kind != QueueKind::joinable_queue) {
        return Outcome<QueueState>::illegal("Queue has no join(); use a JoinableQueue");
      }
      if (s.unfinished != 0) return Outcome<QueueState>::single(Result::blocks(), s);
      return returns(Value::none(), s);
  }
  return Outcome<QueueState>::illegal("unknown Queue operation");
}

}  // namespace mpconform::spec
