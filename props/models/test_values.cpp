// Values, errors and outcomes: the data the models speak in.
#include <gtest/gtest.h>

#include "mpconform/spec/models.hpp"
#include "replay.hpp"

namespace mpconform::spec {
namespace {

TEST(ModelValues, ReprIsPython) {
  EXPECT_EQ(Value().repr(), "None");
  EXPECT_EQ(py::boolean(true).repr(), "True");
  EXPECT_EQ(py::integer(-3).repr(), "-3");
  EXPECT_EQ(py::floating(0.5).repr(), "0.5");
  EXPECT_EQ(py::floating(5).repr(), "5.0");
  EXPECT_EQ(py::floating(-1).repr(), "-1.0");
  EXPECT_EQ(py::bytes(std::string("a\0'\\\xff", 5)).repr(), R"(b"a\x00'\\\xff")");
  EXPECT_EQ(py::bytes("").repr(), "b''");
  EXPECT_EQ(py::str("it's").repr(), R"("it's")");
  EXPECT_EQ(py::list({py::integer(1), py::none(), py::bytes("x")}).repr(), "[1, None, b'x']");
}

TEST(ModelValues, PyIntCoversUnsignedSixtyFourBitsAndBeyond) {
  const PyInt two64 = PyInt(1) << 64;
  EXPECT_EQ(py_int_repr(two64 - 1), "18446744073709551615");
  EXPECT_EQ(py_int_repr(-two64), "-18446744073709551616");
  const PyInt min128 = -(PyInt(1) << 126) * 2;  // -2**127
  EXPECT_EQ(py_int_repr(min128), "-170141183460469231731687303715884105728");
}

TEST(ModelValues, EqualityKeepsPythonTypesApart) {
  EXPECT_EQ(py::integer(1), py::integer(1));
  EXPECT_NE(py::integer(1), py::boolean(true));  // empty() returning 1 is a bug
  EXPECT_NE(py::integer(1), py::floating(1.0));
  EXPECT_NE(py::bytes("a"), py::str("a"));
  EXPECT_EQ(py::int_list({1, 2}), py::list({py::integer(1), py::integer(2)}));
}

TEST(ModelErrors, MessagePlaceholdersMatchAddressesAndPids) {
  const std::string pattern = "Queue <multiprocessing.queues.Queue object at 0x\u2026> is closed";
  EXPECT_TRUE(message_matches(
      pattern, "Queue <multiprocessing.queues.Queue object at 0x7f381e929510> is closed"));
  EXPECT_FALSE(
      message_matches(pattern, "Queue <multiprocessing.queues.Queue object at 0x> is closed"));
  EXPECT_FALSE(message_matches(pattern, "Queue <multiprocessing.queues.JoinableQueue object at "
                                        "0x7f381e929510> is closed"));
  EXPECT_TRUE(message_matches("parent=<pid> started", "parent=4242 started"));
  EXPECT_FALSE(message_matches("parent=<pid>", "parent=abc"));
  EXPECT_TRUE(message_matches(pattern, pattern));  // a pattern admits itself
  EXPECT_TRUE(message_matches("parent=<pid>", "parent=<pid>"));
  EXPECT_TRUE(message_matches("", ""));
  EXPECT_FALSE(message_matches("", "x"));
}

TEST(ModelErrors, MatchingIsExactOnTheType) {
  const PyError os = errors::os_error("[Errno 32] Broken pipe");
  EXPECT_FALSE(os.matches(errors::broken_pipe()));  // a subclass is not the class asked for
  EXPECT_TRUE(errors::broken_pipe().matches(errors::broken_pipe()));
  EXPECT_EQ(errors::full().repr(), "queue.Full()");
  EXPECT_EQ(errors::value_error(errors::kTaskDoneTooMany).repr(),
            "ValueError('task_done() called too many times')");
}

TEST(ModelOutcomes, ResultsAdmitByKindValueAndPattern) {
  using testing::blocks;
  using testing::none;
  EXPECT_TRUE(none().admits(none()));
  EXPECT_FALSE(none().admits(testing::no()));
  EXPECT_FALSE(none().admits(blocks()));
  EXPECT_TRUE(blocks().admits(blocks()));
  EXPECT_FALSE(Result::raises(errors::full()).admits(Result::raises(errors::empty())));
  EXPECT_EQ(blocks().to_string(), "blocks");
  EXPECT_EQ(Result::raises(errors::eof()).to_string(), "raises EOFError()");
}

TEST(ModelOutcomes, CheckAndExplainFollowStep) {
  const LockState held{true};
  EXPECT_EQ(check(held, LockOp::release(), testing::none()), LockState{false});
  EXPECT_EQ(check(held, LockOp::release(), testing::no()), std::nullopt);
  const std::string why = explain(held, LockOp::acquire(false), testing::yes());
  EXPECT_NE(why.find("lock.acquire(block=False) -> True is not allowed"), std::string::npos) << why;
  EXPECT_NE(why.find("allowed: {False -> Lock(locked)}"), std::string::npos) << why;
  EXPECT_NE(explain(held, LockOp::acquire(false), testing::no()).find("is allowed"),
            std::string::npos);
}

static_assert(Model<QueueModel>);
static_assert(Model<JoinableQueueModel>);
static_assert(Model<SimpleQueueModel>);
static_assert(Model<LockModel>);
static_assert(Model<RLockModel>);
static_assert(Model<SemaphoreModel>);
static_assert(Model<PipeModel>);
static_assert(Model<RegisterModel>);
static_assert(Model<ProcessModel>);

}  // namespace
}  // namespace mpconform::spec
