#pragma once
// Internal: the acquire rule shared by Lock, RLock, Semaphore and BoundedSemaphore, all of which
// are CPython's C SemLock (Modules/_multiprocessing/semaphore.c, acquire):
//   a positive count is taken at once; otherwise block=False fails at once (a timeout passed
//   with it is ignored), block=True with a timeout fails after it (a negative timeout is
//   clamped to 0: it does not wait, unlike threading where -1 means forever), and block=True
//   with timeout=None waits forever.
#include <optional>

namespace mpconform::spec::detail {

enum class AcquireVerdict { acquired, fails, blocks };

inline AcquireVerdict semlock_acquire(bool available, bool block,
                                      const std::optional<double>& timeout) {
  if (available) return AcquireVerdict::acquired;
  if (block && !timeout) return AcquireVerdict::blocks;
  return AcquireVerdict::fails;
}

}  // namespace mpconform::spec::detail
