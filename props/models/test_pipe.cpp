// The Pipe / Connection model on hand-written histories.
#include <gtest/gtest.h>

#include "clause.hpp"
#include "mpconform/spec/pipe.hpp"
#include "replay.hpp"

namespace mpconform::spec {
namespace {

using namespace testing;
using P = PipeOp;
using PSteps = std::vector<Step<PipeOp>>;
constexpr PipeEnd a = PipeEnd::a;
constexpr PipeEnd b = PipeEnd::b;

const PyError kHandleClosed = errors::os_error("handle is closed");
const PyError kReadOnly = errors::os_error("connection is read-only");
const PyError kWriteOnly = errors::os_error("connection is write-only");
const PyError kBadLength = errors::os_error("bad message length");

Result bytes(std::string s) { return ret(py::bytes(std::move(s))); }

TEST(PipeModel, DuplexCarriesMessagesBothWaysInOrder) {
  MPC_CLAUSE("C-PIPE-1", "C-SEND-1", "C-SEND-12", "C-SEND-3", "C-POLL-1");
  const auto r = replay(PipeState::make(), PSteps{
      {P::readable(a), yes()},
      {P::writable(a), yes()},
      {P::readable(b), yes()},
      {P::writable(b), yes()},
      {P::send_bytes(a, "one"), none()},
      {P::send_bytes(a, ""), none()},
      {P::send_bytes(a, "three"), none()},
      {P::send(b, py::list({py::integer(1), py::str("x")})), none()},
      {P::poll(b), yes()},
      {P::poll(b), yes()},  // poll consumes nothing
      {P::recv_bytes(b), bytes("one")},
      {P::recv_bytes(b), bytes("")},  // empty messages are kept
      {P::recv_bytes(b), bytes("three")},
      {P::poll(b), no()},
      {P::recv(a), ret(py::list({py::integer(1), py::str("x")}))},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(PipeModel, SimplexEndsAreReadOnlyAndWriteOnly) {
  MPC_CLAUSE("C-PIPE-2", "C-RW-1", "C-RW-2");
  const auto r = replay(PipeState::make(false), PSteps{
      {P::readable(a), yes()},
      {P::writable(a), no()},
      {P::readable(b), no()},
      {P::writable(b), yes()},
      {P::send_bytes(a, "x"), raises(kReadOnly)},
      {P::send(a, py::integer(1)), raises(kReadOnly)},
      {P::recv_bytes(b), raises(kWriteOnly)},
      {P::recv(b), raises(kWriteOnly)},
      {P::poll(b), raises(kWriteOnly)},
      {P::send_bytes(b, "x"), none()},
      {P::recv_bytes(a), bytes("x")},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(PipeModel, PollTimeoutsAndBlockingReceive) {
  MPC_CLAUSE("C-POLL-2", "C-POLL-3", "C-POLL-4");
  const auto r = replay(PipeState::make(), PSteps{
      {P::poll(a, 0.2), no()},
      {P::poll(a, -1.0), no()},
      {P::poll(a, std::nullopt), blocks()},
      {P::recv_bytes(a), blocks()},
      {P::recv(a), blocks()},
      {P::send_bytes(b, "x"), none()},
      {P::poll(a, std::nullopt), yes()},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(PipeModel, EofAfterThePeerClosesAndTheDataIsDrained) {
  MPC_CLAUSE("C-EOF-1", "C-EOF-4", "C-EOF-5", "C-EOF-6");
  const auto r = replay(PipeState::make(), PSteps{
      {P::send_bytes(a, "queued"), none()},
      {P::close(a), none()},
      {P::poll(b), yes()},
      {P::recv_bytes(b), bytes("queued")},
      {P::poll(b), yes()},  // EOF counts as readable
      {P::poll(b, std::nullopt), yes()},
      {P::recv_bytes(b), raises(errors::eof())},
      {P::recv(b), raises(errors::eof())},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(PipeModel, ClosingADuplexEndWithUnreadDataResetsThePeer) {
  MPC_CLAUSE("C-EOF-1", "C-EPIPE-1");
  const PyError reset = {"ConnectionResetError", "[Errno 104] Connection reset by peer"};
  auto r = replay(PipeState::make(), PSteps{
      {P::send_bytes(b, "to-a"), none()},
      {P::send_bytes(a, "to-b"), none()},
      {P::close(b), none()},  // with b'to-b' unread
      {P::poll(a), yes()},
      {P::send_bytes(a, "y"), raises(errors::broken_pipe())},  // does not consume the reset
      {P::recv_bytes(a), bytes("to-a")},  // queued messages first
      {P::poll(a), yes()},
      {P::recv_bytes(a), raises(reset)},  // once
      {P::recv_bytes(a), raises(errors::eof())},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  // The payload a too-long message left behind counts as unread data too.
  r = replay(PipeState::make(), PSteps{
      {P::send_bytes(a, "hello"), none()},
      {P::recv_bytes(b, 2), raises(kBadLength)},
      {P::close(b), none()},
      {P::recv(a), raises(reset)},
      {P::recv(a), raises(errors::eof())},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  // Simplex pipes have no reset; nor does a duplex end closed with nothing unread.
  r = replay(PipeState::make(), PSteps{
      {P::send_bytes(a, "x"), none()},
      {P::recv_bytes(b), bytes("x")},
      {P::close(b), none()},
      {P::recv_bytes(a), raises(errors::eof())},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  r = replay(PipeState::make(), PSteps{{P::send_bytes(a, "x"), none()},
                                       {P::close(b), none()},
                                       {P::recv_bytes(a), raises(errors::eof())}});
  EXPECT_EQ(r.rejected_at, 2u) << r.transcript;  // EOF where the reset is due
}

TEST(PipeModel, SendingToAClosedPeerIsABrokenPipe) {
  MPC_CLAUSE("C-EPIPE-1", "C-EPIPE-2");
  for (const bool duplex : {true, false}) {
    const PipeEnd writer = duplex ? a : b;
    const PipeEnd reader = duplex ? b : a;
    const auto r = replay(PipeState::make(duplex), PSteps{
        {P::close(reader), none()},
        {P::send_bytes(writer, "x"), raises(errors::broken_pipe())},
        {P::send_bytes(writer, ""), raises(errors::broken_pipe())},
        {P::send(writer, py::integer(1)), raises(errors::broken_pipe())},
    });
    ASSERT_FALSE(r.rejected_at) << r.transcript;
  }
}

TEST(PipeModel, CloseIsRepeatableAndThenEveryCallRaises) {
  MPC_CLAUSE("C-CLOSE-1", "C-CLOSE-4", "C-CLOSE-5");
  const auto r = replay(PipeState::make(false), PSteps{
      {P::send_bytes(b, "lost"), none()},
      {P::close(a), none()},
      {P::close(a), none()},
      {P::closed(a), yes()},
      {P::closed(b), no()},
      {P::readable(a), yes()},  // flags keep their values
      {P::writable(a), no()},
      {P::recv_bytes(a), raises(kHandleClosed)},
      {P::recv(a), raises(kHandleClosed)},
      {P::poll(a), raises(kHandleClosed)},
      {P::send_bytes(a, "x"), raises(kHandleClosed)},  // closed is checked before read-only
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(PipeModel, MaxlengthTooSmallStopsReading) {
  MPC_CLAUSE("C-MAXLEN-1", "C-MAXLEN-2", "C-MAXLEN-3", "C-MAXLEN-4");
  // Duplex: the end becomes write-only; it can still send.
  auto r = replay(PipeState::make(), PSteps{
      {P::recv_bytes(b, -1), raises(errors::value_error("negative maxlength"))},
      {P::send_bytes(a, "abc"), none()},
      {P::recv_bytes(b, 3), bytes("abc")},  // exactly maxlength is fine
      {P::send_bytes(a, "hello"), none()},
      {P::recv_bytes(b, 2), raises(kBadLength)},
      {P::readable(b), no()},
      {P::recv_bytes(b), raises(kWriteOnly)},
      {P::poll(b), raises(kWriteOnly)},
      {P::send_bytes(b, "still"), none()},
      {P::recv_bytes(a), bytes("still")},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  // Simplex: the reader is closed, so the writer now gets a broken pipe.
  r = replay(PipeState::make(false), PSteps{
      {P::send_bytes(b, "hello"), none()},
      {P::recv_bytes(a, 2), raises(kBadLength)},
      {P::closed(a), yes()},
      {P::recv(a), raises(kHandleClosed)},
      {P::send_bytes(b, "x"), raises(errors::broken_pipe())},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(PipeModel, RejectsImpossibleHistories) {
  MPC_CLAUSE("C-SEND-12", "C-EOF-1", "C-RW-1");
  // Messages merged.
  auto r = replay(PipeState::make(), PSteps{{P::send_bytes(a, "ab"), none()},
                                            {P::send_bytes(a, "cd"), none()},
                                            {P::recv_bytes(b), bytes("abcd")}});
  EXPECT_EQ(r.rejected_at, 2u) << r.transcript;
  // EOF while the peer is still open.
  r = replay(PipeState::make(), PSteps{{P::recv_bytes(b), raises(errors::eof())}});
  EXPECT_EQ(r.rejected_at, 0u) << r.transcript;
  // A plain OSError where BrokenPipeError is due.
  r = replay(PipeState::make(), PSteps{{P::close(b), none()},
                                       {P::send_bytes(a, "x"),
                                        raises(errors::os_error("[Errno 32] Broken pipe"))}});
  EXPECT_EQ(r.rejected_at, 1u) << r.transcript;
  // A message received at the end that sent it.
  r = replay(PipeState::make(), PSteps{{P::send_bytes(a, "x"), none()},
                                       {P::recv_bytes(a, std::nullopt), bytes("x")}});
  EXPECT_EQ(r.rejected_at, 1u) << r.transcript;
}

TEST(PipeModel, MixingPickledAndRawMessagesIsOutsideTheModel) {
  PipeState s = *check(PipeState::make(), P::send(a, py::integer(1)), none());
  const auto o = step(s, P::recv_bytes(b));
  EXPECT_TRUE(o.is_illegal());
  EXPECT_NE(o.reason().find("send()"), std::string::npos) << o.reason();
  EXPECT_TRUE(step(PipeState::make(), P::send_bytes(a, "")).allowed().size() == 1);
  P bad = P::send_bytes(a, "");
  bad.payload = py::str("text");
  EXPECT_TRUE(step(PipeState::make(), bad).is_illegal());
}

TEST(PipeModel, CounterexamplesReadLikePrograms) {
  EXPECT_EQ(P::send_bytes(a, "hi").to_string(), "a.send_bytes(b'hi')");
  EXPECT_EQ(P::recv_bytes(b, 2).to_string(), "b.recv_bytes(maxlength=2)");
  EXPECT_EQ(P::poll(b).to_string(), "b.poll()");
  EXPECT_EQ(P::poll(b, std::nullopt).to_string(), "b.poll(None)");
  EXPECT_EQ(P::poll(b, 0.5).to_string(), "b.poll(0.5)");
  EXPECT_EQ(P::closed(a).to_string(), "a.closed");
  PipeState s = *check(PipeState::make(), P::send_bytes(a, "x"), none());
  s = *check(s, P::close(a), none());
  EXPECT_EQ(s.to_string(), "Pipe(duplex, a: closed inbox=[], b: inbox=[b'x'])");
}

}  // namespace
}  // namespace mpconform::spec
