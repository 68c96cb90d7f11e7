// mpref::JoinableQueue and mpref::SimpleQueue against spec/clauses/queues.json ("cpp").
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "clause.hpp"
#include "fork_child.hpp"
#include "mpref/queues.hpp"

using qtest::Child;
using qtest::raised;
using qtest::timed;

// ---- JoinableQueue ----------------------------------------------------------------------------

TEST(JoinableQueue, JoinOnAFreshQueueReturnsAtOnce) {
  MPC_CLAUSE("JQ-1");
  mpref::JoinableQueue<int> q;
  EXPECT_LT(timed([&] { q.join(); }), 0.1);
}

TEST(JoinableQueue, JoinBlocksUntilEverySuccessfulPutIsTaskDone) {
  MPC_CLAUSE("JQ-9");
  mpref::JoinableQueue<int> q;
  q.put(1);
  q.put(2);
  EXPECT_EQ(q.unfinished_tasks(), 2u);
  q.task_done();
  EXPECT_FALSE(q.join(qtest::kShort));  // still blocked after one task_done()
  Child c = Child::spawn([&] {
    ::usleep(200000);
    q.task_done();
  });
  const double t = timed([&] { q.join(); });
  EXPECT_GE(t, 0.1);
  EXPECT_EQ(c.finish(), 0);
  EXPECT_EQ(q.unfinished_tasks(), 0u);
}

TEST(JoinableQueue, AFullPutDoesNotCount) {
  MPC_CLAUSE("JQ-10");
  mpref::JoinableQueue<int> q(1);
  q.put(1);
  EXPECT_EQ(raised<mpref::Full>([&] { q.put_nowait(2); }), "");
  EXPECT_EQ(q.get(), 1);
  q.task_done();
  EXPECT_LT(timed([&] { q.join(); }), 0.1);
}

TEST(JoinableQueue, TaskDoneAtZeroRaises) {
  MPC_CLAUSE("JQ-2");
  mpref::JoinableQueue<int> q;
  EXPECT_EQ(raised<mpref::ValueError>([&] { q.task_done(); }), "task_done() called too many times");
  q.put(1);
  q.task_done();
  EXPECT_EQ(raised<mpref::ValueError>([&] { q.task_done(); }), "task_done() called too many times");
  EXPECT_EQ(q.unfinished_tasks(), 0u);
}

TEST(JoinableQueue, GetDoesNotAffectJoin) {
  MPC_CLAUSE("JQ-3");
  mpref::JoinableQueue<int> q;
  q.put(1);
  EXPECT_EQ(q.get(), 1);
  EXPECT_FALSE(q.join(qtest::kShort));
  q.task_done();
  EXPECT_TRUE(q.join(0.0));
}

TEST(JoinableQueue, TaskDoneIsNotTiedToGet) {
  MPC_CLAUSE("JQ-11");
  mpref::JoinableQueue<int> q;
  q.put(1);
  q.put(2);
  EXPECT_EQ(q.get(), 1);
  q.task_done();
  q.task_done();
  EXPECT_LT(timed([&] { q.join(); }), 0.1);
  EXPECT_EQ(q.qsize(), 1u);
}

TEST(JoinableQueue, ASlotIsFreedByGetNotByTaskDone) {
  MPC_CLAUSE("JQ-5");
  mpref::JoinableQueue<int> q(1);
  q.put(1);
  EXPECT_EQ(q.get(), 1);
  q.put_nowait(2);  // no task_done() needed
  EXPECT_TRUE(q.full());
}

TEST(JoinableQueue, TheUnfinishedCountCanExceedMaxsize) {
  MPC_CLAUSE("JQ-12");
  mpref::JoinableQueue<int> q(1);
  q.put(1);
  (void)q.get();
  q.put(2);
  (void)q.get();
  EXPECT_EQ(q.unfinished_tasks(), 2u);
  q.task_done();
  EXPECT_FALSE(q.join(qtest::kShort));
  q.task_done();
  EXPECT_TRUE(q.join(0.0));
}

TEST(JoinableQueue, PutAfterCloseNamesTheJoinableQueue) {
  MPC_CLAUSE("JQ-7");
  mpref::JoinableQueue<int> q;
  q.close();
  const std::string m = raised<mpref::ValueError>([&] { q.put(1); });
  EXPECT_EQ(m, "Queue " + q.repr() + " is closed");
  EXPECT_EQ(m.rfind("Queue <multiprocessing.queues.JoinableQueue object at 0x", 0), 0u) << m;
}

TEST(JoinableQueue, TaskDoneAndJoinIgnoreClose) {
  MPC_CLAUSE("JQ-13");
  mpref::JoinableQueue<int> q;
  q.close();
  EXPECT_EQ(raised<mpref::ValueError>([&] { q.task_done(); }), "task_done() called too many times");
  EXPECT_LT(timed([&] { q.join(); }), 0.1);
}

TEST(JoinableQueue, WorkerPatternAcrossProcesses) {
  MPC_CLAUSE("JQ-8");
  mpref::JoinableQueue<int> q;
  std::vector<Child> workers;
  for (int w = 0; w < 3; ++w)
    workers.push_back(Child::spawn([&] {
      for (;;) {
        const int item = q.get(true, qtest::kLong);
        if (item < 0) {
          q.task_done();
          return;
        }
        q.task_done();
      }
    }));
  for (int i = 0; i < 12; ++i) q.put(i);
  EXPECT_TRUE(q.join(qtest::kLong));
  for (int w = 0; w < 3; ++w) q.put(-1);
  EXPECT_TRUE(q.join(qtest::kLong));
  for (auto& w : workers) EXPECT_EQ(w.finish(), 0);
}

TEST(JoinableQueue, JoinIsExactUnderManyProducersAndConsumers) {
  MPC_CLAUSE("JQ-8", "JQ-9");
  constexpr int kProducers = 3, kConsumers = 3, kItems = 3000;
  mpref::JoinableQueue<int> q(16);
  std::vector<Child> kids;
  for (int c = 0; c < kConsumers; ++c)
    kids.push_back(Child::spawn([&] {
      for (;;) {
        const int v = q.get(true, qtest::kLong);
        q.task_done();
        if (v < 0) return;
      }
    }));
  std::vector<Child> producers;
  for (int p = 0; p < kProducers; ++p)
    producers.push_back(Child::spawn([&] {
      for (int i = 0; i < kItems; ++i) q.put(i, true, qtest::kLong);
    }));
  for (auto& p : producers) EXPECT_EQ(p.finish(), 0);
  EXPECT_TRUE(q.join(qtest::kLong));
  EXPECT_EQ(q.unfinished_tasks(), 0u);
  EXPECT_TRUE(q.empty());
  for (int c = 0; c < kConsumers; ++c) q.put(-1);
  EXPECT_TRUE(q.join(qtest::kLong));
  for (auto& k : kids) EXPECT_EQ(k.finish(), 0);
}

TEST(JoinableQueue, JoinWithTimeoutFollowsTheTimeoutRules) {
  mpref::JoinableQueue<int> q;
  q.put(1);
  EXPECT_FALSE(q.join(-1.0));
  EXPECT_FALSE(q.join(0.0));
  const double t = timed([&] { EXPECT_FALSE(q.join(qtest::kShort)); });
  EXPECT_GE(t, qtest::kShort - 0.01);
  EXPECT_LT(t, qtest::kShort + qtest::kSlack);
}

// ---- SimpleQueue ------------------------------------------------------------------------------

TEST(SimpleQueue, EmptyIsExact) {
  MPC_CLAUSE("SQ-8");
  mpref::SimpleQueue<int> q;
  EXPECT_TRUE(q.empty());
  q.put(1);
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.get(), 1);
  EXPECT_TRUE(q.empty());
}

TEST(SimpleQueue, PutDoesNotBlockOnALargeUnreadItem) {
  MPC_CLAUSE("SQ-9");
  mpref::SimpleQueue<mpref::Bytes> q;
  const mpref::Bytes big(1 << 20, std::byte{4});
  EXPECT_LT(timed([&] {
              q.put(big);
              q.put(big);
            }),
            qtest::kSlow);
  Child c = Child::spawn([&] {
    CHILD_CHECK(q.get(qtest::kLong) == big);
    CHILD_CHECK(q.get(qtest::kLong) == big);
  });
  EXPECT_EQ(c.finish(), 0);
}

TEST(SimpleQueue, ItemsCrossProcessesOnceWholeInOrder) {
  MPC_CLAUSE("SQ-10");
  mpref::SimpleQueue<std::vector<int>> q;
  std::vector<Child> producers;
  for (int p = 0; p < 2; ++p)
    producers.push_back(Child::spawn([&, p] {
      for (int i = 0; i < 2000; ++i) q.put(std::vector<int>(static_cast<std::size_t>(1 + i % 50), p * 100000 + i));
    }));
  std::vector<int> next(2, 0);
  for (int n = 0; n < 4000; ++n) {
    const std::vector<int> v = q.get(qtest::kLong);
    ASSERT_FALSE(v.empty());
    const int p = v[0] / 100000, i = v[0] % 100000;
    ASSERT_EQ(i, next[static_cast<std::size_t>(p)]++);
    ASSERT_EQ(v, std::vector<int>(static_cast<std::size_t>(1 + i % 50), v[0]));
  }
  EXPECT_TRUE(q.empty());
  for (auto& p : producers) EXPECT_EQ(p.finish(), 0);
}

TEST(SimpleQueue, GetBlocksWithNoBoundUntilAPut) {
  MPC_CLAUSE("SQ-3");
  mpref::SimpleQueue<int> q;
  Child c = Child::spawn([&] { CHILD_CHECK(q.get() == 5); });
  EXPECT_FALSE(c.join(0.5));  // still blocked
  q.put(5);
  EXPECT_EQ(c.finish(), 0);
}

TEST(SimpleQueue, CloseIsRepeatable) {
  MPC_CLAUSE("SQ-4");
  mpref::SimpleQueue<int> q;
  q.close();
  q.close();
  EXPECT_TRUE(q.closed());
}

TEST(SimpleQueue, AfterCloseEveryCallRaisesHandleIsClosed) {
  MPC_CLAUSE("SQ-11");
  mpref::SimpleQueue<int> q;
  q.put(1);
  q.close();
  EXPECT_EQ(raised<mpref::OSError>([&] { q.put(2); }), "handle is closed");
  EXPECT_EQ(raised<mpref::OSError>([&] { q.get(); }), "handle is closed");
  EXPECT_EQ(raised<mpref::OSError>([&] { (void)q.empty(); }), "handle is closed");
  try {
    q.put(2);
  } catch (const mpref::OSError& e) {
    EXPECT_EQ(e.python_type(), "OSError");
    EXPECT_EQ(e.errno_value(), 0);
  }
}

TEST(SimpleQueue, GetWithTimeoutExtension) {
  mpref::SimpleQueue<int> q;
  EXPECT_EQ(raised<mpref::Empty>([&] { q.get(-1.0); }), "");
  const double t = timed([&] { EXPECT_EQ(raised<mpref::Empty>([&] { q.get(qtest::kShort); }), ""); });
  EXPECT_GE(t, qtest::kShort - 0.01);
  EXPECT_LT(t, qtest::kShort + qtest::kSlack);
  q.put(3);
  EXPECT_EQ(q.get(0.0), 3);
}
