// A backend plugin on Boost.Interprocess (Boost 1.74, Debian's libboost-dev, header-only), written
// the way a user porting their multiprocessing code to Boost's own primitives would write it:
//
//   Queue, JoinableQueue, SimpleQueue  boost::interprocess::message_queue of 8-byte messages
//                                      (send/try_send/timed_send, receive/try_receive/timed_receive,
//                                      get_num_msg); JoinableQueue adds an unfinished-task count
//                                      under an interprocess_mutex + interprocess_condition
//   Lock                               interprocess_mutex (lock/try_lock/timed_lock)
//   RLock, Value's lock                interprocess_recursive_mutex
//   Value                              a uint64 next to its RLock in anonymous shared memory
//   Pipe                               Boost.Interprocess has none: a plain AF_UNIX socketpair
//   Process, exit handling             Boost.Interprocess has none: fork/waitpid/pidfd
//
// Timeouts are Boost's own absolute-time waits (boost::posix_time, CLOCK_REALTIME deadlines).
//
// Nothing is left in /dev/shm: Boost's message_queue only exists under a name (a POSIX shared
// memory object), so each one is created under a unique name ("mpconform-boost-<pid>-<n>") in the
// process that makes it (the harness, before it forks) and the name is removed right after: the
// mapping lives on in that process and in every process forked from it, and the kernel frees it
// when the last one unmaps. Only a SIGKILL in the microseconds between the two calls could leave
// a name behind; the backend's constructor removes names whose creating pid no longer runs. The
// other primitives live in anonymous shared memory (boost::interprocess::anonymous_shared_memory,
// MAP_SHARED | MAP_ANONYMOUS), which has no name at all.
//
// Where Boost cannot do what the multiprocessing contract asks, this port does what a porter
// following harness/INTERPRETING.md ("copy reference_backend.hpp, replace each mpref call with
// yours") ends up with, and leaves the difference for the harness to find:
//   - unlock() has a precondition, not an error (see "Lock and RLock" below): RLock.release() by a
//     non-owner and Lock.release() of a free Lock return normally and do nothing, where CPython
//     raises AssertionError / ValueError. The engine's lock property finds the first (RL-REL-1).
//   - interprocess_mutex is not robust in Boost 1.74 (a pthread mutex without
//     PTHREAD_MUTEX_ROBUST): a holder killed inside a critical section leaves it locked for good
//     (as CPython's Lock, L-DEAD-1; not as the reference's opt-in robust mode, L-DEAD-3), and so
//     does a process killed inside message_queue's own mutex (the reference recovers, Q-TERM-4).
//   - message_queue has a fixed capacity: an "unbounded" Queue (maxsize <= 0) holds
//     kUnboundedCapacity items, then put() blocks and put_nowait() raises Full (Q-MAX-1).
//   - Boost's waits take absolute CLOCK_REALTIME deadlines: a wall-clock jump shortens or
//     lengthens a timeout. (On Linux they are real waits: pthread_mutex_timedlock,
//     pthread_cond_timedwait; Boost polls only where _POSIX_TIMEOUTS is missing.)
//   - Semaphore: the harness's Backend has no semaphore factory, so interprocess_semaphore is not
//     used (it has no get_value() in 1.74 either, so JoinableQueue's count is a mutex-guarded int).
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <boost/date_time/posix_time/posix_time_types.hpp>
#include <boost/interprocess/anonymous_shared_memory.hpp>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <boost/interprocess/mapped_region.hpp>
#include <boost/interprocess/sync/interprocess_condition.hpp>
#include <boost/interprocess/sync/interprocess_mutex.hpp>
#include <boost/interprocess/sync/interprocess_recursive_mutex.hpp>
#include <boost/interprocess/sync/scoped_lock.hpp>

#include "mpconform/backend.hpp"
#include "mpref/errors.hpp"

namespace {

namespace bip = boost::interprocess;
namespace pt = boost::posix_time;

// What "unbounded" means for a message_queue, whose capacity is fixed at creation (every slot is
// allocated and initialised then: about 32 bytes each). More than any scenario of the harness
// puts; CPython's unbounded Queue takes up to SEM_VALUE_MAX items (Q-MAX-1, Q-MAX-6).
constexpr std::size_t kUnboundedCapacity = 4096;

constexpr const char* kNamePrefix = "mpconform-boost-";

// ---- waits ----------------------------------------------------------------------------------

// Python's timeout rules mapped onto Boost's three ways of calling a blocking operation.
struct Wait {
  enum Kind { none, forever, until } kind = none;
  pt::ptime deadline;  // kind == until: an absolute time, as Boost's timed_* calls take
};

Wait wait_of(bool block, std::optional<double> timeout) {
  if (!block) return {};
  if (!timeout) return {Wait::forever, {}};
  if (*timeout <= 0) return {};
  const auto us = static_cast<std::int64_t>(std::ceil(*timeout * 1e6));
  return {Wait::until, pt::microsec_clock::universal_time() + pt::microseconds(us)};
}

// ---- shared memory --------------------------------------------------------------------------

// A T constructed in anonymous shared memory, shared with every process forked afterwards.
// Destroying the handle unmaps this process's view only: the T is never destroyed (other
// processes may still use it), and the kernel frees the memory with the last mapping.
template <class T>
class Anon {
 public:
  Anon() : region_(bip::anonymous_shared_memory(sizeof(T))), p_(new (region_.get_address()) T()) {}
  T* operator->() const { return p_; }
  T& operator*() const { return *p_; }

 private:
  bip::mapped_region region_;
  T* p_;
};

std::string unique_name() {
  static std::atomic<std::uint64_t> n{0};
  return kNamePrefix + std::to_string(::getpid()) + "-" + std::to_string(n.fetch_add(1));
}

// Removes the message queue names left by a process SIGKILLed between creating a queue and
// removing its name ("mpconform-boost-<pid>-<n>" whose pid no longer runs).
void remove_stale_names() {
  DIR* d = ::opendir("/dev/shm");
  if (d == nullptr) return;
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name.rfind(kNamePrefix, 0) != 0) continue;
    const long pid = std::strtol(name.c_str() + std::strlen(kNamePrefix), nullptr, 10);
    if (pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) stale.push_back(name);
  }
  ::closedir(d);
  for (const std::string& name : stale) bip::message_queue::remove(name.c_str());
}

// ---- queues ---------------------------------------------------------------------------------

// A message_queue of uint64 items, its name removed as soon as it is created (see the top).
class Mq {
 public:
  explicit Mq(std::size_t capacity) {
    const std::string name = unique_name();
    q_ = std::make_unique<bip::message_queue>(bip::create_only, name.c_str(), capacity, sizeof(std::uint64_t));
    bip::message_queue::remove(name.c_str());
  }
  // False when the wait ended with the queue still full.
  bool send(std::uint64_t item, const Wait& w) {
    switch (w.kind) {
      case Wait::none: return q_->try_send(&item, sizeof item, 0);
      case Wait::forever: q_->send(&item, sizeof item, 0); return true;
      case Wait::until: return q_->timed_send(&item, sizeof item, 0, w.deadline);
    }
    return false;
  }
  // nullopt when the wait ended with the queue still empty.
  std::optional<std::uint64_t> receive(const Wait& w) {
    std::uint64_t item = 0;
    bip::message_queue::size_type got = 0;
    unsigned int priority = 0;
    bool ok = true;
    switch (w.kind) {
      case Wait::none: ok = q_->try_receive(&item, sizeof item, got, priority); break;
      case Wait::forever: q_->receive(&item, sizeof item, got, priority); break;
      case Wait::until: ok = q_->timed_receive(&item, sizeof item, got, priority, w.deadline); break;
    }
    if (!ok) return std::nullopt;
    return item;
  }
  std::size_t size() const { return q_->get_num_msg(); }
  std::size_t capacity() const { return q_->get_max_msg(); }

 private:
  std::unique_ptr<bip::message_queue> q_;
};

template <class Interface>
class BoostQueueOps : public Interface {
 public:
  explicit BoostQueueOps(std::int64_t maxsize)
      : q_(maxsize > 0 ? static_cast<std::size_t>(maxsize) : kUnboundedCapacity) {}
  void put(std::uint64_t item, bool block, std::optional<double> timeout) override {
    check_open();
    if (!q_.send(item, wait_of(block, timeout))) throw mpref::Full();
  }
  std::uint64_t get(bool block, std::optional<double> timeout) override {
    check_open();
    if (auto item = q_.receive(wait_of(block, timeout))) return *item;
    throw mpref::Empty();
  }
  std::int64_t qsize() override { return static_cast<std::int64_t>(q_.size()); }
  bool empty() override { return q_.size() == 0; }
  bool full() override { return q_.size() == q_.capacity(); }
  // Python's close(): this process only (the flag is in this process's copy of the object).
  void close() override { closed_ = true; }

 protected:
  void check_open() const {
    if (closed_) throw mpref::ValueError("Queue is closed");
  }
  Mq q_;
  bool closed_ = false;
};

class BoostQueue final : public BoostQueueOps<mpconform::Queue> {
 public:
  using BoostQueueOps::BoostQueueOps;
};

// The unfinished-task count of a JoinableQueue (message_queue has nothing of the kind).
struct TaskCount {
  bip::interprocess_mutex mutex;
  bip::interprocess_condition zero;  // notified when count drops to 0
  std::int64_t count = 0;
};

class BoostJoinableQueue final : public BoostQueueOps<mpconform::JoinableQueue> {
 public:
  using BoostQueueOps::BoostQueueOps;
  void put(std::uint64_t item, bool block, std::optional<double> timeout) override {
    check_open();
    // Counted before the item can be got (so a consumer's task_done never comes first), taken
    // back when the put fails.
    {
      bip::scoped_lock<bip::interprocess_mutex> lk(tasks_->mutex);
      ++tasks_->count;
    }
    if (!q_.send(item, wait_of(block, timeout))) {
      finish_one();
      throw mpref::Full();
    }
  }
  void task_done() override {
    bip::scoped_lock<bip::interprocess_mutex> lk(tasks_->mutex);
    if (tasks_->count <= 0) throw mpref::ValueError("task_done() called too many times");
    if (--tasks_->count == 0) tasks_->zero.notify_all();
  }
  bool join(std::optional<double> timeout) override {
    const Wait w = wait_of(true, timeout);
    bip::scoped_lock<bip::interprocess_mutex> lk(tasks_->mutex);
    while (tasks_->count > 0) {
      switch (w.kind) {
        case Wait::none: return false;
        case Wait::forever: tasks_->zero.wait(lk); break;
        case Wait::until:
          if (!tasks_->zero.timed_wait(lk, w.deadline)) return tasks_->count == 0;
          break;
      }
    }
    return true;
  }

 private:
  void finish_one() {
    bip::scoped_lock<bip::interprocess_mutex> lk(tasks_->mutex);
    if (--tasks_->count == 0) tasks_->zero.notify_all();
  }
  Anon<TaskCount> tasks_;
};

class BoostSimpleQueue final : public mpconform::SimpleQueue {
 public:
  BoostSimpleQueue() : q_(kUnboundedCapacity) {}
  void put(std::uint64_t item) override {
    check_open();
    q_.send(item, {Wait::forever, {}});
  }
  std::uint64_t get(std::optional<double> timeout) override {
    check_open();
    if (auto item = q_.receive(wait_of(true, timeout))) return *item;
    throw mpref::Empty();
  }
  bool empty() override {
    check_open();
    return q_.size() == 0;
  }
  void close() override { closed_ = true; }

 private:
  void check_open() const {
    if (closed_) throw mpref::OSError("handle is closed");
  }
  Mq q_;
  bool closed_ = false;
};

// ---- locks ----------------------------------------------------------------------------------

// Lock and RLock: the mutex's own lock/try_lock/timed_lock and unlock, nothing added. Boost's
// unlock() has a precondition instead of an error (the caller owns the mutex; Boost 1.74 checks
// pthread's result with BOOST_ASSERT only, which a release build compiles out), so what Python
// reports as an error becomes a silent no-op here:
//   - RLock.release() by a process that does not own it (or of an RLock nobody holds): pthread
//     returns EPERM and nothing changes, where CPython raises AssertionError (RL-REL-1, RL-REL-2);
//   - Lock.release() of a Lock that is not held: glibc's default mutex just stores "unlocked",
//     where CPython raises ValueError (L-REL-1).
// (A port that must raise them keeps its own owner pid and "held" flag next to the mutex; Boost
// has no way to ask who owns a mutex.) Releasing a Lock from another process than the one that
// took it (multiprocessing.Lock has no owner, L-REL-2/3) works on glibc's default mutex type,
// which does not check the owner, though POSIX leaves it undefined.
template <class M>
bool lock_with(M& m, const Wait& w) {
  switch (w.kind) {
    case Wait::none: return m.try_lock();
    case Wait::forever: m.lock(); return true;
    case Wait::until: return m.timed_lock(w.deadline);
  }
  return false;
}

// A Lock interface over a mutex `M` that lives in shared memory owned by someone else.
template <class M>
class MutexLock final : public mpconform::Lock {
 public:
  explicit MutexLock(M& m) : m_(m) {}
  bool acquire(bool block, std::optional<double> timeout) override { return lock_with(m_, wait_of(block, timeout)); }
  void release() override { m_.unlock(); }

 private:
  M& m_;
};

// A Lock interface over a mutex `M` of its own (in anonymous shared memory).
template <class M>
class OwnMutexLock final : public mpconform::Lock {
 public:
  OwnMutexLock() : lock_(*m_) {}
  bool acquire(bool block, std::optional<double> timeout) override { return lock_.acquire(block, timeout); }
  void release() override { lock_.release(); }

 private:
  Anon<M> m_;
  MutexLock<M> lock_;
};

using BoostLock = OwnMutexLock<bip::interprocess_mutex>;
using BoostRLock = OwnMutexLock<bip::interprocess_recursive_mutex>;

// ---- Value ----------------------------------------------------------------------------------

// Value: the uint64 next to its own RLock (CPython's default lock for a Value).
struct ValueState {
  bip::interprocess_recursive_mutex lock;
  std::uint64_t value = 0;
};

class BoostValue final : public mpconform::SharedValue {
 public:
  explicit BoostValue(std::uint64_t initial) : lock_(s_->lock) { s_->value = initial; }
  std::uint64_t read() override {
    lock_.acquire(true, std::nullopt);
    const std::uint64_t v = s_->value;
    lock_.release();
    return v;
  }
  void write(std::uint64_t value) override {
    lock_.acquire(true, std::nullopt);
    s_->value = value;
    lock_.release();
  }
  std::uint64_t read_raw() override { return s_->value; }
  void write_raw(std::uint64_t value) override { s_->value = value; }
  mpconform::Lock& get_lock() override { return lock_; }

 private:
  Anon<ValueState> s_;
  MutexLock<bip::interprocess_recursive_mutex> lock_;
};

// ---- Pipe (not in Boost.Interprocess: a socketpair) -------------------------------------------

class SocketConnection final : public mpconform::Connection {
 public:
  explicit SocketConnection(int fd) : fd_(fd) {}
  ~SocketConnection() override { close(); }
  void send(std::uint64_t message) override {
    check_open();
    const char* p = reinterpret_cast<const char*>(&message);
    std::size_t left = sizeof message;
    while (left > 0) {
      const ssize_t n = ::send(fd_, p, left, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EPIPE) throw mpref::BrokenPipeError();
        throw mpref::OSError::from_errno(errno);
      }
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }
  std::uint64_t recv() override {
    check_open();
    std::uint64_t message = 0;
    char* p = reinterpret_cast<char*>(&message);
    std::size_t got = 0;
    while (got < sizeof message) {
      const ssize_t n = ::recv(fd_, p + got, sizeof message - got, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        throw mpref::OSError::from_errno(errno);
      }
      if (n == 0) {
        if (got == 0) throw mpref::EOFError();
        throw mpref::OSError("got end of file during message");
      }
      got += static_cast<std::size_t>(n);
    }
    return message;
  }
  bool poll(std::optional<double> timeout) override {
    check_open();
    pollfd p{fd_, POLLIN, 0};
    const int ms = !timeout ? -1 : *timeout <= 0 ? 0 : static_cast<int>(std::ceil(*timeout * 1000));
    for (;;) {
      const int r = ::poll(&p, 1, ms);
      if (r < 0 && errno == EINTR) continue;  // (restarts the whole timeout; rare)
      if (r < 0) throw mpref::OSError::from_errno(errno);
      return r > 0;
    }
  }
  void close() override {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  void check_open() const {
    if (fd_ < 0) throw mpref::OSError("handle is closed");
  }
  int fd_;
};

// ---- Process (not in Boost.Interprocess: fork) -------------------------------------------------

struct Child {
  pid_t pid = 0;
  int pidfd = -1;
  bool daemon = false;
  std::optional<int> code;  // once reaped

  // Reaps the child if it has ended; true once it has.
  bool poll() {
    if (code) return true;
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r != pid) return false;
    code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    if (pidfd >= 0) ::close(pidfd);
    pidfd = -1;
    return true;
  }
  void join(std::optional<double> timeout) {
    if (poll()) return;
    if (!timeout) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
      if (pidfd >= 0) ::close(pidfd);
      pidfd = -1;
      return;
    }
    if (*timeout > 0 && pidfd >= 0) {
      pollfd p{pidfd, POLLIN, 0};
      ::poll(&p, 1, static_cast<int>(std::ceil(*timeout * 1000)));
    }
    poll();
  }
};

// The children this process started (per process: cleared in a forked child).
std::vector<std::shared_ptr<Child>>& children() {
  static std::vector<std::shared_ptr<Child>> c;
  return c;
}

// Python's util._exit_function: SIGTERM the active daemonic children, then join every child.
void exit_function() {
  auto& cs = children();
  for (auto& c : cs)
    if (c->daemon && !c->poll()) ::kill(c->pid, SIGTERM);
  for (auto& c : cs) c->join(std::nullopt);
  cs.clear();
}

class ForkProcess final : public mpconform::Process {
 public:
  ForkProcess(std::function<void()> target, bool daemon) : target_(std::move(target)), daemon_(daemon) {}
  void start() override {
    if (c_) throw mpref::AssertionError("cannot start a process twice");
    const pid_t pid = ::fork();
    if (pid < 0) throw mpref::OSError::from_errno(errno);
    if (pid == 0) {
      children().clear();
      int code = 0;
      try {
        target_();
      } catch (...) {
        code = 1;
      }
      exit_function();
      ::_exit(code);
    }
    c_ = std::make_shared<Child>();
    c_->pid = pid;
    c_->daemon = daemon_;
    c_->pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    children().push_back(c_);
  }
  std::optional<pid_t> pid() override { return c_ ? std::optional<pid_t>(c_->pid) : std::nullopt; }
  void join(std::optional<double> timeout) override {
    if (!c_) throw mpref::AssertionError("can only join a started process");
    c_->join(timeout);
  }
  bool is_alive() override { return c_ && !c_->poll(); }
  std::optional<int> exitcode() override {
    if (!c_ || !c_->poll()) return std::nullopt;
    return c_->code;
  }
  void terminate() override {
    if (c_ && !c_->poll()) ::kill(c_->pid, SIGTERM);
  }

 private:
  std::function<void()> target_;
  bool daemon_;
  std::shared_ptr<Child> c_;
};

// ---- the backend ----------------------------------------------------------------------------

class BoostInterprocessBackend final : public mpconform::Backend {
 public:
  BoostInterprocessBackend() { remove_stale_names(); }
  std::string name() const override { return "boost-interprocess"; }
  std::unique_ptr<mpconform::Queue> make_queue(std::int64_t maxsize) override {
    return std::make_unique<BoostQueue>(maxsize);
  }
  std::unique_ptr<mpconform::JoinableQueue> make_joinable_queue(std::int64_t maxsize) override {
    return std::make_unique<BoostJoinableQueue>(maxsize);
  }
  std::unique_ptr<mpconform::SimpleQueue> make_simple_queue() override {
    return std::make_unique<BoostSimpleQueue>();
  }
  std::unique_ptr<mpconform::Lock> make_lock() override { return std::make_unique<BoostLock>(); }
  std::unique_ptr<mpconform::Lock> make_rlock() override { return std::make_unique<BoostRLock>(); }
  mpconform::PipeEnds make_pipe(bool /*duplex*/) override {
    // Duplex or not, a socketpair; simplex uses first to read and second to write.
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) throw mpref::OSError::from_errno(errno);
    return {std::make_unique<SocketConnection>(fds[0]), std::make_unique<SocketConnection>(fds[1])};
  }
  std::unique_ptr<mpconform::SharedValue> make_value(std::uint64_t initial) override {
    return std::make_unique<BoostValue>(initial);
  }
  std::unique_ptr<mpconform::Process> make_process(std::function<void()> target, bool daemon) override {
    return std::make_unique<ForkProcess>(std::move(target), daemon);
  }
  void exit_handling() override { exit_function(); }
  void after_fork_in_child() override { children().clear(); }
};

}  // namespace

MPCONFORM_EXPORT_BACKEND(BoostInterprocessBackend, "boost-interprocess")
