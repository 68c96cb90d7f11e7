// example daemon: daemonic children end when their parent ends.
//
// A (non-daemonic) parent process starts a daemonic child that would sleep 30 s, then returns.
// Its exit function sends the daemon SIGTERM and reaps it, so the parent ends at once and the
// daemon is gone. Second case (mpref, beyond CPython): the parent is SIGKILLed, so no exit work
// runs at all; the daemon still dies, by PR_SET_PDEATHSIG.
#include <poll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mpref/detail/deadline.hpp"
#include "mpref/process.hpp"

namespace {
void check(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("FAILED: %s\n", what.c_str());
    std::exit(1);
  }
}

/// Waits up to `bound` seconds for `pid` to end (exit or zombie). A pidfd works on any process,
/// not only our children, and becomes readable when it ends: no polling loop needed.
bool gone_within(int pid, double bound) {
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (fd < 0) return errno == ESRCH;  // already gone (and reaped)
  pollfd p{fd, POLLIN, 0};
  const int r = ::poll(&p, 1, static_cast<int>(bound * 1000));
  ::close(fd);
  return r == 1;
}

/// Starts a parent that starts a daemonic sleeper, reports its pid through a pipe, then either
/// returns (`kill_parent` false) or waits to be killed. Returns the daemon's pid.
int run_case(bool kill_parent) {
  int fds[2];
  check(::pipe(fds) == 0, "pipe");
  mpref::Process parent([w = fds[1], kill_parent] {
    mpref::Process daemon([] { ::sleep(30); }, {.name = "sleeper", .daemon = true});
    daemon.start();
    const std::string pid = std::to_string(*daemon.pid()) + "\n";
    if (::write(w, pid.data(), pid.size()) < 0) std::abort();
    if (kill_parent) ::sleep(30);  // the example SIGKILLs us here
  });
  const double t0 = mpref::detail::monotonic_now();
  parent.start();
  ::close(fds[1]);
  char buf[32] = {};
  const ssize_t n = ::read(fds[0], buf, sizeof buf - 1);
  ::close(fds[0]);
  check(n > 0, "the parent reported its daemon's pid");
  const int daemon_pid = std::atoi(buf);
  if (kill_parent) parent.kill();
  parent.join(10.0);
  const double took = mpref::detail::monotonic_now() - t0;
  std::printf("%s: parent exitcode=%d after %.3f s, daemon pid=%d\n",
              kill_parent ? "parent killed" : "parent returned", parent.exitcode().value_or(999),
              took, daemon_pid);
  check(parent.exitcode() == (kill_parent ? -9 : 0), "the parent's exit code");
  check(took < 5.0, "the parent did not wait out its daemon's 30 s");
  check(gone_within(daemon_pid, 5.0), "the daemon is gone");
  if (kill_parent) {
    // Orphaned, it was adopted by us (subreaper, see main) and is ours to reap.
    int status = 0;
    check(::waitpid(daemon_pid, &status, 0) == daemon_pid && WIFSIGNALED(status) &&
              WTERMSIG(status) == SIGKILL,
          "the orphaned daemon was SIGKILLed");
  }
  std::printf("  daemon %d is gone\n", daemon_pid);
  return daemon_pid;
}
}  // namespace

int main() {
  // Orphans (the daemon of the killed parent) are re-parented to us rather than to init, so
  // the example can reap them and leaves no zombie behind.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1);
  run_case(false);
  run_case(true);
  std::printf("example daemon: all checks passed\n");
  return 0;
}
