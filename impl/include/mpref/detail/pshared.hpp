#pragma once
// mpref/detail/pshared.hpp: a process-shared robust mutex, to be placed in shared memory
// (detail/shared_memory.hpp). Waiting for a condition is done with detail/futex_event.hpp: a
// process-shared pthread_cond_t is not used anywhere, because with glibc < 2.41 a waiter
// SIGKILLed inside pthread_cond_wait makes later signals block forever.
//
// Why pthread directly and not boost::interprocess_mutex: Boost 1.74's is not robust (a holder
// that dies leaves it locked forever). These
// internal mutexes guard a primitive's bookkeeping for a few instructions at a time; making them
// robust means a process killed in the middle of a put/get/acquire cannot wedge the others.
// User-visible lock semantics (a Lock whose holder died stays locked, as in CPython) are
// built on top, in the primitives themselves.
#include <cerrno>
#include <pthread.h>

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

}  // namespace mpref::detail
