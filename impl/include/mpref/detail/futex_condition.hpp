#pragma once
// mpref/detail/futex_condition.hpp: a process-shared condition variable on a bare futex word,
// used with a SharedMutex (detail/pshared.hpp) by the queues.
//
// Why not SharedCondition (pthread_cond_t): with glibc < 2.41 a waiter that is SIGKILLed while
// blocked in pthread_cond_wait leaves a group reference behind, and a later
// pthread_cond_signal/broadcast then blocks forever in the group switch (checked on this
// glibc 2.36: the third signal after a killed waiter hangs). A queue's consumers are routinely
// killed while waiting (daemonic consumers at exit), so the queues need a condition that a dead
// waiter cannot wedge. Here a dead waiter leaves at most a stale `sleepers` count, which costs
// one spare wake-up syscall and nothing else.
//
// Protocol (all under the mutex except the sleep itself): a waiter counts itself in `sleepers`,
// reads the sequence word, unlocks and sleeps with FUTEX_WAIT(seq, seen). A notifier that finds
// sleepers bumps `seq` and clears `sleepers` (every current sleeper will wake: the kernel
// re-checks seq atomically) and later calls wake(), preferably after unlocking. A notifier that
// finds no sleeper makes no syscall, so a busy producer pays for a wake-up only once per sleep of
// its consumer. A waiter that returns without a notification (time-out, signal) withdraws its
// count when seq has not moved.
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdint>
#include <ctime>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "mpref/detail/deadline.hpp"
#include "mpref/detail/pshared.hpp"

namespace mpref::detail {

class FutexCondition {
 public:
  FutexCondition() noexcept = default;
  FutexCondition(const FutexCondition&) = delete;
  FutexCondition& operator=(const FutexCondition&) = delete;

  /// Requires: the caller holds `m`. Unlocks `m`, sleeps until a notify after this call (or a
  /// spurious wake-up), or until `d` passes, and locks `m` again.
  /// Returns false when it timed out (at once if `d` is already expired), true otherwise; the
  /// caller re-checks its predicate either way. A previous holder of `m` that died is not
  /// reported: callers keep their shared state consistent at every instant (one-point commits).
  bool wait(SharedMutex& m, const Deadline& d) {
    if (d.expired()) return false;
    const std::uint32_t seen = seq().load(std::memory_order_relaxed);
    ++sleepers_;
    m.unlock();
    timespec ts{};
    const timespec* abs = nullptr;
    if (!d.is_forever()) {
      ts = d.abs_monotonic();
      abs = &ts;
    }
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time (no FUTEX_CLOCK_REALTIME); no
    // FUTEX_PRIVATE_FLAG: the word lives in a MAP_SHARED mapping used by several processes.
    long rc = syscall(SYS_futex, &seq_, FUTEX_WAIT_BITSET, seen, abs, nullptr,
                      FUTEX_BITSET_MATCH_ANY);
    int err = errno;
    (void)m.lock();
    if (seq().load(std::memory_order_relaxed) == seen && sleepers_ > 0) --sleepers_;
    return !(rc == -1 && err == ETIMEDOUT);
  }

  /// Requires: the caller holds the mutex. Returns true when some process sleeps (or is about
  /// to): the caller must then call wake(), after unlocking if it can.
  [[nodiscard]] bool prepare_notify() noexcept {
    if (sleepers_ == 0) return false;
    sleepers_ = 0;
    seq().store(seq().load(std::memory_order_relaxed) + 1, std::memory_order_release);
    return true;
  }

  /// Wakes every sleeper of the sequences prepared so far. Safe without the mutex.
  void wake() noexcept {
    syscall(SYS_futex, &seq_, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
  }

  /// Number of registered sleepers (tests). Requires: the caller holds the mutex.
  [[nodiscard]] std::uint32_t sleepers() const noexcept { return sleepers_; }

 private:
  std::atomic_ref<std::uint32_t> seq() noexcept { return std::atomic_ref<std::uint32_t>(seq_); }

  alignas(std::atomic_ref<std::uint32_t>::required_alignment) std::uint32_t seq_ = 0;
  std::uint32_t sleepers_ = 0;  // guarded by the mutex
};

}  // namespace mpref::detail
