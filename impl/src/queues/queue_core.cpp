// The shared-memory message ring behind the queues (mpref/detail/queue_core.hpp).
#include "mpref/detail/queue_core.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>
#include <new>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

#include <boost/interprocess/exceptions.hpp>

#include "mpref/detail/futex_condition.hpp"
#include "mpref/detail/pshared.hpp"
#include "mpref/errors.hpp"

namespace mpref::detail {

namespace {

constexpr std::uint64_t kHeader = 8;                 // record header: payload length
constexpr std::uint64_t kDiscardChunk = 256 * 1024;  // give pages back in steps of this
constexpr std::uint64_t kKeepFront = 256 * 1024;     // kept hot when the ring restarts at 0
constexpr std::size_t kMinReserve = 64 * 1024;

std::uint64_t page_size() {
  static const auto p = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  return p;
}
constexpr std::uint64_t round_up(std::uint64_t n, std::uint64_t a) { return (n + a - 1) / a * a; }
constexpr std::uint64_t round_down(std::uint64_t n, std::uint64_t a) { return n / a * a; }
constexpr std::uint64_t record_size(std::uint64_t n) { return round_up(kHeader + n, 8); }

}  // namespace

/// Positions (head, tail, discarded) count bytes since the ring last restarted at 0; a
/// position's offset in the ring is position % capacity. Live records are [head, tail); pages
/// of [discarded, head) still hold consumed records and are given back in chunks. A put may
/// use positions up to discarded + capacity, so giving pages back never races a writer.
struct Counters {
  std::uint64_t head = 0;
  std::uint64_t tail = 0;
  std::uint64_t count = 0;
  std::uint64_t unfinished = 0;
  std::uint64_t discarded = 0;
};

struct QueueShared {
  QueueShared(std::uint64_t max, std::uint64_t cap, bool join)
      : maxsize(max), capacity(cap), joinable(join) {}

  SharedMutex mutex;
  FutexCondition not_empty;  // get() sleeps here
  FutexCondition not_full;   // put() on a bounded queue sleeps here
  FutexCondition all_done;   // join() sleeps here
  const std::uint64_t maxsize;   // 0: unbounded
  const std::uint64_t capacity;  // ring bytes, a multiple of the page size
  const bool joinable;
  std::uint64_t owner_deaths = 0;

  // The committed counters: slot[active]. Guarded by the mutex.
  Counters slot[2];
  alignas(std::atomic_ref<std::uint32_t>::required_alignment) std::uint32_t active = 0;

  [[nodiscard]] const Counters& cur() const noexcept { return slot[active]; }
  /// The single commit point: write the spare slot, then flip `active` (release, so the slot is
  /// complete before the flip even for a process that dies right after).
  void publish(const Counters& c) noexcept {
    const std::uint32_t next = active ^ 1U;
    slot[next] = c;
    std::atomic_ref<std::uint32_t>(active).store(next, std::memory_order_release);
  }
};

namespace {

/// Locks the queue and counts takeovers from dead holders (nothing to repair: see the header).
class Locked {
 public:
  explicit Locked(QueueShared& s) : g_(s.mutex) {
    if (g_.owner_died()) ++s.owner_deaths;
  }

 private:
  SharedLockGuard g_;
};

std::string gib(std::uint64_t n) { return std::to_string(n) + " bytes"; }

}  // namespace

QueueCore::QueueCore(const Config& config) {
  if (config.reserve_bytes < kMinReserve)
    throw ValueError("mpref: a queue reserve must be at least " + std::to_string(kMinReserve) +
                     " bytes, got " + std::to_string(config.reserve_bytes));
  const std::uint64_t cap = round_up(config.reserve_bytes, page_size());
  const std::uint64_t max = config.maxsize > 0 ? static_cast<std::uint64_t>(config.maxsize) : 0;
  try {
    control_ = std::make_shared<SharedRegion>(sizeof(QueueShared));
    data_ = std::make_shared<SharedRegion>(static_cast<std::size_t>(cap));
  } catch (const boost::interprocess::interprocess_exception& e) {
    throw OSError(std::string("mpref: cannot map a queue of ") + gib(cap) + ": " + e.what());
  }
  s_ = ::new (control_->data()) QueueShared(max, cap, config.joinable);
  ring_ = static_cast<std::byte*>(data_->data());
}

namespace {

void copy_in(std::byte* ring, std::uint64_t cap, std::uint64_t pos, const void* src, std::uint64_t n) {
  const std::uint64_t off = pos % cap;
  const std::uint64_t first = std::min(n, cap - off);
  if (first) std::memcpy(ring + off, src, first);
  if (n > first) std::memcpy(ring, static_cast<const std::byte*>(src) + first, n - first);
}

void copy_out(const std::byte* ring, std::uint64_t cap, std::uint64_t pos, void* dst, std::uint64_t n) {
  const std::uint64_t off = pos % cap;
  const std::uint64_t first = std::min(n, cap - off);
  if (first) std::memcpy(dst, ring + off, first);
  if (n > first) std::memcpy(static_cast<std::byte*>(dst) + first, ring, n - first);
}

/// Gives back the pages of positions [a, b) (page aligned, b - a <= cap), sparing ring offsets
/// below `keep` (the pages a restarted ring is about to reuse).
void discard_positions(SharedRegion& data, std::uint64_t cap, std::uint64_t a, std::uint64_t b,
                       std::uint64_t keep) {
  auto segment = [&](std::uint64_t off, std::uint64_t len) {
    if (off < keep) {
      const std::uint64_t cut = std::min(len, keep - off);
      off += cut;
      len -= cut;
    }
    if (len) data.discard(static_cast<std::size_t>(off), static_cast<std::size_t>(len));
  };
  if (b <= a) return;
  const std::uint64_t off = a % cap;
  const std::uint64_t len = b - a;
  const std::uint64_t first = std::min(len, cap - off);
  segment(off, first);
  if (len > first) segment(0, len - first);
}

/// Commits discarded = target, then gives the pages back. Requires: locked, target page
/// aligned, c.discarded <= target <= c.head. A death between the two steps only leaves pages
/// resident.
void discard_to(QueueShared& s, SharedRegion& data, std::uint64_t target) {
  Counters c = s.cur();
  if (target <= c.discarded) return;
  const std::uint64_t from = c.discarded;
  c.discarded = target;
  s.publish(c);
  discard_positions(data, s.capacity, from, target, 0);
}

/// CPython's (block, timeout) made into a Deadline on first use: a call that does not wait
/// reads no clock (clock_gettime is a third of an uncontended put + get here).
class LazyDeadline {
 public:
  // The optional is taken apart: copying it whole makes a 16-byte load of two 8-byte stores,
  // a store-forwarding stall that costs more than the rest of the set-up.
  LazyDeadline(bool block, std::optional<double> timeout) noexcept
      : block_(block), has_timeout_(timeout.has_value()), seconds_(timeout.value_or(0.0)) {}
  const Deadline& operator()() {
    if (!made_) {
      d_ = !block_        ? Deadline::now()
           : has_timeout_ ? Deadline::after(seconds_)
                          : Deadline::forever();
      made_ = true;
    }
    return d_;
  }

 private:
  bool block_;
  bool has_timeout_;
  bool made_ = false;
  double seconds_;
  Deadline d_ = Deadline::forever();
};

}  // namespace

template <class D>
[[gnu::always_inline]] inline void QueueCore::put_until(const void* data, std::size_t n,
                                                      D&& deadline) {
  const std::uint64_t cap = s_->capacity;
  const std::uint64_t rec = record_size(n);
  if (n > cap || rec > cap)
    throw CapacityError("mpref queue: a message of " + gib(n) + " does not fit in the queue's reserve of " +
                        gib(cap) + " (make the queue with a larger QueueOptions::reserve_bytes)");
  bool wake = false;
  {
    Locked lock(*s_);
    if (s_->maxsize != 0) {
      while (s_->cur().count >= s_->maxsize) {
        if (!s_->not_full.wait(s_->mutex, deadline()) && s_->cur().count >= s_->maxsize)
          throw Full();
      }
    }
    Counters c = s_->cur();
    if (c.tail + rec > c.discarded + cap) {
      discard_to(*s_, *data_, round_down(c.head, page_size()));
      c = s_->cur();
      if (c.tail + rec > c.discarded + cap)
        throw CapacityError("mpref queue: reserve exhausted: " + gib(c.tail - c.head) +
                            " of messages are queued and a message of " + gib(n) +
                            " does not fit in the reserve of " + gib(cap) +
                            " (consume items first, or make the queue with a larger "
                            "QueueOptions::reserve_bytes)");
    }
    const std::uint64_t len = n;
    copy_in(ring_, cap, c.tail, &len, kHeader);  // never wraps: positions and cap are 8-aligned
    copy_in(ring_, cap, c.tail + kHeader, data, n);
    c.tail += rec;
    ++c.count;
    if (s_->joinable) ++c.unfinished;
    s_->publish(c);  // the put happens here
    wake = s_->not_empty.prepare_notify();
  }
  if (wake) s_->not_empty.wake();
}

template <class D>
[[gnu::always_inline]] inline std::size_t QueueCore::get_until(Sink sink, void* ctx,
                                                             D&& deadline) {
  const std::uint64_t cap = s_->capacity;
  std::uint64_t n = 0;
  bool wake = false;
  {
    Locked lock(*s_);
    while (s_->cur().count == 0) {
      if (!s_->not_empty.wait(s_->mutex, deadline()) && s_->cur().count == 0) throw Empty();
    }
    const Counters c = s_->cur();
    copy_out(ring_, cap, c.head, &n, kHeader);
    void* dst = sink(ctx, static_cast<std::size_t>(n));
    copy_out(ring_, cap, c.head + kHeader, dst, n);
    Counters next = c;
    next.head += record_size(n);
    --next.count;
    if (next.count == 0) {
      // Empty: restart the ring at 0 (it stays on hot pages) and give back the rest.
      next.head = next.tail = next.discarded = 0;
      s_->publish(next);  // the get happens here
      if (c.tail > kKeepFront)
        discard_positions(*data_, cap, c.discarded, round_up(c.tail, page_size()),
                          std::min(kKeepFront, cap));
    } else {
      s_->publish(next);  // the get happens here
      const std::uint64_t target = round_down(next.head, page_size());
      if (target >= next.discarded + kDiscardChunk) discard_to(*s_, *data_, target);
    }
    if (s_->maxsize != 0) wake = s_->not_full.prepare_notify();
  }
  if (wake) s_->not_full.wake();
  return static_cast<std::size_t>(n);
}

void QueueCore::put(const void* data, std::size_t n, const Deadline& d) {
  put_until(data, n, [&]() -> const Deadline& { return d; });
}

void QueueCore::put(const void* data, std::size_t n, bool block, std::optional<double> timeout) {
  put_until(data, n, LazyDeadline(block, timeout));
}

std::size_t QueueCore::get(Sink sink, void* ctx, const Deadline& d) {
  return get_until(sink, ctx, [&]() -> const Deadline& { return d; });
}

std::size_t QueueCore::get(Sink sink, void* ctx, bool block, std::optional<double> timeout) {
  return get_until(sink, ctx, LazyDeadline(block, timeout));
}

std::size_t QueueCore::qsize() const {
  Locked lock(*s_);
  return static_cast<std::size_t>(s_->cur().count);
}

bool QueueCore::empty() const {
  Locked lock(*s_);
  return s_->cur().count == 0;
}

bool QueueCore::full() const {
  Locked lock(*s_);
  return s_->maxsize != 0 && s_->cur().count >= s_->maxsize;
}

void QueueCore::task_done() {
  bool wake = false;
  {
    Locked lock(*s_);
    Counters c = s_->cur();
    if (c.unfinished == 0) throw ValueError("task_done() called too many times");
    --c.unfinished;
    s_->publish(c);
    if (c.unfinished == 0) wake = s_->all_done.prepare_notify();
  }
  if (wake) s_->all_done.wake();
}

bool QueueCore::join(const Deadline& d) {
  Locked lock(*s_);
  while (s_->cur().unfinished != 0) {
    if (!s_->all_done.wait(s_->mutex, d) && s_->cur().unfinished != 0) return false;
  }
  return true;
}

std::uint64_t QueueCore::unfinished() const {
  Locked lock(*s_);
  return s_->cur().unfinished;
}

std::int64_t QueueCore::maxsize() const noexcept { return static_cast<std::int64_t>(s_->maxsize); }
std::size_t QueueCore::reserve_bytes() const noexcept { return static_cast<std::size_t>(s_->capacity); }

std::size_t QueueCore::used_bytes() const {
  Locked lock(*s_);
  return static_cast<std::size_t>(s_->cur().tail - s_->cur().head);
}

const void* QueueCore::address() const noexcept { return s_; }
const void* QueueCore::ring_address() const noexcept { return ring_; }

std::size_t QueueCore::committed_bytes() const {
  const std::uint64_t page = page_size();
  std::vector<unsigned char> vec(static_cast<std::size_t>(s_->capacity / page));
  if (::mincore(ring_, static_cast<std::size_t>(s_->capacity), vec.data()) != 0)
    throw OSError::from_errno(errno);
  std::size_t pages = 0;
  for (unsigned char v : vec) pages += (v & 1U);
  return pages * static_cast<std::size_t>(page);
}

std::uint64_t QueueCore::owner_deaths() const {
  Locked lock(*s_);
  return s_->owner_deaths;
}

}  // namespace mpref::detail
