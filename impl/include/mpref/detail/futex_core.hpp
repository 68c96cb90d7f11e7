#pragma once
// mpref/detail/futex_core.hpp: the futex-based state behind Lock and RLock (MutexCore) and
// Semaphore and BoundedSemaphore (SemCore), placed in shared memory (mpref/synchronize.hpp).
//
// Why hand-made futexes and not sem_t or pthread mutexes: a Lock has no owner (any process may
// release it, CPython L-REL-2), which rules out pthread mutexes; and robust mode needs the
// holder's identity in the lock word itself, which sem_t cannot carry.
//
// MutexCore's futex word is 0 when free and the holder's id otherwise (Lock: pid; RLock: kernel
// tid of the owning thread), so taking, releasing and a robust takeover (CAS dead id -> own id)
// are each one atomic step and a recorded holder can never be stale. SemCore's futex word is the
// count. Both keep `waiters`, the number of sleepers, so that a release makes a syscall only when
// someone sleeps: the uncontended acquire/release pair is two CAS and one load, no syscall.
//
// Lost-wake-up argument: a waiter increments `waiters` (seq_cst) before it re-reads the word and
// sleeps with FUTEX_WAIT(word, observed), which the kernel re-checks atomically; a releaser
// changes the word (seq_cst) before it reads `waiters`. So either the waiter sees the change or
// the releaser sees the waiter and wakes it. A waiter that leaves without taking (time-out,
// takeover) passes on a wake-up it may have consumed.
#include <atomic>
#include <cstdint>

#include "mpref/detail/deadline.hpp"

namespace mpref::detail {

static_assert(std::atomic<std::uint32_t>::is_always_lock_free &&
                  sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "a futex word must be a plain 32-bit integer");

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

/// Lock and RLock. Lives in shared memory; every field is address-free.
struct MutexCore {
  explicit MutexCore(bool robust_mode) noexcept : robust(robust_mode) {}

  std::atomic<std::uint32_t> word{0};       // futex word: 0 = free, else the holder's id
  std::atomic<std::uint32_t> waiters{0};    // threads in acquire_slow's sleep loop
  const bool robust;                        // waiters check the holder's liveness
  std::atomic<std::uint32_t> recursion{0};  // RLock only; written by the owner only

  bool try_take(std::uint32_t id) noexcept {
    std::uint32_t expected = 0;
    return word.compare_exchange_strong(expected, id, std::memory_order_acquire,
                                        std::memory_order_relaxed);
  }

  /// After try_take() failed: spins briefly, then sleeps on the futex until the lock is taken
  /// (word == id) or `d` passes. Robust mode: at once, then every robust_poll_s, checks whether
  /// the holder is dead and if so replaces it by CAS (the lock passes, still held, to the
  /// caller), stores the dead holder's id in *dead and returns owner_died.
  AcquireStatus acquire_slow(std::uint32_t id, const Deadline& d, std::uint32_t* dead);

  /// Frees the lock whoever holds it. Returns false (changing nothing) if it was free.
  bool give_any() noexcept {
    std::uint32_t w = word.load(std::memory_order_relaxed);
    do {
      if (w == 0) return false;
    } while (!word.compare_exchange_weak(w, 0, std::memory_order_seq_cst,
                                         std::memory_order_relaxed));
    if (waiters.load(std::memory_order_seq_cst) != 0) wake_one();
    return true;
  }
  /// Frees a lock the caller is known to hold.
  void give_owned() noexcept {
    word.store(0, std::memory_order_seq_cst);
    if (waiters.load(std::memory_order_seq_cst) != 0) wake_one();
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
