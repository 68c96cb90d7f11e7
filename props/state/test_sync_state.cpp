// State-machine tests of mpref's Lock, RLock, Semaphore and BoundedSemaphore against
// spec/models (lock.hpp, rlock.hpp, semaphore.hpp), from two threads of this process (a Lock has
// no owner; an RLock is owned by a thread), with calls that never wait. Plus the proof that the
// test can fail: a Lock that lets a second holder in must be refuted.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <array>
#include <cstdint>
#include <optional>
#include <ostream>

#include "clause.hpp"
#include "mpref/synchronize.hpp"
#include "rc_glue.hpp"
#include "state_support.hpp"

namespace mpconform::props::state {
namespace {

// The arguments the SUT is called with: a call the op makes without timeout and with block=True
// gets block_bound() instead (False then means it would block).
std::optional<double> bounded(const WaitArgs& w) {
  return w.block && !w.timeout ? std::optional<double>(block_bound()) : w.timeout;
}

// acquire() as observed: True, False, raised, or blocks (False from a call the op made without
// a timeout).
template <class L>
Result observe_acquire(const L& lock, const WaitArgs& w) {
  bool got = false;
  const Result r = observe([&] {
    got = lock.acquire(w.block, bounded(w));
    return py(got);
  });
  return r.returned() && !got && w.block && !w.timeout ? Result::blocks() : r;
}

rc::Gen<int> thread_index() { return rc::gen::inRange(0, 2); }

// ---- Lock -------------------------------------------------------------------------------------

// A Lock used from two threads; broken when `second_holder`: an acquire that finds the lock
// held returns True anyway (without taking it) every other time.
struct LockSut {
  explicit LockSut(bool broken = false) : second_holder(broken) {}
  mpref::Lock lock;
  std::array<CallThread, 2> threads;
  bool second_holder;
  int contended = 0;
};

using spec::LockOp;
using spec::LockState;

struct LockAcquire : ModelCommand<LockState, LockOp, LockSut> {
  int t = *thread_index();
  WaitArgs w = *waitArgs();
  LockOp op() const override { return LockOp::acquire(w.block, w.timeout); }
  Result call(LockSut& s) const override {
    return s.threads[static_cast<std::size_t>(t)].run([&] {
      if (s.second_holder && s.lock.locked() && ++s.contended % 2 == 1)
        return Result::returns(py(true));
      return observe_acquire(s.lock, w);
    });
  }
  void show(std::ostream& os) const override { os << "[t" << t + 1 << "] " << op().to_string(); }
};

struct LockRelease : ModelCommand<LockState, LockOp, LockSut> {
  int t = *thread_index();
  LockOp op() const override { return LockOp::release(); }
  Result call(LockSut& s) const override {
    return s.threads[static_cast<std::size_t>(t)].run([&] {
      return observe([&] {
        s.lock.release();
        return spec::Value();
      });
    });
  }
  void show(std::ostream& os) const override { os << "[t" << t + 1 << "] " << op().to_string(); }
};

auto lock_commands() {
  return rc::state::gen::execOneOfWithArgs<LockAcquire, LockAcquire, LockRelease>();
}

MPC_RC_GTEST_PROP(state, Lock, 200, ()) {
  MPC_CLAUSE("L-ACQ-1", "L-ACQ-2", "L-ACQ-3", "L-ACQ-7", "L-ACQ-8", "L-REL-1", "L-REL-2");
  LockSut sut;
  check_commands(LockState::make(), sut, lock_commands());
}

// ---- RLock ------------------------------------------------------------------------------------

struct RLockSut {
  mpref::RLock lock;
  std::array<CallThread, 2> threads;
};

using spec::RLockOp;
using spec::RLockState;

struct RLockAcquire : ModelCommand<RLockState, RLockOp, RLockSut> {
  int t = *thread_index();
  WaitArgs w = *waitArgs();
  RLockOp op() const override { return RLockOp::acquire(t + 1, w.block, w.timeout); }
  Result call(RLockSut& s) const override {
    return s.threads[static_cast<std::size_t>(t)].run([&] { return observe_acquire(s.lock, w); });
  }
};

struct RLockRelease : ModelCommand<RLockState, RLockOp, RLockSut> {
  int t = *thread_index();
  RLockOp op() const override { return RLockOp::release(t + 1); }
  Result call(RLockSut& s) const override {
    return s.threads[static_cast<std::size_t>(t)].run([&] {
      return observe([&] {
        s.lock.release();
        return spec::Value();
      });
    });
  }
};

MPC_RC_GTEST_PROP(state, RLock, 200, ()) {
  MPC_CLAUSE("RL-ACQ-1", "RL-ACQ-2", "RL-ACQ-3", "RL-REL-1", "RL-REL-2");
  RLockSut sut;
  check_commands(RLockState::make(), sut,
                 rc::state::gen::execOneOfWithArgs<RLockAcquire, RLockAcquire, RLockRelease>());
}

// ---- Semaphore, BoundedSemaphore --------------------------------------------------------------

using spec::SemaphoreOp;
using spec::SemaphoreState;

template <class S>
struct SemAcquire : ModelCommand<SemaphoreState, SemaphoreOp, S> {
  WaitArgs w = *waitArgs();
  SemaphoreOp op() const override { return SemaphoreOp::acquire(w.block, w.timeout); }
  Result call(S& s) const override { return observe_acquire(s, w); }
};

template <class S>
struct SemRelease : ModelCommand<SemaphoreState, SemaphoreOp, S> {
  SemaphoreOp op() const override { return SemaphoreOp::release(); }
  Result call(S& s) const override {
    return observe([&] {
      s.release();
      return spec::Value();
    });
  }
};

template <class S>
struct SemGetValue : ModelCommand<SemaphoreState, SemaphoreOp, S> {
  SemaphoreOp op() const override { return SemaphoreOp::get_value(); }
  Result call(S& s) const override { return observe([&] { return py(s.get_value()); }); }
};

template <class S>
auto semaphore_commands() {
  return rc::state::gen::execOneOfWithArgs<SemAcquire<S>, SemRelease<S>, SemGetValue<S>>();
}

MPC_RC_GTEST_PROP(state, Semaphore, 200, ()) {
  MPC_CLAUSE("S-1", "S-2", "S-7");
  const int value = *rc::gen::inRange(0, 4);
  mpref::Semaphore sem(value);
  check_commands(SemaphoreState::make(value), sem, semaphore_commands<mpref::Semaphore>());
}

MPC_RC_GTEST_PROP(state, BoundedSemaphore, 200, ()) {
  MPC_CLAUSE("S-7", "BS-2");
  const int value = *rc::gen::inRange(0, 4);
  mpref::BoundedSemaphore sem(value);
  check_commands(SemaphoreState::make_bounded(value), sem,
                 semaphore_commands<mpref::BoundedSemaphore>());
}

// ---- the test can fail ------------------------------------------------------------------------

TEST(state_catches, LockWithTwoHolders) {
  EXPECT_FALSE(rc::check("a Lock that lets a second holder in", [] {
    LockSut sut(true);
    rc::state::check(LockState::make(), sut, lock_commands());
  }));
}

}  // namespace
}  // namespace mpconform::props::state
