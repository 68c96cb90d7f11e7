#pragma once
// mpref/detail/pshared.hpp: a process-shared robust mutex and a CLOCK_MONOTONIC condition
// variable, to be placed in shared memory (detail/shared_memory.hpp).
//
// Why pthread directly and not boost::interprocess_mutex/condition: Boost 1.74's are neither
// robust (a holder that dies leaves them locked forever) nor on the monotonic clock. These
// internal mutexes guard a primitive's bookkeeping for a few instructions at a time; making them
// robust means a process killed in the middle of a put/get/acquire cannot wedge the others.
// User-visible lock semantics (a Lock whose holder died stays locked, as in CPython) are
// built on top, in the primitives themselves.
#include <cerrno>
#include <pthread.h>

#include "mpref/detail/deadline.hpp"
#include "mpref/errors.hpp"

namespace mpref::detail {

class SharedMutex {
 public:
  SharedMutex() {
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
    pthread_mutex_init(&m_, &a);
    pthread_mutexattr_destroy(&a);
  }
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

  /// Locks. Returns true when the previous holder died while holding it: the mutex is made
  /// consistent and is now held by the caller, who must repair any half-done update.
  bool lock() {
    int rc = pthread_mutex_lock(&m_);
    return handle(rc);
  }
  void unlock() noexcept { pthread_mutex_unlock(&m_); }
  pthread_mutex_t* native() noexcept { return &m_; }

  /// Shared by lock() and the condition's waits: EOWNERDEAD -> consistent, reported as true.
  bool handle(int rc) {
    if (rc == 0) return false;
    if (rc == EOWNERDEAD) {
      pthread_mutex_consistent(&m_);
      return true;
    }
    throw OSError::from_errno(rc);
  }

 private:
  pthread_mutex_t m_;
};

/// RAII holder. owner_died() tells whether the previous holder died holding the mutex.
class SharedLockGuard {
 public:
  explicit SharedLockGuard(SharedMutex& m) : m_(m), died_(m.lock()) {}
  ~SharedLockGuard() { m_.unlock(); }
  SharedLockGuard(const SharedLockGuard&) = delete;
  SharedLockGuard& operator=(const SharedLockGuard&) = delete;
  [[nodiscard]] bool owner_died() const noexcept { return died_; }
  SharedMutex& mutex() noexcept { return m_; }

 private:
  SharedMutex& m_;
  bool died_;
};

class SharedCondition {
 public:
  SharedCondition() {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&c_, &a);
    pthread_condattr_destroy(&a);
  }
  SharedCondition(const SharedCondition&) = delete;
  SharedCondition& operator=(const SharedCondition&) = delete;

  /// Waits until notified or the deadline passes. Requires: the caller holds `m`.
  /// Returns false on timeout (or at once when the deadline is already expired), true when
  /// woken (spuriously or not: callers re-check their predicate). Never blocks past the deadline.
  bool wait(SharedMutex& m, const Deadline& d) {
    if (d.is_forever()) {
      m.handle(pthread_cond_wait(&c_, m.native()));
      return true;
    }
    if (d.expired()) return false;
    timespec ts = d.abs_monotonic();
    int rc = pthread_cond_timedwait(&c_, m.native(), &ts);
    if (rc == ETIMEDOUT) return false;
    m.handle(rc);
    return true;
  }
  void notify_one() noexcept { pthread_cond_signal(&c_); }
  void notify_all() noexcept { pthread_cond_broadcast(&c_); }

 private:
  pthread_cond_t c_;
};

/// Waits on `cv` until `pred()` holds or the deadline passes; returns pred().
template <class Pred>
bool wait_for(SharedCondition& cv, SharedMutex& m, const Deadline& d, Pred pred) {
  while (!pred()) {
    if (!cv.wait(m, d) && !pred()) return false;
  }
  return true;
}

}  // namespace mpref::detail
