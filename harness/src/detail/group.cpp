// The process group of one run (group.hpp).
#include "group.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <fmt/format.h>

namespace mpconform {

void become_subreaper() {
  static const bool done = [] {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    return true;
  }();
  (void)done;
}

namespace detail {

void sleep_us(std::uint64_t us) {
  if (us == 0) return;
  timespec ts{static_cast<time_t>(us / 1'000'000), static_cast<long>((us % 1'000'000) * 1000)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

std::string read_small_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

char proc_state(pid_t pid) {
  const std::string stat = read_small_file(fmt::format("/proc/{}/stat", pid));
  const std::size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() ? stat[close + 2] : '?';
}

std::string status_text(int s) {
  return s >= 0 ? fmt::format("exited with code {}", s)
                : fmt::format("killed by signal {} ({})", -s, strsignal(-s));
}

void die_with_parent(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(137);
}

namespace {
int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}
}  // namespace

Group::Group(Execution& out) : out_(out), runner_(::getpid()) { become_subreaper(); }

Group::~Group() { finish(); }

void Group::start() {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::setpgid(0, 0);
    die_with_parent(runner_);
    for (;;) ::pause();
  }
  ::setpgid(pid, pid);  // also in the parent: no race with the children joining the group
  pgid_ = pid;
}

pid_t Group::fork_child(std::uint32_t index, const std::string& role, const std::function<void()>& body) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::setpgid(0, pgid_);
    die_with_parent(runner_);
    body();
    ::_exit(0);
  }
  ::setpgid(pid, pgid_);
  ProcessReport r;
  r.process = index;
  r.pid = pid;
  r.role = role;
  out_.processes.push_back(r);
  Child c;
  c.report = out_.processes.size() - 1;
  c.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  children_[pid] = c;
  return pid;
}

std::size_t Group::live() const {
  std::size_t n = 0;
  for (const auto& [pid, c] : children_) n += c.done ? 0 : 1;
  return n;
}

bool Group::wait_all(std::int64_t deadline, std::int64_t stall_ns, const std::function<std::uint64_t()>& progress) {
  std::uint64_t seen = progress();
  std::int64_t last_progress = monotonic_ns();
  for (;;) {
    reap();
    if (live() == 0) return true;
    std::vector<pollfd> fds;
    for (auto& [pid, c] : children_)
      if (!c.done && c.pidfd >= 0) fds.push_back({c.pidfd, POLLIN, 0});
    const std::int64_t now = monotonic_ns();
    const std::uint64_t p = progress();
    if (p != seen) {
      seen = p;
      last_progress = now;
    }
    if (now > deadline || now - last_progress > stall_ns) {
      stalled_for_ = now - last_progress;
      return false;
    }
    ::poll(fds.data(), fds.size(), 20);
  }
}

void Group::describe_hung(ProcessReport& r) {
  r.hung = true;
  r.wchan = read_small_file(fmt::format("/proc/{}/wchan", r.pid));
  r.state = proc_state(r.pid);
}

bool Group::finish() {
  if (pgid_ <= 0) return true;
  ::kill(-pgid_, SIGKILL);
  int status = 0;
  while (::waitpid(pgid_, &status, 0) < 0 && errno == EINTR) {
  }
  bool ok = true;
  const std::int64_t give_up = monotonic_ns() + 5'000'000'000;
  for (;;) {
    if (reap()) break;
    if (monotonic_ns() > give_up) {
      ok = false;
      break;
    }
    sleep_us(200);
  }
  for (auto& [pid, c] : children_)
    if (c.pidfd >= 0) {
      ::close(c.pidfd);
      c.pidfd = -1;
    }
  pgid_ = -1;
  return ok;
}

// Reaps whatever has ended in the group (direct children and orphans reparented to us).
// Returns true when the group has no child of ours left.
bool Group::reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-pgid_, &status, WNOHANG);
    if (pid == 0) return false;
    if (pid < 0) return errno == ECHILD;
    auto it = children_.find(pid);
    if (it != children_.end()) {
      it->second.done = true;
      ProcessReport& r = out_.processes[it->second.report];
      if (!r.hung) r.status = decode_status(status);
      if (it->second.pidfd >= 0) {
        ::close(it->second.pidfd);
        it->second.pidfd = -1;
      }
    }
  }
}

}  // namespace detail
}  // namespace mpconform
