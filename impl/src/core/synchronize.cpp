// Lock, RLock, Semaphore, BoundedSemaphore: slow paths and the futex plumbing
// (mpref/synchronize.hpp, mpref/detail/futex_core.hpp).
#include "mpref/synchronize.hpp"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace mpref {
namespace detail {

namespace {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// A short spin before sleeping: when the holder is running on another core it usually lets go
// within a few hundred nanoseconds, far sooner than a futex sleep/wake round trip.
constexpr int spin_limit = 100;

timespec to_timespec(double t) noexcept {
  timespec ts{};
  double whole = std::floor(t);
  ts.tv_sec = static_cast<time_t>(whole);
  ts.tv_nsec = static_cast<long>((t - whole) * 1e9);
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec += 1;
    ts.tv_nsec -= 1000000000L;
  }
  return ts;
}

void reset_ident_in_child() noexcept { tls_ident = ThreadIdent{0, 0}; }

}  // namespace

ThreadIdent init_self_ident() noexcept {
  // The child handler runs in the forked child's only thread, the copy of the forking one:
  // resetting its cached ident is all a child needs.
  static const int registered = pthread_atfork(nullptr, nullptr, reset_ident_in_child);
  (void)registered;
  tls_ident = ThreadIdent{static_cast<std::uint32_t>(getpid()),
                          static_cast<std::uint32_t>(gettid())};
  return tls_ident;
}

bool task_alive(std::uint32_t id) noexcept {
  const auto pid = static_cast<pid_t>(id);
  if (pid <= 0) return true;
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  // It exists (or EPERM: it exists). A zombie is dead all the same.
  char path[32] = "/proc/";
  auto [end, ec] = std::to_chars(path + 6, path + sizeof(path) - 6, pid);
  if (ec != std::errc()) return true;
  std::copy_n("/stat", 6, end);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno != ENOENT;
  char buf[512];
  ssize_t n = read(fd, buf, sizeof(buf));
  close(fd);
  if (n <= 0) return true;
  // "pid (comm) S ...": comm may contain ')' and spaces, so take the last ')'.
  std::string_view line(buf, static_cast<std::size_t>(n));
  std::size_t close_paren = line.rfind(')');
  if (close_paren == std::string_view::npos || close_paren + 2 >= line.size()) return true;
  char state = line[close_paren + 2];
  return state != 'Z' && state != 'X' && state != 'x';
}

AcquireStatus MutexCore::acquire_slow(std::uint32_t id, const Deadline& d, std::uint32_t* dead) {
  // Robust: a holder that is already gone is noticed before any wait, even a zero one.
  auto take_over = [&]() -> bool {
    std::uint32_t w = word.load(std::memory_order_acquire);
    const std::uint32_t h = w & ~contended;
    if (h == 0 || h == id || task_alive(h)) return false;
    if (!word.compare_exchange_strong(w, id | contended, std::memory_order_acquire,
                                      std::memory_order_relaxed))
      return false;
    if (dead != nullptr) *dead = h;
    return true;
  };
  if (robust && take_over()) return AcquireStatus::owner_died;
  if (d.expired()) return AcquireStatus::timed_out;

  for (int i = 0; i < spin_limit; ++i) {
    cpu_relax();
    if (word.load(std::memory_order_relaxed) == 0 && try_take(id)) return AcquireStatus::taken;
  }

  waiters.fetch_add(1, std::memory_order_seq_cst);
  AcquireStatus status = AcquireStatus::timed_out;
  double next_check = robust ? monotonic_now() + robust_poll_s : 0.0;
  for (;;) {
    std::uint32_t w = word.load(std::memory_order_relaxed);
    if (w == 0) {
      // Others asleep (counted before this load) need our release to wake them; one that
      // arrives later sets the bit itself before it sleeps.
      const std::uint32_t mine =
          waiters.load(std::memory_order_seq_cst) > 1 ? (id | contended) : id;
      if (word.compare_exchange_weak(w, mine, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
        status = AcquireStatus::taken;
        break;
      }
      continue;
    }
    if ((w & contended) == 0) {
      if (!word.compare_exchange_weak(w, w | contended, std::memory_order_relaxed,
                                      std::memory_order_relaxed))
        continue;
      w |= contended;
    }
    if (d.expired()) break;
    timespec ts{};
    const timespec* abs = nullptr;
    if (robust) {
      const double now = monotonic_now();
      if (now >= next_check) {
        if (take_over()) {
          status = AcquireStatus::owner_died;
          break;
        }
        next_check = now + robust_poll_s;
      }
      double wake_at = next_check;
      if (!d.is_forever()) wake_at = std::min(wake_at, now + d.remaining());
      ts = to_timespec(wake_at);
      abs = &ts;
    } else {
      ts = d.capped(recheck_s).abs_monotonic();
      abs = &ts;
    }
    futex_wait(word, w, abs);
  }
  waiters.fetch_sub(1, std::memory_order_seq_cst);
  if (status == AcquireStatus::timed_out && waiters.load(std::memory_order_seq_cst) != 0) {
    // We may have consumed the wake-up of a release and are leaving without the lock: wake
    // another sleeper now if the lock is free, else make sure the holder's release will.
    for (;;) {
      std::uint32_t w = word.load(std::memory_order_relaxed);
      if (w == 0) {
        wake_one();
        break;
      }
      if ((w & contended) != 0 ||
          word.compare_exchange_weak(w, w | contended, std::memory_order_relaxed,
                                     std::memory_order_relaxed))
        break;
    }
  }
  return status;
}

void MutexCore::wake_one() noexcept { futex_wake(word, 1); }

AcquireStatus SemCore::acquire_slow(const Deadline& d) {
  if (d.expired()) return AcquireStatus::timed_out;
  for (int i = 0; i < spin_limit; ++i) {
    cpu_relax();
    if (count.load(std::memory_order_relaxed) != 0 && try_take()) return AcquireStatus::taken;
  }
  waiters.fetch_add(1, std::memory_order_seq_cst);
  AcquireStatus status = AcquireStatus::timed_out;
  for (;;) {
    if (try_take()) {
      status = AcquireStatus::taken;
      break;
    }
    if (d.expired()) break;
    const timespec ts = d.capped(recheck_s).abs_monotonic();
    futex_wait(count, 0, &ts);
  }
  waiters.fetch_sub(1, std::memory_order_seq_cst);
  if (status == AcquireStatus::timed_out && count.load(std::memory_order_seq_cst) != 0 &&
      waiters.load(std::memory_order_seq_cst) != 0)
    wake_one();
  return status;
}

void SemCore::wake_one() noexcept { futex_wake(count, 1); }

}  // namespace detail

namespace {

constexpr const char* released_too_many = "semaphore or lock released too many times";
constexpr const char* rlock_not_owned = "attempt to release recursive lock not owned by thread";

[[noreturn]] void throw_owner_died(const char* what, std::uint32_t dead) {
  throw OwnerDiedError(std::string(what) + " holder " + std::to_string(dead) +
                       " died while holding it; the caller now holds it");
}

}  // namespace

// ---- Lock -------------------------------------------------------------------------------

Lock::Lock(LockOptions options)
    : state_(detail::Shared<detail::MutexCore>::make(options.robust)) {}

bool Lock::acquire_slow(std::uint32_t me, bool block, std::optional<double> timeout) const {
  std::uint32_t dead = 0;
  switch (core().acquire_slow(me, detail::Deadline::from(block, timeout), &dead)) {
    case detail::AcquireStatus::taken: return true;
    case detail::AcquireStatus::timed_out: return false;
    case detail::AcquireStatus::owner_died: throw_owner_died("Lock: process", dead);
  }
  return false;
}

void Lock::release() const {
  if (!core().give()) throw ValueError(released_too_many);
}

bool Lock::locked() const noexcept { return core().word.load(std::memory_order_acquire) != 0; }

// ---- RLock ------------------------------------------------------------------------------

RLock::RLock(LockOptions options)
    : state_(detail::Shared<detail::MutexCore>::make(options.robust)) {}

bool RLock::acquire_slow(std::uint32_t me, bool block, std::optional<double> timeout) const {
  std::uint32_t dead = 0;
  switch (core().acquire_slow(me, detail::Deadline::from(block, timeout), &dead)) {
    case detail::AcquireStatus::taken:
      core().recursion.store(1, std::memory_order_relaxed);
      return true;
    case detail::AcquireStatus::timed_out: return false;
    case detail::AcquireStatus::owner_died:
      core().recursion.store(1, std::memory_order_relaxed);
      throw_owner_died("RLock: thread", dead);
  }
  return false;
}

void RLock::release() const {
  detail::MutexCore& s = core();
  const std::uint32_t me = detail::self_ident().tid;
  std::uint32_t n = s.recursion.load(std::memory_order_relaxed);
  if (s.holder() != me || n == 0) throw AssertionError(rlock_not_owned);
  s.recursion.store(n - 1, std::memory_order_relaxed);
  if (n == 1) s.give();
}

bool RLock::locked() const noexcept { return core().word.load(std::memory_order_acquire) != 0; }

bool RLock::is_mine() const noexcept {
  return core().holder() == detail::self_ident().tid;
}

std::uint32_t RLock::recursion_count() const noexcept {
  return is_mine() ? core().recursion.load(std::memory_order_relaxed) : 0;
}

// ---- Semaphore, BoundedSemaphore --------------------------------------------------------

Semaphore::Semaphore(int value) : Semaphore(value, value_max) {}

Semaphore::Semaphore(int value, int maxvalue)
    : state_((value < 0 || maxvalue < 0)
                 ? throw OSError::from_errno(EINVAL)
                 : detail::Shared<detail::SemCore>::make(static_cast<std::uint32_t>(value),
                                                         static_cast<std::uint32_t>(maxvalue))) {}

bool Semaphore::acquire_slow(bool block, std::optional<double> timeout) const {
  return core().acquire_slow(detail::Deadline::from(block, timeout)) ==
         detail::AcquireStatus::taken;
}

void Semaphore::release() const {
  if (!core().give()) throw ValueError(released_too_many);
}

int Semaphore::get_value() const noexcept {
  return static_cast<int>(core().count.load(std::memory_order_acquire));
}

BoundedSemaphore::BoundedSemaphore(int value) : Semaphore(value, value) {}

}  // namespace mpref
