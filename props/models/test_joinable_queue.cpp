// The JoinableQueue model on hand-written histories.
#include <gtest/gtest.h>

#include "clause.hpp"
#include "mpconform/spec/joinable_queue.hpp"
#include "replay.hpp"

namespace mpconform::spec {
namespace {

using namespace testing;
using Q = QueueOp;
using QSteps = std::vector<Step<QueueOp>>;

const PyError kTooMany = errors::value_error("task_done() called too many times");

TEST(JoinableQueueModel, JoinReturnsAtOnceOnAFreshQueue) {
  MPC_CLAUSE("JQ-1");
  const auto r = replay(make_joinable_queue(), QSteps{{Q::join(), none()}});
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(JoinableQueueModel, EachPutCountsAndJoinBlocksUntilTaskDone) {
  MPC_CLAUSE("JQ-9", "JQ-3");
  const auto r = replay(make_joinable_queue(), QSteps{
      {Q::put(py::integer(1)), none()},
      {Q::put(py::integer(2)), none()},
      {Q::join(), blocks()},
      {Q::get(), integer(1)},
      {Q::join(), blocks()},  // get() does not count
      {Q::task_done(), none()},
      {Q::join(), blocks()},
      {Q::get(), integer(2)},
      {Q::task_done(), none()},
      {Q::join(), none()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  EXPECT_EQ(r.state.unfinished, 0);
}

TEST(JoinableQueueModel, TaskDoneAtZeroRaises) {
  MPC_CLAUSE("JQ-2");
  const auto r = replay(make_joinable_queue(), QSteps{
      {Q::task_done(), raises(kTooMany)},
      {Q::put(py::integer(1)), none()},
      {Q::task_done(), none()},
      {Q::task_done(), raises(kTooMany)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(JoinableQueueModel, TaskDoneIsNotTiedToGet) {
  MPC_CLAUSE("JQ-11");
  const auto r = replay(make_joinable_queue(), QSteps{
      {Q::put(py::integer(1)), none()},
      {Q::put(py::integer(2)), none()},
      {Q::get(), integer(1)},
      {Q::task_done(), none()},
      {Q::task_done(), none()},
      {Q::join(), none()},
      {Q::qsize(), integer(1)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(JoinableQueueModel, FullPutDoesNotCount) {
  MPC_CLAUSE("JQ-10");
  const auto r = replay(make_joinable_queue(1), QSteps{
      {Q::put(py::integer(1)), none()},
      {Q::put_nowait(py::integer(2)), raises(errors::full())},
      {Q::get(), integer(1)},
      {Q::task_done(), none()},
      {Q::join(), none()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(JoinableQueueModel, GetFreesTheSlotSoTheCountCanExceedMaxsize) {
  MPC_CLAUSE("JQ-5", "JQ-12");
  const auto r = replay(make_joinable_queue(1), QSteps{
      {Q::put(py::integer(1)), none()},
      {Q::get(), integer(1)},
      {Q::put_nowait(py::integer(2)), none()},
      {Q::get(), integer(2)},
      {Q::join(), blocks()},
      {Q::task_done(), none()},
      {Q::join(), blocks()},
      {Q::task_done(), none()},
      {Q::join(), none()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(JoinableQueueModel, CloseNamesJoinableQueueAndSparesTaskDoneAndJoin) {
  MPC_CLAUSE("JQ-7", "JQ-13");
  const PyError closed = errors::value_error(
      "Queue <multiprocessing.queues.JoinableQueue object at 0x\u2026> is closed");
  const auto r = replay(make_joinable_queue(), QSteps{
      {Q::put(py::integer(1)), none()},
      {Q::close(), none()},
      {Q::put(py::integer(2)), raises(closed)},
      {Q::get_nowait(), raises(closed)},
      {Q::join(), blocks()},
      {Q::task_done(), none()},
      {Q::task_done(), raises(kTooMany)},
      {Q::join(), none()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  // A put refused on the closed queue does not count.
  EXPECT_EQ(r.state.unfinished, 0);
}

TEST(JoinableQueueModel, RejectsImpossibleHistories) {
  MPC_CLAUSE("JQ-9", "JQ-2");
  // join() returned while a task is unfinished.
  auto r = replay(make_joinable_queue(), QSteps{{Q::put(py::integer(1)), none()},
                                                {Q::get(), integer(1)},
                                                {Q::join(), none()}});
  EXPECT_EQ(r.rejected_at, 2u) << r.transcript;
  // task_done() succeeded more often than put().
  r = replay(make_joinable_queue(), QSteps{{Q::put(py::integer(1)), none()},
                                           {Q::task_done(), none()},
                                           {Q::task_done(), none()}});
  EXPECT_EQ(r.rejected_at, 2u) << r.transcript;
  EXPECT_EQ(r.state.to_string(), "JoinableQueue(items=[1], unfinished=0, feeder)");
}

}  // namespace
}  // namespace mpconform::spec
