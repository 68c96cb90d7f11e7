#include "mpconform/spec/lock.hpp"

#include "mpconform/spec/detail/format.hpp"
#include "mpconform/spec/detail/semlock.hpp"
#include "mpconform/spec/error.hpp"

namespace mpconform::spec {

LockOp LockOp::acquire(bool block, std::optional<double> timeout) {
  LockOp op;
  op.kind = Kind::acquire;
  op.block = block;
  op.timeout = timeout;
  return op;
}

LockOp LockOp::release() {
  LockOp op;
  op.kind = Kind::release;
  return op;
}

std::string LockOp::to_string() const {
  if (kind == Kind::release) return "lock.release()";
  return detail::call("lock.acquire", detail::block_timeout_args(block, timeout));
}

Outcome<LockState> step(const LockState& s, const LockOp& op) {
  using O = Outcome<LockState>;
  if (op.kind == LockOp::Kind::release) {
    // No ownership: whoever calls release() on a locked Lock unlocks it.
    if (!s.locked)
      return O::single(Result::raises(errors::value_error(errors::kReleasedTooManyTimes)), s);
    return O::single(Result::returns(), LockState{false});
  }
  switch (detail::semlock_acquire(!s.locked, op.block, op.timeout)) {
    case detail::AcquireVerdict::acquired:
      return O::single(Result::returns(Value::boolean(true)), LockState{true});
    case detail::AcquireVerdict::fails:
      return O::single(Result::returns(Value::boolean(false)), s);
    case detail::AcquireVerdict::blocks:
      return O::single(Result::blocks(), s);
  }
  return O::illegal("unknown Lock operation");
}

}  // namespace mpconform::spec
