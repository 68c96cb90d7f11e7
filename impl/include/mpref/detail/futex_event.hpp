#pragma once
// mpref/detail/futex_event.hpp: "the state you wait for may have changed", for processes that
// share memory and check their predicate without a common lock (the queue's producers and
// consumers each have their own, detail/queue_core.hpp).
//
// Protocol (Dekker's, on a futex sequence word):
//   waiter:   seen = prepare_wait();   // reads seq, raises `waiting`, full fence
//             if (predicate()) done;   // re-check after announcing itself
//             wait(seen, deadline);    // sleeps only if seq is still `seen`
//   notifier: <commits the state change>; notify();  // full fence, reads `waiting`
// With a full fence between each side's store and its load, either the waiter's re-check sees
// the change or the notifier sees `waiting`; the notifier then clears it, bumps seq and wakes
// everyone, and a waiter that read `seen` before that bump cannot sleep on it (the kernel
// compares seq atomically). Only notifiers clear `waiting`: a waiter that times out, or dies
// asleep, leaves it raised, which costs the next notifier one spare FUTEX_WAKE and nothing
// else. A notifier that finds nobody waiting makes no syscall and writes nothing shared, so a
// busy producer pays for a wake-up once per sleep of its consumer, not once per item.
//
// Why not a process-shared pthread_cond_t: with glibc < 2.41 a waiter that is SIGKILLed while
// blocked in pthread_cond_wait leaves a group reference behind, and a later signal then blocks
// forever (checked on this glibc 2.36: the third signal after a killed waiter hangs). Queue
// consumers are routinely killed while waiting (daemonic consumers at exit).
#include <atomic>
#include <climits>
#include <cstdint>
#include <ctime>

#include "mpref/detail/deadline.hpp"
#include "mpref/detail/futex.hpp"

namespace mpref::detail {

class FutexEvent {
 public:
  FutexEvent() noexcept = default;
  FutexEvent(const FutexEvent&) = delete;
  FutexEvent& operator=(const FutexEvent&) = delete;

  /// Announces a waiter. Returns the sequence to pass to wait() after re-checking the
  /// predicate.
  [[nodiscard]] std::uint32_t prepare_wait() noexcept {
    // seq_cst: a notifier that clears `waiting` after this store bumps seq after this load,
    // so a notification that consumed our announcement always makes wait(seen) return.
    const std::uint32_t seen = seq_.load(std::memory_order_seq_cst);
    waiting_.store(1, std::memory_order_seq_cst);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    return seen;
  }

  /// Sleeps until a notify() after prepare_wait() returned `seen` (or a spurious wake-up, or
  /// a signal), or until `d` passes. Returns false when `d` had passed (at once if already
  /// expired), true otherwise: the caller re-checks its predicate either way.
  bool wait(std::uint32_t seen, const Deadline& d) noexcept {
    if (d.expired()) return false;
    timespec ts{};
    const timespec* abs = nullptr;
    if (!d.is_forever()) {
      ts = d.abs_monotonic();
      abs = &ts;
    }
    return futex_wait(seq_, seen, abs);
  }

  /// Requires: the state change is committed (stored) before the call. Wakes every waiter
  /// that announced itself before the change became visible to it.
  void notify() noexcept {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (waiting_.load(std::memory_order_relaxed) == 0) return;
    waiting_.store(0, std::memory_order_seq_cst);
    seq_.fetch_add(1, std::memory_order_seq_cst);
    futex_wake(seq_, INT_MAX);
  }

  /// Whether some waiter has announced itself and not been notified since (tests).
  [[nodiscard]] bool has_waiters() const noexcept {
    return waiting_.load(std::memory_order_relaxed) != 0;
  }

 private:
  std::atomic<std::uint32_t> seq_{0};      // futex word: bumped by each notify that wakes
  std::atomic<std::uint32_t> waiting_{0};  // 1: someone may sleep on seq_
};

}  // namespace mpref::detail
