#pragma once
// mpref/synchronize.hpp: Lock, RLock, Semaphore, BoundedSemaphore (CPython's
// Lib/multiprocessing/synchronize.py + Modules/_multiprocessing/semaphore.c).
//
// Every primitive is a cheap copyable handle to state in an anonymous shared mapping: copies,
// and the copies a forked child inherits, are the same primitive (operator== tells). They work
// in any thread of any process forked after construction; nothing is left in /dev/shm.
//
// Timeouts follow CPython's acquire (cpython-semantics.md L-ACQ-2, 1.10):
//   block == false           try once, never wait; `timeout` is ignored
//   timeout == std::nullopt  wait as long as it takes
//   timeout <= 0 (or NaN)    try once, never wait (negative is NOT "forever" as in threading)
//   timeout  > 0             wait at most that many seconds (CLOCK_MONOTONIC)
// Waits sleep on a futex (no busy-waiting beyond a short spin); an uncontended acquire/release
// pair makes no system call.
//
// Guards: each primitive has lock()/unlock()/try_lock(), so std::lock_guard, std::unique_lock
// and std::scoped_lock work and mirror `with lock:`; mpref::Guard also reports a robust
// takeover instead of throwing.
#include <cstdint>
#include <optional>

#include "mpref/detail/futex_core.hpp"
#include "mpref/detail/shared_memory.hpp"
#include "mpref/errors.hpp"

namespace mpref {

/// Options for Lock and RLock.
struct LockOptions {
  /// mpref extension (CPython has no such mode; there a dead holder's Lock stays locked,
  /// L-DEAD-1, and a dead owner's RLock can never be released, RL-DEAD-1).
  /// The lock word always names the holder (Lock: its pid; RLock: the owning thread's kernel
  /// tid). When robust is true, a waiter checks at once and then every 50 ms whether that holder
  /// is gone: the process (Lock) or the owning thread (RLock) no longer exists or is a zombie,
  /// which covers SIGKILL. The first caller to notice takes the lock over in one atomic step and
  /// acquire() throws OwnerDiedError *with the lock held by the caller* (RLock: owned, count 1);
  /// the caller repairs the protected state and then calls release() as usual. Use mpref::Guard
  /// rather than std::lock_guard with robust locks (see Guard). acquire(false) and zero or
  /// negative timeouts also check once. Limits: liveness is judged by id, so a dead holder's
  /// pid (tid) reused by a new task before any waiter checks is taken for alive; and a Lock
  /// holder whose main thread alone exited (pthread_exit, a zombie leader) counts as dead.
  bool robust = false;
};

/// multiprocessing.Lock: a non-recursive lock with no owner (a binary semaphore).
class Lock {
 public:
  /// Effects: creates a new, unlocked lock in shared memory.
  /// Throws: boost::interprocess::interprocess_exception if the mapping fails.
  explicit Lock(LockOptions options = {});

  /// Takes the lock, waiting per the timeout rules above.
  /// Returns: true if taken; false if the wait ended (or, with block == false or a timeout
  ///   <= 0, at once) while someone else holds it.
  /// Not reentrant: a holder that acquires again waits like anyone else (deadlock without a
  ///   timeout, L-ACQ-3).
  /// Throws (robust mode only): OwnerDiedError, with the lock now held by the caller.
  bool acquire(bool block = true, std::optional<double> timeout = std::nullopt) const {
    const std::uint32_t me = detail::self_ident().pid;
    return core().try_take(me) || acquire_slow(me, block, timeout);
  }

  /// Releases the lock. Any thread of any process may release it, not only the one that took it
  /// (L-REL-2); this is also how survivors recover a lock whose holder died (L-DEAD-1).
  /// Throws: ValueError("semaphore or lock released too many times") if it is not locked.
  void release() const;

  /// mpref extension (CPython's Lock has none): true while someone holds the lock. A snapshot:
  /// by the time it returns another process may have changed it. Used by tests and the harness.
  [[nodiscard]] bool locked() const noexcept;

  /// Whether this lock was made with LockOptions{.robust = true}.
  [[nodiscard]] bool robust() const noexcept { return core().robust; }

  /// BasicLockable/Lockable, for std::lock_guard and friends: lock() == acquire(),
  /// unlock() == release() (a throwing unlock() inside a guard's destructor terminates, as
  /// any other misuse of a guard would), try_lock() == acquire(false).
  void lock() const { acquire(); }
  void unlock() const { release(); }
  bool try_lock() const { return acquire(false); }

  /// Same primitive (copies and inherited copies compare equal).
  friend bool operator==(const Lock& a, const Lock& b) noexcept {
    return a.state_.get() == b.state_.get();
  }

 private:
  detail::MutexCore& core() const noexcept { return *state_; }
  bool acquire_slow(std::uint32_t me, bool block, std::optional<double> timeout) const;
  detail::Shared<detail::MutexCore> state_;
};

/// multiprocessing.RLock: a recursive lock owned by one thread of one process.
class RLock {
 public:
  /// Effects: creates a new, unlocked recursive lock in shared memory.
  explicit RLock(LockOptions options = {});

  /// If the calling thread owns the lock: increments the recursion count and returns true at
  /// once (whatever block and timeout say). Otherwise takes it as Lock::acquire does, becoming
  /// the owner with a count of 1. Ownership is (pid, thread): another thread, and any other
  /// process (including a child forked while the parent held it, RL-FORK-1), waits.
  /// Returns: true if taken; false if the wait ended first (timeouts as above).
  /// Throws (robust mode only): OwnerDiedError; the caller is now the owner with a count of 1.
  bool acquire(bool block = true, std::optional<double> timeout = std::nullopt) const {
    const std::uint32_t me = detail::self_ident().tid;
    detail::MutexCore& s = core();
    if (s.holder() == me) {
      s.recursion.store(s.recursion.load(std::memory_order_relaxed) + 1,
                        std::memory_order_relaxed);
      return true;
    }
    if (s.try_take(me)) {
      s.recursion.store(1, std::memory_order_relaxed);
      return true;
    }
    return acquire_slow(me, block, timeout);
  }

  /// Decrements the recursion count; at zero the lock is released.
  /// Throws: AssertionError("attempt to release recursive lock not owned by thread") when the
  ///   caller is not the owning thread of the owning process, or the lock is not held (RL-REL-1).
  ///   So an RLock whose owner died cannot be released by anyone (RL-DEAD-1) unless robust.
  void release() const;

  /// mpref extension: true while any thread of any process holds it (snapshot).
  [[nodiscard]] bool locked() const noexcept;
  /// CPython's private SemLock._is_mine(): the calling thread owns the lock.
  [[nodiscard]] bool is_mine() const noexcept;
  /// CPython's private SemLock._count(): the recursion count if the caller owns it, else 0.
  [[nodiscard]] std::uint32_t recursion_count() const noexcept;
  [[nodiscard]] bool robust() const noexcept { return core().robust; }

  void lock() const { acquire(); }
  void unlock() const { release(); }
  bool try_lock() const { return acquire(false); }

  friend bool operator==(const RLock& a, const RLock& b) noexcept {
    return a.state_.get() == b.state_.get();
  }

 private:
  detail::MutexCore& core() const noexcept { return *state_; }
  bool acquire_slow(std::uint32_t me, bool block, std::optional<double> timeout) const;
  detail::Shared<detail::MutexCore> state_;
};

/// multiprocessing.Semaphore: a counting semaphore, no owner.
class Semaphore {
 public:
  /// SEM_VALUE_MAX: the count release() may reach (2147483647 on Linux).
  static constexpr int value_max = 2147483647;

  /// Effects: a semaphore whose count starts at `value` (default 1, as CPython).
  /// Throws: OSError::from_errno(EINVAL), i.e. OSError("[Errno 22] Invalid argument"), when
  ///   value < 0 (CPython S-4: sem_open's error, not threading's ValueError).
  explicit Semaphore(int value = 1);

  /// Takes one unit of the count, waiting while it is 0 (timeouts as above).
  /// Returns: true if taken, false if the wait ended first.
  bool acquire(bool block = true, std::optional<double> timeout = std::nullopt) const {
    return core().try_take() || acquire_slow(block, timeout);
  }

  /// Adds one to the count and wakes one waiter. Any process may release, and a Semaphore may
  /// go above its initial value (S-2).
  /// Throws: ValueError("semaphore or lock released too many times") when the count is already
  ///   at its maximum: value_max for Semaphore, the initial value for BoundedSemaphore (BS-1).
  ///   Unlike CPython's check (a separate sem_getvalue, "not an absolute guarantee"), this one
  ///   is atomic.
  void release() const;

  /// The current count (a snapshot).
  [[nodiscard]] int get_value() const noexcept;

  void lock() const { acquire(); }
  void unlock() const { release(); }
  bool try_lock() const { return acquire(false); }

  friend bool operator==(const Semaphore& a, const Semaphore& b) noexcept {
    return a.state_.get() == b.state_.get();
  }

 protected:
  Semaphore(int value, int maxvalue);

 private:
  detail::SemCore& core() const noexcept { return *state_; }
  bool acquire_slow(bool block, std::optional<double> timeout) const;
  detail::Shared<detail::SemCore> state_;
};

/// multiprocessing.BoundedSemaphore: a Semaphore whose count may not exceed its initial value.
class BoundedSemaphore : public Semaphore {
 public:
  /// Effects: count and maximum both start at `value` (default 1).
  /// Throws: OSError("[Errno 22] Invalid argument") when value < 0.
  explicit BoundedSemaphore(int value = 1);
};

/// A scoped hold on any of the primitives above (or a synchronized Value/Array), mirroring
/// `with lock:`: the constructor acquires (waiting as long as it takes), the destructor releases.
/// Unlike std::lock_guard, a robust takeover does not throw out of the constructor (which would
/// leave the lock held with no guard to release it): the guard holds the lock and owner_died()
/// is true, so the caller can repair the protected state first. The destructor's release() must
/// not throw: if someone else released the lock meanwhile (legal for a Lock), the ValueError
/// escapes a noexcept destructor and terminates, as with std::lock_guard.
template <class L>
class [[nodiscard]] Guard {
 public:
  /// Keeps its own copy of the handle, so a temporary (e.g. v.get_lock()) is fine.
  explicit Guard(const L& lock) : lock_(lock) {
    try {
      lock_.acquire();
    } catch (const OwnerDiedError&) {
      owner_died_ = true;
    }
  }
  ~Guard() { lock_.release(); }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;

  /// True when the lock was taken over from a holder that died (robust mode only).
  [[nodiscard]] bool owner_died() const noexcept { return owner_died_; }

 private:
  L lock_;
  bool owner_died_ = false;
};

}  // namespace mpref
