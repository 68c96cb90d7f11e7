#include "mpconform/spec/simple_queue.hpp"

#include "mpconform/spec/error.hpp"

namespace mpconform::spec {

std::string SimpleQueueState::to_string() const {
  Value::List list(items.begin(), items.end());
  std::string out = "SimpleQueue(items=" + Value::list(std::move(list)).repr();
  if (closed) out += ", closed";
  return out + ")";
}

SimpleQueueOp SimpleQueueOp::put(Value item) {
  SimpleQueueOp op = of(Kind::put);
  op.item = std::move(item);
  return op;
}

std::string SimpleQueueOp::to_string() const {
  switch (kind) {
    case Kind::put:
      return "sq.put(" + item.repr() + ")";
    case Kind::get:
      return "sq.get()";
    case Kind::empty:
      return "sq.empty()";
    case Kind::close:
      return "sq.close()";
  }
  return "sq.?()";
}

Outcome<SimpleQueueState> step(const SimpleQueueState& s, const SimpleQueueOp& op) {
  using O = Outcome<SimpleQueueState>;
  if (op.kind == SimpleQueueOp::Kind::close) {
    SimpleQueueState next = s;
    next.closed = true;
    return O::single(Result::returns(), std::move(next));
  }
  // Every other method touches a pipe end that close() has closed.
  if (s.closed) return O::single(Result::raises(errors::os_error(errors::kHandleClosed)), s);
  switch (op.kind) {
    case SimpleQueueOp::Kind::put: {
      SimpleQueueState next = s;
      next.items.push_back(op.item);
      return O::single(Result::returns(), std::move(next));
    }
    case SimpleQueueOp::Kind::get: {
      if (s.items.empty()) return O::single(Result::blocks(), s);
      SimpleQueueState next = s;
      Value front = next.items.front();
      next.items.pop_front();
      return O::single(Result::returns(std::move(front)), std::move(next));
    }
    case SimpleQueueOp::Kind::empty:
      return O::single(Result::returns(Value::boolean(s.items.empty())), s);
    case SimpleQueueOp::Kind::close:
      break;  // handled above
  }
  return O::illegal("unknown SimpleQueue operation");
}

}  // namespace mpconform::spec
