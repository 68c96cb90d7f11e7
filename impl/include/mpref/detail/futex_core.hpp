#pragma once
// mpref/detail/futex_core.hpp: the futex-based state behind Lock and RLock (MutexCore) and
// Semaphore and BoundedSemaphore (SemCore), placed in shared memory (mpref/synchronize.hpp).
//
// Why hand-made futexes and not sem_t or pthread mutexes: a Lock has no owner (any process may
// release it, CPython L-REL-2), which rules out pthread mutexes; and robust mode needs the
// holder's identity in the lock word itself, which sem_t cannot carry.
//
// MutexCore's futex word is 0 when free and the holder's id otherwise (Lock: pid; RLock: kernel
// tid of the owning thread), plus a "contended" bit, so taking, releasing and a robust takeover
// (CAS dead id -> own id) are each one atomic step and a recorded holder can never be stale; the
// uncontended acquire/release pair is one CAS and one exchange, no syscall. SemCore's futex word
// is the count; it keeps `waiters`, the number of sleepers, so that a release makes a syscall
// only when someone sleeps.
//
// Lost-wake-up arguments. MutexCore: a sleeper sets `contended` before FUTEX_WAIT(word,
// observed), which the kernel re-checks atomically, and a releaser's exchange sees the bit and
// wakes. SemCore: a waiter increments `waiters` (seq_cst) before it re-reads the count and
// sleeps; a releaser increments the count (seq_cst) before it reads `waiters`. In both, a waiter
// that leaves without taking (time-out) passes on a wake-up it may have consumed. And every
// sleep is at most recheck_s long, for the one wake-up no protocol can save: that of a releaser
// killed between its release and its FUTEX_WAKE.
#include <atomic>
#include <cstdint>

#include "mpref/detail/deadline.hpp"
#include "mpref/detail/futex.hpp"

namespace mpref::detail {

/// The calling thread as (pid, kernel tid). Cached per thread (the hot paths make no
/// getpid()/gettid() syscall) and reset in a forked child by a pthread_atfork handler.
struct ThreadIdent {
  std::uint32_t pid;
  std::uint32_t tid;
};
inline thread_local ThreadIdent tls_ident{0, 0};
ThreadIdent init_self_ident() noexcept;
inline ThreadIdent self_ident() noexcept {
  ThreadIdent id = tls_ident;
  if (id.pid == 0) [[unlikely]] id = init_self_ident();
  return id;
}

/// False when the process or thread `id` is gone: it no longer exists, or it is a zombie (dead
/// but not reaped yet: kill(id, 0) still succeeds on those, so /proc/<id>/stat is read too).
bool task_alive(std::uint32_t id) noexcept;

/// How a slow acquire ended.
enum class AcquireStatus { taken, timed_out, owner_died };

/// How often a robust waiter wakes to check whether the holder is still alive.
inline constexpr double robust_poll_s = 0.05;
/// How long any sleeper goes without looking at the word again: a releaser killed between its
/// release and its wake-up call must not leave waiters asleep on a free lock or a positive
/// count forever.
inline constexpr double recheck_s = 0.1;

/// Lock and RLock. Lives in shared memory; every field is address-free.
///
/// The word is 0 when free, else `holder id | contended`. Ids are pids/tids, below 2^22
/// (Linux's pid_max limit), so bit 31 is free for `contended`: "someone may be asleep, the
/// release must wake one" (Drepper's "Futexes are tricky", mutex 2). A holder that took the lock
/// on the fast path leaves the bit clear, so a run of uncontended acquire/release pairs makes no
/// syscall, and a sleeper costs its waker one FUTEX_WAKE per sleep, not one per release.
struct MutexCore {
  static constexpr std::uint32_t contended = 1U << 31;

  explicit MutexCore(bool robust_mode) noexcept : robust(robust_mode) {}

  std::atomic<std::uint32_t> word{0};       // futex word: 0 = free, else holder id | contended
  std::atomic<std::uint32_t> waiters{0};    // threads in acquire_slow's sleep loop
  const bool robust;                        // waiters check the holder's liveness
  std::atomic<std::uint32_t> recursion{0};  // RLock only; written by the owner only

  /// The holder's id (0 when free).
  [[nodiscard]] std::uint32_t holder() const noexcept {
    return word.load(std::memory_order_relaxed) & ~contended;
  }

  bool try_take(std::uint32_t id) noexcept {
    std::uint32_t expected = 0;
    return word.compare_exchange_strong(expected, id, std::memory_order_acquire,
                                        std::memory_order_relaxed);
  }

  /// After try_take() failed: spins briefly, then sleeps on the futex until the lock is taken
  /// or `d` passes. Robust mode: at once, then every robust_poll_s, checks whether the holder
  /// is dead and if so replaces it by CAS (the lock passes, still held, to the caller), stores
  /// the dead holder's id in *dead and returns owner_died.
  AcquireStatus acquire_slow(std::uint32_t id, const Deadline& d, std::uint32_t* dead);

  /// Frees the lock, whoever holds it. Returns false (the word stays 0) if it was free.
  bool give() noexcept {
    const std::uint32_t old = word.exchange(0, std::memory_order_release);
    if ((old & contended) != 0) wake_one();
    return old != 0;
  }
  void wake_one() noexcept;
};

/// Semaphore and BoundedSemaphore. Lives in shared memory; every field is address-free.
struct SemCore {
  /// SEM_VALUE_MAX on Linux.
  static constexpr std::uint32_t value_max = 2147483647U;

  SemCore(std::uint32_t initial, std::uint32_t max) noexcept : count(initial), maxvalue(max) {}

  std::atomic<std::uint32_t> count;       // futex word: units available
  std::atomic<std::uint32_t> waiters{0};  // threads in acquire_slow's sleep loop
  const std::uint32_t maxvalue;           // a release at this count raises ValueError

  bool try_take() noexcept {
    std::uint32_t c = count.load(std::memory_order_relaxed);
    while (c > 0) {
      if (count.compare_exchange_weak(c, c - 1, std::memory_order_acquire,
                                      std::memory_order_relaxed))
        return true;
    }
    return false;
  }

  /// After try_take() failed: spins briefly, then sleeps until a unit is taken or `d` passes.
  AcquireStatus acquire_slow(const Deadline& d);

  /// Adds one unit unless count >= maxvalue (then returns false, changing nothing) and wakes
  /// one sleeper if there is any.
  bool give() noexcept {
    std::uint32_t c = count.load(std::memory_order_relaxed);
    do {
      if (c >= maxvalue) return false;
    } while (!count.compare_exchange_weak(c, c + 1, std::memory_order_seq_cst,
                                          std::memory_order_relaxed));
    if (waiters.load(std::memory_order_seq_cst) != 0) wake_one();
    return true;
  }
  void wake_one() noexcept;
};

}  // namespace mpref::detail
