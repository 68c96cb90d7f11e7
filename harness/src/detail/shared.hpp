#pragma once
// Memory shared with forked processes, and futex waits on it. Used by the C++ executor (its
// boards and barriers) and the mutants (their cross-process state).
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <ctime>
#include <new>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace mpconform::detail {

/// `n` value-initialized objects of T in an anonymous MAP_SHARED mapping, seen by every process
/// forked after it was made; nothing outlives the processes (no name in /dev/shm).
template <class T>
class Shared {
 public:
  explicit Shared(std::size_t n = 1) : n_(n) {
    void* p = ::mmap(nullptr, n * sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error(std::string("mmap: ") + std::strerror(errno));
    data_ = static_cast<T*>(p);
    // The mapping is zero-filled: a trivial T needs no construction (nor its pages touched).
    if constexpr (!std::is_trivially_default_constructible_v<T>)
      for (std::size_t i = 0; i < n; ++i) new (data_ + i) T{};
  }
  ~Shared() { ::munmap(data_, n_ * sizeof(T)); }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;
  T& operator*() const noexcept { return *data_; }
  T* operator->() const noexcept { return data_; }
  T* get() const noexcept { return data_; }

 private:
  std::size_t n_;
  T* data_ = nullptr;
};

/// One futex wait while `word` holds `value`, at most `ns` (> 0) nanoseconds; it may also end
/// early (a wake-up, a signal). Not FUTEX_PRIVATE: the word is in a mapping several processes share.
inline void futex_wait(std::atomic<std::uint32_t>& word, std::uint32_t value, std::int64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT, value, &ts, nullptr, 0);
}

/// Wakes every process in futex_wait() on `word`.
inline void wake_all(std::atomic<std::uint32_t>& word) {
  ::syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
}

}  // namespace mpconform::detail
