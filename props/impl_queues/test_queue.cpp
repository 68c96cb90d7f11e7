// mpref::Queue against the clauses of spec/clauses/queues.json that apply to "cpp", plus the
// reference's own guarantees (reserve, crash consistency, cross-process FIFO).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include <sys/mman.h>

#include "clause.hpp"
#include "fork_child.hpp"
#include "mpref/connection.hpp"
#include "mpref/queues.hpp"

using qtest::Child;
using qtest::StallSink;
using qtest::raised;
using qtest::timed;

namespace {

bool is_closed_message(const std::string& msg, const std::string& type) {
  const std::string head = "Queue <multiprocessing.queues." + type + " object at 0x";
  const std::string tail = "> is closed";
  return msg.size() > head.size() + tail.size() && msg.compare(0, head.size(), head) == 0 &&
         msg.compare(msg.size() - tail.size(), tail.size(), tail) == 0;
}

}  // namespace

// ---- maxsize -----------------------------------------------------------------------------

TEST(Queue, UnboundedForZeroOrNegativeMaxsize) {
  MPC_CLAUSE("Q-MAX-1");
  for (std::int64_t m : {0, -5}) {
    mpref::Queue<int> q(m);
    for (int i = 0; i < 10000; ++i) q.put_nowait(i);
    EXPECT_FALSE(q.full());
    EXPECT_EQ(q.qsize(), 10000u);
    EXPECT_EQ(q.maxsize(), 0);
  }
}

TEST(Queue, BoundedHoldsExactlyMaxsize) {
  MPC_CLAUSE("Q-MAX-3");
  mpref::Queue<int> q(3);
  for (int i = 0; i < 3; ++i) q.put_nowait(i);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(raised<mpref::Full>([&] { q.put_nowait(3); }), "");
}

TEST(Queue, UnboundedPutRaisesCapacityErrorPastTheReserveAndChangesNothing) {
  MPC_CLAUSE("Q-MAX-6");
  mpref::Queue<mpref::Bytes> q(0, mpref::QueueOptions{1 << 20});  // 1 MiB reserve
  const mpref::Bytes item(100 * 1024, std::byte{7});
  int n = 0;
  std::string err;
  for (; n < 100; ++n) {
    err = raised<mpref::CapacityError>([&] { q.put(item); });
    if (err != "<no exception>") break;
  }
  EXPECT_EQ(n, 10);  // 10 x (100 KiB + 8) fit in 1 MiB, the 11th does not
  EXPECT_NE(err.find("reserve"), std::string::npos) << err;
  EXPECT_EQ(q.qsize(), 10u);
  // Not blocked, not truncated: the queue still works and holds whole items.
  EXPECT_EQ(q.get(), item);
  q.put(item);  // room again
  for (int i = 0; i < 10; ++i) EXPECT_EQ(q.get_nowait(), item);
  EXPECT_TRUE(q.empty());
  // A message larger than the whole reserve.
  EXPECT_NE(raised<mpref::CapacityError>([&] { q.put(mpref::Bytes(2 << 20)); }).find("reserve"),
            std::string::npos);
  EXPECT_TRUE(q.empty());
}

// ---- put ---------------------------------------------------------------------------------

TEST(Queue, PutAddsAnItem) {
  MPC_CLAUSE("Q-PUT-1");
  mpref::Queue<int> q(2);
  q.put(1);
  EXPECT_EQ(q.qsize(), 1u);
  q.put_nowait(2);
  EXPECT_EQ(q.qsize(), 2u);
}

TEST(Queue, PutOnFullBlocksUntilAGetInAnotherProcess) {
  MPC_CLAUSE("Q-PUT-2");
  mpref::Queue<int> q(1);
  q.put(1);
  Child c = Child::spawn([&] {
    ::usleep(300000);
    CHILD_CHECK(q.get() == 1);
  });
  const double t = timed([&] { q.put(2); });
  EXPECT_GE(t, 0.25);
  EXPECT_LT(t, 0.3 + qtest::kSlack + 1.0);
  EXPECT_EQ(c.finish(), 0);
  EXPECT_EQ(q.get_nowait(), 2);
}

TEST(Queue, FullNonBlockingRaisesAtOnce) {
  MPC_CLAUSE("Q-FULL-1");
  mpref::Queue<int> q(1);
  q.put(1);
  double t = timed([&] { EXPECT_EQ(raised<mpref::Full>([&] { q.put(2, false); }), ""); });
  EXPECT_LT(t, 0.1);
}

TEST(Queue, FullPutNowaitRaisesAtOnce) {
  MPC_CLAUSE("Q-FULL-2");
  mpref::Queue<int> q(1);
  q.put(1);
  double t = timed([&] { EXPECT_EQ(raised<mpref::Full>([&] { q.put_nowait(2); }), ""); });
  EXPECT_LT(t, 0.1);
  try {
    q.put_nowait(2);
  } catch (const mpref::Full& e) {
    EXPECT_EQ(e.python_type(), "queue.Full");
  }
}

TEST(Queue, FullTimedPutRaisesAfterTheTimeout) {
  MPC_CLAUSE("Q-FULL-3");
  mpref::Queue<int> q(1);
  q.put(1);
  double t = timed([&] { EXPECT_EQ(raised<mpref::Full>([&] { q.put(2, true, qtest::kShort); }), ""); });
  EXPECT_GE(t, qtest::kShort - 0.01);
  EXPECT_LT(t, qtest::kShort + qtest::kSlack);
}

TEST(Queue, FullTimeoutIgnoredWhenNotBlocking) {
  MPC_CLAUSE("Q-FULL-4");
  mpref::Queue<int> q(1);
  q.put(1);
  double t = timed([&] { EXPECT_EQ(raised<mpref::Full>([&] { q.put(2, false, 5.0); }), ""); });
  EXPECT_LT(t, 0.1);
}

TEST(Queue, FullNegativeTimeoutRaisesAtOnce) {
  MPC_CLAUSE("Q-FULL-5");
  mpref::Queue<int> q(1);
  q.put(1);
  double t = timed([&] { EXPECT_EQ(raised<mpref::Full>([&] { q.put(2, true, -1.0); }), ""); });
  EXPECT_LT(t, 0.1);
}

TEST(Queue, FullZeroTimeoutRaisesAtOnce) {
  MPC_CLAUSE("Q-FULL-6");
  mpref::Queue<int> q(1);
  q.put(1);
  double t = timed([&] { EXPECT_EQ(raised<mpref::Full>([&] { q.put(2, true, 0.0); }), ""); });
  EXPECT_LT(t, 0.1);
}

TEST(Queue, FullPutLeavesTheQueueUnchanged) {
  MPC_CLAUSE("Q-FULL-7");
  mpref::Queue<int> q(2);
  q.put(1);
  q.put(2);
  EXPECT_EQ(raised<mpref::Full>([&] { q.put_nowait(3); }), "");
  EXPECT_EQ(raised<mpref::Full>([&] { q.put(3, true, 0.05); }), "");
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_EQ(q.get(), 1);
  EXPECT_EQ(q.get(), 2);
  EXPECT_EQ(raised<mpref::Empty>([&] { q.get_nowait(); }), "");
}

// ---- get ---------------------------------------------------------------------------------

TEST(Queue, GetBlocksUntilAnotherProcessPuts) {
  MPC_CLAUSE("Q-GET-1");
  mpref::Queue<std::string> q;
  Child c = Child::spawn([&] {
    ::usleep(200000);
    q.put("hello");
  });
  std::string got;
  const double t = timed([&] { got = q.get(); });
  EXPECT_EQ(got, "hello");
  EXPECT_GE(t, 0.15);
  EXPECT_EQ(c.finish(), 0);
}

TEST(Queue, GetNowaitReturnsAReadableItem) {
  MPC_CLAUSE("Q-GET-3");
  mpref::Queue<int> q;
  q.put(5);
  ASSERT_FALSE(q.empty());
  EXPECT_EQ(q.get_nowait(), 5);
  q.put(6);
  EXPECT_EQ(q.get(false), 6);
}

TEST(Queue, GetNegativeTimeoutReturnsAReadableItem) {
  MPC_CLAUSE("Q-GET-4");
  mpref::Queue<int> q;
  q.put(5);
  EXPECT_EQ(q.get(true, -1.0), 5);
}

TEST(Queue, GetZeroTimeoutReturnsAReadableItem) {
  MPC_CLAUSE("Q-GET-5");
  mpref::Queue<int> q;
  q.put(5);
  EXPECT_EQ(q.get(true, 0.0), 5);
}

TEST(Queue, EmptyNonBlockingGetRaisesAtOnce) {
  MPC_CLAUSE("Q-EMPTY-1");
  mpref::Queue<int> q;
  double t = timed([&] { EXPECT_EQ(raised<mpref::Empty>([&] { q.get(false); }), ""); });
  EXPECT_LT(t, 0.1);
  try {
    q.get(false);
  } catch (const mpref::Empty& e) {
    EXPECT_EQ(e.python_type(), "queue.Empty");
  }
}

TEST(Queue, EmptyGetNowaitRaisesAtOnce) {
  MPC_CLAUSE("Q-EMPTY-2");
  mpref::Queue<int> q;
  double t = timed([&] { EXPECT_EQ(raised<mpref::Empty>([&] { q.get_nowait(); }), ""); });
  EXPECT_LT(t, 0.1);
}

TEST(Queue, EmptyTimedGetRaisesAfterTheTimeout) {
  MPC_CLAUSE("Q-EMPTY-3");
  mpref::Queue<int> q;
  double t = timed([&] { EXPECT_EQ(raised<mpref::Empty>([&] { q.get(true, qtest::kShort); }), ""); });
  EXPECT_GE(t, qtest::kShort - 0.01);
  EXPECT_LT(t, qtest::kShort + qtest::kSlack);
}

TEST(Queue, EmptyZeroTimeoutRaisesAtOnce) {
  MPC_CLAUSE("Q-EMPTY-4");
  mpref::Queue<int> q;
  double t = timed([&] { EXPECT_EQ(raised<mpref::Empty>([&] { q.get(true, 0.0); }), ""); });
  EXPECT_LT(t, 0.1);
}

TEST(Queue, EmptyNegativeTimeoutRaisesAtOnce) {
  MPC_CLAUSE("Q-EMPTY-5");
  mpref::Queue<int> q;
  double t = timed([&] { EXPECT_EQ(raised<mpref::Empty>([&] { q.get(true, -1.0); }), ""); });
  EXPECT_LT(t, 0.1);
}

TEST(Queue, EmptyTimeoutIgnoredWhenNotBlocking) {
  MPC_CLAUSE("Q-EMPTY-6");
  mpref::Queue<int> q;
  double t = timed([&] { EXPECT_EQ(raised<mpref::Empty>([&] { q.get(false, 5.0); }), ""); });
  EXPECT_LT(t, 0.1);
}

// ---- serialisation, sizes ------------------------------------------------------------------

TEST(Queue, PutCopiesTheValueSoLaterMutationsDoNotShow) {
  MPC_CLAUSE("Q-SER-1", "Q-SER-5");
  mpref::Queue<std::vector<int>> q;
  std::vector<int> v{1};
  q.put(v);
  v.push_back(2);
  Child c = Child::spawn([&] { CHILD_CHECK((q.get(true, qtest::kLong) == std::vector<int>{1})); });
  EXPECT_EQ(c.finish(), 0);
}

TEST(Queue, QsizeIsExactAfterPutAndGet) {
  MPC_CLAUSE("Q-SIZE-2");
  mpref::Queue<int> q;
  q.put(1);
  EXPECT_EQ(q.qsize(), 1u);
  q.put(2);
  EXPECT_EQ(q.qsize(), 2u);
  (void)q.get();
  EXPECT_EQ(q.qsize(), 1u);
}

TEST(Queue, FullIsExactAfterPut) {
  MPC_CLAUSE("Q-SIZE-3");
  mpref::Queue<int> q(2);
  q.put(1);
  EXPECT_FALSE(q.full());
  q.put(2);
  EXPECT_TRUE(q.full());
  EXPECT_EQ(q.qsize(), 2u);
}

TEST(Queue, FreshQueueIsEmpty) {
  MPC_CLAUSE("Q-SIZE-5");
  mpref::Queue<int> q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.qsize(), 0u);
  EXPECT_FALSE(q.full());
}

TEST(Queue, EmptyIsExactlyFalseRightAfterPut) {
  MPC_CLAUSE("Q-SIZE-1", "Q-SIZE-6", "Q-SIZE-7");
  mpref::Queue<int> q;
  for (int i = 0; i < 200; ++i) {
    q.put(i);
    ASSERT_FALSE(q.empty());
    ASSERT_EQ(q.qsize(), 1u);
    ASSERT_FALSE(q.empty());  // stays False until taken
    ASSERT_EQ(q.get_nowait(), i);
    ASSERT_TRUE(q.empty());
  }
}

TEST(Queue, GetNowaitRightAfterPutReturnsTheItem) {
  MPC_CLAUSE("Q-SIZE-8", "Q-SIZE-9");
  mpref::Queue<int> q;
  for (int i = 0; i < 200; ++i) {
    q.put(i);
    ASSERT_EQ(q.get_nowait(), i);
    q.put(i);
    ASSERT_EQ(q.get(false), i);
  }
}

// ---- order -------------------------------------------------------------------------------

TEST(Queue, FifoWithOneProducer) {
  MPC_CLAUSE("Q-ORDER-1");
  mpref::Queue<int> q;
  Child c = Child::spawn([&] {
    for (int i = 0; i < 10000; ++i) q.put(i);
  });
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(q.get(true, qtest::kLong), i);
  EXPECT_EQ(c.finish(), 0);
}

struct Tagged {
  std::uint32_t producer;
  std::uint32_t seq;
  std::array<std::uint32_t, 6> check;  // whole-item check: every word derived from the two
};

Tagged make_tagged(std::uint32_t p, std::uint32_t s) {
  Tagged t{p, s, {}};
  for (std::uint32_t i = 0; i < t.check.size(); ++i) t.check[i] = p * 1000003U + s * 31U + i;
  return t;
}
bool whole(const Tagged& t) { return t.check == make_tagged(t.producer, t.seq).check; }

TEST(Queue, SeveralProducersAndConsumersLoseNothingDuplicateNothingKeepPerProducerOrder) {
  MPC_CLAUSE("Q-ORDER-2");
  constexpr std::uint32_t kProducers = 4, kConsumers = 3, kItems = 20000;
  mpref::Queue<Tagged> q(64);  // bounded: producers also block on full
  // Each consumer records what it took, in order, into a shared result queue at the end.
  mpref::Queue<mpref::Bytes> results;
  std::vector<Child> kids;
  for (std::uint32_t p = 0; p < kProducers; ++p)
    kids.push_back(Child::spawn([&, p] {
      for (std::uint32_t s = 0; s < kItems; ++s) q.put(make_tagged(p, s), true, qtest::kLong);
    }));
  for (std::uint32_t c = 0; c < kConsumers; ++c)
    kids.push_back(Child::spawn([&] {
      std::vector<Tagged> got;
      for (;;) {
        Tagged t = q.get(true, qtest::kLong);
        if (t.producer == 0xffffffffU) break;
        CHILD_CHECK(whole(t));
        got.push_back(t);
      }
      mpref::Bytes b(got.size() * sizeof(Tagged));
      if (!got.empty()) std::memcpy(b.data(), got.data(), b.size());
      results.put(b);
    }));
  for (std::uint32_t p = 0; p < kProducers; ++p) EXPECT_EQ(kids[p].finish(), 0);
  for (std::uint32_t c = 0; c < kConsumers; ++c) q.put(Tagged{0xffffffffU, 0, {}});
  std::vector<std::vector<std::uint32_t>> seen(kProducers);
  std::uint64_t total = 0;
  for (std::uint32_t c = 0; c < kConsumers; ++c) {
    mpref::Bytes b = results.get(true, qtest::kLong);
    std::vector<Tagged> got(b.size() / sizeof(Tagged));
    if (!b.empty()) std::memcpy(got.data(), b.data(), b.size());
    std::vector<std::int64_t> last(kProducers, -1);
    for (const Tagged& t : got) {
      ASSERT_LT(t.producer, kProducers);
      // Per-producer order as seen by one consumer.
      EXPECT_GT(static_cast<std::int64_t>(t.seq), last[t.producer]);
      last[t.producer] = t.seq;
      seen[t.producer].push_back(t.seq);
      ++total;
    }
  }
  for (std::uint32_t c = 0; c < kConsumers; ++c) EXPECT_EQ(kids[kProducers + c].finish(), 0);
  EXPECT_EQ(total, std::uint64_t{kProducers} * kItems);
  for (auto& v : seen) {
    std::sort(v.begin(), v.end());
    ASSERT_EQ(v.size(), kItems);
    for (std::uint32_t s = 0; s < kItems; ++s) ASSERT_EQ(v[s], s);  // exactly once each
  }
}

TEST(Queue, SixtyFourMiBItemRoundTripsBetweenProcesses) {
  MPC_CLAUSE("Q-ORDER-4");
  constexpr std::size_t kSize = 64u << 20;
  mpref::Queue<mpref::Bytes> q;
  Child c = Child::spawn([&] {
    mpref::Bytes big(kSize);
    for (std::size_t i = 0; i < kSize; i += 4096) big[i] = static_cast<std::byte>(i / 4096);
    big[kSize - 1] = std::byte{0x5a};
    q.put(big);
  });
  mpref::Bytes got = q.get(true, qtest::kLong);
  ASSERT_EQ(got.size(), kSize);
  for (std::size_t i = 0; i < kSize; i += 4096) ASSERT_EQ(got[i], static_cast<std::byte>(i / 4096));
  EXPECT_EQ(got[kSize - 1], std::byte{0x5a});
  EXPECT_EQ(c.finish(), 0);
}

// ---- close ---------------------------------------------------------------------------------

TEST(Queue, CloseIsRepeatable) {
  MPC_CLAUSE("Q-CLOSE-1");
  mpref::Queue<int> q;
  q.close();
  q.close();
  EXPECT_TRUE(q.closed());
}

TEST(Queue, PutAfterCloseRaisesValueErrorNamingTheQueue) {
  MPC_CLAUSE("Q-CLOSE-4");
  mpref::Queue<int> q;
  mpref::Queue<int> copy = q;
  q.close();
  const std::string m1 = raised<mpref::ValueError>([&] { q.put(1); });
  const std::string m2 = raised<mpref::ValueError>([&] { q.put_nowait(1); });
  const std::string m3 = raised<mpref::ValueError>([&] { copy.put(1); });  // same process
  EXPECT_TRUE(is_closed_message(m1, "Queue")) << m1;
  EXPECT_EQ(m1, m2);
  EXPECT_EQ(m1, m3);
  EXPECT_EQ(m1, "Queue " + q.repr() + " is closed");
}

TEST(Queue, GetAfterCloseRaisesValueErrorEvenWithItems) {
  MPC_CLAUSE("Q-CLOSE-5");
  mpref::Queue<int> q;
  q.put(1);
  q.close();
  const std::string m1 = raised<mpref::ValueError>([&] { q.get(); });
  const std::string m2 = raised<mpref::ValueError>([&] { q.get_nowait(); });
  EXPECT_TRUE(is_closed_message(m1, "Queue")) << m1;
  EXPECT_EQ(m1, m2);
}

TEST(Queue, CloseOnlyAffectsTheCallingProcess) {
  MPC_CLAUSE("Q-CLOSE-6");
  mpref::Queue<int> q;
  auto [r, w] = mpref::Pipe(false);
  Child c = Child::spawn([&, r = r] {
    mpref::Connection rr = r;
    CHILD_CHECK(rr.poll(qtest::kLong));  // wait for the parent's close()
    q.put(7);
    CHILD_CHECK(q.get(true, qtest::kLong) == 7);
    q.put(8);
  });
  q.close();
  w.send_bytes(std::string_view("closed"));
  EXPECT_EQ(c.finish(), 0);
  EXPECT_EQ(q.qsize(), 1u);
}

TEST(Queue, ItemsPutBeforeCloseReachAConsumerForkedEarlier) {
  MPC_CLAUSE("Q-CLOSE-7");
  mpref::Queue<int> q;
  Child c = Child::spawn([&] {
    CHILD_CHECK(q.get(true, qtest::kLong) == 1);
    CHILD_CHECK(q.get(true, qtest::kLong) == 2);
  });
  q.put(1);
  q.put(2);
  q.close();
  EXPECT_EQ(c.finish(), 0);
}

TEST(Queue, QsizeAndFullWorkAfterClose) {
  MPC_CLAUSE("Q-CLOSE-9");
  mpref::Queue<int> q(5);
  q.put(1);
  q.close();
  q.join_thread();
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_FALSE(q.full());
  EXPECT_FALSE(q.empty());  // mpref: empty() also keeps working
}

TEST(Queue, JoinThreadAssertsBeforeCloseAndReturnsAtOnceAfter) {
  // Q-JT-1/Q-JT-2 apply to the Python surface; the C++ API follows them too.
  mpref::Queue<int> q;
  const std::string m = raised<mpref::AssertionError>([&] { q.join_thread(); });
  EXPECT_EQ(m, "Queue " + q.repr() + " not closed");
  q.put(1);
  q.cancel_join_thread();
  q.close();
  EXPECT_LT(timed([&] { q.join_thread(); }), 0.1);
}

TEST(Queue, ReprIsTheSameInCopiesAndChildren) {
  mpref::Queue<int> q;
  mpref::Queue<int> copy = q;
  EXPECT_EQ(q.repr(), copy.repr());
  EXPECT_EQ(q.repr().rfind("<multiprocessing.queues.Queue object at 0x", 0), 0u) << q.repr();
  mpref::Queue<std::string> names;
  Child c = Child::spawn([&] { names.put(q.repr()); });
  EXPECT_EQ(names.get(true, qtest::kLong), q.repr());
  EXPECT_EQ(c.finish(), 0);
}

// ---- exit ----------------------------------------------------------------------------------

TEST(Queue, AChildThatPutOneMiBExitsAtOnceAndTheItemStaysIntact) {
  MPC_CLAUSE("Q-EXIT-1", "Q-EXIT-2", "Q-EXIT-5");
  mpref::Queue<mpref::Bytes> q;
  Child c = Child::spawn([&] { q.put(mpref::Bytes(1 << 20, std::byte{3})); });
  ASSERT_TRUE(c.join(2.0));  // CPython: still alive after join(2)
  EXPECT_EQ(c.exitcode(), 0);
  EXPECT_EQ(q.get_nowait(), mpref::Bytes(1 << 20, std::byte{3}));
}

TEST(Queue, ASmallUnreadItemDoesNotDelayExit) {
  MPC_CLAUSE("Q-EXIT-3");
  mpref::Queue<mpref::Bytes> q;
  Child c = Child::spawn([&] { q.put(mpref::Bytes(1000)); });
  ASSERT_TRUE(c.join(2.0));
  EXPECT_EQ(c.exitcode(), 0);
  EXPECT_EQ(q.qsize(), 1u);
}

TEST(Queue, CancelJoinThreadThenImmediateExitLosesNothing) {
  MPC_CLAUSE("Q-CJT-4");
  mpref::Queue<mpref::Bytes> q;
  Child c = Child::spawn([&] {
    q.cancel_join_thread();
    q.put(mpref::Bytes(1 << 20, std::byte{9}));
    ::_exit(0);
  });
  EXPECT_EQ(q.get(true, qtest::kSlow), mpref::Bytes(1 << 20, std::byte{9}));
  EXPECT_EQ(c.finish(), 0);
}

// ---- killed consumers ------------------------------------------------------------------------

TEST(Queue, AConsumerKilledWhileBlockedInGetDoesNotBlockOthers) {
  MPC_CLAUSE("Q-TERM-1", "Q-TERM-2", "Q-TERM-3");
  mpref::Queue<int> q;
  Child victim = Child::spawn([&] { (void)q.get(); });
  ::usleep(200000);  // let it block in get()
  victim.kill(SIGTERM);
  ASSERT_TRUE(victim.join(qtest::kLong));
  q.put(1);
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_FALSE(q.empty());
  EXPECT_EQ(q.get(true, 1.0), 1);  // CPython: Empty (the dead consumer holds the reader lock)
  q.put(2);
  EXPECT_EQ(q.get_nowait(), 2);
  // A blocking get() with no timeout in another process is served too.
  Child other = Child::spawn([&] { CHILD_CHECK(q.get() == 3); });
  q.put(3);
  EXPECT_EQ(other.finish(), 0);
  // And waking sleepers keeps working after sleepers were killed (several rounds).
  for (int round = 0; round < 5; ++round) {
    Child v = Child::spawn([&] { (void)q.get(); });
    ::usleep(50000);
    v.kill(SIGKILL);
    ASSERT_TRUE(v.join(qtest::kLong));
    Child o = Child::spawn([&] { CHILD_CHECK(q.get(true, qtest::kLong) == round); });
    ::usleep(50000);
    q.put(round);
    EXPECT_EQ(o.finish(), 0);
  }
}

TEST(Queue, AConsumerKilledHoldingTheLockMidGetLeavesTheItemInPlace) {
  MPC_CLAUSE("Q-TERM-4");
  mpref::Queue<std::string> q(4);
  q.put("first");
  q.put("second");
  auto [r, w] = mpref::Pipe(false);
  Child victim = Child::spawn([&, w = w] {
    StallSink s{w.fileno()};
    (void)q.core().get(&StallSink::sink, &s, mpref::detail::Deadline::forever());
  });
  ASSERT_TRUE(r.poll(qtest::kLong));  // the victim holds the queue's lock inside get()
  victim.kill(SIGKILL);
  ASSERT_TRUE(victim.join(qtest::kLong));
  EXPECT_EQ(q.qsize(), 2u);  // not taken
  EXPECT_EQ(q.core().owner_deaths(), 1u);  // the lock was taken over from the dead holder
  EXPECT_EQ(q.get(true, 1.0), "first");
  EXPECT_EQ(q.get(true, 1.0), "second");
  q.put("third");
  EXPECT_EQ(q.get_nowait(), "third");
}

namespace {
/// A destination whose second half is PROT_NONE: the copy into it faults half-way, killing the
/// consumer in the middle of copying the item out, with the lock held.
struct FaultSink {
  void* mem;
  std::size_t len;
  static void* sink(void* ctx, std::size_t n) {
    auto* self = static_cast<FaultSink*>(ctx);
    const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    self->len = (n / page + 2) * page;
    self->mem = ::mmap(nullptr, self->len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const std::size_t half = (n / 2) / page * page;
    ::mprotect(static_cast<char*>(self->mem) + half, self->len - half, PROT_NONE);
    return self->mem;
  }
};
}  // namespace

TEST(Queue, AConsumerDyingHalfWayThroughCopyingAnItemLeavesItWhole) {
  MPC_CLAUSE("Q-TERM-4");
  mpref::Queue<mpref::Bytes> q;
  mpref::Bytes big(1 << 20);
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<std::byte>(i * 7);
  q.put(big);
  q.put(mpref::Bytes{std::byte{1}});
  Child victim = Child::spawn([&] {
    // The fault is expected: restore the default action so it kills the process outright.
    ::signal(SIGSEGV, SIG_DFL);
    ::signal(SIGBUS, SIG_DFL);
    FaultSink s{nullptr, 0};
    (void)q.core().get(&FaultSink::sink, &s, mpref::detail::Deadline::forever());
    return 0;  // not reached
  });
  ASSERT_TRUE(victim.join(qtest::kLong));
  EXPECT_NE(victim.exitcode(), 0);
  EXPECT_EQ(q.qsize(), 2u);
  EXPECT_EQ(q.get(true, 1.0), big);
  EXPECT_EQ(q.get(true, 1.0), mpref::Bytes{std::byte{1}});
}

TEST(Queue, AProducerDyingHalfWayThroughAPutLeavesNoTrace) {
  MPC_CLAUSE("Q-TERM-4");
  mpref::Queue<mpref::Bytes> q;
  q.put(mpref::Bytes{std::byte{1}});
  Child victim = Child::spawn([&] {
    ::signal(SIGSEGV, SIG_DFL);
    ::signal(SIGBUS, SIG_DFL);
    // A 1 MiB source whose second half is PROT_NONE: the copy into the ring faults half-way.
    const std::size_t len = 1 << 20;
    auto* mem = static_cast<std::byte*>(
        ::mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    ::mprotect(mem + len / 2, len / 2, PROT_NONE);
    q.put_bytes(std::span<const std::byte>(mem, len));
    return 0;  // not reached
  });
  ASSERT_TRUE(victim.join(qtest::kLong));
  EXPECT_NE(victim.exitcode(), 0);
  EXPECT_EQ(q.qsize(), 1u);
  q.put(mpref::Bytes{std::byte{2}});
  EXPECT_EQ(q.get_nowait(), mpref::Bytes{std::byte{1}});
  EXPECT_EQ(q.get_nowait(), mpref::Bytes{std::byte{2}});
  EXPECT_TRUE(q.empty());
}

TEST(Queue, ConsumersSigkilledAtRandomNeverCorruptTheQueue) {
  MPC_CLAUSE("Q-TERM-4");
  // Consumers take 64 KiB items and report each sequence number; they are SIGKILLed at
  // arbitrary moments. Every item ends up either reported by a consumer (taken) or still in
  // the queue, exactly once; never half.
  constexpr std::uint32_t kItems = 300;
  constexpr std::size_t kSize = 64 * 1024;
  mpref::Queue<mpref::Bytes> q;
  mpref::Queue<std::uint32_t> taken;
  for (std::uint32_t s = 0; s < kItems; ++s) {
    mpref::Bytes b(kSize, static_cast<std::byte>(s));
    std::memcpy(b.data(), &s, sizeof s);
    q.put(b);
  }
  for (int round = 0; round < 8; ++round) {
    std::vector<Child> kids;
    for (int k = 0; k < 2; ++k)
      kids.push_back(Child::spawn([&] {
        for (;;) {
          mpref::Bytes b = q.get(true, qtest::kLong);
          std::uint32_t s;
          std::memcpy(&s, b.data(), sizeof s);
          CHILD_CHECK(b.size() == kSize);
          for (std::size_t i = sizeof s; i < kSize; i += 997) CHILD_CHECK(b[i] == static_cast<std::byte>(s));
          ::usleep(500);  // note: an item taken but not yet reported counts as lost below
          taken.put(s);
        }
      }));
    ::usleep(static_cast<useconds_t>(3000 + round * 1500));
    for (auto& k : kids) k.kill(SIGKILL);
    for (auto& k : kids) ASSERT_TRUE(k.join(qtest::kLong));
  }
  std::vector<int> count(kItems, 0);
  std::size_t reported = 0;
  while (!taken.empty()) {
    ++count[taken.get_nowait()];
    ++reported;
  }
  std::size_t left = 0;
  while (!q.empty()) {
    mpref::Bytes b = q.get_nowait();
    ASSERT_EQ(b.size(), kSize);
    std::uint32_t s;
    std::memcpy(&s, b.data(), sizeof s);
    ASSERT_LT(s, kItems);
    for (std::size_t i = sizeof s; i < kSize; i += 997) ASSERT_EQ(b[i], static_cast<std::byte>(s));
    ++count[s];
    ++left;
  }
  // Each item at most once; at most one unreported take per killed consumer (16).
  std::size_t missing = 0;
  for (int c : count) {
    EXPECT_LE(c, 1);
    if (c == 0) ++missing;
  }
  EXPECT_LE(missing, 16u);
  EXPECT_EQ(reported + left + missing, kItems);
}

// ---- fork ------------------------------------------------------------------------------------

TEST(Queue, ParentAndChildItemsAllArrive) {
  MPC_CLAUSE("Q-FORK-1");
  mpref::Queue<int> q;
  q.put(1);
  Child c = Child::spawn([&] { q.put(2); });
  EXPECT_EQ(c.finish(), 0);
  q.put(3);
  std::vector<int> got{q.get_nowait(), q.get_nowait(), q.get_nowait()};
  EXPECT_EQ(got, (std::vector<int>{1, 2, 3}));
}

TEST(Queue, AnItemPutBeforeForkArrivesExactlyOnce) {
  MPC_CLAUSE("Q-FORK-2");
  mpref::Queue<int> q;
  q.put(42);
  Child c = Child::spawn([] {});
  EXPECT_EQ(c.finish(), 0);
  EXPECT_EQ(q.qsize(), 1u);
  EXPECT_EQ(q.get_nowait(), 42);
  EXPECT_TRUE(q.empty());
}

// ---- the reserve ------------------------------------------------------------------------------

TEST(QueueReserve, UnboundedPutNeverBlocksWithinAOneGiBReserve) {
  mpref::Queue<mpref::Bytes> q;  // default reserve: 1 GiB
  EXPECT_GE(q.core().reserve_bytes(), std::size_t{1} << 30);
  const mpref::Bytes chunk(8u << 20, std::byte{1});
  // 100 x 8 MiB = 800 MiB queued, nobody consuming: no blocking, no error.
  const double t = timed([&] {
    for (int i = 0; i < 100; ++i) q.put(chunk, false);
  });
  EXPECT_LT(t, 30.0);
  EXPECT_EQ(q.qsize(), 100u);
  // Draining gives the memory back.
  while (!q.empty()) (void)q.get_nowait();
  EXPECT_LE(q.core().committed_bytes(), std::size_t{1} << 20);
}

TEST(QueueReserve, ResidentMemoryTracksContentsNotHistory) {
  mpref::Queue<mpref::Bytes> q;
  const mpref::Bytes item(4096, std::byte{2});
  // Hold ~1 MiB of contents while streaming 256 MiB through.
  for (int i = 0; i < 256; ++i) q.put(item);
  for (int i = 0; i < 256 * 256; ++i) {
    q.put(item);
    (void)q.get();
  }
  const std::size_t used = q.core().used_bytes();
  const std::size_t committed = q.core().committed_bytes();
  EXPECT_GE(used, std::size_t{1} << 20);
  EXPECT_LE(committed, used + (std::size_t{3} << 19)) << "committed " << committed << " used " << used;
}

TEST(QueueReserve, WrapsAroundTheRingWithoutLosingData) {
  // A small reserve so records wrap around the end of the ring many times.
  mpref::Queue<std::vector<std::uint32_t>> q(0, mpref::QueueOptions{64 * 1024});
  std::uint32_t next_put = 0, next_get = 0;
  for (int round = 0; round < 2000; ++round) {
    const int puts = 1 + round % 7;
    for (int i = 0; i < puts; ++i) {
      std::vector<std::uint32_t> v(1 + (next_put * 37) % 900, next_put);
      try {
        q.put(v);
        ++next_put;
      } catch (const mpref::CapacityError&) {
        break;
      }
    }
    const int gets = 1 + (round * 5) % 6;
    for (int i = 0; i < gets && !q.empty(); ++i) {
      auto v = q.get_nowait();
      ASSERT_EQ(v.size(), 1 + (next_get * 37) % 900);
      ASSERT_EQ(v.front(), next_get);
      ASSERT_EQ(v.back(), next_get);
      ++next_get;
    }
  }
  EXPECT_GT(next_get, 5000u);
}

TEST(QueueReserve, WhatFitsTheReserveNextToTheContentsIsAcceptedWhereverTheRingStands) {
  MPC_CLAUSE("Q-MAX-6");
  // Records are [8-byte header][payload][pad to 8]: a payload of reserve - 8 is the largest.
  constexpr std::size_t kReserve = 64 * 1024;
  mpref::Queue<mpref::Bytes> q(0, mpref::QueueOptions{kReserve});
  for (std::size_t shift : {0UL, 8UL, 100UL, 4000UL, 4120UL, 40000UL, 65000UL}) {
    SCOPED_TRACE("ring moved on by " + std::to_string(shift) + " bytes first");
    q.put(mpref::Bytes(shift));
    (void)q.get_nowait();
    // The whole reserve, in an empty queue.
    const mpref::Bytes whole(kReserve - 8, std::byte{9});
    q.put(whole);
    EXPECT_EQ(q.get_nowait(), whole);
    // Two records that fill it exactly.
    const mpref::Bytes a(1000, std::byte{1}), b(kReserve - 8 - 1000 - 8, std::byte{2});
    q.put(a);
    q.put(b);
    EXPECT_NE(raised<mpref::CapacityError>([&] { q.put(mpref::Bytes{}); }).find("reserve exhausted"),
              std::string::npos)
        << "a full reserve takes nothing more";
    EXPECT_EQ(q.get_nowait(), a);
    EXPECT_EQ(q.get_nowait(), b);
    // Again, and the first is taken while the second is queued: the pages given back behind
    // the first must not be pages the second wrapped onto.
    const mpref::Bytes c(20000, std::byte{3}), d(kReserve - 8 - 20008 - 8, std::byte{4});
    q.put(c);
    q.put(d);
    EXPECT_EQ(q.get_nowait(), c);
    EXPECT_EQ(q.get_nowait(), d);
  }
  // One byte more than the reserve can hold is refused up front, whatever the contents.
  EXPECT_NE(raised<mpref::CapacityError>([&] { q.put(mpref::Bytes(kReserve - 7)); })
                .find("does not fit in the queue's reserve of 65536 bytes"),
            std::string::npos);
  EXPECT_TRUE(q.empty());
}

TEST(QueueReserve, ReserveUnder64KiBIsAValueError) {
  EXPECT_NE(raised<mpref::ValueError>([] { mpref::Queue<int> q(0, mpref::QueueOptions{1000}); }),
            "<no exception>");
  // And one beyond any address space, before its size is rounded (and could wrap) at all.
  for (std::size_t r : {(std::size_t{1} << 62) + 1, ~std::size_t{0}})
    EXPECT_NE(raised<mpref::ValueError>([&] { mpref::Queue<int> q(0, mpref::QueueOptions{r}); })
                  .find("at most 4611686018427387904"),
              std::string::npos);
}

// ---- codecs --------------------------------------------------------------------------------

struct Point {
  double x, y;
  bool operator==(const Point&) const = default;
};

TEST(QueueCodec, BuiltInCodecsRoundTrip) {
  mpref::Queue<Point> qp;
  qp.put(Point{1.5, -2});
  EXPECT_EQ(qp.get(), (Point{1.5, -2}));
  mpref::Queue<std::string> qs;
  qs.put("");
  qs.put(std::string(1000, 'x'));
  EXPECT_EQ(qs.get(), "");
  EXPECT_EQ(qs.get(), std::string(1000, 'x'));
  mpref::Queue<std::optional<std::string>> qo;
  qo.put(std::nullopt);
  qo.put(std::string("v"));
  EXPECT_EQ(qo.get(), std::nullopt);
  EXPECT_EQ(qo.get(), std::optional<std::string>("v"));
  mpref::Queue<> qb;
  qb.put_bytes(std::as_bytes(std::span<const char>("abc", 3)));
  EXPECT_EQ(qb.get().size(), 3u);
}

TEST(QueueCodec, AMalformedMessageIsAValueErrorAndIsConsumed) {
  mpref::Queue<std::uint64_t> q;
  q.put_bytes(std::as_bytes(std::span<const char>("abc", 3)));
  q.put(7);
  EXPECT_NE(raised<mpref::ValueError>([&] { q.get(); }).find("expected 8 bytes"), std::string::npos);
  EXPECT_EQ(q.get(), 7u);
}

// The recipe documented in mpref/reduction.hpp, for a type that is not trivially copyable.
struct Named {
  std::string name;
  std::int32_t id = 0;
  bool operator==(const Named&) const = default;
};

template <>
struct mpref::Codec<Named> {
  static std::size_t size(const Named& v) { return sizeof(std::int32_t) + v.name.size(); }
  static void encode(const Named& v, std::span<std::byte> out) {
    std::memcpy(out.data(), &v.id, sizeof v.id);
    if (!v.name.empty()) std::memcpy(out.data() + sizeof v.id, v.name.data(), v.name.size());
  }
  static Named decode(std::span<const std::byte> in) {
    if (in.size() < sizeof(std::int32_t)) throw mpref::ValueError("Named: short message");
    Named v;
    std::memcpy(&v.id, in.data(), sizeof v.id);
    v.name.assign(reinterpret_cast<const char*>(in.data()) + sizeof v.id, in.size() - sizeof v.id);
    return v;
  }
};

TEST(QueueCodec, AUserCodecWorksAcrossProcesses) {
  static_assert(mpref::Encodable<Named>);
  static_assert(!mpref::Encodable<std::vector<std::string>>);  // no codec: rejected at compile time
  mpref::Queue<Named> q;
  mpref::SimpleQueue<std::optional<Named>> back;
  Child c = Child::spawn([&] {
    for (;;) {
      Named n = q.get(true, qtest::kLong);
      if (n.id < 0) break;
      back.put(Named{n.name + "!", n.id * 2});
    }
    back.put(std::nullopt);
  });
  q.put(Named{"a", 1});
  q.put(Named{std::string(300, 'b'), 2});  // past the codec helper's stack buffer
  q.put(Named{"", -1});
  EXPECT_EQ(back.get(qtest::kLong), (std::optional<Named>(Named{"a!", 2})));
  EXPECT_EQ(back.get(qtest::kLong), (std::optional<Named>(Named{std::string(300, 'b') + "!", 4})));
  EXPECT_EQ(back.get(qtest::kLong), std::nullopt);
  EXPECT_EQ(c.finish(), 0);
  auto [a, b] = mpref::Pipe();
  a.send(Named{"over a pipe", 9});
  EXPECT_EQ(b.recv<Named>(), (Named{"over a pipe", 9}));
}
