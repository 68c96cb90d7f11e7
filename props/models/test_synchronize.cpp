// The Lock, RLock, Semaphore and BoundedSemaphore models on hand-written histories.
#include <gtest/gtest.h>

#include <stdexcept>

#include "clause.hpp"
#include "mpconform/spec/lock.hpp"
#include "mpconform/spec/rlock.hpp"
#include "mpconform/spec/semaphore.hpp"
#include "replay.hpp"

namespace mpconform::spec {
namespace {

using namespace testing;
using L = LockOp;
using R = RLockOp;
using S = SemaphoreOp;

const PyError kTooMany = errors::value_error("semaphore or lock released too many times");
const PyError kNotOwned =
    errors::assertion_error("attempt to release recursive lock not owned by thread");

// --- Lock ---

TEST(LockModel, AcquireOnAHeldLockFailsAtOnceOrBlocks) {
  MPC_CLAUSE("L-ACQ-1", "L-ACQ-2", "L-ACQ-6", "L-ACQ-7", "L-ACQ-8", "L-ACQ-9", "L-ACQ-3");
  const auto r = replay(LockState::make(), std::vector<Step<LockOp>>{
      {L::acquire(), yes()},
      {L::acquire(false), no()},
      {L::acquire(true, 0.2), no()},
      {L::acquire(true, 0.0), no()},
      {L::acquire(true, -1.0), no()},  // clamped to 0, not "forever" as in threading
      {L::acquire(false, 5.0), no()},  // timeout ignored when not blocking
      {L::acquire(false, -1.0), no()},
      {L::acquire(), blocks()},        // also for the holder itself: not reentrant
      {L::release(), none()},
      {L::acquire(true, 0.0), yes()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(LockModel, ReleaseOfAFreeLockRaises) {
  MPC_CLAUSE("L-REL-1");
  const auto r = replay(LockState::make(), std::vector<Step<LockOp>>{
      {L::release(), raises(kTooMany)},
      {L::acquire(), yes()},
      {L::release(), none()},
      {L::release(), raises(kTooMany)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(LockModel, AnyoneMayRelease) {
  MPC_CLAUSE("L-REL-2", "L-REL-3", "L-DEAD-2");
  // There is no caller in a LockOp at all: whoever releases a held Lock frees it.
  EXPECT_EQ(check(LockState{true}, L::release(), none()), LockState{false});
}

TEST(LockModel, WithBlockIsAcquireThenRelease) {
  MPC_CLAUSE("L-CTX-1", "L-CTX-2");
  const auto r = replay(LockState::make(), std::vector<Step<LockOp>>{
      {L::acquire(), yes()},  // __enter__ returns True
      {L::release(), none()}, // __exit__ returns None
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  EXPECT_EQ(r.state, LockState{false});
}

TEST(LockModel, RejectsImpossibleHistories) {
  MPC_CLAUSE("L-ACQ-2", "L-ACQ-7", "L-REL-1");
  auto r = replay(LockState::make(), std::vector<Step<LockOp>>{{L::acquire(), yes()},
                                                               {L::acquire(false), yes()}});
  EXPECT_EQ(r.rejected_at, 1u) << r.transcript;  // two holders
  r = replay(LockState::make(), std::vector<Step<LockOp>>{{L::acquire(), yes()},
                                                          {L::acquire(true, -1.0), blocks()}});
  EXPECT_EQ(r.rejected_at, 1u) << r.transcript;  // -1 treated as forever
  r = replay(LockState::make(), std::vector<Step<LockOp>>{
                                    {L::release(), raises(errors::value_error("released"))}});
  EXPECT_EQ(r.rejected_at, 0u) << r.transcript;  // wrong message
  EXPECT_EQ(L::acquire(false, 5.0).to_string(), "lock.acquire(block=False, timeout=5.0)");
}

// --- RLock ---

TEST(RLockModel, OwnerReentersOthersCannotTake) {
  MPC_CLAUSE("RL-ACQ-1", "RL-ACQ-2", "RL-ACQ-3");
  const auto r = replay(RLockState::make(), std::vector<Step<RLockOp>>{
      {R::acquire(1), yes()},
      {R::acquire(1, false), yes()},
      {R::acquire(1, true, -1.0), yes()},  // the owner's fast path ignores the timeout
      {R::acquire(2, false), no()},
      {R::acquire(2, true, 0.2), no()},
      {R::acquire(2, true, -1.0), no()},
      {R::acquire(2), blocks()},
      {R::release(1), none()},
      {R::release(1), none()},
      {R::acquire(2, false), no()},  // still held once
      {R::release(1), none()},
      {R::acquire(2, false), yes()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  EXPECT_EQ(r.state.to_string(), "RLock(t2, 1)");
}

TEST(RLockModel, ReleaseByANonOwnerOrOfAFreeRLockRaisesAssertionError) {
  MPC_CLAUSE("RL-REL-1", "RL-REL-2", "RL-REL-3", "RL-FORK-1", "RL-DEAD-1");
  const auto r = replay(RLockState::make(), std::vector<Step<RLockOp>>{
      {R::release(1), raises(kNotOwned)},
      {R::acquire(1), yes()},
      {R::release(2), raises(kNotOwned)},  // e.g. a forked child: not the owner
      {R::acquire(2, true, 0.2), no()},
      {R::release(1), none()},
      {R::release(1), raises(kNotOwned)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(RLockModel, RejectsImpossibleHistories) {
  MPC_CLAUSE("RL-REL-1", "RL-ACQ-2");
  // A non-owner released it.
  auto r = replay(RLockState::make(), std::vector<Step<RLockOp>>{{R::acquire(1), yes()},
                                                                 {R::release(2), none()}});
  EXPECT_EQ(r.rejected_at, 1u) << r.transcript;
  // Lock's ValueError is the wrong exception for an RLock.
  r = replay(RLockState::make(), std::vector<Step<RLockOp>>{{R::release(1), raises(kTooMany)}});
  EXPECT_EQ(r.rejected_at, 0u) << r.transcript;
  // Two owners at once.
  r = replay(RLockState::make(), std::vector<Step<RLockOp>>{{R::acquire(1), yes()},
                                                            {R::acquire(2, false), yes()}});
  EXPECT_EQ(r.rejected_at, 1u) << r.transcript;
  EXPECT_EQ(R::acquire(3, false).to_string(), "[t3] rlock.acquire(block=False)");
}

// --- Semaphore / BoundedSemaphore ---

TEST(SemaphoreModel, CountsDownAndUp) {
  MPC_CLAUSE("S-1", "S-7", "S-5", "S-8");
  const auto r = replay(SemaphoreState::make(2), std::vector<Step<SemaphoreOp>>{
      {S::get_value(), integer(2)},
      {S::acquire(), yes()},
      {S::get_value(), integer(1)},
      {S::acquire(false), yes()},
      {S::get_value(), integer(0)},
      {S::acquire(false), no()},
      {S::acquire(true, 0.2), no()},
      {S::acquire(true, -1.0), no()},
      {S::acquire(false, 5.0), no()},
      {S::acquire(), blocks()},
      {S::release(), none()},
      {S::get_value(), integer(1)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  EXPECT_EQ(SemaphoreState::make().value, 1);  // default 1
}

TEST(SemaphoreModel, PlainSemaphoreGrowsUpToSemValueMax) {
  MPC_CLAUSE("S-2", "S-9");
  auto r = replay(SemaphoreState::make(0), std::vector<Step<SemaphoreOp>>{
      {S::release(), none()},
      {S::release(), none()},
      {S::release(), none()},
      {S::release(), none()},
      {S::get_value(), integer(4)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  r = replay(SemaphoreState::make(kSemValueMax), std::vector<Step<SemaphoreOp>>{
      {S::release(), raises(kTooMany)},
      {S::get_value(), integer(2147483647)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(SemaphoreModel, BoundedSemaphoreRefusesToGoAboveItsInitialValue) {
  MPC_CLAUSE("BS-2");
  auto r = replay(SemaphoreState::make_bounded(2), std::vector<Step<SemaphoreOp>>{
      {S::release(), raises(kTooMany)},
      {S::acquire(), yes()},
      {S::release(), none()},
      {S::release(), raises(kTooMany)},
      {S::get_value(), integer(2)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  r = replay(SemaphoreState::make_bounded(0),
             std::vector<Step<SemaphoreOp>>{{S::release(), raises(kTooMany)}});
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  EXPECT_EQ(SemaphoreState::make_bounded(2).to_string(), "BoundedSemaphore(value=2, maxvalue=2)");
  EXPECT_EQ(SemaphoreState::make(2).to_string(), "Semaphore(value=2)");
}

TEST(SemaphoreModel, ConstructorErrors) {
  MPC_CLAUSE("S-4", "S-10");
  EXPECT_EQ(semaphore_ctor_error(-1), errors::os_error("[Errno 22] Invalid argument"));
  EXPECT_EQ(semaphore_ctor_error(PyInt(1) << 31), errors::c_int_overflow());
  EXPECT_EQ(semaphore_ctor_error(0), std::nullopt);
  EXPECT_EQ(semaphore_ctor_error(kSemValueMax), std::nullopt);
  EXPECT_THROW(SemaphoreState::make(-1), std::invalid_argument);
  EXPECT_THROW(SemaphoreState::make_bounded(kSemValueMax + 1), std::invalid_argument);
}

TEST(SemaphoreModel, RejectsImpossibleHistories) {
  MPC_CLAUSE("BS-2", "S-1");
  auto r = replay(SemaphoreState::make_bounded(1),
                  std::vector<Step<SemaphoreOp>>{{S::release(), none()}});
  EXPECT_EQ(r.rejected_at, 0u) << r.transcript;  // above the bound
  r = replay(SemaphoreState::make(1),
             std::vector<Step<SemaphoreOp>>{{S::acquire(), yes()}, {S::get_value(), integer(1)}});
  EXPECT_EQ(r.rejected_at, 1u) << r.transcript;  // lost decrement
}

}  // namespace
}  // namespace mpconform::spec
