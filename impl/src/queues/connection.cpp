// Pipe, Connection, wait (mpref/connection.hpp), following CPython's connection.py line by line
// for the checks and their order.
#include "mpref/connection.hpp"

#include <array>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <sched.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "mpref/detail/deadline.hpp"

namespace mpref {

struct Connection::State {
  int fd;
  bool readable;
  bool writable;
  bool socket;
  State(int f, bool r, bool w, bool s) : fd(f), readable(r), writable(w), socket(s) {}
  ~State() {
    if (fd >= 0) ::close(fd);
  }
  State(const State&) = delete;
  State& operator=(const State&) = delete;
};

namespace {

bool is_socket(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
}

[[noreturn]] void throw_write_error(int err) {
  if (err == EPIPE) throw BrokenPipeError();
  throw OSError::from_errno(err);
}

/// Blocks SIGPIPE in this thread around a pipe write, and swallows the SIGPIPE the write
/// raised, so a closed reader gives EPIPE instead of killing the process.
class SigpipeGuard {
 public:
  SigpipeGuard() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE) == 1;
  }
  ~SigpipeGuard() {
    if (got_epipe_ && !was_pending_) {
      timespec zero{};
      while (sigtimedwait(&set_, nullptr, &zero) == -1 && errno == EINTR) {
      }
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeGuard(const SigpipeGuard&) = delete;
  SigpipeGuard& operator=(const SigpipeGuard&) = delete;
  void epipe() noexcept { got_epipe_ = true; }

 private:
  sigset_t set_{};
  sigset_t old_{};
  bool was_pending_ = false;
  bool got_epipe_ = false;
};

/// Writes every byte of iov[0..n), retrying short writes and EINTR.
void write_all(int fd, bool socket, iovec* iov, int n) {
  std::optional<SigpipeGuard> guard;
  if (!socket) guard.emplace();
  while (n > 0) {
    ssize_t w;
    if (socket) {
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = static_cast<std::size_t>(n);
      w = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    } else {
      w = ::writev(fd, iov, n);
    }
    if (w < 0) {
      const int err = errno;
      if (err == EINTR) continue;
      if (err == EPIPE && guard) guard->epipe();
      throw_write_error(err);
    }
    auto done = static_cast<std::size_t>(w);
    while (n > 0 && done >= iov->iov_len) {
      done -= iov->iov_len;
      ++iov;
      --n;
    }
    if (n > 0) {
      iov->iov_base = static_cast<char*>(iov->iov_base) + done;
      iov->iov_len -= done;
    }
  }
}

int poll_timeout_ms(const detail::Deadline& d) {
  if (d.is_forever()) return -1;
  const double left = d.remaining();
  if (left <= 0.0) return 0;
  const double ms = left * 1000.0 + 1.0;  // round up: never return before the deadline
  return ms > static_cast<double>(INT_MAX) ? INT_MAX : static_cast<int>(ms);
}

/// poll(2) on `fds` for readability until `d`; retries EINTR. Returns the number ready.
int poll_until(std::vector<pollfd>& fds, const detail::Deadline& d) {
  for (;;) {
    for (auto& p : fds) p.revents = 0;
    const int r = ::poll(fds.data(), static_cast<nfds_t>(fds.size()), poll_timeout_ms(d));
    if (r >= 0) {
      if (r == 0 && !d.is_immediate() && !d.is_forever() && !d.expired()) continue;  // early wake
      return r;
    }
    if (errno != EINTR) throw OSError::from_errno(errno);
    if (d.expired() && !d.is_forever()) return 0;
  }
}

detail::Deadline deadline_of(std::optional<double> timeout) {
  return timeout ? detail::Deadline::after(*timeout) : detail::Deadline::forever();
}

}  // namespace

Connection::Connection(int fd, bool readable, bool writable) {
  if (fd < 0) throw ValueError("invalid handle");
  if (!readable && !writable)
    throw ValueError("at least one of `readable` and `writable` must be True");
  s_ = std::make_shared<State>(fd, readable, writable, is_socket(fd));
}

void Connection::check_closed() const {
  if (s_->fd < 0) throw OSError("handle is closed");
}
void Connection::check_readable() const {
  if (!s_->readable) throw OSError("connection is write-only");
}
void Connection::check_writable() const {
  if (!s_->writable) throw OSError("connection is read-only");
}

void Connection::close() noexcept {
  if (s_->fd >= 0) {
    ::close(s_->fd);
    s_->fd = -1;
  }
}
bool Connection::closed() const noexcept { return s_->fd < 0; }
int Connection::fileno() const {
  check_closed();
  return s_->fd;
}
bool Connection::readable() const noexcept { return s_->readable; }
bool Connection::writable() const noexcept { return s_->writable; }

void Connection::send_bytes(std::span<const std::byte> buf, std::int64_t offset,
                            std::optional<std::int64_t> size) {
  check_closed();
  check_writable();
  const auto n = static_cast<std::int64_t>(buf.size());
  if (offset < 0) throw ValueError("offset is negative");
  if (n < offset) throw ValueError("buffer length < offset");
  std::int64_t count;
  if (!size) {
    count = n - offset;
  } else if (*size < 0) {
    throw ValueError("size is negative");
  } else if (offset + *size > n) {
    throw ValueError("buffer length < offset + size");
  } else {
    count = *size;
  }
  send_message(buf.subspan(static_cast<std::size_t>(offset), static_cast<std::size_t>(count)));
}

void Connection::send_message(std::span<const std::byte> payload) {
  const std::uint64_t n = payload.size();
  std::array<unsigned char, 12> header{};
  std::size_t hlen;
  if (n > 0x7fffffffULL) {
    header[0] = header[1] = header[2] = header[3] = 0xff;  // struct.pack("!i", -1)
    for (int i = 0; i < 8; ++i)
      header[static_cast<std::size_t>(4 + i)] = static_cast<unsigned char>(n >> (56 - 8 * i));
    hlen = 12;
  } else {
    for (int i = 0; i < 4; ++i)
      header[static_cast<std::size_t>(i)] = static_cast<unsigned char>(n >> (24 - 8 * i));
    hlen = 4;
  }
  iovec iov[2];
  iov[0].iov_base = header.data();
  iov[0].iov_len = hlen;
  iov[1].iov_base = const_cast<std::byte*>(payload.data());
  iov[1].iov_len = payload.size();
  write_all(s_->fd, s_->socket, iov, n > 0 ? 2 : 1);
}

namespace {
/// Sockets only: a few non-blocking attempts, yielding the CPU in between, before blocking.
/// In a request/response exchange the answer usually arrives within microseconds, and
/// catching it here saves the sleep and wake-up, which are most of a round trip. Bounded
/// (kSpinTries recv+yield pairs, about ten microseconds), and sched_yield() lets a peer that
/// shares this CPU run, so the spin does not delay the very process it waits for.
constexpr int kSpinTries = 16;
ssize_t read_some(int fd, bool socket, std::byte* out, std::size_t want, bool first) {
  if (socket && first) {
    for (int i = 0; i < kSpinTries; ++i) {
      const ssize_t r = ::recv(fd, out, want, MSG_DONTWAIT);
      if (r >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) return r;
      sched_yield();
    }
  }
  return ::read(fd, out, want);
}
}  // namespace

void Connection::recv_exact(std::byte* out, std::uint64_t size) {
  // CPython's _recv: EOF before any byte of this read is EOFError, after some is an OSError.
  std::uint64_t remaining = size;
  while (remaining > 0) {
    const std::size_t want = remaining > std::uint64_t{1} << 30 ? std::size_t{1} << 30
                                                                : static_cast<std::size_t>(remaining);
    const ssize_t r = read_some(s_->fd, s_->socket, out, want, remaining == size);
    if (r < 0) {
      if (errno == EINTR) continue;
      throw OSError::from_errno(errno);
    }
    if (r == 0) {
      if (remaining == size) throw EOFError();
      throw OSError("got end of file during message");
    }
    out += r;
    remaining -= static_cast<std::uint64_t>(r);
  }
}

std::uint64_t Connection::recv_header() {
  unsigned char h[8];
  recv_exact(reinterpret_cast<std::byte*>(h), 4);
  const std::uint32_t raw = (std::uint32_t{h[0]} << 24) | (std::uint32_t{h[1]} << 16) |
                            (std::uint32_t{h[2]} << 8) | std::uint32_t{h[3]};
  if (raw == 0xffffffffU) {  // "!i" == -1: an 8-byte "!Q" length follows
    recv_exact(reinterpret_cast<std::byte*>(h), 8);
    std::uint64_t n = 0;
    for (unsigned char b : h) n = (n << 8) | b;
    return n;
  }
  // Any other negative "!i" length reads as an empty message in CPython (the read loop runs
  // zero times).
  if (raw & 0x80000000U) return 0;
  return raw;
}

void Connection::bad_message_length() {
  if (s_->writable) {
    s_->readable = false;
  } else {
    close();
  }
  throw OSError("bad message length");
}

Bytes Connection::recv_bytes(std::optional<std::int64_t> maxlength) {
  check_closed();
  check_readable();
  if (maxlength && *maxlength < 0) throw ValueError("negative maxlength");
  const std::uint64_t size = recv_header();
  if (maxlength && size > static_cast<std::uint64_t>(*maxlength)) bad_message_length();
  Bytes out(static_cast<std::size_t>(size));
  recv_exact(out.data(), size);
  return out;
}

std::size_t Connection::recv_bytes_into(std::span<std::byte> buffer, std::int64_t offset) {
  check_closed();
  check_readable();
  const auto bytesize = static_cast<std::int64_t>(buffer.size());
  if (offset < 0) throw ValueError("negative offset");
  if (offset > bytesize) throw ValueError("offset too large");
  const std::uint64_t size = recv_header();
  if (static_cast<std::uint64_t>(bytesize - offset) < size) {
    std::string whole(static_cast<std::size_t>(size), '\0');
    recv_exact(reinterpret_cast<std::byte*>(whole.data()), size);
    throw BufferTooShort(std::move(whole));
  }
  recv_exact(buffer.data() + offset, size);
  return static_cast<std::size_t>(size);
}

bool Connection::poll(std::optional<double> timeout) {
  check_closed();
  check_readable();
  std::vector<pollfd> fds{pollfd{s_->fd, POLLIN, 0}};
  return poll_until(fds, deadline_of(timeout)) > 0;
}

std::pair<Connection, Connection> Pipe(bool duplex) {
  if (duplex) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
      throw OSError::from_errno(errno);
    return {Connection(sv[0]), Connection(sv[1])};
  }
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) throw OSError::from_errno(errno);
  return {Connection(fds[0], true, false), Connection(fds[1], false, true)};
}

std::vector<Connection> wait(std::span<const Connection> objects, std::optional<double> timeout) {
  std::vector<pollfd> fds;
  fds.reserve(objects.size());
  for (const Connection& c : objects) fds.push_back(pollfd{c.fileno(), POLLIN, 0});
  std::vector<Connection> ready;
  if (poll_until(fds, deadline_of(timeout)) > 0) {
    for (std::size_t i = 0; i < fds.size(); ++i)
      if (fds[i].revents != 0) ready.push_back(objects[i]);
  }
  return ready;
}

std::vector<int> wait(std::span<const int> fds_in, std::optional<double> timeout) {
  std::vector<pollfd> fds;
  fds.reserve(fds_in.size());
  for (int fd : fds_in) fds.push_back(pollfd{fd, POLLIN, 0});
  std::vector<int> ready;
  if (poll_until(fds, deadline_of(timeout)) > 0) {
    for (const pollfd& p : fds)
      if (p.revents != 0) ready.push_back(p.fd);
  }
  return ready;
}

}  // namespace mpref
