#include "mpconform/spec/semaphore.hpp"

#include <stdexcept>

#include "mpconform/spec/detail/format.hpp"
#include "mpconform/spec/detail/semlock.hpp"
#include "mpconform/spec/error.hpp"

namespace mpconform::spec {

namespace {
void require_valid(std::int64_t value) {
  if (value < 0 || value > kSemValueMax) {
    throw std::invalid_argument("Semaphore value outside [0, SEM_VALUE_MAX] (CPython raises)");
  }
}
}  // namespace

SemaphoreState SemaphoreState::make(std::int64_t value) {
  require_valid(value);
  return SemaphoreState{value, kSemValueMax, false};
}

SemaphoreState SemaphoreState::make_bounded(std::int64_t value) {
  require_valid(value);
  return SemaphoreState{value, value, true};
}

std::string SemaphoreState::to_string() const {
  if (bounded) {
    return "BoundedSemaphore(value=" + std::to_string(value) +
           ", maxvalue=" + std::to_string(maxvalue) + ")";
  }
  return "Semaphore(value=" + std::to_string(value) + ")";
}

std::optional<PyError> semaphore_ctor_error(PyInt value) {
  if (value < 0) return errors::os_error("[Errno 22] Invalid argument");  // sem_open EINVAL
  if (value > kSemValueMax) return errors::c_int_overflow();
  return std::nullopt;
}

SemaphoreOp SemaphoreOp::acquire(bool block, std::optional<double> timeout) {
  SemaphoreOp op;
  op.kind = Kind::acquire;
  op.block = block;
  op.timeout = timeout;
  return op;
}

SemaphoreOp SemaphoreOp::release() {
  SemaphoreOp op;
  op.kind = Kind::release;
  return op;
}

SemaphoreOp SemaphoreOp::get_value() {
  SemaphoreOp op;
  op.kind = Kind::get_value;
  return op;
}

std::string SemaphoreOp::to_string() const {
  switch (kind) {
    case Kind::acquire:
      return detail::call("sem.acquire", detail::block_timeout_args(block, timeout));
    case Kind::release:
      return "sem.release()";
    case Kind::get_value:
      return "sem.get_value()";
  }
  return "sem.?()";
}

Outcome<SemaphoreState> step(const SemaphoreState& s, const SemaphoreOp& op) {
  using O = Outcome<SemaphoreState>;
  switch (op.kind) {
    case SemaphoreOp::Kind::get_value:
      return O::single(Result::returns(Value::integer(s.value)), s);
    case SemaphoreOp::Kind::release: {
      if (s.value >= s.maxvalue) {
        return O::single(Result::raises(errors::value_error(errors::kReleasedTooManyTimes)), s);
      }
      SemaphoreState next = s;
      ++next.value;
      return O::single(Result::returns(), next);
    }
    case SemaphoreOp::Kind::acquire:
      switch (detail::semlock_acquire(s.value > 0, op.block, op.timeout)) {
        case detail::AcquireVerdict::acquired: {
          SemaphoreState next = s;
          --next.value;
          return O::single(Result::returns(Value::boolean(true)), next);
        }
        case detail::AcquireVerdict::fails:
          return O::single(Result::returns(Value::boolean(false)), s);
        case detail::AcquireVerdict::blocks:
          return O::single(Result::blocks(), s);
      }
  }
  return O::illegal("unknown Semaphore operation");
}

}  // namespace mpconform::spec
