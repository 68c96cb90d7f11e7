// The building blocks of the two-sided queue ring (mpref/detail/queue_core.hpp): Committed
// (one-step commits, lock-free snapshots), FutexEvent (no lost wake-ups without a common
// lock), and what the split buys: a producer never waits for a consumer's lock; and no sleeper
// is stranded by a process that died between committing and waking it.
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

#include "clause.hpp"
#include "fault_injection.hpp"
#include "fork_child.hpp"
#include "mpref/connection.hpp"
#include "mpref/detail/committed.hpp"
#include "mpref/detail/futex_event.hpp"
#include "mpref/detail/shared_memory.hpp"
#include "mpref/queues.hpp"

using mpref::detail::Committed;
using mpref::detail::Deadline;
using mpref::detail::FutexEvent;
using mpref::detail::Shared;
using qtest::Child;
using qtest::StallSink;

namespace {

/// A record big enough that writing it takes a while: a torn write or read shows as words
/// that differ.
struct Wide {
  std::array<std::uint64_t, 64> w{};
  [[nodiscard]] bool uniform() const {
    for (std::uint64_t x : w)
      if (x != w[0]) return false;
    return true;
  }
};
Wide filled(std::uint64_t v) {
  Wide r;
  r.w.fill(v);
  return r;
}

}  // namespace

TEST(Committed, SnapshotsTakenDuringCommitsAreWholeAndInOrder) {
  auto c = Shared<Committed<Wide>>::make();
  auto stop = Shared<std::atomic<std::uint32_t>>::make();
  Child writer = Child::spawn([&] {
    for (std::uint64_t v = 1; stop->load(std::memory_order_relaxed) == 0; ++v) c->commit(filled(v));
  });
  // Until the reader has seen 20000 different values (not a time: on a loaded machine the
  // writer may hardly run for a while).
  std::uint64_t last = 0, torn = 0, backwards = 0, moved = 0;
  const Deadline bound = Deadline::after(qtest::kLong);
  while (moved < 20000 && !bound.expired()) {
    const Wide s = c->snapshot();
    if (!s.uniform()) ++torn;
    if (s.w[0] < last) ++backwards;
    if (s.w[0] != last) ++moved;
    last = s.w[0];
  }
  stop->store(1);
  EXPECT_EQ(writer.finish(), 0);
  EXPECT_EQ(torn, 0u);
  EXPECT_EQ(backwards, 0u);
  EXPECT_GE(moved, 20000u) << "the writer hardly ran: the test proved nothing";
}

TEST(Committed, AWriterKilledAtAnyInstantLeavesAWholeValue) {
  auto c = Shared<Committed<Wide>>::make();
  int torn = 0;
  std::uint64_t last = 0;
  for (int round = 0; round < 60; ++round) {
    Child writer = Child::spawn([&] {
      for (std::uint64_t v = last + 1;; ++v) c->commit(filled(v));
    });
    // Kill at an arbitrary instant once the writer is running (it may not be scheduled soon on
    // a loaded machine).
    const Deadline bound = Deadline::after(qtest::kLong);
    while (c->snapshot().w[0] == last && !bound.expired()) ::usleep(50);
    ASSERT_GT(c->snapshot().w[0], last) << "the writer never ran";
    ::usleep(static_cast<useconds_t>(200 + (round * 337) % 2000));
    writer.kill(SIGKILL);
    ASSERT_TRUE(writer.join(qtest::kLong));
    const Wide now = c->owned();
    if (!now.uniform()) ++torn;
    EXPECT_GE(now.w[0], last);
    last = now.w[0];
    c->commit(filled(last));  // the next writer starts from a known whole value
  }
  EXPECT_EQ(torn, 0);
}

TEST(FutexEvent, ANotifyAfterPrepareMakesWaitReturnAtOnce) {
  FutexEvent e;
  const std::uint32_t seen = e.prepare_wait();
  EXPECT_TRUE(e.has_waiters());
  e.notify();
  EXPECT_FALSE(e.has_waiters());
  const double t0 = qtest::now();
  EXPECT_TRUE(e.wait(seen, Deadline::after(5.0)));
  EXPECT_LT(qtest::now() - t0, 1.0);
}

TEST(FutexEvent, WaitTimesOutWithoutANotify) {
  FutexEvent e;
  EXPECT_FALSE(e.wait(e.prepare_wait(), Deadline::now()));
  const double t0 = qtest::now();
  EXPECT_FALSE(e.wait(e.prepare_wait(), Deadline::after(qtest::kShort)));
  const double took = qtest::now() - t0;
  EXPECT_GE(took, qtest::kShort - 0.001);
  EXPECT_LT(took, qtest::kShort + qtest::kSlack);
}

TEST(FutexEvent, ANotifyWithNobodyWaitingChangesNothing) {
  FutexEvent e;
  e.notify();
  EXPECT_FALSE(e.has_waiters());
  // The sequence did not move: a wait on a sequence read now still sleeps (and times out).
  const std::uint32_t seen = e.prepare_wait();
  EXPECT_FALSE(e.wait(seen, Deadline::after(0.02)));
}

TEST(FutexEvent, NoWakeUpIsLostBetweenTwoProcessesHandingATokenBackAndForth) {
  // Two processes pass a token 50000 times; each waits for its turn with a 5 s bound. Every
  // handoff ends in a notify that races the other side going to sleep, so a lost wake-up
  // shows as a timed-out wait. A short spin of varying length before announcing lines the
  // waiter's announcement up with the notifier's commit at every offset, the window where a
  // missing fence loses the wake-up.
  struct Handoff {
    std::atomic<std::uint64_t> token{0};  // even: parent's turn; odd: child's turn
    FutexEvent to_parent, to_child;
  };
  auto s = Shared<Handoff>::make();
  constexpr std::uint64_t kRounds = 50000;
  auto await_turn = [](Handoff& sh, FutexEvent& e, std::uint64_t parity, std::uint64_t spin) {
    const Deadline d = Deadline::after(qtest::kLong);
    for (std::uint64_t k = 0; k < spin; ++k) {
      if (sh.token.load(std::memory_order_acquire) % 2 == parity) return true;
      __builtin_ia32_pause();
    }
    for (;;) {
      if (sh.token.load(std::memory_order_acquire) % 2 == parity) return true;
      const std::uint32_t seen = e.prepare_wait();
      if (sh.token.load(std::memory_order_acquire) % 2 == parity) return true;
      if (!e.wait(seen, d)) return false;  // the turn came long ago: its wake-up was lost
    }
  };
  Child child = Child::spawn([&] {
    for (std::uint64_t i = 0; i < kRounds; ++i) {
      CHILD_CHECK(await_turn(*s, s->to_child, 1, i % 23));
      s->token.store(2 * i + 2, std::memory_order_release);  // a plain store, as a queue commits
      s->to_parent.notify();
    }
  });
  for (std::uint64_t i = 0; i < kRounds; ++i) {
    ASSERT_TRUE(await_turn(*s, s->to_parent, 0, i % 29)) << "lost wake-up at round " << i;
    s->token.store(2 * i + 1, std::memory_order_release);
    s->to_child.notify();
  }
  ASSERT_TRUE(await_turn(*s, s->to_parent, 0, 0));
  EXPECT_EQ(child.finish(), 0);
  EXPECT_EQ(s->token.load(), 2 * kRounds);
}

TEST(QueueSides, APutDoesNotWaitForAConsumerStuckHoldingTheGetLock) {
  mpref::Queue<int> q;
  q.put(1);
  auto [r, w] = mpref::Pipe(false);
  Child stuck = Child::spawn([&, w = w] {
    StallSink s{w.fileno()};
    (void)q.core().get(&StallSink::sink, &s, Deadline::forever());
  });
  ASSERT_TRUE(r.poll(qtest::kLong));  // the consumer is inside get(), holding the get lock
  Child producer = Child::spawn([&] {
    for (int i = 2; i < 1000; ++i) q.put_nowait(i);
  });
  EXPECT_TRUE(producer.join(qtest::kLong)) << "put waited for the consumer's lock";
  EXPECT_EQ(producer.exitcode(), 0);
  stuck.kill(SIGKILL);
  ASSERT_TRUE(stuck.join(qtest::kLong));
  // The stuck get never committed: everything is still there, in order.
  EXPECT_EQ(q.qsize(), 999u);
  for (int i = 1; i < 1000; ++i) ASSERT_EQ(q.get_nowait(), i);
}

// ---- a notifier that dies between its commit and its wake-up --------------------------------

namespace {

/// Runs `sleeper` in a child until it is asleep in its wait, then `waker` in another child
/// whose wake-up calls are all dropped (as if it died right before them): the sleeper must
/// still finish, by looking again on its own, soon.
template <class S, class W>
void expect_released_without_a_wakeup(S&& sleeper, W&& waker, const char* still_asleep) {
  Child s = Child::spawn(std::forward<S>(sleeper));
  ASSERT_TRUE(mpconform::testing::wait_until_asleep(s.pid(), qtest::kLong));
  Child w = Child::spawn([&] {
    CHILD_CHECK(mpconform::testing::drop_futex_wakes());
    waker();
  });
  EXPECT_EQ(w.finish(), 0);
  EXPECT_TRUE(s.join(qtest::kLong)) << still_asleep;
  EXPECT_EQ(s.exitcode(), 0);
}

}  // namespace

TEST(QueueSides, AGetAsleepIsNotStrandedByAProducerThatNeverWakesIt) {
  MPC_CLAUSE("Q-TERM-4");
  mpref::Queue<int> q;
  expect_released_without_a_wakeup([&] { CHILD_CHECK(q.get() == 7); },  // no timeout
                                   [&] { q.put(7); },
                                   "get() still asleep with an item in the queue");
}

TEST(QueueSides, APutAsleepOnAFullQueueIsNotStrandedByAConsumerThatNeverWakesIt) {
  MPC_CLAUSE("Q-TERM-4");
  mpref::Queue<int> q(1);
  q.put(1);
  expect_released_without_a_wakeup([&] { q.put(2); },  // full: sleeps, no timeout
                                   [&] { CHILD_CHECK(q.get_nowait() == 1); },
                                   "put() still asleep on a queue with room");
  EXPECT_EQ(q.get_nowait(), 2);
}

TEST(QueueSides, AJoinAsleepIsNotStrandedByATaskDoneThatNeverWakesIt) {
  MPC_CLAUSE("JQ-9");
  mpref::JoinableQueue<int> q;
  q.put(1);
  (void)q.get_nowait();
  expect_released_without_a_wakeup([&] { q.join(); },  // no timeout
                                   [&] { q.task_done(); },
                                   "join() still asleep with no unfinished task");
}

TEST(QueueSides, AJoinIsReleasedByAZeroEvenIfAPutRaisesTheCountBeforeItLooks) {
  MPC_CLAUSE("JQ-9");
  // As CPython's join() (a notify_all at zero releases it): the worker's task_done() makes the
  // count 0 and its next put() raises it again before the joiner can look (the worker's wake-up
  // is dropped, so the joiner only looks on its own, 100 ms later, when the count is 1 again).
  mpref::JoinableQueue<int> q;
  q.put(1);
  (void)q.get_nowait();
  expect_released_without_a_wakeup([&] { q.join(); },
                                   [&] {
                                     q.task_done();
                                     q.put(2);
                                   },
                                   "join() missed the zero");
  EXPECT_EQ(q.unfinished_tasks(), 1u);
}

TEST(QueueSides, AJoinIsNotReleasedByAZeroBeforeItWasCalled) {
  MPC_CLAUSE("JQ-9");
  mpref::JoinableQueue<int> q;
  q.put(1);
  q.task_done();  // 0 here, before the join
  q.put(2);
  const double t0 = qtest::now();
  EXPECT_FALSE(q.join(qtest::kShort));
  EXPECT_GE(qtest::now() - t0, qtest::kShort - 0.001);
}
