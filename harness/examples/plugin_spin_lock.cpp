// A backend plugin with a naive lock, as a user might write one: Lock and RLock are a
// test-and-set word in shared memory, and a contended acquire spins (sched_yield) until the word
// is free or the timeout passes. Everything else is the reference. It is correct, only greedy:
// under the PCT schedule mode a spinner whose priority is above the holder's never lets the
// holder run again (sched_yield only yields to equal priorities), which must become a clear
// "starved" verdict, not a hung machine (harness/cli tests: mpconform.run.pct_starved).
#include <sched.h>
#include <sys/mman.h>
#include <time.h>

#include <atomic>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>

#include "mpconform/backend.hpp"
#include "mpconform/forwarding_backend.hpp"
#include "mpconform/reference_backend.hpp"
#include "mpref/errors.hpp"

namespace {

double now_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

class SpinLock final : public mpconform::Lock {
 public:
  SpinLock() {
    void* p = ::mmap(nullptr, sizeof(std::atomic<int>), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    word_ = new (p) std::atomic<int>(0);
  }
  bool acquire(bool block, std::optional<double> timeout) override {
    const double deadline = block && timeout ? now_s() + *timeout : 0;
    for (;;) {
      int free = 0;
      if (word_->compare_exchange_strong(free, 1)) return true;
      if (!block || (timeout && now_s() >= deadline)) return false;
      ::sched_yield();  // the naive part: spin instead of sleeping
    }
  }
  void release() override {
    if (word_->exchange(0) == 0) throw mpref::ValueError("semaphore or lock released too many times");
  }

 private:
  std::atomic<int>* word_ = nullptr;  // shared with every forked process (never unmapped: fork copies)
};

class SpinLockBackend final : public mpconform::ForwardingBackend {
 public:
  SpinLockBackend()
      : ForwardingBackend("spin-lock (example)", std::make_unique<mpconform::reference::ReferenceBackend>()) {}
  std::unique_ptr<mpconform::Lock> make_lock() override { return std::make_unique<SpinLock>(); }
};

}  // namespace

MPCONFORM_EXPORT_BACKEND(SpinLockBackend, "spin-lock (example)")
