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

namespace {
// Fills state, CPU time, age and real-time priority from /proc/<pid>/stat (fields after the
// command's ')': state(3) ... utime(14) stime(15) ... starttime(22) ... rt_priority(40)).
void read_stat(ProcessReport& r) {
  const std::string stat = read_small_file(fmt::format("/proc/{}/stat", r.pid));
  const std::size_t close = stat.rfind(')');
  if (close == std::string::npos) return;
  std::istringstream in(stat.substr(close + 2));
  std::vector<std::string> f{"", "", ""};  // fields 1 and 2 are before the ')'
  for (std::string x; in >> x;) f.push_back(x);
  if (f.size() < 41) return;
  r.state = f[3].empty() ? '?' : f[3][0];
  const double hz = static_cast<double>(::sysconf(_SC_CLK_TCK));
  r.cpu_s = (std::stod(f[14]) + std::stod(f[15])) / hz;
  double uptime = 0;
  std::istringstream(read_small_file("/proc/uptime")) >> uptime;
  r.alive_s = uptime - std::stod(f[22]) / hz;
  r.rt_priority = std::stoi(f[40]);
}
}  // namespace

void Group::describe_hung(const std::vector<ProcessReport*>& reports) {
  if (reports.empty()) return;
  std::vector<double> before;
  for (ProcessReport* r : reports) {
    r->hung = true;
    read_stat(*r);
    before.push_back(r->cpu_s);
  }
  constexpr double kLook = 0.1;
  sleep_us(static_cast<std::uint64_t>(kLook * 1e6));
  for (std::size_t i = 0; i < reports.size(); ++i) {
    ProcessReport& r = *reports[i];
    r.wchan = read_small_file(fmt::format("/proc/{}/wchan", r.pid));
    read_stat(r);
    r.cpu_share = (r.cpu_s - before[i]) / kLook;
  }
}

std::string describe_hung_line(const ProcessReport& r) {
  std::string line = fmt::format("p{} {} (pid {}): {}; state {}, wchan {}, cpu {:.2f} s of {:.2f} s alive ({:.0f}% "
                                 "of a CPU just now)",
                                 r.process, r.role, r.pid, r.pending, r.state, r.wchan.empty() ? "-" : r.wchan, r.cpu_s,
                                 r.alive_s, 100 * r.cpu_share);
  if (r.rt_priority > 0) line += fmt::format(", SCHED_FIFO priority {}", r.rt_priority);
  if (r.spinning()) line += ": spinning";
  return line;
}

std::string starvation_of(const std::vector<ProcessReport>& processes) {
  for (const ProcessReport& r : processes)
    if (r.hung && r.spinning())
      return r.rt_priority > 0
                 ? fmt::format("starved: p{} {} spun for {:.2f} s at SCHED_FIFO priority {}, so no process below it ran; ",
                               r.process, r.role, r.cpu_s, r.rt_priority)
                 : fmt::format("spinning: p{} {} used {:.2f} s of CPU busy-waiting; ", r.process, r.role, r.cpu_s);
  return "";
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
