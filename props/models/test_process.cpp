// The Process life-cycle model on hand-written histories, and the exit code helpers.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <csignal>
#include <stdexcept>

#include "clause.hpp"
#include "mpconform/spec/process.hpp"
#include "replay.hpp"

namespace mpconform::spec {
namespace {

using namespace testing;
using P = ProcessOp;
using PSteps = std::vector<Step<ProcessOp>>;

const PyError kClosed = errors::value_error("process object is closed");
const PyError kTwice = errors::assertion_error("cannot start a process twice");
const PyError kJoinUnstarted = errors::assertion_error("can only join a started process");
const PyError kStarted = errors::assertion_error("process has already started");
const PyError kRunning = errors::value_error(
    "Cannot close a process while it is still running. You should first call join() or "
    "terminate().");

TEST(ProcessModel, LifeCycleFromInitialToClosed) {
  MPC_CLAUSE("P-PID-1", "P-PID-2", "P-ALIVE-1", "P-EXIT-3", "P-JOIN-7", "P-CLOSE-2");
  const auto r = replay(ProcessState::make(), PSteps{
      {P::exitcode(), none()},
      {P::is_alive(), no()},
      {P::start(), none()},
      {P::is_alive(), yes()},
      {P::exitcode(), none()},
      {P::child_exits(0), none()},
      {P::exitcode(), integer(0)},  // no join needed
      {P::is_alive(), no()},
      {P::join(), none()},
      {P::join(), none()},  // repeatable
      {P::close(), none()},
      {P::close(), none()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  EXPECT_EQ(r.state.to_string(), "Process(closed)");
}

TEST(ProcessModel, JoinAlwaysReturnsNoneAndOnlyWaitsWithoutATimeout) {
  MPC_CLAUSE("P-JOIN-1", "P-JOIN-5", "P-JOIN-6", "P-JOIN-7");
  const auto r = replay(ProcessState::make(), PSteps{
      {P::start(), none()},
      {P::join(0.1), none()},  // timed out: still None
      {P::is_alive(), yes()},
      {P::exitcode(), none()},
      {P::join(0.0), none()},
      {P::join(-1.0), none()},  // negative: do not wait
      {P::join(), blocks()},
      {P::child_exits(3), none()},
      {P::join(), none()},
      {P::exitcode(), integer(3)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(ProcessModel, StartTwiceAndJoinUnstartedAreAssertions) {
  MPC_CLAUSE("P-START-1", "P-JOIN-2");
  const auto r = replay(ProcessState::make(), PSteps{
      {P::join(), raises(kJoinUnstarted)},
      {P::join(1.0), raises(kJoinUnstarted)},
      {P::start(), none()},
      {P::start(), raises(kTwice)},
      {P::child_exits(0), none()},
      {P::join(), none()},
      {P::start(), raises(kTwice)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(ProcessModel, TerminateAndKillNeedAStartedProcessAndDoNotWait) {
  MPC_CLAUSE("P-TERM-1", "P-TERM-2", "P-TERM-6", "P-TERM-3", "P-EXIT-2");
  const auto r = replay(ProcessState::make(), PSteps{
      {P::terminate(),
       raises(errors::attribute_error("'NoneType' object has no attribute 'terminate'"))},
      {P::kill(), raises(errors::attribute_error("'NoneType' object has no attribute 'kill'"))},
      {P::start(), none()},
      {P::terminate(), none()},
      {P::is_alive(), yes()},  // terminate() does not wait; the exit is a later event
      {P::child_exits(exitcode_from_signal(SIGTERM)), none()},
      {P::join(), none()},
      {P::exitcode(), integer(-15)},
      {P::terminate(), none()},  // after exit: nothing
      {P::kill(), none()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(ProcessModel, CloseRefusesARunningChildAndThenEverythingRaises) {
  MPC_CLAUSE("P-CLOSE-1", "P-CLOSE-2", "P-CLOSE-3", "P-CLOSE-4");
  const auto r = replay(ProcessState::make(true), PSteps{
      {P::start(), none()},
      {P::close(), raises(kRunning)},
      {P::is_alive(), yes()},  // the child keeps running
      {P::child_exits(0), none()},
      {P::close(), none()},
      {P::is_alive(), raises(kClosed)},
      {P::join(), raises(kClosed)},
      {P::terminate(), raises(kClosed)},
      {P::kill(), raises(kClosed)},
      {P::start(), raises(kClosed)},
      {P::exitcode(), raises(kClosed)},
      {P::get_daemon(), yes()},  // daemon stays readable
      {P::close(), none()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  // A never-started Process may be closed too.
  const auto unstarted = replay(ProcessState::make(), PSteps{{P::close(), none()},
                                                             {P::start(), raises(kClosed)}});
  ASSERT_FALSE(unstarted.rejected_at) << unstarted.transcript;
}

TEST(ProcessModel, DaemonFlagIsFixedOnceStarted) {
  MPC_CLAUSE("P-DAEMON-2", "P-DAEMON-1");
  const auto r = replay(ProcessState::make(), PSteps{
      {P::get_daemon(), no()},
      {P::set_daemon(true), none()},
      {P::get_daemon(), yes()},
      {P::start(), none()},
      {P::set_daemon(false), raises(kStarted)},
      {P::child_exits(0), none()},
      {P::set_daemon(false), raises(kStarted)},  // also after exit
      {P::get_daemon(), yes()},
      {P::close(), none()},
      {P::set_daemon(false), none()},  // CPython clears _popen on close, so the assert passes
      {P::get_daemon(), no()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(ProcessModel, AChildCanOnlyExitOnceAfterStart) {
  // The exit event is the environment's: it is illegal where no child is running.
  EXPECT_TRUE(step(ProcessState::make(), P::child_exits(0)).is_illegal());
  const ProcessState started = *check(ProcessState::make(), P::start(), none());
  const ProcessState stopped = *check(started, P::child_exits(0), none());
  EXPECT_TRUE(step(stopped, P::child_exits(1)).is_illegal());
  const ProcessState closed = *check(stopped, P::close(), none());
  EXPECT_TRUE(step(closed, P::child_exits(1)).is_illegal());
  EXPECT_NE(step(closed, P::child_exits(1)).reason().find("Process(closed)"), std::string::npos);
}

TEST(ProcessModel, RejectsImpossibleHistories) {
  MPC_CLAUSE("P-JOIN-1", "P-PID-2", "P-CLOSE-1");
  // join() returned a value.
  auto r = replay(ProcessState::make(), PSteps{{P::start(), none()},
                                              {P::child_exits(0), none()},
                                              {P::join(), ret(py::integer(0))}});
  EXPECT_EQ(r.rejected_at, 2u) << r.transcript;
  // An exitcode while the child still runs.
  r = replay(ProcessState::make(), PSteps{{P::start(), none()}, {P::exitcode(), integer(0)}});
  EXPECT_EQ(r.rejected_at, 1u) << r.transcript;
  // close() of a running child succeeded.
  r = replay(ProcessState::make(), PSteps{{P::start(), none()}, {P::close(), none()}});
  EXPECT_EQ(r.rejected_at, 1u) << r.transcript;
  // join() without timeout returned while the child runs (no exit event before it).
  r = replay(ProcessState::make(), PSteps{{P::start(), none()}, {P::join(), none()}});
  EXPECT_EQ(r.rejected_at, 1u) << r.transcript;
}

TEST(ProcessModel, ExitCodeHelpersFollowWaitStatusRules) {
  MPC_CLAUSE("P-EXIT-1", "P-EXIT-2", "P-EXIT-6", "P-EXIT-7", "P-EXIT-9");
  EXPECT_EQ(exitcode_from_wait_status(W_EXITCODE(0, 0)), 0);
  EXPECT_EQ(exitcode_from_wait_status(W_EXITCODE(255, 0)), 255);
  EXPECT_EQ(exitcode_from_wait_status(W_EXITCODE(0, SIGTERM)), -15);
  EXPECT_EQ(exitcode_from_wait_status(W_EXITCODE(0, SIGKILL)), -9);
  EXPECT_EQ(exitcode_from_wait_status(W_EXITCODE(0, SIGSEGV)), -11);
  EXPECT_THROW(exitcode_from_wait_status(W_STOPCODE(SIGSTOP)), std::invalid_argument);
  EXPECT_EQ(exitcode_from_exit_status(3), 3);
  EXPECT_EQ(exitcode_from_exit_status(-1), 255);
  EXPECT_EQ(exitcode_from_exit_status(256), 0);
  EXPECT_EQ(exitcode_from_exit_status(257), 1);
  EXPECT_EQ(exitcode_from_exit_status(300), 44);
  EXPECT_EQ(exitcode_from_signal(SIGKILL), -9);
  EXPECT_EQ(exitcode_from_sys_exit(py::none()), 0);
  EXPECT_EQ(exitcode_from_sys_exit(py::boolean(false)), 0);
  EXPECT_EQ(exitcode_from_sys_exit(py::boolean(true)), 1);
  EXPECT_EQ(exitcode_from_sys_exit(py::integer(-1)), 255);
  EXPECT_EQ(exitcode_from_sys_exit(py::integer(256)), 0);
  EXPECT_EQ(exitcode_from_sys_exit(py::str("fatal: reason")), 1);
}

TEST(ProcessModel, CounterexamplesReadLikePrograms) {
  EXPECT_EQ(P::join(0.5).to_string(), "p.join(timeout=0.5)");
  EXPECT_EQ(P::join().to_string(), "p.join()");
  EXPECT_EQ(P::set_daemon(true).to_string(), "p.daemon = True");
  EXPECT_EQ(P::child_exits(-15).to_string(), "<child exits: exitcode=-15>");
  ProcessState s = *check(ProcessState::make(true), P::start(), none());
  s = *check(s, P::child_exits(-15), none());
  EXPECT_EQ(s.to_string(), "Process(stopped exitcode=-15, daemon)");
}

}  // namespace
}  // namespace mpconform::spec
