#pragma once
// Platform limits the models share (Linux, CPython 3.11).
#include <cstdint>

namespace mpconform::spec {

// SEM_VALUE_MAX on Linux (synchronize.SEM_VALUE_MAX): the largest semaphore value, the ceiling
// of a plain Semaphore (S-9) and the capacity of an unbounded Queue (Q-MAX-1).
inline constexpr std::int64_t kSemValueMax = 2147483647;

}  // namespace mpconform::spec
