#pragma once
// Sequential model of multiprocessing.Semaphore and BoundedSemaphore (CPython 3.11: the C
// SemLock of kind SEMAPHORE; synchronize.py:130-160).
//
// The state is the count and its ceiling: SEM_VALUE_MAX for a Semaphore (S-2, S-9), the initial
// value for a BoundedSemaphore (BS-2). Both raise the same ValueError at the ceiling.
#include <cstdint>
#include <optional>
#include <string>

#include "mpconform/spec/limits.hpp"
#include "mpconform/spec/outcome.hpp"

namespace mpconform::spec {

struct SemaphoreState {
  // Semaphore(value) / BoundedSemaphore(value).
  // Requires: 0 <= value <= kSemValueMax (CPython raises, see semaphore_ctor_error); throws
  // std::invalid_argument otherwise.
  static SemaphoreState make(std::int64_t value = 1);
  static SemaphoreState make_bounded(std::int64_t value = 1);

  std::int64_t value = 1;
  std::int64_t maxvalue = kSemValueMax;
  bool bounded = false;

  // "Semaphore(value=2)", "BoundedSemaphore(value=2, maxvalue=2)" (CPython's repr, S-6).
  std::string to_string() const;
  friend bool operator==(const SemaphoreState&, const SemaphoreState&) = default;
};

// What CPython raises for Semaphore(value) / BoundedSemaphore(value), or nullopt:
// value < 0 -> OSError('[Errno 22] Invalid argument') (not ValueError as in threading);
// value > SEM_VALUE_MAX -> OverflowError('Python int too large to convert to C int') (S-4, S-10).
std::optional<PyError> semaphore_ctor_error(PyInt value);

struct SemaphoreOp {
  enum class Kind { acquire, release, get_value };
  Kind kind = Kind::acquire;
  bool block = true;
  std::optional<double> timeout;  // nullopt = None

  static SemaphoreOp acquire(bool block = true, std::optional<double> timeout = {});
  static SemaphoreOp release();
  static SemaphoreOp get_value();

  // "sem.acquire(timeout=0.5)", "sem.release()", "sem.get_value()".
  std::string to_string() const;
  friend bool operator==(const SemaphoreOp&, const SemaphoreOp&) = default;
};

// step(state, op):
//  - acquire(block, timeout): value > 0 -> True, value - 1. value == 0: block=False -> False
//    (timeout ignored); block=True with any timeout, including 0 and negative -> False
//    (S-5, S-7); block=True, timeout=None -> blocks.
//  - release() (no argument, S-3): value >= maxvalue -> ValueError('semaphore or lock
//    released too many times') (S-9 at SEM_VALUE_MAX, BS-2 above the initial value, also
//    BoundedSemaphore(0).release()); else None, value + 1.
//  - get_value() -> the value (S-1).
Outcome<SemaphoreState> step(const SemaphoreState& state, const SemaphoreOp& op);

struct SemaphoreModel {
  using State = SemaphoreState;
  using Op = SemaphoreOp;
  static Outcome<State> step(const State& s, const Op& op) { return spec::step(s, op); }
};

}  // namespace mpconform::spec
