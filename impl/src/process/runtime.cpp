// The per-process side of mpref/process.hpp: runtime, registry and reaping, the child's life
// after fork (CPython's Process._bootstrap), the exit function (util._exit_function),
// current_process / parent_process / active_children, fork hooks.
#include <cxxabi.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio_ext.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <iostream>
#include <string>
#include <typeinfo>

#include "mpref/detail/deadline.hpp"
#include "process/state.hpp"

namespace mpref::detail {

ProcessState::~ProcessState() {
  if (pidfd >= 0) ::close(pidfd);
}

namespace {
void atfork_prepare() noexcept {
  runtime().hooks_mu.lock();
  runtime().mu.lock();
}
void atfork_release() noexcept {
  runtime().mu.unlock();
  runtime().hooks_mu.unlock();
}
}  // namespace

Runtime::Runtime() { ::pthread_atfork(atfork_prepare, atfork_release, atfork_release); }

Runtime& runtime() {
  static Runtime* r = new Runtime;  // leaked on purpose (see header)
  return *r;
}

ProcessState& current_locked() {
  Runtime& r = runtime();
  if (!r.current) {
    r.current = std::make_shared<ProcessState>();
    r.current->name = "MainProcess";
  }
  return *r.current;
}

int pidfd_open(pid_t pid) noexcept {
  return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
}

Poll poll_locked(ProcessState& s) {
  if (s.returncode) return Poll::exited;
  if (!s.popen || s.pid <= 0) return Poll::running;
  // Only the creator can wait for it (in any other process the pid is not a child of ours).
  if (s.parent_pid != ::getpid()) return Poll::unknown;
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(s.pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == 0) return Poll::running;
  if (r < 0) return Poll::unknown;  // ECHILD: someone else reaped it (CPython: still None)
  s.returncode = WIFSIGNALED(status) ? -WTERMSIG(status) : WEXITSTATUS(status);
  auto& kids = runtime().children;
  for (auto it = kids.begin(); it != kids.end(); ++it) {
    if (it->get() == &s) {
      kids.erase(it);
      break;
    }
  }
  return Poll::exited;
}

void cleanup_locked() {
  // Copy: poll_locked erases from the registry; keep each state alive while it is polled.
  std::vector<std::shared_ptr<ProcessState>> kids = runtime().children;
  for (auto& k : kids) poll_locked(*k);
  // `kids` may hold the last references: their destructors close fds only (started states
  // have no target left), so destroying them under the lock is safe.
}

void flush_std_streams() noexcept {
  try {
    std::cout.flush();
    std::clog.flush();
    std::cerr.flush();
  } catch (...) {
  }
  std::fflush(stdout);
  std::fflush(stderr);
}

bool wait_readable(int fd, std::optional<double> timeout) {
  const Deadline d = timeout ? Deadline::after(*timeout) : Deadline::forever();
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    timespec ts{};
    timespec* tsp = nullptr;
    if (!d.is_forever()) {
      const double left = d.remaining();
      const double whole = std::floor(left);
      ts.tv_sec = static_cast<time_t>(whole);
      ts.tv_nsec = static_cast<long>((left - whole) * 1e9);
      tsp = &ts;
    }
    const int r = ::ppoll(&p, 1, tsp, nullptr);
    if (r > 0) return true;
    if (r == 0) {
      if (d.expired()) return false;
      continue;  // woke a hair early (rounding): wait out the rest
    }
    if (errno != EINTR) throw OSError::from_errno(errno);
  }
}

namespace {

std::string demangle(const char* name) {
  if (name == nullptr) return "unknown exception";
  int status = 0;
  char* d = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = (status == 0 && d != nullptr) ? d : name;
  std::free(d);
  return out;
}

/// "<type>: <what>" for the exception being handled (Python's last traceback line).
std::string describe_current_exception() {
  try {
    throw;
  } catch (const Error& e) {
    return std::string(e.python_type()) + ": " + e.what();
  } catch (const std::exception& e) {
    return demangle(typeid(e).name()) + ": " + e.what();
  } catch (...) {
    const std::type_info* t = abi::__cxa_current_exception_type();
    return demangle(t != nullptr ? t->name() : nullptr);
  }
}

void write_stderr(const std::string& text) noexcept {
  std::cerr.flush();
  std::fputs(text.c_str(), stderr);
  std::fflush(stderr);
}

/// stdin -> /dev/null, as CPython's util._close_stdin (the C++ streams see EOF at once).
void close_stdin() noexcept {
  int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  if (fd != 0) {
    ::dup2(fd, 0);
    ::close(fd);
  } else {
    ::fcntl(0, F_SETFD, 0);  // stdin was closed: /dev/null took fd 0; keep it across exec
  }
  __fpurge(stdin);
  std::clearerr(stdin);
  std::cin.clear();
}

}  // namespace

[[noreturn]] void child_main(std::shared_ptr<ProcessState> self, pid_t parent_pid,
                             const std::vector<AtFork>& hooks, const Bootstrap& bootstrap) {
  // First of all, so that the window in which the parent can die unnoticed is tiny; the
  // getppid() re-check covers a parent that died before prctl.
  if (self->daemon) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent_pid) ::raise(SIGKILL);
  }
  Runtime& r = runtime();
  std::vector<std::shared_ptr<ProcessState>> old_children;
  std::shared_ptr<ProcessState> old_current;
  {
    std::lock_guard lk(r.mu);
    r.counter = 0;
    old_children.swap(r.children);
    old_current = std::move(r.current);
    // Our own object: as in the CPython child, its _popen is None (it is not our child).
    self->popen = false;
    self->pid = 0;
    if (self->pidfd >= 0) ::close(self->pidfd);
    self->pidfd = -1;
    r.current = self;
    r.parent = ParentInfo{self->parent_name, parent_pid};
    if (r.parent_fd >= 0) ::close(r.parent_fd);
    r.parent_fd = -1;
    r.exiting = false;
  }
  // The parent's other children stay reachable through inherited handles; we only drop our
  // registry's references (outside the lock: an old current process may own a target).
  old_children.clear();
  old_current.reset();
  close_stdin();

  int code = 1;
  try {
    for (const AtFork& h : hooks)
      if (h.after_in_child) h.after_in_child();
    Process me = ProcessAccess::make(self);
    code = bootstrap ? bootstrap(me) : default_bootstrap(me);
  } catch (const SystemExit& e) {
    code = e.code();
  } catch (...) {
    write_stderr("Process " + self->name + ":\n" + describe_current_exception() + "\n");
    code = 1;
  }
  flush_std_streams();
  ::_exit(code & 0xFF);
}

}  // namespace mpref::detail

namespace mpref {

using detail::runtime;

int default_bootstrap(Process& self) {
  int code = 0;
  try {
    try {
      self.run();
    } catch (...) {
      exit_function();  // CPython: `finally: util._exit_function()`, before the report
      throw;
    }
    exit_function();
  } catch (const SystemExit& e) {
    code = e.code();
  } catch (...) {
    detail::write_stderr("Process " + self.name() + ":\n" + detail::describe_current_exception() +
                         "\n");
    code = 1;
  }
  detail::flush_std_streams();
  return code;
}

void exit_function() noexcept {
  try {
    {
      std::lock_guard lk(runtime().mu);
      if (runtime().exiting) return;
      runtime().exiting = true;
    }
    for (Process& p : active_children()) {
      try {
        if (p.daemon()) p.terminate();
      } catch (...) {
      }
    }
    for (Process& p : active_children()) {
      try {
        p.join();
      } catch (...) {
      }
    }
  } catch (...) {
  }
  detail::flush_std_streams();
}

Process current_process() {
  std::lock_guard lk(runtime().mu);
  detail::current_locked();
  return ProcessAccess::make(runtime().current);
}

std::optional<ParentProcess> parent_process() {
  std::lock_guard lk(runtime().mu);
  if (!runtime().parent) return std::nullopt;
  return ParentProcess(runtime().parent->name, runtime().parent->pid);
}

std::vector<Process> active_children() {
  std::vector<std::shared_ptr<detail::ProcessState>> kids;
  {
    std::lock_guard lk(runtime().mu);
    detail::cleanup_locked();
    kids = runtime().children;
  }
  std::vector<Process> out;
  out.reserve(kids.size());
  for (auto& k : kids) out.push_back(ProcessAccess::make(std::move(k)));
  return out;
}

namespace {
/// An fd that is always readable: the watch of a parent that is already gone.
int dead_fd() {
  int fd = ::eventfd(1, EFD_CLOEXEC);
  if (fd < 0) throw OSError::from_errno(errno);
  return fd;
}
}  // namespace

int ParentProcess::sentinel() const {
  detail::Runtime& r = runtime();
  std::lock_guard lk(r.mu);
  if (!r.parent || r.parent->pid != pid_) {
    // A ParentProcess inherited from an ancestor: it describes someone else's parent.
    throw ValueError("parent_process() sentinel is only available in the child it describes");
  }
  if (r.parent_fd >= 0) return r.parent_fd;
  int fd = detail::pidfd_open(pid_);
  // If the parent died, we have been re-parented: a pidfd opened meanwhile may name a reused
  // pid, so the getppid() check after opening decides.
  if (fd >= 0 && ::getppid() != pid_) {
    ::close(fd);
    fd = -1;
  }
  if (fd < 0) fd = dead_fd();
  r.parent_fd = fd;
  return fd;
}

bool ParentProcess::is_alive() const { return !detail::wait_readable(sentinel(), 0.0); }

void ParentProcess::join(std::optional<double> timeout) const {
  detail::wait_readable(sentinel(), timeout);
}

void register_at_fork(AtFork hooks) {
  std::lock_guard lk(runtime().hooks_mu);
  runtime().hooks.push_back(std::move(hooks));
}

void set_bootstrap(Bootstrap bootstrap) {
  Bootstrap old;
  {
    std::lock_guard lk(runtime().mu);
    old = std::exchange(runtime().bootstrap, std::move(bootstrap));
  }
}

}  // namespace mpref
