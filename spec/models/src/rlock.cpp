#include "mpconform/spec/rlock.hpp"

#include "mpconform/spec/detail/format.hpp"
#include "mpconform/spec/detail/semlock.hpp"
#include "mpconform/spec/error.hpp"

namespace mpconform::spec {

std::string RLockState::to_string() const {
  const std::string who = owner ? "t" + std::to_string(*owner) : "None";
  return "RLock(" + who + ", " + std::to_string(count) + ")";
}

RLockOp RLockOp::acquire(ThreadId thread, bool block, std::optional<double> timeout) {
  RLockOp op;
  op.kind = Kind::acquire;
  op.thread = thread;
  op.block = block;
  op.timeout = timeout;
  return op;
}

RLockOp RLockOp::release(ThreadId thread) {
  RLockOp op;
  op.kind = Kind::release;
  op.thread = thread;
  return op;
}

std::string RLockOp::to_string() const {
  const std::string who = "[t" + std::to_string(thread) + "] ";
  if (kind == Kind::release) return who + "rlock.release()";
  return who + detail::call("rlock.acquire", detail::block_timeout_args(block, timeout));
}

Outcome<RLockState> step(const RLockState& s, const RLockOp& op) {
  using O = Outcome<RLockState>;
  const bool mine = s.count > 0 && s.owner == op.thread;
  if (op.kind == RLockOp::Kind::release) {
    if (!mine) return O::single(Result::raises(errors::assertion_error(errors::kRLockNotOwned)), s);
    RLockState next = s;
    if (--next.count == 0) next.owner.reset();
    return O::single(Result::returns(), std::move(next));
  }
  if (mine) {
    // The ISMINE fast path runs before the timeout is even looked at.
    RLockState next = s;
    ++next.count;
    return O::single(Result::returns(Value::boolean(true)), std::move(next));
  }
  switch (detail::semlock_acquire(s.count == 0, op.block, op.timeout)) {
    case detail::AcquireVerdict::acquired:
      return O::single(Result::returns(Value::boolean(true)), RLockState{op.thread, 1});
    case detail::AcquireVerdict::fails:
      return O::single(Result::returns(Value::boolean(false)), s);
    case detail::AcquireVerdict::blocks:
      return O::single(Result::blocks(), s);
  }
  return O::illegal("unknown RLock operation");
}

}  // namespace mpconform::spec
