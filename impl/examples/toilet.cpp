// example toilet: three processes share one toilet (a critical section) serialised by one
// mpref::Lock. Each holds it for about 50 ms and records when it entered and left
// (CLOCK_MONOTONIC) in shared memory; the parent checks that no two visits overlap.
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <mutex>
#include <vector>

#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mpref/detail/deadline.hpp"
#include "mpref/sharedctypes.hpp"
#include "mpref/synchronize.hpp"

namespace {

constexpr int people = 3;
constexpr double visit_s = 0.05;

// waitpid with a deadline (a pidfd is polled: no busy-waiting); past it the child is killed.
bool reap(pid_t pid, double timeout_s) {
  int fd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  bool ended = true;
  if (fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    ended = poll(&p, 1, static_cast<int>(timeout_s * 1000)) > 0;
    close(fd);
  }
  if (!ended) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return ended && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main() {
  mpref::Lock toilet;
  mpref::RawArray<double> times(2 * people);  // [enter0, exit0, enter1, exit1, ...]
  mpref::Semaphore gate(0);                   // everyone queues up before the first goes in
  const double t0 = mpref::detail::monotonic_now();

  std::vector<pid_t> pids;
  for (int who = 0; who < people; ++who) {
    pid_t pid = fork();
    if (pid < 0) {
      std::perror("fork");
      return 1;
    }
    if (pid == 0) {
      if (!gate.acquire(true, 10.0)) _exit(2);
      {
        std::lock_guard<const mpref::Lock> in(toilet);
        times.set(2 * who, mpref::detail::monotonic_now() - t0);
        usleep(static_cast<useconds_t>(visit_s * 1e6));
        times.set(2 * who + 1, mpref::detail::monotonic_now() - t0);
      }
      _exit(0);
    }
    pids.push_back(pid);
  }
  for (int i = 0; i < people; ++i) gate.release();

  bool ok = true;
  for (pid_t pid : pids) ok = reap(pid, 10.0) && ok;
  if (!ok) {
    std::puts("FAILED: a visitor did not finish cleanly");
    return 1;
  }

  struct Visit {
    int who;
    double enter, leave;
  };
  std::vector<Visit> visits;
  for (int who = 0; who < people; ++who)
    visits.push_back({who, times.get(2 * who), times.get(2 * who + 1)});
  std::sort(visits.begin(), visits.end(),
            [](const Visit& a, const Visit& b) { return a.enter < b.enter; });
  for (const Visit& v : visits)
    std::printf("process %d: entered at %.3f s, left at %.3f s (%.1f ms inside)\n", v.who,
                v.enter, v.leave, (v.leave - v.enter) * 1e3);

  for (std::size_t i = 0; i < visits.size(); ++i) {
    if (visits[i].enter <= 0 || visits[i].leave - visits[i].enter < visit_s * 0.9) {
      std::printf("FAILED: process %d's visit was not recorded properly\n", visits[i].who);
      ok = false;
    }
    if (i > 0 && visits[i].enter < visits[i - 1].leave) {
      std::printf("FAILED: process %d entered before process %d left\n", visits[i].who,
                  visits[i - 1].who);
      ok = false;
    }
  }
  if (toilet.locked()) {
    std::puts("FAILED: the toilet is still locked");
    ok = false;
  }
  if (!ok) return 1;
  std::puts("no two visits overlap");
  std::puts("example toilet: all checks passed");
  return 0;
}
