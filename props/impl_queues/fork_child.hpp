#pragma once
// Test helpers for props/impl_queues: forked children with bounded waits, timing tiers, and
// exception capture. Children report through their exit code (GoogleTest state is useless in a
// child); every Child is reaped, killed first if still running, by its destructor.
#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <string>
#include <utility>

#include "timing.hpp"
#include "mpref/detail/deadline.hpp"
#include "mpref/errors.hpp"

namespace qtest {

/// Timing tiers (seconds; props/common/timing.hpp, from harness/tiers.json).
using Tier = mpconform::testing::TestTiers;
inline constexpr double kShort = Tier::wait;  // a timeout that must be honoured
inline const double kSlack = Tier::late();    // how late a timed call may return
inline const double kLong = Tier::bound();    // bound for things that should happen "soon"
/// A slow event: a process start and exit, a MiB moved through a queue (the `long` tier).
inline const double kSlow = mpconform::testing::test_seconds(mpconform::tiers::long_);

inline double now() { return mpref::detail::monotonic_now(); }

/// Exit codes a child uses to report.
inline constexpr int kChildFailed = 101;
inline constexpr int kChildThrew = 102;

/// In a child: fail with a message (exit code kChildFailed).
#define CHILD_CHECK(cond)                                                               \
  do {                                                                                  \
    if (!(cond)) {                                                                      \
      std::fprintf(stderr, "child %d: check failed at %s:%d: %s\n", ::getpid(), __FILE__, \
                   __LINE__, #cond);                                                    \
      ::_exit(::qtest::kChildFailed);                                                   \
    }                                                                                   \
  } while (0)

class Child {
 public:
  /// Forks; the child runs body() (void or int-returning) and _exits with its result (0 for
  /// void), or kChildThrew if it throws.
  template <class F>
  static Child spawn(F&& body) {
    std::fflush(nullptr);
    const pid_t pid = ::fork();
    if (pid < 0) throw mpref::OSError::from_errno(errno);
    if (pid == 0) {
      int code = 0;
      try {
        if constexpr (std::is_void_v<decltype(body())>) {
          body();
        } else {
          code = static_cast<int>(body());
        }
      } catch (const std::exception& e) {
        std::fprintf(stderr, "child %d threw: %s\n", ::getpid(), e.what());
        code = kChildThrew;
      } catch (...) {
        code = kChildThrew;
      }
      std::fflush(nullptr);
      ::_exit(code);
    }
    return Child(pid);
  }

  Child(Child&& o) noexcept : pid_(std::exchange(o.pid_, -1)), pidfd_(std::exchange(o.pidfd_, -1)),
                              status_(o.status_), reaped_(o.reaped_) {}
  Child& operator=(Child&&) = delete;
  Child(const Child&) = delete;
  ~Child() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      join(60.0);
    }
    if (pidfd_ >= 0) ::close(pidfd_);
  }

  [[nodiscard]] pid_t pid() const noexcept { return pid_; }

  /// Waits at most `timeout` seconds for the child to exit; returns whether it has.
  bool join(double timeout) {
    if (reaped_) return true;
    pollfd p{pidfd_, POLLIN, 0};
    const mpref::detail::Deadline d = mpref::detail::Deadline::after(timeout);
    for (;;) {
      const int ms = static_cast<int>(d.remaining() * 1000.0) + 1;
      const int r = ::poll(&p, 1, timeout <= 0 ? 0 : ms);
      if (r > 0) break;
      if (r == 0 && (timeout <= 0 || d.expired())) return false;
      if (r < 0 && errno != EINTR) return false;
    }
    int st = 0;
    while (::waitpid(pid_, &st, 0) < 0 && errno == EINTR) {
    }
    status_ = st;
    reaped_ = true;
    return true;
  }
  /// Still running (not exited) right now.
  bool alive() { return !join(0.0); }
  void kill(int sig = SIGKILL) {
    if (!reaped_) ::kill(pid_, sig);
  }
  /// Python's exitcode: the exit status, or -signal; requires join() returned true.
  [[nodiscard]] int exitcode() const {
    if (WIFEXITED(status_)) return WEXITSTATUS(status_);
    if (WIFSIGNALED(status_)) return -WTERMSIG(status_);
    return -1000;
  }
  /// join(kLong) and return exitcode(), or -999 when it did not exit.
  int finish(double timeout = kLong) {
    if (!join(timeout)) return -999;
    return exitcode();
  }

 private:
  explicit Child(pid_t pid) : pid_(pid), pidfd_(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))) {
    if (pidfd_ < 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      throw mpref::OSError::from_errno(errno);
    }
  }
  pid_t pid_;
  int pidfd_;
  int status_ = 0;
  bool reaped_ = false;
};

/// Runs f and returns the what() of the E it throws; "<no exception>" or "<other: ...>"
/// otherwise.
template <class E, class F>
std::string raised(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    return std::string("<other: ") + typeid(e).name() + ": " + e.what() + ">";
  }
  return "<no exception>";
}

/// A QueueCore::get() sink that writes one byte to `ready_fd` and then stalls until killed:
/// its process is inside get(), holding the consumers' lock.
struct StallSink {
  int ready_fd;
  static void* sink(void* ctx, std::size_t) {
    auto* self = static_cast<StallSink*>(ctx);
    char x = 1;
    (void)!::write(self->ready_fd, &x, 1);
    for (;;) ::pause();
  }
};

/// Seconds f() takes.
template <class F>
double timed(F&& f) {
  const double t0 = now();
  f();
  return now() - t0;
}

}  // namespace qtest
