// The Queue model on hand-written histories.
#include <gtest/gtest.h>

#include <stdexcept>

#include "clause.hpp"
#include "mpconform/spec/queue.hpp"
#include "replay.hpp"

namespace mpconform::spec {
namespace {

using namespace testing;  // replay helpers: none(), yes(), no(), raises(), blocks(), ...
using Q = QueueOp;
using QSteps = std::vector<Step<QueueOp>>;

const PyError kClosed =
    errors::value_error("Queue <multiprocessing.queues.Queue object at 0x\u2026> is closed");

TEST(QueueModel, PutThenGetIsFifoAndNoneIsAnItem) {
  MPC_CLAUSE("Q-PUT-1", "Q-ORDER-1", "Q-ORDER-3", "Q-SIZE-2", "Q-SIZE-5");
  const auto r = replay(QueueState::make(), QSteps{
      {Q::empty(), yes()},
      {Q::qsize(), integer(0)},
      {Q::full(), no()},
      {Q::put(py::integer(1)), none()},
      {Q::put_nowait(py::none()), none()},
      {Q::put(py::bytes("x")), none()},
      {Q::qsize(), integer(3)},
      {Q::empty(), no()},
      {Q::get(), integer(1)},
      {Q::get_nowait(), ret(py::none())},
      {Q::get(true, 0.0), ret(py::bytes("x"))},
      {Q::qsize(), integer(0)},
      {Q::empty(), yes()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(QueueModel, FullQueueRaisesFullOrBlocksAndStaysUnchanged) {
  MPC_CLAUSE("Q-MAX-3", "Q-FULL-1", "Q-FULL-2", "Q-FULL-3", "Q-FULL-4", "Q-FULL-5", "Q-FULL-6",
             "Q-FULL-7", "Q-PUT-2", "Q-SIZE-3");
  const auto r = replay(QueueState::make(2), QSteps{
      {Q::put(py::integer(1)), none()},
      {Q::put_nowait(py::integer(2)), none()},
      {Q::full(), yes()},
      {Q::qsize(), integer(2)},
      {Q::put(py::integer(3), false), raises(errors::full())},
      {Q::put_nowait(py::integer(3)), raises(errors::full())},
      {Q::put(py::integer(3), true, 0.2), raises(errors::full())},
      {Q::put(py::integer(3), false, 5.0), raises(errors::full())},  // timeout ignored
      {Q::put(py::integer(3), true, -1.0), raises(errors::full())},  // clamped, no ValueError
      {Q::put(py::integer(3), true, 0.0), raises(errors::full())},
      {Q::put(py::integer(3)), blocks()},  // waits for a get in another process
      {Q::qsize(), integer(2)},
      {Q::get(), integer(1)},
      {Q::get(), integer(2)},
      {Q::get_nowait(), raises(errors::empty())},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(QueueModel, MaxsizeZeroOrNegativeIsUnbounded) {
  MPC_CLAUSE("Q-MAX-1", "Q-MAX-6");
  for (const std::int64_t maxsize : {0, -5}) {
    QueueState s = QueueState::make(maxsize);
    EXPECT_EQ(s.capacity, kSemValueMax);
    for (int i = 0; i < 100; ++i) {
      const auto next = check(s, Q::put_nowait(py::integer(i)), none());
      ASSERT_TRUE(next) << "put_nowait #" << i;
      s = *next;
    }
    // Each step copies the state, so the rest of the 10 000 items are filled in directly.
    for (int i = 100; i < 9999; ++i) s.items.push_back(py::integer(i));
    const auto last = check(s, Q::put_nowait(py::integer(9999)), none());
    ASSERT_TRUE(last);
    EXPECT_EQ(last->qsize(), 10000);
    EXPECT_EQ(check(*last, Q::full(), no()), *last);
    EXPECT_EQ(s.to_string().find("maxsize"), std::string::npos);  // unbounded: not shown
  }
}

TEST(QueueModel, ConstructorLimits) {
  MPC_CLAUSE("Q-MAX-5");
  EXPECT_EQ(queue_ctor_error(PyInt(1) << 31), errors::c_int_overflow());
  EXPECT_EQ(queue_ctor_error(kSemValueMax), std::nullopt);
  EXPECT_EQ(queue_ctor_error(-5), std::nullopt);
  EXPECT_THROW(QueueState::make(kSemValueMax + 1), std::invalid_argument);
  EXPECT_EQ(QueueState::make(kSemValueMax).capacity, kSemValueMax);
}

TEST(QueueModel, EmptyQueueGetsRaiseEmptyUnlessWaitingForever) {
  MPC_CLAUSE("Q-EMPTY-1", "Q-EMPTY-2", "Q-EMPTY-3", "Q-EMPTY-4", "Q-EMPTY-5", "Q-EMPTY-6",
             "Q-GET-1");
  const auto r = replay(QueueState::make(), QSteps{
      {Q::get(false), raises(errors::empty())},
      {Q::get_nowait(), raises(errors::empty())},
      {Q::get(true, 0.2), raises(errors::empty())},
      {Q::get(true, 0.0), raises(errors::empty())},
      {Q::get(true, -1.0), raises(errors::empty())},
      {Q::get(false, 5.0), raises(errors::empty())},
      {Q::get(), blocks()},
      {Q::get(true, std::nullopt), blocks()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(QueueModel, NonWaitingGetsReturnAQueuedItem) {
  MPC_CLAUSE("Q-GET-3", "Q-GET-4", "Q-GET-5");
  const auto r = replay(QueueState::make(), QSteps{
      {Q::put(py::integer(1)), none()},
      {Q::put(py::integer(2)), none()},
      {Q::put(py::integer(3)), none()},
      {Q::get_nowait(), integer(1)},
      {Q::get(true, -1.0), integer(2)},
      {Q::get(true, 0.0), integer(3)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(QueueModel, CloseRejectsPutAndGetButNotSizeQueries) {
  MPC_CLAUSE("Q-CLOSE-1", "Q-CLOSE-4", "Q-CLOSE-5", "Q-CLOSE-8", "Q-CLOSE-9", "Q-JT-1", "Q-JT-2",
             "Q-CJT-1");
  const PyError not_closed = errors::assertion_error(
      "Queue <multiprocessing.queues.Queue object at 0x\u2026> not closed");
  const auto r = replay(QueueState::make(2, {}, Surface::python), QSteps{
      {Q::cancel_join_thread(), none()},
      {Q::join_thread(), raises(not_closed)},
      {Q::put(py::integer(1)), none()},
      {Q::close(), none()},
      {Q::close(), none()},
      {Q::put(py::integer(2)), raises(kClosed)},
      {Q::put_nowait(py::integer(2)), raises(kClosed)},
      {Q::get(), raises(kClosed)},  // even with an item left
      {Q::get_nowait(), raises(kClosed)},
      {Q::qsize(), integer(1)},
      {Q::full(), no()},
      {Q::empty(), raises(errors::os_error("handle is closed"))},  // the feeder closed the pipe
      {Q::join_thread(), none()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(QueueModel, OnTheCppSurfaceEmptyKeepsAnsweringAfterClose) {
  MPC_CLAUSE("Q-CLOSE-9");
  const auto r = replay(QueueState::make(2), QSteps{
      {Q::put(py::integer(1)), none()},
      {Q::close(), none()},
      {Q::empty(), no()},
      {Q::qsize(), integer(1)},
      {Q::full(), no()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(QueueModel, CloseWithoutAnyPutLeavesEmptyWorking) {
  MPC_CLAUSE("Q-CLOSE-2");
  const auto r = replay(QueueState::make(0, {}, Surface::python), QSteps{
      {Q::close(), none()},
      {Q::empty(), yes()},
      {Q::join_thread(), none()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  // A put refused on the closed queue starts no feeder either.
  const auto refused = replay(QueueState::make(0, {}, Surface::python), QSteps{
      {Q::close(), none()},
      {Q::put(py::integer(1)), raises(kClosed)},
      {Q::empty(), yes()},
  });
  ASSERT_FALSE(refused.rejected_at) << refused.transcript;
}

TEST(QueueModel, EmptyRightAfterPutIsRacyOnlyWhenAsked) {
  MPC_CLAUSE("Q-SIZE-1", "Q-SIZE-7", "Q-SIZE-6");
  QueueState exact = QueueState::make();
  exact = *check(exact, Q::put(py::integer(7)), none());
  const auto exact_empty = step(exact, Q::empty());
  EXPECT_EQ(results(exact_empty), (std::vector<std::string>{"False"}));
  EXPECT_FALSE(exact_empty.is_racy());

  QueueState racy = QueueState::make(0, QueueRaces{.cpython_racy_empty = true});
  racy = *check(racy, Q::put(py::integer(7)), none());
  const auto racy_empty = step(racy, Q::empty());
  EXPECT_TRUE(racy_empty.is_racy());
  EXPECT_EQ(results(racy_empty), (std::vector<std::string>{"False", "True"}));
  EXPECT_TRUE(unambiguous(racy_empty));
  // Either answer leaves the queue as it was; qsize stays exact.
  EXPECT_EQ(check(racy, Q::empty(), yes()), racy);
  EXPECT_EQ(check(racy, Q::qsize(), integer(1)), racy);
  // With nothing queued there is nothing to race on.
  EXPECT_EQ(results(step(QueueState::make(0, QueueRaces{.cpython_racy_empty = true}), Q::empty())),
            (std::vector<std::string>{"True"}));
}

TEST(QueueModel, EmptyAfterCloseIsRacyWhileTheFeederFlushes) {
  MPC_CLAUSE("Q-CLOSE-8");
  QueueState s = QueueState::make(0, QueueRaces{.cpython_racy_empty = true}, Surface::python);
  s = *check(s, Q::put(py::integer(1)), none());
  s = *check(s, Q::close(), none());
  const auto o = step(s, Q::empty());
  EXPECT_EQ(results(o), (std::vector<std::string>{"raises OSError('handle is closed')", "False",
                                                  "True"}));
  // Even with no items: the poll can race with the feeder closing the reader.
  QueueState drained = QueueState::make(0, QueueRaces{.cpython_racy_empty = true}, Surface::python);
  drained = *check(drained, Q::put(py::integer(1)), none());
  drained = *check(drained, Q::get(), integer(1));
  drained = *check(drained, Q::close(), none());
  EXPECT_EQ(results(step(drained, Q::empty())),
            (std::vector<std::string>{"raises OSError('handle is closed')", "False", "True"}));
  EXPECT_TRUE(unambiguous(o));
}

TEST(QueueModel, GetNowaitRightAfterPutIsRacyOnlyWhenAsked) {
  MPC_CLAUSE("Q-SIZE-8", "Q-SIZE-9");
  QueueState s = QueueState::make(0, QueueRaces{.cpython_racy_get = true});
  s = *check(s, Q::put(py::integer(5)), none());
  const auto o = step(s, Q::get_nowait());
  EXPECT_EQ(results(o), (std::vector<std::string>{"5", "raises queue.Empty()"}));
  EXPECT_TRUE(unambiguous(o));
  // Empty keeps the item: a later get() returns it.
  const auto r = replay(s, QSteps{
      {Q::get_nowait(), raises(errors::empty())},
      {Q::get(true, 0.5), raises(errors::empty())},
      {Q::qsize(), integer(1)},
      {Q::get(), integer(5)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  // A get that waits forever always waits for the item: no race.
  EXPECT_FALSE(step(s, Q::get()).is_racy());
  // Exact mode: the item must come back.
  QueueState exact = *check(QueueState::make(), Q::put(py::integer(5)), none());
  EXPECT_EQ(check(exact, Q::get_nowait(), raises(errors::empty())), std::nullopt);
}

TEST(QueueModel, RejectsHistoriesCPythonCannotProduce) {
  MPC_CLAUSE("Q-ORDER-1", "Q-FULL-1", "Q-SIZE-2");
  struct Case {
    const char* what;
    QueueState initial;
    QSteps steps;
    std::size_t rejected_at;
  };
  const std::vector<Case> cases = {
      {"an item never put", QueueState::make(), {{Q::get_nowait(), integer(9)}}, 0},
      {"out of FIFO order",
       QueueState::make(),
       {{Q::put(py::integer(1)), none()}, {Q::put(py::integer(2)), none()}, {Q::get(), integer(2)}},
       2},
      {"put on a full queue succeeded",
       QueueState::make(1),
       {{Q::put(py::integer(1)), none()}, {Q::put_nowait(py::integer(2)), none()}},
       1},
      {"a blocking put returned Full",
       QueueState::make(1),
       {{Q::put(py::integer(1)), none()}, {Q::put(py::integer(2)), raises(errors::full())}},
       1},
      {"a timed put blocked",
       QueueState::make(1),
       {{Q::put(py::integer(1)), none()}, {Q::put(py::integer(2), true, 0.1), blocks()}},
       1},
      {"qsize off by one",
       QueueState::make(),
       {{Q::put(py::integer(1)), none()}, {Q::qsize(), integer(0)}},
       1},
      {"get after close did not raise",
       QueueState::make(),
       {{Q::put(py::integer(1)), none()}, {Q::close(), none()}, {Q::get(), integer(1)}},
       2},
      {"the closed message names the wrong class",
       QueueState::make(),
       {{Q::close(), none()},
        {Q::put(py::integer(1)),
         raises(errors::value_error(
             "Queue <multiprocessing.queues.JoinableQueue object at 0x1> is closed"))}},
       1},
      {"empty() True with an item, exact mode",
       QueueState::make(),
       {{Q::put(py::integer(1)), none()}, {Q::empty(), yes()}},
       1},
      {"empty() returned 0 instead of False",
       QueueState::make(),
       {{Q::put(py::integer(1)), none()}, {Q::empty(), integer(0)}},
       1},
  };
  for (const Case& c : cases) {
    const auto r = replay(c.initial, c.steps);
    EXPECT_EQ(r.rejected_at, c.rejected_at) << c.what << "\n" << r.transcript;
  }
}

TEST(QueueModel, TaskDoneAndJoinAreIllegalOnAPlainQueue) {
  const auto o = step(QueueState::make(), Q::task_done());
  EXPECT_TRUE(o.is_illegal());
  EXPECT_NE(o.reason().find("JoinableQueue"), std::string::npos);
  EXPECT_TRUE(step(QueueState::make(), Q::join()).is_illegal());
}

TEST(QueueModel, CounterexamplesReadLikePrograms) {
  EXPECT_EQ(Q::put(py::integer(1)).to_string(), "q.put(1)");
  EXPECT_EQ(Q::put(py::integer(1), false).to_string(), "q.put(1, block=False)");
  EXPECT_EQ(Q::put(py::str("a"), true, -1.0).to_string(), "q.put('a', timeout=-1.0)");
  EXPECT_EQ(Q::put(py::integer(1), false, 5.0).to_string(), "q.put(1, block=False, timeout=5.0)");
  EXPECT_EQ(Q::put_nowait(py::integer(1)).to_string(), "q.put_nowait(1)");
  EXPECT_EQ(Q::get(true, 0.5).to_string(), "q.get(timeout=0.5)");
  EXPECT_EQ(Q::get_nowait().to_string(), "q.get_nowait()");
  QueueState s = QueueState::make(2);
  s = *check(s, Q::put(py::integer(1)), none());
  s = *check(s, Q::close(), none());
  EXPECT_EQ(s.to_string(), "Queue(maxsize=2, items=[1], closed, feeder)");
  const auto r = replay(QueueState::make(1), QSteps{{Q::put(py::integer(1)), none()},
                                                    {Q::get_nowait(), integer(2)}});
  EXPECT_EQ(r.transcript,
            "# Queue(maxsize=1, items=[])\n"
            "  q.put(1)  -> None\n"
            "> in Queue(maxsize=1, items=[1], feeder): q.get_nowait() -> 2 is not allowed; "
            "allowed: {1 -> Queue(maxsize=1, items=[], feeder)}\n");
}

}  // namespace
}  // namespace mpconform::spec
