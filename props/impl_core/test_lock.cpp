// mpref::Lock against spec/clauses/synchronize.json (L-*), one behaviour per test.
#include <atomic>
#include <barrier>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "clause.hpp"
#include "fault_injection.hpp"
#include "mpref/synchronize.hpp"
#include "support.hpp"

namespace {

using core_test::Child;
using core_test::Stopwatch;
using core_test::Tier;
using mpref::Lock;
using mpref::LockOptions;
using mpref::Semaphore;

// A child that takes `lock`, signals `ready`, then sleeps until killed (or `bound` passes).
Child start_holder(const Lock& lock, const Semaphore& ready) {
  return Child([&] {
    if (!lock.acquire(true, Tier::bound())) return 3;
    ready.release();
    sleep(static_cast<unsigned>(Tier::bound()) + 1);
    return 0;
  });
}

TEST(Lock, AcquireOnFreeLockReturnsTrue) {
  MPC_CLAUSE("L-ACQ-1");
  Lock lock;
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire());
  EXPECT_TRUE(lock.locked());
  lock.release();
  EXPECT_TRUE(lock.acquire(true, std::nullopt));
  lock.release();
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(Lock, NonBlockingAcquireOnHeldLockFailsAtOnce) {
  MPC_CLAUSE("L-ACQ-2");
  Lock lock;
  ASSERT_TRUE(lock.acquire());
  Stopwatch sw;
  EXPECT_FALSE(lock.acquire(false));
  EXPECT_LT(sw.elapsed(), Tier::at_once());
  lock.release();
}

TEST(Lock, TimedAcquireOnLockHeldByAnotherThreadFailsAfterTimeout) {
  MPC_CLAUSE("L-ACQ-6");
  Lock lock;
  ASSERT_TRUE(lock.acquire());
  bool got = true;
  double took = 0;
  std::thread t([&] {
    Stopwatch sw;
    got = lock.acquire(true, Tier::wait);
    took = sw.elapsed();
  });
  t.join();
  EXPECT_FALSE(got);
  EXPECT_GE(took, Tier::wait - 0.01);
  EXPECT_LT(took, Tier::wait + Tier::late());
  lock.release();
}

TEST(Lock, TimedAcquireOnLockHeldByAnotherProcessFailsAfterTimeout) {
  MPC_CLAUSE("L-ACQ-6");
  Lock lock;
  Semaphore ready(0);
  Child holder = start_holder(lock, ready);
  ASSERT_TRUE(ready.acquire(true, Tier::bound()));
  Stopwatch sw;
  EXPECT_FALSE(lock.acquire(true, Tier::wait));
  double took = sw.elapsed();
  EXPECT_GE(took, Tier::wait - 0.01);
  EXPECT_LT(took, Tier::wait + Tier::late());
  holder.kill_now();
  holder.wait(Tier::bound());
}

TEST(Lock, ZeroAndNegativeTimeoutsDoNotWait) {
  MPC_CLAUSE("L-ACQ-7");
  Lock lock;
  ASSERT_TRUE(lock.acquire());
  for (double t : {0.0, -1.0, -1e9}) {
    Stopwatch sw;
    EXPECT_FALSE(lock.acquire(true, t)) << "timeout " << t;
    EXPECT_LT(sw.elapsed(), Tier::at_once()) << "timeout " << t;
  }
  lock.release();
}

TEST(Lock, TimeoutIsIgnoredWhenNotBlocking) {
  MPC_CLAUSE("L-ACQ-8");
  Lock lock;
  ASSERT_TRUE(lock.acquire());
  for (double t : {5.0, -1.0}) {
    Stopwatch sw;
    EXPECT_FALSE(lock.acquire(false, t)) << "timeout " << t;
    EXPECT_LT(sw.elapsed(), Tier::at_once()) << "timeout " << t;
  }
  lock.release();
  EXPECT_TRUE(lock.acquire(false, -1.0));  // and a free lock is still taken
  lock.release();
}

TEST(Lock, UnboundedAcquireReturnsWhenAnotherThreadReleases) {
  MPC_CLAUSE("L-ACQ-9");
  Lock lock;
  Semaphore done(0);
  ASSERT_TRUE(lock.acquire());
  std::atomic<bool> got{false};
  std::thread waiter([&] {
    got = lock.acquire();
    done.release();
  });
  EXPECT_FALSE(done.acquire(true, 0.1));  // still blocked while held
  lock.release();
  EXPECT_TRUE(done.acquire(true, Tier::bound()));
  waiter.join();
  EXPECT_TRUE(got);
  lock.release();
}

TEST(Lock, UnboundedAcquireReturnsWhenAnotherProcessReleases) {
  MPC_CLAUSE("L-ACQ-9");
  Lock lock;
  Semaphore started(0);
  ASSERT_TRUE(lock.acquire());
  Child waiter([&] {
    started.release();
    return lock.acquire(true, std::nullopt) ? 0 : 1;
  });
  ASSERT_TRUE(started.acquire(true, Tier::bound()));
  usleep(100000);
  lock.release();
  auto r = waiter.wait(Tier::bound());
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(lock.locked());  // the child took it and died holding it
}

TEST(Lock, AWaiterIsNotStrandedByAReleaserThatNeverWakesIt) {
  MPC_CLAUSE("L-ACQ-9");
  // The releaser runs with every shared FUTEX_WAKE dropped: the state a process killed between
  // its release and its wake-up call leaves. The waiter still takes the lock, by looking again.
  Lock lock;
  ASSERT_TRUE(lock.acquire());
  Child waiter([&] { return lock.acquire(true, std::nullopt) ? 0 : 1; });
  ASSERT_TRUE(mpconform::testing::wait_until_asleep(waiter.pid(), Tier::bound()));
  Child releaser([&] {
    if (!mpconform::testing::drop_futex_wakes()) return 2;
    lock.release();
    return 0;
  });
  auto rr = releaser.wait(Tier::bound());
  EXPECT_TRUE(rr.ok()) << rr.describe();
  auto r = waiter.wait(Tier::bound());
  EXPECT_TRUE(r.ok()) << "still asleep on a free lock: " << r.describe();
}

TEST(Lock, IsNotReentrant) {
  MPC_CLAUSE("L-ACQ-3");
  Lock lock;
  ASSERT_TRUE(lock.acquire());
  Stopwatch sw;
  EXPECT_FALSE(lock.acquire(true, Tier::wait));
  EXPECT_GE(sw.elapsed(), Tier::wait - 0.01);
  lock.release();
}

TEST(Lock, ReleaseOfUnlockedLockRaisesValueError) {
  MPC_CLAUSE("L-REL-1");
  Lock lock;
  try {
    lock.release();
    FAIL() << "no exception";
  } catch (const mpref::ValueError& e) {
    EXPECT_STREQ(e.what(), "semaphore or lock released too many times");
    EXPECT_EQ(e.python_type(), "ValueError");
  }
  ASSERT_TRUE(lock.acquire());
  lock.release();
  EXPECT_THROW(lock.release(), mpref::ValueError);
}

TEST(Lock, AnotherThreadMayRelease) {
  MPC_CLAUSE("L-REL-2");
  Lock lock;
  ASSERT_TRUE(lock.acquire());
  std::thread t([&] { lock.release(); });
  t.join();
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(Lock, AnotherProcessMayRelease) {
  MPC_CLAUSE("L-REL-3");
  Lock lock;
  ASSERT_TRUE(lock.acquire());
  Child releaser([&] {
    lock.release();
    return 0;
  });
  auto r = releaser.wait(Tier::bound());
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_FALSE(lock.locked());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(Lock, RacingReleasesOfAHeldLockNeverBothPass) {
  // Racy in CPython (both may pass); mpref's check is atomic, so it is always the first allowed
  // outcome: one release passes, the other raises.
  MPC_CLAUSE("L-REL-4");
  Lock lock;
  constexpr int rounds = 300;
  std::atomic<int> passed{0}, raised{0};
  std::barrier start(3), end(3);
  auto racer = [&] {
    for (int i = 0; i < rounds; ++i) {
      start.arrive_and_wait();
      try {
        lock.release();
        ++passed;
      } catch (const mpref::ValueError&) {
        ++raised;
      }
      end.arrive_and_wait();
    }
  };
  std::thread a(racer), b(racer);
  int not_free = 0;
  for (int i = 0; i < rounds; ++i) {
    if (!lock.acquire(false)) ++not_free;
    start.arrive_and_wait();
    end.arrive_and_wait();
  }
  a.join();
  b.join();
  EXPECT_EQ(not_free, 0);
  EXPECT_EQ(passed.load(), rounds);
  EXPECT_EQ(raised.load(), rounds);
}

TEST(Lock, GuardReleasesOnScopeExitAndOnException) {
  MPC_CLAUSE("L-CTX-2");
  Lock lock;
  {
    std::lock_guard<const Lock> g(lock);
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
  EXPECT_THROW(
      {
        std::lock_guard<const Lock> g(lock);
        throw std::runtime_error("in the block");
      },
      std::runtime_error);
  EXPECT_FALSE(lock.locked());
  EXPECT_THROW(
      {
        mpref::Guard<Lock> g(lock);
        EXPECT_FALSE(g.owner_died());
        EXPECT_TRUE(lock.locked());
        throw std::runtime_error("in the block");
      },
      std::runtime_error);
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, KilledHolderLeavesTheLockLocked) {
  MPC_CLAUSE("L-DEAD-1");
  Lock lock;
  Semaphore ready(0);
  Child holder = start_holder(lock, ready);
  ASSERT_TRUE(ready.acquire(true, Tier::bound()));
  holder.kill_now();
  auto r = holder.wait(Tier::bound());
  EXPECT_EQ(r.signal, SIGKILL) << r.describe();
  EXPECT_TRUE(lock.locked());
  Stopwatch sw;
  EXPECT_FALSE(lock.acquire(true, Tier::wait));
  EXPECT_GE(sw.elapsed(), Tier::wait - 0.01);
  // Also in any other process.
  Child other([&] { return lock.acquire(true, Tier::wait) ? 1 : 0; });
  auto o = other.wait(Tier::bound());
  EXPECT_TRUE(o.ok()) << o.describe();
}

TEST(Lock, SurvivorMayReleaseAKilledHoldersLock) {
  MPC_CLAUSE("L-DEAD-2");
  Lock lock;
  Semaphore ready(0);
  Child holder = start_holder(lock, ready);
  ASSERT_TRUE(ready.acquire(true, Tier::bound()));
  holder.kill_now();
  holder.wait(Tier::bound());
  ASSERT_TRUE(lock.locked());
  EXPECT_NO_THROW(lock.release());
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(Lock, DefaultModeNeverReportsTheOwnersDeath) {
  MPC_CLAUSE("L-DEAD-3");
  Lock lock;
  EXPECT_FALSE(lock.robust());
  Semaphore ready(0);
  Child holder = start_holder(lock, ready);
  ASSERT_TRUE(ready.acquire(true, Tier::bound()));
  holder.kill_now();
  holder.wait(Tier::bound());
  bool got = true;
  EXPECT_NO_THROW(got = lock.acquire(true, Tier::wait));
  EXPECT_FALSE(got);
  EXPECT_NO_THROW(got = lock.acquire(false));
  EXPECT_FALSE(got);
}

TEST(Lock, RobustModeTellsTheNextAcquirerThatTheHolderWasKilled) {
  // mpref extension (L-DEAD-3's divergence): the next acquirer gets OwnerDiedError, holding it.
  MPC_CLAUSE("L-DEAD-3");
  Lock lock(LockOptions{.robust = true});
  EXPECT_TRUE(lock.robust());
  Semaphore ready(0);
  Child holder = start_holder(lock, ready);
  ASSERT_TRUE(ready.acquire(true, Tier::bound()));
  holder.kill_now();
  holder.wait(Tier::bound());
  Stopwatch sw;
  EXPECT_THROW(lock.acquire(), mpref::OwnerDiedError);
  EXPECT_LT(sw.elapsed(), Tier::at_once());  // already dead: noticed before any wait
  EXPECT_TRUE(lock.locked());
  EXPECT_FALSE(lock.acquire(false));  // the caller holds it now; nobody else died
  lock.release();
  EXPECT_TRUE(lock.acquire(false));
  lock.release();
}

TEST(Lock, RobustWaiterWakesWhenTheHolderIsKilledWhileItWaits) {
  // The holder is SIGKILLed while a waiter in another process is blocked in acquire(); the
  // parent does not reap it until the end, so the waiter must also see through a zombie.
  MPC_CLAUSE("L-DEAD-3");
  Lock lock(LockOptions{.robust = true});
  Semaphore ready(0), waiting(0);
  Child holder = start_holder(lock, ready);
  ASSERT_TRUE(ready.acquire(true, Tier::bound()));
  Child waiter([&] {
    waiting.release();
    try {
      lock.acquire(true, Tier::bound());
      return 1;  // returned without noticing
    } catch (const mpref::OwnerDiedError&) {
      lock.release();
      return 0;
    }
  });
  ASSERT_TRUE(waiting.acquire(true, Tier::bound()));
  usleep(100000);  // let it block
  Stopwatch sw;
  holder.kill_now();
  auto r = waiter.wait(Tier::bound());
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_LT(sw.elapsed(), 0.05 + Tier::late());
  holder.wait(Tier::bound());
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, RobustGuardReportsTheTakeoverInsteadOfThrowing) {
  MPC_CLAUSE("L-DEAD-3");
  Lock lock(LockOptions{.robust = true});
  Semaphore ready(0);
  Child holder = start_holder(lock, ready);
  ASSERT_TRUE(ready.acquire(true, Tier::bound()));
  holder.kill_now();
  holder.wait(Tier::bound());
  {
    mpref::Guard<Lock> g(lock);
    EXPECT_TRUE(g.owner_died());
    EXPECT_TRUE(lock.locked());
  }
  EXPECT_FALSE(lock.locked());
  mpref::Guard<Lock> again(lock);
  EXPECT_FALSE(again.owner_died());
}

TEST(Lock, ChildSeesTheParentsHeldLockAndViceVersa) {
  MPC_CLAUSE("L-FORK-1");
  Lock lock;
  ASSERT_TRUE(lock.acquire());
  Child sees([&] { return lock.acquire(true, Tier::wait) ? 1 : 0; });
  auto r = sees.wait(Tier::bound());
  EXPECT_TRUE(r.ok()) << r.describe();
  lock.release();
  Semaphore taken(0), finish(0);
  Child holder([&] {
    if (!lock.acquire(false)) return 1;
    taken.release();
    return finish.acquire(true, Tier::bound()) ? 0 : 2;
  });
  ASSERT_TRUE(taken.acquire(true, Tier::bound()));
  EXPECT_FALSE(lock.acquire(true, Tier::wait));
  finish.release();
  r = holder.wait(Tier::bound());
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(Lock, CopiesAreTheSameLock) {
  Lock a;
  Lock b = a;
  Lock c;
  EXPECT_TRUE(a == b);
  EXPECT_FALSE(a == c);
  ASSERT_TRUE(a.acquire());
  EXPECT_TRUE(b.locked());
  b.release();
  EXPECT_FALSE(a.locked());
}

TEST(Lock, MutualExclusionAcrossProcesses) {
  // Four processes, released together, increment a plain shared counter under the lock: no
  // update is lost.
  Lock lock;
  Semaphore gate(0);
  auto counter = mpref::detail::Shared<long>::make(0L);
  constexpr int procs = 4, per = 50000;
  std::vector<std::unique_ptr<Child>> kids;
  for (int p = 0; p < procs; ++p)
    kids.push_back(std::make_unique<Child>([&] {
      if (!gate.acquire(true, Tier::bound())) return 1;
      for (int i = 0; i < per; ++i) {
        std::lock_guard<const Lock> g(lock);
        long v = *counter;
        *counter = v + 1;
      }
      return 0;
    }));
  for (int p = 0; p < procs; ++p) gate.release();
  for (auto& k : kids) {
    auto r = k->wait(Tier::bound() * 3);
    EXPECT_TRUE(r.ok()) << r.describe();
  }
  EXPECT_EQ(*counter, long{procs} * per);
  EXPECT_FALSE(lock.locked());
}

TEST(Lock, TimedAndUntimedWaitersNeverLoseAWakeUp) {
  // Stress for the futex protocol: waiters that time out must pass on a wake-up they consumed,
  // or an untimed waiter would sleep forever (the child would then hit its bound and fail).
  Lock lock;
  Semaphore gate(0);
  auto counter = mpref::detail::Shared<long>::make(0L);
  constexpr int procs = 4, per = 3000;
  std::vector<std::unique_ptr<Child>> kids;
  for (int p = 0; p < procs; ++p)
    kids.push_back(std::make_unique<Child>([&, p] {
      if (!gate.acquire(true, Tier::bound())) return 1;
      long mine = 0;
      for (int i = 0; i < per; ++i) {
        bool timed = (p + i) % 2 == 0;
        if (timed ? lock.acquire(true, 1e-5 * (i % 7)) : lock.acquire()) {
          *counter += 1;
          ++mine;
          if (i % 64 == 0) usleep(50);  // sometimes hold it long enough for sleepers to pile up
          lock.release();
        }
      }
      return mine > 0 ? 0 : 2;
    }));
  for (int p = 0; p < procs; ++p) gate.release();
  for (auto& k : kids) {
    auto r = k->wait(Tier::bound() * 3);
    EXPECT_TRUE(r.ok()) << r.describe();
  }
  EXPECT_GE(*counter, long{procs} * per / 2);  // every untimed acquire succeeded
  EXPECT_FALSE(lock.locked());
}

}  // namespace
