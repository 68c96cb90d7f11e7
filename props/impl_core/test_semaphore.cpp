// mpref::Semaphore and BoundedSemaphore against spec/clauses/synchronize.json (S-*, BS-*).
#include <atomic>
#include <barrier>
#include <memory>
#include <cerrno>
#include <mutex>
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
using mpref::BoundedSemaphore;
using mpref::Semaphore;

constexpr const char* too_many = "semaphore or lock released too many times";

TEST(Semaphore, DefaultIsOneAndGetValueTracksTheCount) {
  MPC_CLAUSE("S-1");
  Semaphore one;
  EXPECT_EQ(one.get_value(), 1);
  Semaphore sem(2);
  EXPECT_EQ(sem.get_value(), 2);
  EXPECT_TRUE(sem.acquire());
  EXPECT_EQ(sem.get_value(), 1);
  EXPECT_TRUE(sem.acquire());
  EXPECT_EQ(sem.get_value(), 0);
  EXPECT_FALSE(sem.acquire(false));
  EXPECT_EQ(sem.get_value(), 0);
}

TEST(Semaphore, AcquireAtZeroFollowsTheLockTimeoutRules) {
  MPC_CLAUSE("S-7");
  Semaphore sem(0);
  Stopwatch sw;
  EXPECT_FALSE(sem.acquire(false));
  EXPECT_FALSE(sem.acquire(true, 0.0));
  EXPECT_FALSE(sem.acquire(true, -1.0));
  EXPECT_FALSE(sem.acquire(false, 5.0));
  EXPECT_LT(sw.elapsed(), Tier::at_once());
}

TEST(Semaphore, WithBlockTakesOneUnitAndGivesItBack) {
  MPC_CLAUSE("S-8");
  Semaphore sem(1);
  {
    std::lock_guard<const Semaphore> g(sem);
    EXPECT_EQ(sem.get_value(), 0);
  }
  EXPECT_EQ(sem.get_value(), 1);
  {
    mpref::Guard<Semaphore> g(sem);
    EXPECT_EQ(sem.get_value(), 0);
  }
  EXPECT_EQ(sem.get_value(), 1);
}

TEST(Semaphore, TimedAcquireAtZeroFailsAfterTheTimeout) {
  MPC_CLAUSE("S-5");
  Semaphore sem(0);
  Stopwatch sw;
  EXPECT_FALSE(sem.acquire(true, Tier::wait));
  double took = sw.elapsed();
  EXPECT_GE(took, Tier::wait - 0.01);
  EXPECT_LT(took, Tier::wait + Tier::late());
}

TEST(Semaphore, AWaiterIsNotStrandedByAReleaserThatNeverWakesIt) {
  // As Lock.AWaiterIsNotStrandedByAReleaserThatNeverWakesIt, for the count.
  Semaphore sem(0);
  Child waiter([&] { return sem.acquire(true, std::nullopt) ? 0 : 1; });
  ASSERT_TRUE(mpconform::testing::wait_until_asleep(waiter.pid(), Tier::bound()));
  Child releaser([&] {
    if (!mpconform::testing::drop_futex_wakes()) return 2;
    sem.release();
    return 0;
  });
  auto rr = releaser.wait(Tier::bound());
  EXPECT_TRUE(rr.ok()) << rr.describe();
  auto r = waiter.wait(Tier::bound());
  EXPECT_TRUE(r.ok()) << "still asleep on a positive count: " << r.describe();
}

TEST(Semaphore, MayBeReleasedAboveItsInitialValue) {
  MPC_CLAUSE("S-2");
  Semaphore sem(0);
  for (int i = 0; i < 4; ++i) sem.release();
  EXPECT_EQ(sem.get_value(), 4);
}

TEST(Semaphore, ReleaseAtSemValueMaxRaisesValueError) {
  MPC_CLAUSE("S-9");
  EXPECT_EQ(Semaphore::value_max, 2147483647);
  Semaphore sem(Semaphore::value_max - 1);
  EXPECT_NO_THROW(sem.release());
  EXPECT_EQ(sem.get_value(), 2147483647);
  try {
    sem.release();
    FAIL() << "no exception";
  } catch (const mpref::ValueError& e) {
    EXPECT_STREQ(e.what(), too_many);
  }
  EXPECT_EQ(sem.get_value(), 2147483647);
}

TEST(Semaphore, NegativeInitialValueRaisesOSErrorEINVAL) {
  MPC_CLAUSE("S-4");
  for (int which = 0; which < 2; ++which) {
    try {
      if (which == 0) Semaphore s(-1);
      else BoundedSemaphore s(-1);
      FAIL() << "no exception";
    } catch (const mpref::OSError& e) {
      EXPECT_STREQ(e.what(), "[Errno 22] Invalid argument");
      EXPECT_EQ(e.errno_value(), EINVAL);
      EXPECT_EQ(e.python_type(), "OSError");
    }
  }
}

TEST(BoundedSemaphore, ReleaseAboveTheInitialValueRaisesValueError) {
  MPC_CLAUSE("BS-2");
  BoundedSemaphore zero(0);
  try {
    zero.release();
    FAIL() << "no exception";
  } catch (const mpref::ValueError& e) {
    EXPECT_STREQ(e.what(), too_many);
  }
  BoundedSemaphore two(2);
  EXPECT_THROW(two.release(), mpref::ValueError);
  EXPECT_EQ(two.get_value(), 2);
  ASSERT_TRUE(two.acquire());
  EXPECT_NO_THROW(two.release());
  EXPECT_THROW(two.release(), mpref::ValueError);
  BoundedSemaphore dflt;
  EXPECT_EQ(dflt.get_value(), 1);
}

TEST(BoundedSemaphore, RacingReleasesOneBelowTheBoundLetExactlyOnePass) {
  // Racy in CPython (several may pass); mpref's bound check is atomic, so exactly one passes.
  MPC_CLAUSE("BS-1");
  BoundedSemaphore sem(3);
  constexpr int rounds = 200, racers = 3;
  std::atomic<int> passed{0};
  std::barrier start(racers + 1), end(racers + 1);
  auto racer = [&] {
    for (int i = 0; i < rounds; ++i) {
      start.arrive_and_wait();
      try {
        sem.release();
        ++passed;
      } catch (const mpref::ValueError&) {
      }
      end.arrive_and_wait();
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < racers; ++i) threads.emplace_back(racer);
  int above = 0;
  for (int i = 0; i < rounds; ++i) {
    if (!sem.acquire(false)) ++above;  // one below the bound
    start.arrive_and_wait();
    end.arrive_and_wait();
    if (sem.get_value() != 3) ++above;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(above, 0);
  EXPECT_EQ(passed.load(), rounds);
}

TEST(Semaphore, CountIsSharedWithForkedChildren) {
  Semaphore sem(0);
  Child producer([&] {
    for (int i = 0; i < 3; ++i) sem.release();
    return 0;
  });
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(sem.acquire(true, Tier::bound()));
  auto r = producer.wait(Tier::bound());
  EXPECT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(sem.get_value(), 0);
}

TEST(Semaphore, EachReleaseWakesOneWaitingProcess) {
  Semaphore sem(0), started(0);
  constexpr int kids = 3;
  std::vector<std::unique_ptr<Child>> waiters;
  for (int i = 0; i < kids; ++i)
    waiters.push_back(std::make_unique<Child>([&] {
      started.release();
      return sem.acquire(true, Tier::bound()) ? 0 : 1;
    }));
  for (int i = 0; i < kids; ++i) ASSERT_TRUE(started.acquire(true, Tier::bound()));
  usleep(50000);  // let them sleep
  for (int i = 0; i < kids; ++i) sem.release();
  for (auto& w : waiters) {
    auto r = w->wait(Tier::bound());
    EXPECT_TRUE(r.ok()) << r.describe();
  }
  EXPECT_EQ(sem.get_value(), 0);
}

}  // namespace
