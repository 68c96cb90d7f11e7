#pragma once
// Shared helpers for the mpref core tests: time tiers, a stopwatch, and forked children that
// are always reaped (a Child that goes out of scope un-waited is SIGKILLed and reaped, so a
// failing ASSERT can never leave a process behind).
#include <cerrno>
#include <cstdlib>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "timing.hpp"
#include "mpref/detail/deadline.hpp"

namespace core_test {

/// The time tiers (seconds; props/common/timing.hpp, from harness/tiers.json): Tier::wait,
/// Tier::late(), Tier::at_once() (the `instant` tier), Tier::bound() (the `watchdog` tier).
using Tier = mpconform::testing::TestTiers;

class Stopwatch {
 public:
  Stopwatch() : t0_(mpref::detail::monotonic_now()) {}
  [[nodiscard]] double elapsed() const { return mpref::detail::monotonic_now() - t0_; }

 private:
  double t0_;
};

/// How a child ended.
struct ChildExit {
  bool timed_out = false;  // did not end in time: it was SIGKILLed
  bool exited = false;     // _exit(code)
  int code = -1;
  int signal = 0;          // killed by this signal
  [[nodiscard]] bool ok() const { return exited && code == 0; }
  [[nodiscard]] std::string describe() const {
    if (timed_out) return "timed out (SIGKILLed)";
    if (exited) return "exit code " + std::to_string(code);
    return "killed by signal " + std::to_string(signal);
  }
};

/// A forked child running `body`, whose int result (0 = success) becomes its exit code; an
/// exception in the child gives 250. The child never returns into GoogleTest.
class Child {
 public:
  template <class F>
  explicit Child(F&& body) {
    pid_ = fork();
    if (pid_ < 0) throw std::system_error(errno, std::generic_category(), "fork");
    if (pid_ == 0) {
      int rc = 250;
      try {
        rc = std::forward<F>(body)();
      } catch (...) {
        rc = 250;
      }
      _exit(rc);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;
  ~Child() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      reap_blocking();
    }
  }

  [[nodiscard]] pid_t pid() const { return pid_; }

  /// Waits at most `timeout` seconds for the child to end (without busy-waiting: a pidfd is
  /// polled); past that it is SIGKILLed and reaped, and timed_out is set.
  ChildExit wait(double timeout) {
    ChildExit r;
    if (pid_ <= 0) return r;
    if (!ended_within(timeout)) {
      ::kill(pid_, SIGKILL);
      r = reap_blocking();
      r.timed_out = true;
      return r;
    }
    return reap_blocking();
  }

  /// SIGKILL without reaping: the child stays a zombie until wait() (or the destructor).
  void kill_now() const { ::kill(pid_, SIGKILL); }

 private:
  bool ended_within(double timeout) const {
    int fd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    if (fd < 0) {  // no pidfd: sleep-poll waitid without reaping
      mpref::detail::Deadline d = mpref::detail::Deadline::after(timeout);
      for (;;) {
        siginfo_t info{};
        if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
            info.si_pid == pid_)
          return true;
        if (d.expired()) return false;
        usleep(5000);
      }
    }
    mpref::detail::Deadline d = mpref::detail::Deadline::after(timeout);
    bool ended = false;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      int ms = static_cast<int>(d.remaining() * 1000.0) + 1;
      int rc = poll(&p, 1, ms);
      if (rc > 0) {
        ended = true;
        break;
      }
      if (rc < 0 && errno == EINTR) continue;
      if (d.expired()) break;
    }
    close(fd);
    return ended;
  }
  ChildExit reap_blocking() {
    ChildExit r;
    int status = 0;
    pid_t got;
    do {
      got = waitpid(pid_, &status, 0);
    } while (got < 0 && errno == EINTR);
    pid_ = -1;
    if (got <= 0) return r;
    if (WIFEXITED(status)) {
      r.exited = true;
      r.code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
      r.signal = WTERMSIG(status);
    }
    return r;
  }
  pid_t pid_ = -1;
};

}  // namespace core_test
