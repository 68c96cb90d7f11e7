#pragma once
// Sequential model of multiprocessing.Lock (CPython 3.11: synchronize.Lock over the C SemLock,
// a semaphore with value 1 and maxvalue 1).
//
// A Lock has no owner: any thread of any process may release it (L-REL-2), and it is not
// reentrant, so a second acquire() by the holder blocks like anyone else's (L-ACQ-3). The
// model is therefore one bit. `with lock:` is acquire() then release().
#include <optional>
#include <string>

#include "mpconform/spec/outcome.hpp"

namespace mpconform::spec {

struct LockState {
  static LockState make() { return {}; }

  bool locked = false;

  // "Lock(locked)" / "Lock(unlocked)".
  std::string to_string() const { return locked ? "Lock(locked)" : "Lock(unlocked)"; }
  friend bool operator==(const LockState&, const LockState&) = default;
};

struct LockOp {
  enum class Kind { acquire, release };
  Kind kind = Kind::acquire;
  bool block = true;              // acquire's keyword is `block` (L-ACQ-1)
  std::optional<double> timeout;  // nullopt = None

  static LockOp acquire(bool block = true, std::optional<double> timeout = {});
  static LockOp release();

  // "lock.acquire()", "lock.acquire(block=False)", "lock.acquire(timeout=-1.0)", "lock.release()".
  std::string to_string() const;
  friend bool operator==(const LockOp&, const LockOp&) = default;
};

// step(state, op):
//  - acquire(block, timeout): unlocked -> True, now locked. Locked: block=False -> False at
//    once, whatever the timeout (it is ignored); block=True with a timeout -> False (0 and
//    negative timeouts do not wait: negative is clamped to 0, L-ACQ-7, L-ACQ-8); block=True,
//    timeout=None -> blocks (also for the holder itself: L-ACQ-3).
//  - release(): locked -> None, unlocked (any caller, L-REL-2); unlocked ->
//    ValueError('semaphore or lock released too many times') (L-REL-1).
Outcome<LockState> step(const LockState& state, const LockOp& op);

struct LockModel {
  using State = LockState;
  using Op = LockOp;
  static Outcome<State> step(const State& s, const Op& op) { return spec::step(s, op); }
};

}  // namespace mpconform::spec
