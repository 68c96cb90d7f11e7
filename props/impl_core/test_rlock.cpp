// mpref::RLock against spec/clauses/synchronize.json (RL-*), one behaviour per test.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "clause.hpp"
#include "mpref/synchronize.hpp"
#include "support.hpp"

namespace {

using core_test::Child;
using core_test::Stopwatch;
using core_test::Tier;
using mpref::LockOptions;
using mpref::RLock;
using mpref::Semaphore;

constexpr const char* not_owned = "attempt to release recursive lock not owned by thread";

// Runs `f` in another thread of this process and returns its result.
template <class F>
auto in_thread(F f) {
  decltype(f()) result{};
  std::thread t([&] { result = f(); });
  t.join();
  return result;
}

// 0 when `f` throws mpref::AssertionError with CPython's message, else a code.
template <class F>
int assertion_code(F f) {
  try {
    f();
    return 1;
  } catch (const mpref::AssertionError& e) {
    return std::string_view(e.what()) == not_owned ? 0 : 2;
  } catch (...) {
    return 3;
  }
}

Child start_owner(const RLock& lock, const Semaphore& ready) {
  return Child([&] {
    if (!lock.acquire(true, Tier::bound()) || !lock.acquire()) return 3;
    ready.release();
    sleep(static_cast<unsigned>(Tier::bound()) + 1);
    return 0;
  });
}

TEST(RLock, OwnerMayAcquireRepeatedly) {
  MPC_CLAUSE("RL-ACQ-1");
  RLock lock;
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.acquire(false));
  EXPECT_TRUE(lock.acquire(true, -1.0));  // the owner's fast path ignores the timeout
  EXPECT_TRUE(lock.is_mine());
  EXPECT_EQ(lock.recursion_count(), 3U);
  for (int i = 0; i < 3; ++i) lock.release();
  EXPECT_FALSE(lock.locked());
  EXPECT_EQ(lock.recursion_count(), 0U);
}

TEST(RLock, OtherThreadsCannotTakeAHeldRLock) {
  MPC_CLAUSE("RL-ACQ-2");
  RLock lock;
  ASSERT_TRUE(lock.acquire());
  for (double t : {0.0, -1.0}) {
    double took = in_thread([&] {
      Stopwatch sw;
      return lock.acquire(true, t) ? -1.0 : sw.elapsed();
    });
    EXPECT_GE(took, 0.0) << "acquire(timeout=" << t << ") succeeded";
    EXPECT_LT(took, Tier::at_once());
  }
  EXPECT_FALSE(in_thread([&] { return lock.acquire(false); }));
  double took = in_thread([&] {
    Stopwatch sw;
    return lock.acquire(true, Tier::wait) ? -1.0 : sw.elapsed();
  });
  EXPECT_GE(took, Tier::wait - 0.01);
  EXPECT_LT(took, Tier::wait + Tier::late());
  lock.release();
}

TEST(RLock, OtherProcessesCannotTakeAHeldRLock) {
  MPC_CLAUSE("RL-ACQ-2");
  RLock lock;
  ASSERT_TRUE(lock.acquire());
  Child other([&] {
    Stopwatch sw;
    if (lock.acquire(false) || lock.acquire(true, 0.0) || lock.acquire(true, -1.0)) return 1;
    if (sw.elapsed() > Tier::at_once()) return 2;
    sw = Stopwatch();
    if (lock.acquire(true, Tier::wait)) return 3;
    if (sw.elapsed() < Tier::wait - 0.01) return 4;
    return 0;
  });
  auto r = other.wait(Tier::bound());
  EXPECT_TRUE(r.ok()) << r.describe();
  lock.release();
}

TEST(RLock, BecomesFreeOnlyAfterAsManyReleasesAsAcquires) {
  MPC_CLAUSE("RL-ACQ-3");
  RLock lock;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(lock.acquire());
  lock.release();
  lock.release();
  EXPECT_FALSE(in_thread([&] { return lock.acquire(false); }));
  lock.release();
  EXPECT_TRUE(in_thread([&] {
    bool got = lock.acquire(false);
    if (got) lock.release();
    return got;
  }));
}

TEST(RLock, ReleaseByANonOwnerThreadRaisesAssertionError) {
  MPC_CLAUSE("RL-REL-1");
  RLock lock;
  ASSERT_TRUE(lock.acquire());
  EXPECT_EQ(in_thread([&] { return assertion_code([&] { lock.release(); }); }), 0);
  EXPECT_TRUE(lock.is_mine());  // untouched
  lock.release();
}

TEST(RLock, ReleaseByAnotherProcessRaisesAssertionError) {
  MPC_CLAUSE("RL-REL-1");
  RLock lock;
  ASSERT_TRUE(lock.acquire());
  Child other([&] { return assertion_code([&] { lock.release(); }); });
  auto r = other.wait(Tier::bound());
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(lock.recursion_count(), 1U);
  lock.release();
}

TEST(RLock, ReleaseOfAFreeRLockRaisesAssertionError) {
  MPC_CLAUSE("RL-REL-2");
  RLock lock;
  try {
    lock.release();
    FAIL() << "no exception";
  } catch (const mpref::AssertionError& e) {
    EXPECT_STREQ(e.what(), not_owned);
    EXPECT_EQ(e.python_type(), "AssertionError");
  }
  ASSERT_TRUE(lock.acquire());
  lock.release();
  EXPECT_EQ(assertion_code([&] { lock.release(); }), 0);
}

TEST(RLock, ChildForkedWhileParentHoldsItSeesItLockedAndIsNotTheOwner) {
  MPC_CLAUSE("RL-FORK-1");
  RLock lock;
  ASSERT_TRUE(lock.acquire());
  ASSERT_TRUE(lock.acquire());
  Child child([&] {
    if (lock.is_mine() || lock.recursion_count() != 0) return 1;
    if (lock.acquire(true, Tier::wait)) return 2;
    return assertion_code([&] { lock.release(); }) == 0 ? 0 : 3;
  });
  auto r = child.wait(Tier::bound());
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(lock.recursion_count(), 2U);
  lock.release();
  lock.release();
  EXPECT_FALSE(lock.locked());
}

TEST(RLock, KilledOwnerLeavesItLockedForGood) {
  MPC_CLAUSE("RL-DEAD-1");
  RLock lock;
  Semaphore ready(0);
  Child owner = start_owner(lock, ready);
  ASSERT_TRUE(ready.acquire(true, Tier::bound()));
  owner.kill_now();
  owner.wait(Tier::bound());
  Stopwatch sw;
  EXPECT_FALSE(lock.acquire(true, Tier::wait));
  EXPECT_GE(sw.elapsed(), Tier::wait - 0.01);
  EXPECT_EQ(assertion_code([&] { lock.release(); }), 0);
  EXPECT_TRUE(lock.locked());
}

TEST(RLock, RobustModeHandsAKilledOwnersRLockToTheNextAcquirer) {
  // mpref extension, as L-DEAD-3's divergence for Lock: the new owner holds it with count 1.
  MPC_CLAUSE("L-DEAD-3");
  RLock lock(LockOptions{.robust = true});
  Semaphore ready(0);
  Child owner = start_owner(lock, ready);
  ASSERT_TRUE(ready.acquire(true, Tier::bound()));
  owner.kill_now();
  owner.wait(Tier::bound());
  EXPECT_THROW(lock.acquire(true, Tier::wait), mpref::OwnerDiedError);
  EXPECT_TRUE(lock.is_mine());
  EXPECT_EQ(lock.recursion_count(), 1U);
  lock.release();
  EXPECT_FALSE(lock.locked());
}

}  // namespace
