#pragma once
// Helpers for the mpref process tests: time tiers, pipes with bounded reads, the /proc view of
// our children, a fixture that proves no test leaves a child behind, and the probe runner (a
// fresh main process: props/impl_process/process_probe.cpp).
//
// Nothing hangs: every read and wait has a bound; on failure children are SIGKILLed and reaped.
// The test process is a child subreaper (PR_SET_CHILD_SUBREAPER), so the orphans a scenario
// makes (a parent killed under its children) come back to us to be checked and reaped.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <dirent.h>
#include <fstream>
#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "timing.hpp"
#include "mpref/detail/deadline.hpp"
#include "mpref/errors.hpp"
#include "mpref/process.hpp"

namespace process_test {

// ------------------------------------------------------------------------------- time tiers

/// The time tiers (seconds; props/common/timing.hpp, from harness/tiers.json): Tier::wait,
/// Tier::late(), Tier::at_once() (the `instant` tier), Tier::bound() (the `watchdog` tier).
using Tier = mpconform::testing::TestTiers;

inline double now() { return mpref::detail::monotonic_now(); }

// ------------------------------------------------------------------------------------ pipes

/// A pipe whose ends are closed on destruction. Children inherit both ends.
class Pipe {
 public:
  Pipe() {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) throw mpref::OSError::from_errno(errno);
    r_ = fds[0];
    w_ = fds[1];
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  ~Pipe() {
    close_r();
    close_w();
  }
  [[nodiscard]] int r() const { return r_; }
  [[nodiscard]] int w() const { return w_; }
  void close_w() {
    if (w_ >= 0) ::close(w_);
    w_ = -1;
  }
  void close_r() {
    if (r_ >= 0) ::close(r_);
    r_ = -1;
  }

 private:
  int r_ = -1;
  int w_ = -1;
};

/// write(2) all of `s` (child side: no stdio buffering involved).
inline void put(int fd, const std::string& s) {
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(fd, s.data() + off, s.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

/// Reads from a pipe with bounds: lines, or everything until EOF.
class Reader {
 public:
  explicit Reader(int fd) : fd_(fd) {}

  /// The next line (without '\n'); nullopt on EOF or when `timeout` passes first.
  std::optional<std::string> line(double timeout = Tier::bound()) {
    mpref::detail::Deadline d = mpref::detail::Deadline::after(timeout);
    for (;;) {
      auto nl = buf_.find('\n');
      if (nl != std::string::npos) {
        std::string out = buf_.substr(0, nl);
        buf_.erase(0, nl + 1);
        return out;
      }
      if (eof_ || !fill(d)) return std::nullopt;
    }
  }

  /// Everything until EOF (all write ends closed), or what came before `timeout` passed.
  std::string rest(double timeout = Tier::bound()) {
    mpref::detail::Deadline d = mpref::detail::Deadline::after(timeout);
    while (!eof_ && fill(d)) {
    }
    return std::exchange(buf_, std::string());
  }
  [[nodiscard]] bool eof() const { return eof_; }

 private:
  bool fill(const mpref::detail::Deadline& d) {
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      int ms = static_cast<int>(d.remaining() * 1000.0) + 1;
      int r = ::poll(&p, 1, d.expired() ? 0 : ms);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) return false;
      char tmp[4096];
      ssize_t n = ::read(fd_, tmp, sizeof tmp);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        eof_ = true;
        return false;
      }
      buf_.append(tmp, static_cast<std::size_t>(n));
      return true;
    }
  }
  int fd_;
  std::string buf_;
  bool eof_ = false;
};

// ------------------------------------------------------------------------------------- /proc

/// The state letter of /proc/<pid>/stat ('R', 'S', 'Z', ...), or nullopt if there is no such
/// process (reaped, or never existed).
inline std::optional<char> proc_state(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s;
  if (!f || !std::getline(f, s)) return std::nullopt;
  auto rp = s.rfind(')');
  if (rp == std::string::npos || rp + 2 >= s.size()) return std::nullopt;
  return s[rp + 2];
}

/// "Running" in the sense of the clauses: exists and is not a zombie.
inline bool running(pid_t pid) {
  auto st = proc_state(pid);
  return st && *st != 'Z' && *st != 'X';
}

/// Every process whose parent is the calling process (live or zombie), from /proc.
inline std::vector<pid_t> proc_children() {
  std::vector<pid_t> out;
  const pid_t me = ::getpid();
  DIR* d = ::opendir("/proc");
  if (d == nullptr) return out;
  while (dirent* e = ::readdir(d)) {
    char* end = nullptr;
    long pid = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0') continue;
    std::ifstream f(std::string("/proc/") + e->d_name + "/stat");
    std::string s;
    if (!f || !std::getline(f, s)) continue;
    auto rp = s.rfind(')');
    if (rp == std::string::npos) continue;
    std::istringstream rest(s.substr(rp + 2));
    char state;
    long ppid;
    if (rest >> state >> ppid && ppid == me) out.push_back(static_cast<pid_t>(pid));
  }
  ::closedir(d);
  return out;
}

/// Waits (bounded, by pidfd) for a child of ours that mpref does not track (an orphan that
/// came back to us as subreaper, a probe) and reaps it. Returns the CPython-style exit code
/// (-signum when killed), or nullopt if it did not end in time (it is then SIGKILLed and reaped).
inline std::optional<int> reap_pid(pid_t pid, double timeout = Tier::bound()) {
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  bool ended = true;
  if (fd >= 0) {
    pollfd p{fd, POLLIN, 0};
    int r;
    do {
      r = ::poll(&p, 1, static_cast<int>(timeout * 1000.0));
    } while (r < 0 && errno == EINTR);
    ended = r > 0;
    ::close(fd);
  }
  if (!ended) ::kill(pid, SIGKILL);
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r != pid || !ended) return std::nullopt;
  return WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
}

// ----------------------------------------------------------------------------- the fixture

/// Every process test: the process is a subreaper; afterwards no child of ours may be left,
/// live or zombie (mpref-started or not). Leftovers fail the test and are killed and reaped.
class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override { ::prctl(PR_SET_CHILD_SUBREAPER, 1); }

  void TearDown() override {
    for (mpref::Process& p : mpref::active_children()) {
      ADD_FAILURE() << "test left child " << p.name() << " active";
      p.kill();
      p.join(Tier::bound());
    }
    for (pid_t pid : proc_children()) {
      ADD_FAILURE() << "test left process " << pid << " (state "
                    << proc_state(pid).value_or('?') << ")";
      ::kill(pid, SIGKILL);
      reap_pid(pid);
    }
  }
};

/// Starts `p` and joins it with a bound; a child that outlives the bound is killed (and the
/// test fails through the returned nullopt).
inline std::optional<int> run_to_end(mpref::Process& p, double timeout = Tier::bound()) {
  p.start();
  p.join(timeout);
  if (p.is_alive()) {
    p.kill();
    p.join(Tier::bound());
    return std::nullopt;
  }
  return p.exitcode();
}

/// A started child that is killed and joined when it goes out of scope, so a failing ASSERT
/// never leaves it running.
class Started {
 public:
  explicit Started(mpref::Process p) : p_(std::move(p)) { p_.start(); }
  Started(const Started&) = delete;
  Started& operator=(const Started&) = delete;
  ~Started() {
    try {
      if (p_.is_alive()) {
        p_.kill();
      }
      p_.join(Tier::bound());
    } catch (...) {
    }
  }
  mpref::Process& operator*() { return p_; }
  mpref::Process* operator->() { return &p_; }

 private:
  mpref::Process p_;
};

/// The message of the mpref::Error `f` throws (its type checked by the caller through `E`),
/// or "<no exception>".
template <class E, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  return "<no exception>";
}

// ------------------------------------------------------------------------------- the probe

struct ProbeResult {
  std::optional<int> exitcode;  // nullopt: did not end in time (killed)
  std::string out;              // its stdout (and its children's), until EOF or the bound
  double elapsed = 0.0;         // start to exit
};

/// Runs `process_probe <args...>` (a fresh main process) in its own process group, with
/// stdout captured, bounded by `timeout`; on timeout the whole group is SIGKILLed.
/// Stdout is read until EOF, i.e. until every process that inherited it has ended or closed
/// it, bounded by the same deadline.
inline ProbeResult run_probe(std::vector<std::string> args, double timeout = Tier::bound()) {
  Pipe out;
  const double t0 = now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    ::dup2(out.w(), 1);
    std::vector<char*> argv;
    static std::string exe = MPREF_PROCESS_PROBE;
    argv.push_back(exe.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(exe.c_str(), argv.data());
    ::_exit(127);
  }
  out.close_w();
  ProbeResult res;
  Reader reader(out.r());
  int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  pollfd p{fd, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(timeout * 1000.0));
  } while (r < 0 && errno == EINTR);
  ::close(fd);
  res.elapsed = now() - t0;
  if (r <= 0) ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (r > 0) res.exitcode = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
  res.out = reader.rest(std::max(0.1, timeout - res.elapsed));
  return res;
}

/// The value after "key=" in `text` (up to whitespace), or "" if absent.
inline std::string field(const std::string& text, const std::string& key) {
  auto pos = text.find(key + "=");
  if (pos == std::string::npos) return "";
  pos += key.size() + 1;
  auto end = text.find_first_of(" \n", pos);
  return text.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
}

}  // namespace process_test

namespace process_test {

/// Waits until `fd` is readable (data or EOF), at most `timeout`.
inline bool readable(int fd, double timeout = Tier::bound()) {
  pollfd p{fd, POLLIN, 0};
  int r;
  do {
    r = ::poll(&p, 1, static_cast<int>(timeout * 1000.0));
  } while (r < 0 && errno == EINTR);
  return r > 0;
}

/// A one-shot go signal from the test to its children: open() writes a byte that every
/// waiter sees (it is never read). Children wait with a bound, so a forgotten gate cannot
/// keep a child alive past Tier::bound().
class Gate {
 public:
  void open() { put(p_.w(), "g"); }
  /// Child side: returns when the gate opens or the bound passes.
  void wait(double timeout = Tier::bound()) const { readable(p_.r(), timeout); }

 private:
  Pipe p_;
};

}  // namespace process_test
