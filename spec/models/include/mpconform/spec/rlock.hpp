#pragma once
// Sequential model of multiprocessing.RLock (CPython 3.11: the C SemLock of kind
// RECURSIVE_MUTEX).
//
// The state is the owner's identity and the recursion count. Identities are opaque: the
// harness gives each calling thread of each process a distinct ThreadId. (CPython tells
// owners apart by thread ident; a child forked while its parent owns the lock is not the owner,
// because an after-fork hook resets the count: RL-FORK-1. Give the child its own ThreadId.)
#include <cstdint>
#include <optional>
#include <string>

#include "mpconform/spec/outcome.hpp"

namespace mpconform::spec {

// Opaque identity of a calling thread, unique across the processes of a run.
using ThreadId = std::int64_t;

struct RLockState {
  static RLockState make() { return {}; }

  std::optional<ThreadId> owner;  // set iff count > 0
  std::int64_t count = 0;

  // "RLock(None, 0)", "RLock(t1, 3)" (the shape of CPython's repr, RL-REPR-1).
  std::string to_string() const;
  friend bool operator==(const RLockState&, const RLockState&) = default;
};

struct RLockOp {
  enum class Kind { acquire, release };
  Kind kind = Kind::acquire;
  ThreadId thread = 0;  // the caller
  bool block = true;
  std::optional<double> timeout;  // nullopt = None

  static RLockOp acquire(ThreadId thread, bool block = true, std::optional<double> timeout = {});
  static RLockOp release(ThreadId thread);

  // "[t1] rlock.acquire(block=False)", "[t2] rlock.release()".
  std::string to_string() const;
  friend bool operator==(const RLockOp&, const RLockOp&) = default;
};

// step(state, op):
//  - acquire by the owner -> True, count + 1, whatever block and timeout (RL-ACQ-1).
//  - acquire when free -> True, owner = caller, count 1.
//  - acquire when another thread owns it -> as Lock: block=False -> False (timeout ignored);
//    block=True with any timeout, including 0 and negative -> False; block=True,
//    timeout=None -> blocks.
//  - release by the owner -> None, count - 1 (free at 0).
//  - release by anyone else, or when free -> AssertionError('attempt to release recursive
//    lock not owned by thread') (RL-REL-1; raised from C, so it survives python -O).
Outcome<RLockState> step(const RLockState& state, const RLockOp& op);

struct RLockModel {
  using State = RLockState;
  using Op = RLockOp;
  static Outcome<State> step(const State& s, const Op& op) { return spec::step(s, op); }
};

}  // namespace mpconform::spec
