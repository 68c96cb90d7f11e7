#pragma once
// mpref/detail/futex.hpp: the two futex calls every mpref wait is built on, for 32-bit words in
// memory shared between processes (so never FUTEX_PRIVATE_FLAG).
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <ctime>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace mpref::detail {

static_assert(std::atomic<std::uint32_t>::is_always_lock_free &&
                  sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t),
              "a futex word must be a plain 32-bit integer");

/// Sleeps while `word` holds `expected` (checked atomically by the kernel), until a wake, a
/// signal or `abs` (an absolute CLOCK_MONOTONIC time; nullptr: no limit). Returns false only
/// when it timed out; callers re-check their condition in a loop either way.
inline bool futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t expected,
                       const timespec* abs) noexcept {
  // FUTEX_WAIT_BITSET, because it takes an absolute deadline.
  const long rc = syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_BITSET,
                          expected, abs, nullptr, FUTEX_BITSET_MATCH_ANY);
  return !(rc == -1 && errno == ETIMEDOUT);
}

/// Wakes up to `n` sleepers on `word`.
inline void futex_wake(std::atomic<std::uint32_t>& word, int n) noexcept {
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, n, nullptr, nullptr, 0);
}

}  // namespace mpref::detail
