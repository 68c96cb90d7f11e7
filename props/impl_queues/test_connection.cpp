// mpref::Pipe / Connection / wait against spec/clauses/connection.json ("cpp").
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <unistd.h>

#include <csignal>

#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "clause.hpp"
#include "fork_child.hpp"
#include "mpref/connection.hpp"

using qtest::Child;
using qtest::raised;
using qtest::timed;

namespace {

std::string str(const mpref::Bytes& b) {
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}
/// Reads exactly n raw bytes from fd (bounded by poll).
std::string read_raw(int fd, std::size_t n) {
  std::string out(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(qtest::kLong * 1000)) <= 0) break;
    const ssize_t r = ::read(fd, out.data() + got, n - got);
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  out.resize(got);
  return out;
}

}  // namespace

TEST(Pipe, DuplexEndsAreReadableAndWritableBothWays) {
  MPC_CLAUSE("C-PIPE-1");
  auto [a, b] = mpref::Pipe();
  EXPECT_TRUE(a.readable() && a.writable() && b.readable() && b.writable());
  a.send_bytes(std::string_view("to b"));
  b.send_bytes(std::string_view("to a"));
  EXPECT_EQ(str(b.recv_bytes()), "to b");
  EXPECT_EQ(str(a.recv_bytes()), "to a");
}

TEST(Pipe, SimplexIsReaderThenWriter) {
  MPC_CLAUSE("C-PIPE-2");
  auto [r, w] = mpref::Pipe(false);
  EXPECT_TRUE(r.readable());
  EXPECT_FALSE(r.writable());
  EXPECT_FALSE(w.readable());
  EXPECT_TRUE(w.writable());
  w.send_bytes(std::string_view("x"));
  EXPECT_EQ(str(r.recv_bytes()), "x");
}

TEST(Connection, ReadOnlyEndRefusesToSend) {
  MPC_CLAUSE("C-RW-1");
  auto [r, w] = mpref::Pipe(false);
  EXPECT_EQ(raised<mpref::OSError>([&] { r.send(1); }), "connection is read-only");
  EXPECT_EQ(raised<mpref::OSError>([&] { r.send_bytes(std::string_view("a")); }), "connection is read-only");
  try {
    r.send(1);
  } catch (const mpref::OSError& e) {
    EXPECT_EQ(e.errno_value(), 0);
  }
}

TEST(Connection, WriteOnlyEndRefusesToReceive) {
  MPC_CLAUSE("C-RW-2");
  auto [r, w] = mpref::Pipe(false);
  std::array<std::byte, 8> buf{};
  EXPECT_EQ(raised<mpref::OSError>([&] { w.recv<int>(); }), "connection is write-only");
  EXPECT_EQ(raised<mpref::OSError>([&] { w.recv_bytes(); }), "connection is write-only");
  EXPECT_EQ(raised<mpref::OSError>([&] { w.recv_bytes_into(buf); }), "connection is write-only");
  EXPECT_EQ(raised<mpref::OSError>([&] { w.poll(); }), "connection is write-only");
}

TEST(Connection, TypedSendRecvRoundTrips) {
  MPC_CLAUSE("C-SEND-1");
  auto [a, b] = mpref::Pipe();
  a.send(std::string("hello"));
  a.send(3.25);
  a.send(std::vector<int>{1, 2, 3});
  EXPECT_EQ(b.recv<std::string>(), "hello");
  EXPECT_EQ(b.recv<double>(), 3.25);
  EXPECT_EQ(b.recv<std::vector<int>>(), (std::vector<int>{1, 2, 3}));
}

TEST(Connection, SendBytesOffsetAndSizeCountBytes) {
  MPC_CLAUSE("C-SEND-2");
  auto [a, b] = mpref::Pipe();
  const std::array<std::int32_t, 3> ints{1, 2, 3};
  a.send_bytes(std::as_bytes(std::span(ints)), 1, 1);
  EXPECT_EQ(b.recv_bytes(), mpref::Bytes{std::byte{0}});  // little-endian 1: 01 00 00 00
  a.send_bytes(std::as_bytes(std::span(ints)), 4);
  const mpref::Bytes rest = b.recv_bytes();
  ASSERT_EQ(rest.size(), 8u);
  EXPECT_EQ(rest[0], std::byte{2});
}

TEST(Connection, SendBytesNegativeOffset) {
  MPC_CLAUSE("C-SEND-6");
  auto [a, b] = mpref::Pipe();
  EXPECT_EQ(raised<mpref::ValueError>([&] { a.send_bytes(std::string_view("abc"), -1); }), "offset is negative");
}

TEST(Connection, SendBytesOffsetBeyondTheBuffer) {
  MPC_CLAUSE("C-SEND-7");
  auto [a, b] = mpref::Pipe();
  EXPECT_EQ(raised<mpref::ValueError>([&] { a.send_bytes(std::string_view("abc"), 4); }), "buffer length < offset");
}

TEST(Connection, SendBytesNegativeSize) {
  MPC_CLAUSE("C-SEND-8");
  auto [a, b] = mpref::Pipe();
  EXPECT_EQ(raised<mpref::ValueError>([&] { a.send_bytes(std::string_view("abc"), 0, -1); }), "size is negative");
}

TEST(Connection, SendBytesOffsetPlusSizeBeyondTheBuffer) {
  MPC_CLAUSE("C-SEND-9");
  auto [a, b] = mpref::Pipe();
  EXPECT_EQ(raised<mpref::ValueError>([&] { a.send_bytes(std::string_view("abc"), 2, 2); }),
            "buffer length < offset + size");
  EXPECT_FALSE(b.poll());  // nothing was sent
}

TEST(Connection, OffsetAtTheEndSendsAnEmptyMessage) {
  MPC_CLAUSE("C-SEND-11");
  auto [a, b] = mpref::Pipe();
  a.send_bytes(std::string_view("abc"), 3);
  a.send_bytes(std::string_view("abc"), 3, 0);
  EXPECT_EQ(b.recv_bytes(), mpref::Bytes{});
  EXPECT_EQ(b.recv_bytes(), mpref::Bytes{});
  EXPECT_FALSE(b.poll());
}

TEST(Connection, EmptyMessagesArePreserved) {
  MPC_CLAUSE("C-SEND-3");
  for (bool duplex : {true, false}) {
    auto [r, w] = mpref::Pipe(duplex);
    w.send_bytes(mpref::Bytes{});
    EXPECT_TRUE(r.poll());
    EXPECT_EQ(r.recv_bytes(), mpref::Bytes{});
  }
}

TEST(Connection, MessageBoundariesAreKept) {
  MPC_CLAUSE("C-SEND-12");
  auto [r, w] = mpref::Pipe(false);
  Child c = Child::spawn([&, w = w] {
    mpref::Connection ww = w;
    for (int i = 0; i < 500; ++i) ww.send_bytes(std::string(static_cast<std::size_t>(i % 37), static_cast<char>('a' + i % 26)));
  });
  w.close();
  for (int i = 0; i < 500; ++i)
    ASSERT_EQ(str(r.recv_bytes()), std::string(static_cast<std::size_t>(i % 37), static_cast<char>('a' + i % 26)));
  EXPECT_EQ(c.finish(), 0);
  EXPECT_TRUE(r.poll(qtest::kLong));
  EXPECT_EQ(raised<mpref::EOFError>([&] { r.recv_bytes(); }), "");
}

TEST(Connection, NegativeMaxlength) {
  MPC_CLAUSE("C-MAXLEN-1");
  auto [a, b] = mpref::Pipe();
  EXPECT_EQ(raised<mpref::ValueError>([&] { b.recv_bytes(-1); }), "negative maxlength");
}

TEST(Connection, MessageLongerThanMaxlength) {
  MPC_CLAUSE("C-MAXLEN-2");
  auto [a, b] = mpref::Pipe();
  a.send_bytes(std::string_view("abcd"));
  EXPECT_EQ(str(b.recv_bytes(4)), "abcd");  // exactly maxlength is fine
  a.send_bytes(std::string_view("abcde"));
  EXPECT_EQ(raised<mpref::OSError>([&] { b.recv_bytes(4); }), "bad message length");
}

TEST(Connection, BadLengthMakesADuplexEndWriteOnly) {
  MPC_CLAUSE("C-MAXLEN-3");
  auto [a, b] = mpref::Pipe();
  a.send_bytes(std::string_view("abcdef"));
  EXPECT_EQ(raised<mpref::OSError>([&] { b.recv_bytes(2); }), "bad message length");
  EXPECT_FALSE(b.readable());
  EXPECT_TRUE(b.writable());
  EXPECT_FALSE(b.closed());
  EXPECT_EQ(raised<mpref::OSError>([&] { b.recv<int>(); }), "connection is write-only");
  b.send_bytes(std::string_view("still works"));
  EXPECT_EQ(str(a.recv_bytes()), "still works");
  // The payload stayed unread in the socket.
  EXPECT_EQ(read_raw(b.fileno(), 6), "abcdef");
}

TEST(Connection, BadLengthClosesASimplexReader) {
  MPC_CLAUSE("C-MAXLEN-4");
  auto [r, w] = mpref::Pipe(false);
  w.send_bytes(std::string_view("abcdef"));
  EXPECT_EQ(raised<mpref::OSError>([&] { r.recv_bytes(2); }), "bad message length");
  EXPECT_TRUE(r.closed());
  EXPECT_EQ(raised<mpref::OSError>([&] { r.recv<int>(); }), "handle is closed");
}

TEST(Connection, RecvBytesIntoReturnsTheLength) {
  MPC_CLAUSE("C-INTO-1");
  auto [a, b] = mpref::Pipe();
  a.send_bytes(std::string_view("abc"));
  std::array<std::byte, 8> buf{};
  EXPECT_EQ(b.recv_bytes_into(buf), 3u);
  EXPECT_EQ(buf[0], std::byte{'a'});
  EXPECT_EQ(buf[2], std::byte{'c'});
  EXPECT_EQ(buf[3], std::byte{0});
}

TEST(Connection, RecvBytesIntoOffsetCountsBytes) {
  MPC_CLAUSE("C-INTO-2");
  auto [a, b] = mpref::Pipe();
  a.send(std::int32_t{77});
  std::array<std::int32_t, 3> arr{0, 0, 0};
  EXPECT_EQ(b.recv_bytes_into(std::as_writable_bytes(std::span(arr)), 4), 4u);
  EXPECT_EQ(arr, (std::array<std::int32_t, 3>{0, 77, 0}));
}

TEST(Connection, RecvBytesIntoNegativeOffset) {
  MPC_CLAUSE("C-INTO-3");
  auto [a, b] = mpref::Pipe();
  std::array<std::byte, 8> buf{};
  EXPECT_EQ(raised<mpref::ValueError>([&] { b.recv_bytes_into(buf, -1); }), "negative offset");
}

TEST(Connection, RecvBytesIntoOffsetTooLarge) {
  MPC_CLAUSE("C-INTO-4");
  auto [a, b] = mpref::Pipe();
  std::array<std::byte, 8> buf{};
  EXPECT_EQ(raised<mpref::ValueError>([&] { b.recv_bytes_into(buf, 9); }), "offset too large");
  a.send_bytes(mpref::Bytes{});
  EXPECT_EQ(b.recv_bytes_into(buf, 8), 0u);  // offset == size is allowed
}

TEST(Connection, BufferTooShortCarriesTheWholeConsumedMessage) {
  MPC_CLAUSE("C-INTO-5");
  auto [a, b] = mpref::Pipe();
  a.send_bytes(std::string_view("0123456789AB"));
  a.send_bytes(std::string_view("next"));
  std::array<std::byte, 8> buf{};
  try {
    b.recv_bytes_into(buf);
    ADD_FAILURE() << "no BufferTooShort";
  } catch (const mpref::BufferTooShort& e) {
    EXPECT_EQ(e.message(), "0123456789AB");
    EXPECT_EQ(std::string(e.what()), "b'0123456789AB'");
    EXPECT_EQ(e.python_type(), "multiprocessing.BufferTooShort");
  }
  EXPECT_EQ(str(b.recv_bytes()), "next");
  EXPECT_EQ(mpref::python_bytes_repr(std::string("it's\n\x01\xff", 7)), "b\"it's\\n\\x01\\xff\"");
}

TEST(Connection, PollReturnsAtOnceAndConsumesNothing) {
  MPC_CLAUSE("C-POLL-1");
  auto [a, b] = mpref::Pipe();
  EXPECT_LT(timed([&] { EXPECT_FALSE(b.poll()); }), 0.1);
  a.send_bytes(std::string_view("m"));
  EXPECT_TRUE(b.poll(qtest::kLong));
  EXPECT_TRUE(b.poll());
  EXPECT_TRUE(b.poll(0.0));
  EXPECT_EQ(str(b.recv_bytes()), "m");
}

TEST(Connection, PollWaitsAtMostTheTimeout) {
  MPC_CLAUSE("C-POLL-2");
  auto [a, b] = mpref::Pipe();
  const double t = timed([&] { EXPECT_FALSE(b.poll(qtest::kShort)); });
  EXPECT_GE(t, qtest::kShort - 0.01);
  EXPECT_LT(t, qtest::kShort + qtest::kSlack);
  Child c = Child::spawn([&, a = a] {
    mpref::Connection aa = a;
    ::usleep(100000);
    aa.send_bytes(std::string_view("soon"));
  });
  const double t2 = timed([&] { EXPECT_TRUE(b.poll(5.0)); });
  EXPECT_LT(t2, qtest::kSlow);
  EXPECT_EQ(c.finish(), 0);
}

TEST(Connection, PollNoneWaitsWithNoBound) {
  MPC_CLAUSE("C-POLL-3");
  auto [a, b] = mpref::Pipe();
  Child c = Child::spawn([&, a = a] {
    mpref::Connection aa = a;
    ::usleep(300000);
    aa.send_bytes(std::string_view("late"));
  });
  const double t = timed([&] { EXPECT_TRUE(b.poll(std::nullopt)); });
  EXPECT_GE(t, 0.25);
  EXPECT_EQ(c.finish(), 0);
}

TEST(Connection, PollNegativeReturnsAtOnce) {
  MPC_CLAUSE("C-POLL-4");
  auto [a, b] = mpref::Pipe();
  EXPECT_LT(timed([&] { EXPECT_FALSE(b.poll(-1.0)); }), 0.1);
}

TEST(Connection, EofIsReadableThenEOFError) {
  MPC_CLAUSE("C-EOF-1", "C-EOF-4");
  for (bool duplex : {true, false}) {
    auto [r, w] = mpref::Pipe(duplex);
    w.close();
    EXPECT_TRUE(r.poll());
    std::array<std::byte, 4> buf{};
    EXPECT_EQ(raised<mpref::EOFError>([&] { r.recv<int>(); }), "");
    EXPECT_EQ(raised<mpref::EOFError>([&] { r.recv_bytes(); }), "");
    EXPECT_EQ(raised<mpref::EOFError>([&] { r.recv_bytes_into(buf); }), "");
  }
}

TEST(Connection, BufferedMessagesComeBeforeEof) {
  MPC_CLAUSE("C-EOF-5");
  auto [r, w] = mpref::Pipe(false);
  w.send_bytes(std::string_view("queued"));
  w.close();
  EXPECT_TRUE(r.poll());
  EXPECT_EQ(str(r.recv_bytes()), "queued");
  EXPECT_TRUE(r.poll());
  EXPECT_EQ(raised<mpref::EOFError>([&] { r.recv_bytes(); }), "");
}

TEST(Connection, EofNeedsEveryCopyOfThePeerClosed) {
  MPC_CLAUSE("C-EOF-2", "C-EOF-6");
  auto [parent_end, child_end] = mpref::Pipe();
  Child c = Child::spawn([&, ce = child_end] {
    mpref::Connection x = ce;
    x.send(std::string("hi"));
  });
  ASSERT_EQ(c.finish(), 0);
  EXPECT_EQ(parent_end.recv<std::string>(), "hi");
  EXPECT_FALSE(parent_end.poll(0.5));  // the parent still holds its copy of the child's end
  child_end.close();
  EXPECT_TRUE(parent_end.poll());
  EXPECT_EQ(raised<mpref::EOFError>([&] { parent_end.recv_bytes(); }), "");
}

TEST(Connection, PeerClosingMidMessageIsAnOSError) {
  MPC_CLAUSE("C-EOF-3");
  {  // in the header
    auto [r, w] = mpref::Pipe();
    ASSERT_EQ(::write(w.fileno(), "\x00\x00", 2), 2);
    w.close();
    EXPECT_EQ(raised<mpref::OSError>([&] { r.recv_bytes(); }), "got end of file during message");
  }
  {  // in the body
    auto [r, w] = mpref::Pipe(false);
    ASSERT_EQ(::write(w.fileno(), "\x00\x00\x00\x0a" "abc", 7), 7);
    w.close();
    EXPECT_EQ(raised<mpref::OSError>([&] { r.recv_bytes(); }), "got end of file during message");
  }
}

TEST(Connection, SendingToAClosedPeerIsBrokenPipe) {
  MPC_CLAUSE("C-EPIPE-1");
  for (bool duplex : {true, false}) {
    auto [r, w] = mpref::Pipe(duplex);
    r.close();
    EXPECT_EQ(raised<mpref::BrokenPipeError>([&] { w.send(1); }), "[Errno 32] Broken pipe");
    try {
      w.send_bytes(std::string_view("x"));
      ADD_FAILURE();
    } catch (const mpref::BrokenPipeError& e) {
      EXPECT_EQ(e.errno_value(), EPIPE);
      EXPECT_EQ(e.python_type(), "BrokenPipeError");
    }
  }
  // No SIGPIPE is left pending for the process either.
  sigset_t pending;
  sigpending(&pending);
  EXPECT_EQ(sigismember(&pending, SIGPIPE), 0);
}

TEST(Connection, ClosingWithUnreadDataResetsThePeerOnce) {
  MPC_CLAUSE("C-RESET-1");
  auto [a, b] = mpref::Pipe();
  a.send_bytes(std::string_view("x"));
  b.close();  // closed with "x" unread
  try {
    a.recv_bytes();
    ADD_FAILURE() << "no error";
  } catch (const mpref::OSError& e) {
    EXPECT_EQ(e.python_type(), "ConnectionResetError");
    EXPECT_STREQ(e.what(), "[Errno 104] Connection reset by peer");
  }
  EXPECT_TRUE(a.poll());
  EXPECT_EQ(raised<mpref::EOFError>([&] { a.recv_bytes(); }), "");
  EXPECT_EQ(raised<mpref::BrokenPipeError>([&] { a.send_bytes(std::string_view("z")); }),
            "[Errno 32] Broken pipe");
}

TEST(Connection, EmptySendToAClosedPeerIsBrokenPipe) {
  MPC_CLAUSE("C-EPIPE-2");
  for (bool duplex : {true, false}) {
    auto [r, w] = mpref::Pipe(duplex);
    r.close();
    EXPECT_EQ(raised<mpref::BrokenPipeError>([&] { w.send_bytes(mpref::Bytes{}); }), "[Errno 32] Broken pipe");
  }
}

TEST(Connection, CloseIsRepeatable) {
  MPC_CLAUSE("C-CLOSE-1");
  auto [a, b] = mpref::Pipe();
  EXPECT_FALSE(a.closed());
  a.close();
  a.close();
  EXPECT_TRUE(a.closed());
}

TEST(Connection, EveryOperationAfterCloseRaises) {
  MPC_CLAUSE("C-CLOSE-4");
  auto [a, b] = mpref::Pipe();
  a.close();
  std::array<std::byte, 4> buf{};
  for (const std::string& m : {
           raised<mpref::OSError>([&] { a.send(1); }),
           raised<mpref::OSError>([&] { a.send_bytes(std::string_view("x")); }),
           raised<mpref::OSError>([&] { a.recv<int>(); }),
           raised<mpref::OSError>([&] { a.recv_bytes(); }),
           raised<mpref::OSError>([&] { a.recv_bytes_into(buf); }),
           raised<mpref::OSError>([&] { a.poll(); }),
           raised<mpref::OSError>([&] { (void)a.fileno(); }),
       })
    EXPECT_EQ(m, "handle is closed");
}

TEST(Connection, ReadableAndWritableSurviveClose) {
  MPC_CLAUSE("C-CLOSE-5");
  auto [r, w] = mpref::Pipe(false);
  r.close();
  w.close();
  EXPECT_TRUE(r.readable());
  EXPECT_FALSE(r.writable());
  EXPECT_FALSE(w.readable());
  EXPECT_TRUE(w.writable());
}

TEST(Connection, SendBlocksWhileNobodyReads) {
  MPC_CLAUSE("C-BLOCK-1");
  auto [r, w] = mpref::Pipe();
  auto [status_r, status_w] = mpref::Pipe(false);
  constexpr std::size_t kSize = 8u << 20;
  Child c = Child::spawn([&, w = w, sw = status_w] {
    mpref::Connection ww = w, s = sw;
    mpref::Bytes big(kSize, std::byte{6});
    ww.send_bytes(big);
    s.send_bytes(std::string_view("sent"));
  });
  status_w.close();
  EXPECT_FALSE(status_r.poll(0.5));  // still blocked: nobody reads
  const mpref::Bytes got = r.recv_bytes();
  EXPECT_EQ(got, mpref::Bytes(kSize, std::byte{6}));
  EXPECT_TRUE(status_r.poll(qtest::kLong));
  EXPECT_EQ(str(status_r.recv_bytes()), "sent");
  EXPECT_EQ(c.finish(), 0);
}

TEST(Connection, SixtyFourMiBMessageRoundTrips) {
  MPC_CLAUSE("C-SIZE-1");
  constexpr std::size_t kSize = 64u << 20;
  auto [a, b] = mpref::Pipe();
  Child c = Child::spawn([&, b = b] {
    mpref::Connection bb = b;
    mpref::Bytes m = bb.recv_bytes();  // echo it back
    bb.send_bytes(m);
  });
  mpref::Bytes big(kSize);
  for (std::size_t i = 0; i < kSize; i += 4093) big[i] = static_cast<std::byte>(i);
  a.send_bytes(big);
  EXPECT_EQ(a.recv_bytes(), big);
  EXPECT_EQ(c.finish(), 0);
}

TEST(Connection, WireFormatIsFourByteBigEndianLength) {
  MPC_CLAUSE("C-SIZE-2");
  auto [r, w] = mpref::Pipe(false);
  w.send_bytes(std::string_view("abc"));
  EXPECT_EQ(read_raw(r.fileno(), 7), std::string("\x00\x00\x00\x03" "abc", 7));
  // And a raw CPython-framed message is read back.
  ASSERT_EQ(::write(w.fileno(), "\x00\x00\x00\x02hi", 6), 6);
  EXPECT_EQ(str(r.recv_bytes()), "hi");
}

namespace {
constexpr std::uint64_t kHuge = (std::uint64_t{1} << 31) + 10;
/// 2**31 + 10 bytes of address space that reads as zeros except a few marked bytes, without
/// committing 2 GiB.
struct HugeBuffer {
  std::byte* p;
  HugeBuffer() : p(static_cast<std::byte*>(::mmap(nullptr, kHuge, PROT_READ | PROT_WRITE,
                                                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0))) {
    p[0] = std::byte{1};
    p[kHuge / 2] = std::byte{2};
    p[kHuge - 1] = std::byte{3};
  }
  ~HugeBuffer() { ::munmap(p, kHuge); }
  HugeBuffer(const HugeBuffer&) = delete;
  HugeBuffer& operator=(const HugeBuffer&) = delete;
};
}  // namespace

TEST(Connection, HugePayloadsUseTheEightByteHeader) {
  MPC_CLAUSE("C-SIZE-4");
  auto [r, w] = mpref::Pipe();
  Child c = Child::spawn([&, w = w] {
    mpref::Connection ww = w;
    HugeBuffer h;
    ww.send_bytes(std::span<const std::byte>(h.p, kHuge));
  });
  w.close();
  EXPECT_EQ(read_raw(r.fileno(), 12), std::string("\xff\xff\xff\xff\x00\x00\x00\x00\x80\x00\x00\n", 12));
  // Drain the payload.
  std::vector<char> sink(1 << 20);
  std::uint64_t total = 0;
  for (;;) {
    const ssize_t n = ::read(r.fileno(), sink.data(), sink.size());
    if (n <= 0) break;
    total += static_cast<std::uint64_t>(n);
  }
  EXPECT_EQ(total, kHuge);
  EXPECT_EQ(c.finish(), 0);
}

TEST(Connection, AHugeMessageRoundTrips) {
  MPC_CLAUSE("C-SIZE-5");
  auto [r, w] = mpref::Pipe();
  Child c = Child::spawn([&, w = w] {
    mpref::Connection ww = w;
    HugeBuffer h;
    ww.send_bytes(std::span<const std::byte>(h.p, kHuge));
  });
  w.close();
  const mpref::Bytes got = r.recv_bytes();
  ASSERT_EQ(got.size(), kHuge);
  EXPECT_EQ(got[0], std::byte{1});
  EXPECT_EQ(got[kHuge / 2], std::byte{2});
  EXPECT_EQ(got[kHuge - 1], std::byte{3});
  EXPECT_EQ(got[12345], std::byte{0});
  EXPECT_EQ(c.finish(), 0);
}

TEST(Wait, ReturnsTheReadyConnectionsAndFds) {
  MPC_CLAUSE("C-WAIT-1");
  auto [a1, b1] = mpref::Pipe();
  auto [a2, b2] = mpref::Pipe();
  auto [r3, w3] = mpref::Pipe(false);
  a2.send_bytes(std::string_view("data"));
  w3.close();  // r3 at EOF: ready too
  const std::vector<mpref::Connection> conns{b1, b2, r3};
  std::vector<mpref::Connection> ready = mpref::wait(conns, 1.0);
  ASSERT_EQ(ready.size(), 2u);
  EXPECT_EQ(ready[0].fileno(), b2.fileno());
  EXPECT_EQ(ready[1].fileno(), r3.fileno());
  const std::vector<int> fds{b1.fileno(), b2.fileno()};
  EXPECT_EQ(mpref::wait(std::span<const int>(fds), 1.0), std::vector<int>{b2.fileno()});
}

TEST(Wait, NothingReadyReturnsEmptyAfterTheTimeout) {
  MPC_CLAUSE("C-WAIT-2");
  auto [a, b] = mpref::Pipe();
  const std::vector<mpref::Connection> conns{b};
  const double t = timed([&] { EXPECT_TRUE(mpref::wait(conns, qtest::kShort).empty()); });
  EXPECT_GE(t, qtest::kShort - 0.01);
  EXPECT_LT(t, qtest::kShort + qtest::kSlack);
}

TEST(Wait, ZeroOrNegativeTimeoutReturnsAtOnce) {
  MPC_CLAUSE("C-WAIT-3");
  auto [a, b] = mpref::Pipe();
  const std::vector<mpref::Connection> conns{b};
  EXPECT_LT(timed([&] {
              EXPECT_TRUE(mpref::wait(conns, 0.0).empty());
              EXPECT_TRUE(mpref::wait(conns, -1.0).empty());
            }),
            0.1);
}

TEST(Connection, ConstructorChecks) {
  // C-NEW-1/2 are Python-surface clauses; the C++ constructor follows them.
  EXPECT_EQ(raised<mpref::ValueError>([] { mpref::Connection c(-1); }), "invalid handle");
  EXPECT_EQ(raised<mpref::ValueError>([] { mpref::Connection c(0, false, false); }),
            "at least one of `readable` and `writable` must be True");
}

TEST(Connection, CopiesShareTheDescriptorAndTheLastOneClosesIt) {
  int fd = -1;
  {
    auto [a, b] = mpref::Pipe();
    mpref::Connection copy = a;
    fd = a.fileno();
    copy.close();
    EXPECT_TRUE(a.closed());
  }
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed
  int fd2 = -1;
  {
    auto [a, b] = mpref::Pipe();
    fd2 = b.fileno();
  }
  EXPECT_EQ(::fcntl(fd2, F_GETFD), -1);  // the destructor closed it
}
