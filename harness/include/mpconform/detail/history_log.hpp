#pragma once
// The layout of the Recorder's shared log (internal). One header, then `capacity` slots.
//
// A slot goes 0 (free) -> 1 (invoked) -> 2 (completed). Only the process that claimed a slot
// writes it; the invoke fields are written before the release-store of state 1 and never
// change afterwards, the completion fields before the release-store of state 2. So a reader
// that acquire-loads the state reads consistent fields, even for a call still in flight.
#include <atomic>
#include <cstdint>

namespace mpconform::detail {

inline constexpr std::uint64_t kLogMagic = 0x6d70636f6e686973ULL;  // "mpconhis"

struct alignas(64) LogHeader {
  std::uint64_t magic;
  std::uint64_t capacity;
  std::atomic<std::uint64_t> next;     // slots claimed (may exceed capacity: those are dropped)
  std::atomic<std::uint64_t> dropped;  // claims past capacity
};

enum : std::uint32_t { kSlotFree = 0, kSlotInvoked = 1, kSlotCompleted = 2 };

struct LogSlot {
  std::atomic<std::uint32_t> state;
  // invoke fields
  std::uint32_t process;
  std::int32_t pid;
  std::uint32_t object;
  std::uint8_t kind;
  // completion fields
  std::uint8_t outcome;
  std::uint8_t error;
  std::uint8_t has_result;
  // invoke fields
  std::uint64_t value;
  std::uint64_t aux;
  std::int64_t timeout_ns;
  std::int64_t invoke_ns;
  // completion fields
  std::uint64_t result;
  std::int64_t return_ns;
};

static_assert(std::atomic<std::uint64_t>::is_always_lock_free,
              "the log needs address-free 64-bit atomics to be shared across processes");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);

}  // namespace mpconform::detail
