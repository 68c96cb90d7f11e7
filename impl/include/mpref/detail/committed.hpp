#pragma once
// mpref/detail/committed.hpp: a small record in shared memory that changes in one step, even
// for a process killed half-way through changing it, and that other processes can read
// without taking the writer's lock.
//
// Two copies and a version: commit() writes the copy the version does not point at, then
// publishes it by storing version + 1 (the single commit point: a writer that dies before it
// changed nothing, one that dies after it changed everything). snapshot() is a seqlock read:
// it copies the current slot and retries if the version moved meanwhile. Every word is
// accessed atomically (relaxed), so a read racing a write is not a data race, merely retried.
#include <array>
#include <atomic>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace mpref::detail {

/// T: a trivially copyable struct of 64-bit words.
template <class T>
class Committed {
  static_assert(std::is_trivially_copyable_v<T> && sizeof(T) % 8 == 0);
  static constexpr std::size_t kWords = sizeof(T) / 8;
  using Words = std::array<std::uint64_t, kWords>;

 public:
  Committed() noexcept : Committed(T{}) {}
  explicit Committed(const T& initial) noexcept : slot_{std::bit_cast<Words>(initial), Words{}} {}
  Committed(const Committed&) = delete;
  Committed& operator=(const Committed&) = delete;

  /// The committed value. Requires: the caller holds the writers' lock.
  [[nodiscard]] T owned() const noexcept {
    return load(slot_[version_.load(std::memory_order_relaxed) & 1U]);
  }

  /// Makes `next` the committed value. Requires: the caller holds the writers' lock.
  void commit(const T& next) noexcept {
    const std::uint64_t v = version_.load(std::memory_order_relaxed);
    // Orders the previous commit's version store before this slot's stores, so a reader that
    // sees any of them also sees the version move (the seqlock's writer-side fence).
    std::atomic_thread_fence(std::memory_order_release);
    store(slot_[(v + 1) & 1U], std::bit_cast<Words>(next));
    version_.store(v + 1, std::memory_order_release);
  }

  /// The committed value, read without the lock: a value that was committed at some instant
  /// during the call (and everything written before that commit is visible).
  [[nodiscard]] T snapshot() const noexcept {
    for (;;) {
      const std::uint64_t v = version_.load(std::memory_order_acquire);
      const T t = load(slot_[v & 1U]);
      std::atomic_thread_fence(std::memory_order_acquire);
      if (version_.load(std::memory_order_relaxed) == v) return t;
    }
  }

 private:
  static T load(const Words& w) noexcept {
    Words out;
    for (std::size_t i = 0; i < kWords; ++i)
      out[i] = std::atomic_ref<std::uint64_t>(const_cast<std::uint64_t&>(w[i]))
                   .load(std::memory_order_relaxed);
    return std::bit_cast<T>(out);
  }
  static void store(Words& w, const Words& in) noexcept {
    for (std::size_t i = 0; i < kWords; ++i)
      std::atomic_ref<std::uint64_t>(w[i]).store(in[i], std::memory_order_relaxed);
  }

  std::atomic<std::uint64_t> version_{0};
  Words slot_[2];
};

}  // namespace mpref::detail
