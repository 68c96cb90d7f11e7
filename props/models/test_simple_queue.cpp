// The SimpleQueue model on hand-written histories.
#include <gtest/gtest.h>

#include "clause.hpp"
#include "mpconform/spec/simple_queue.hpp"
#include "replay.hpp"

namespace mpconform::spec {
namespace {

using namespace testing;
using SQ = SimpleQueueOp;
using SQSteps = std::vector<Step<SimpleQueueOp>>;

TEST(SimpleQueueModel, EmptyIsExactRightAfterPut) {
  MPC_CLAUSE("SQ-8");
  const auto r = replay(SimpleQueueState::make(), SQSteps{
      {SQ::empty(), yes()},
      {SQ::put(py::integer(1)), none()},
      {SQ::empty(), no()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  // No race to allow, unlike Queue.empty().
  EXPECT_EQ(results(step(r.state, SQ::empty())), (std::vector<std::string>{"False"}));
}

TEST(SimpleQueueModel, GetIsFifoAndBlocksWhenEmpty) {
  MPC_CLAUSE("SQ-3", "SQ-10");
  const auto r = replay(SimpleQueueState::make(), SQSteps{
      {SQ::get(), blocks()},
      {SQ::put(py::str("a")), none()},
      {SQ::put(py::str("b")), none()},
      {SQ::get(), ret(py::str("a"))},
      {SQ::get(), ret(py::str("b"))},
      {SQ::get(), blocks()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(SimpleQueueModel, CloseIsRepeatableAndThenEverythingRaisesOSError) {
  MPC_CLAUSE("SQ-4", "SQ-11");
  const PyError closed = errors::os_error("handle is closed");
  const auto r = replay(SimpleQueueState::make(), SQSteps{
      {SQ::put(py::integer(1)), none()},
      {SQ::close(), none()},
      {SQ::close(), none()},
      {SQ::put(py::integer(2)), raises(closed)},
      {SQ::get(), raises(closed)},
      {SQ::empty(), raises(closed)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(SimpleQueueModel, RejectsImpossibleHistories) {
  MPC_CLAUSE("SQ-11", "SQ-3");
  // Queue's ValueError is the wrong exception for a closed SimpleQueue.
  auto r = replay(SimpleQueueState::make(), SQSteps{
      {SQ::close(), none()},
      {SQ::put(py::integer(1)), raises(errors::value_error("handle is closed"))},
  });
  EXPECT_EQ(r.rejected_at, 1u) << r.transcript;
  // get() on an empty SimpleQueue has no Empty to raise: it can only block.
  r = replay(SimpleQueueState::make(), SQSteps{{SQ::get(), raises(errors::empty())}});
  EXPECT_EQ(r.rejected_at, 0u) << r.transcript;
  EXPECT_EQ(r.transcript,
            "# SimpleQueue(items=[])\n"
            "> in SimpleQueue(items=[]): sq.get() -> raises queue.Empty() is not allowed; "
            "allowed: {blocks -> SimpleQueue(items=[])}\n");
}

}  // namespace
}  // namespace mpconform::spec
