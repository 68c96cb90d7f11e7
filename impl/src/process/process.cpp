// Process members (CPython's process.BaseProcess + popen_fork.Popen).
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <string>

#include "process/state.hpp"

namespace mpref {

using detail::Poll;
using detail::ProcessState;
using detail::runtime;

namespace {

std::string default_name(const std::vector<unsigned>& identity) {
  std::string name = "Process-";
  for (std::size_t i = 0; i < identity.size(); ++i) {
    if (i != 0) name += ':';
    name += std::to_string(identity[i]);
  }
  return name;
}

void check_closed(const ProcessState& s) {
  if (s.closed) throw ValueError("process object is closed");
}

void send_signal(ProcessState& s, int sig, const char* method) {
  std::lock_guard lk(runtime().mu);
  check_closed(s);
  if (!s.popen) {
    throw AttributeError(std::string("'NoneType' object has no attribute '") + method + "'");
  }
  if (s.returncode || s.pidfd < 0) return;  // reaped: the pid may be someone else's now
  if (::syscall(SYS_pidfd_send_signal, s.pidfd, sig, nullptr, 0) != 0 && errno != ESRCH) {
    throw OSError::from_errno(errno);
  }
}

}  // namespace

Process::Process() : Process(Target{}, ProcessOptions{}) {}

Process::Process(Target target, ProcessOptions options) : s_(std::make_shared<ProcessState>()) {
  {
    std::lock_guard lk(runtime().mu);
    const ProcessState& cur = detail::current_locked();
    s_->identity = cur.identity;
    s_->identity.push_back(++runtime().counter);  // every construction counts (P-NAME-6)
    s_->daemon = options.daemon.value_or(cur.daemon);
    s_->parent_name = cur.name;
  }
  s_->name = options.name.empty() ? default_name(s_->identity) : std::move(options.name);
  s_->parent_pid = ::getpid();
  s_->target = std::move(target);
}

Process::Process(std::shared_ptr<ProcessState> s) noexcept : s_(std::move(s)) {}

Process::~Process() {
  if (!s_) return;
  // Reap a finished child now rather than leave a zombie until the next poll.
  try {
    std::lock_guard lk(runtime().mu);
    if (s_->popen && !s_->returncode && s_->parent_pid == ::getpid()) detail::poll_locked(*s_);
  } catch (...) {
  }
}

void Process::start() {
  detail::Runtime& r = runtime();
  Bootstrap bootstrap;
  {
    std::lock_guard lk(r.mu);
    check_closed(*s_);
    if (s_->popen) throw AssertionError("cannot start a process twice");
    if (s_->parent_pid != ::getpid()) {
      throw AssertionError("can only start a process object created by current process");
    }
    if (detail::current_locked().daemon) {
      throw AssertionError("daemonic processes are not allowed to have children");
    }
    detail::cleanup_locked();
    s_->popen = true;  // claims the object: a concurrent second start() fails
    bootstrap = r.bootstrap;
  }
  std::vector<AtFork> hooks;
  {
    std::lock_guard lk(r.hooks_mu);
    hooks = r.hooks;
  }
  detail::flush_std_streams();
  auto unclaim = [&] {
    std::lock_guard lk(r.mu);
    s_->popen = false;
  };
  try {
    for (auto it = hooks.rbegin(); it != hooks.rend(); ++it)
      if (it->before) it->before();
  } catch (...) {
    unclaim();
    throw;
  }

  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) detail::child_main(s_, parent, hooks, bootstrap);
  const int fork_errno = errno;

  int fd = -1;
  if (pid > 0) {
    fd = detail::pidfd_open(pid);
    if (fd < 0) {  // cannot watch it (EMFILE, or a kernel without pidfds): undo the child
      const int e = errno;
      ::kill(pid, SIGKILL);
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      errno = e;
    }
  }
  Target dropped;
  if (pid > 0 && fd >= 0) {
    std::lock_guard lk(r.mu);
    s_->pid = pid;
    s_->pidfd = fd;
    dropped = std::move(s_->target);  // destroyed after unlocking: it may own handles
    s_->target = nullptr;
    s_->target_dropped = true;
    r.children.push_back(s_);
    if (!r.atexit_registered) {
      r.atexit_registered = true;
      std::atexit([] { exit_function(); });
    }
  } else {
    unclaim();
  }
  for (const AtFork& h : hooks)
    if (h.after_in_parent) h.after_in_parent();
  if (pid < 0) throw OSError::from_errno(fork_errno);
  if (fd < 0) throw OSError::from_errno(errno);
}

void Process::run() {
  Target* target = nullptr;
  {
    std::lock_guard lk(runtime().mu);
    if (s_->target_dropped) throw AttributeError("'Process' object has no attribute '_target'");
    target = &s_->target;
  }
  if (*target) (*target)();
}

void Process::join(std::optional<double> timeout) {
  int fd = -1;
  {
    std::lock_guard lk(runtime().mu);
    check_closed(*s_);
    if (s_->parent_pid != ::getpid()) throw AssertionError("can only join a child process");
    if (!s_->popen) throw AssertionError("can only join a started process");
    if (detail::poll_locked(*s_) != Poll::running) return;
    fd = s_->pidfd;
  }
  if (!detail::wait_readable(fd, timeout)) return;
  // The pidfd is readable once the child is a zombie, so this reaps it; only a child reaped
  // behind our back (ECHILD, poll unknown) makes it give up without an exit code, as CPython.
  for (int spins = 0; spins < 1000; ++spins) {
    {
      std::lock_guard lk(runtime().mu);
      if (s_->closed || detail::poll_locked(*s_) != Poll::running) return;
    }
    const timespec ms{0, 1000000};
    ::nanosleep(&ms, nullptr);
  }
}

bool Process::is_alive() {
  std::lock_guard lk(runtime().mu);
  check_closed(*s_);
  if (s_ == runtime().current) return true;
  if (s_->parent_pid != ::getpid()) throw AssertionError("can only test a child process");
  if (!s_->popen) return false;
  return detail::poll_locked(*s_) != Poll::exited;
}

void Process::terminate() { send_signal(*s_, SIGTERM, "terminate"); }

void Process::kill() { send_signal(*s_, SIGKILL, "kill"); }

void Process::close() {
  std::lock_guard lk(runtime().mu);
  if (s_->popen) {
    if (detail::poll_locked(*s_) != Poll::exited) {
      throw ValueError(
          "Cannot close a process while it is still running. You should first call join() or "
          "terminate().");
    }
    if (s_->pidfd >= 0) ::close(s_->pidfd);
    s_->pidfd = -1;
    s_->popen = false;
  }
  s_->closed = true;
}

std::optional<pid_t> Process::pid() const {
  std::lock_guard lk(runtime().mu);
  check_closed(*s_);
  if (s_ == runtime().current) return ::getpid();
  if (!s_->popen) return std::nullopt;
  return s_->pid;
}

std::optional<int> Process::exitcode() {
  std::lock_guard lk(runtime().mu);
  check_closed(*s_);
  if (!s_->popen) return std::nullopt;
  detail::poll_locked(*s_);
  return s_->returncode;
}

int Process::sentinel() const {
  std::lock_guard lk(runtime().mu);
  check_closed(*s_);
  if (!s_->popen || s_->pidfd < 0) throw ValueError("process not started");
  return s_->pidfd;
}

std::string Process::name() const {
  std::lock_guard lk(runtime().mu);
  return s_->name;
}

void Process::set_name(std::string name) {
  std::lock_guard lk(runtime().mu);
  s_->name = std::move(name);
}

bool Process::daemon() const {
  std::lock_guard lk(runtime().mu);
  return s_->daemon;
}

void Process::set_daemon(bool daemonic) {
  std::lock_guard lk(runtime().mu);
  if (s_->popen) throw AssertionError("process has already started");
  s_->daemon = daemonic;
}

}  // namespace mpref
