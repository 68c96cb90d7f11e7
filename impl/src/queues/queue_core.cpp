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

#include "mpref/detail/committed.hpp"
#include "mpref/detail/futex_event.hpp"
#include "mpref/detail/pshared.hpp"
#include "mpref/errors.hpp"

namespace mpref::detail {

namespace {

constexpr std::uint64_t kHeader = 8;                 // record header: payload length
constexpr std::uint64_t kDiscardChunk = 256 * 1024;  // give pages back in steps of this
constexpr std::size_t kMinReserve = 64 * 1024;
constexpr std::size_t kMaxReserve = std::size_t{1} << 62;  // beyond any address space; no overflow
constexpr std::size_t kLine = 64;  // cache line: each side's hot words on lines of their own

std::uint64_t page_size() {
  static const auto p = static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
  return p;
}
constexpr std::uint64_t round_up(std::uint64_t n, std::uint64_t a) { return (n + a - 1) / a * a; }
constexpr std::uint64_t round_down(std::uint64_t n, std::uint64_t a) { return n / a * a; }
constexpr std::uint64_t record_size(std::uint64_t n) { return round_up(kHeader + n, 8); }

}  // namespace

/// Positions count bytes since the queue was made; a position's offset in the ring is
/// position % capacity. Live records are [head, tail); the pages of [discarded, head) still
/// hold consumed records and are given back in chunks. A put may use positions below
/// discarded + capacity, so pages being given back never hold a record being written.
///
/// The ring is one page larger than the reserve: consumers give back whole pages only, so the
/// page holding `head` stays in use and an empty ring has room for capacity - (head % page)
/// bytes. With the spare page, whatever fits the reserve next to the contents (contents +
/// record <= reserve, the contract) fits the ring, wherever the ring stands: tail + record <=
/// head + reserve < round_down(head, page) + capacity.
struct Produced {  // committed by producers, under the put lock
  std::uint64_t tail = 0;
  std::uint64_t puts = 0;  // successful puts, ever
};
struct Consumed {  // committed by consumers, under the get lock
  std::uint64_t head = 0;
  std::uint64_t gets = 0;   // successful gets, ever
  std::uint64_t dones = 0;  // task_done() calls, ever (JoinableQueue)
  std::uint64_t discarded = 0;
  std::uint64_t zeros = 0;  // times a task_done() made the unfinished count 0 (wakes join())
};

/// One side's lock, and what it last read of the other side. The "seen" words are lower bounds
/// of counters that only grow (kept to spare a read of the other side's cache line per item);
/// each is valid on its own, so a holder that dies between writing two of them is harmless.
struct alignas(kLine) PutSide {
  SharedMutex mutex;
  std::atomic<std::uint64_t> owner_deaths{0};
  std::uint64_t seen_gets = 0;       // Consumed::gets
  std::uint64_t seen_discarded = 0;  // Consumed::discarded
};
struct alignas(kLine) GetSide {
  SharedMutex mutex;
  std::atomic<std::uint64_t> owner_deaths{0};
  std::uint64_t seen_puts = 0;  // Produced::puts
};

struct QueueShared {
  QueueShared(std::uint64_t max, std::uint64_t res, bool join)
      : maxsize(max),
        reserve(res),
        capacity(res + page_size()),
        discard_chunk(std::min(kDiscardChunk, res / 4)),
        joinable(join) {}

  const std::uint64_t maxsize;   // 0: unbounded
  const std::uint64_t reserve;   // what the contents may use, a multiple of the page size
  const std::uint64_t capacity;  // ring bytes: reserve + one page
  const std::uint64_t discard_chunk;
  const bool joinable;

  PutSide put_side;
  alignas(kLine) Committed<Produced> produced;
  GetSide get_side;
  alignas(kLine) Committed<Consumed> consumed;
  alignas(kLine) FutexEvent not_empty;  // get() sleeps here; put() notifies
  alignas(kLine) FutexEvent not_full;   // put() on a bounded queue sleeps here; get() notifies
  alignas(kLine) FutexEvent all_done;   // join() sleeps here; task_done() notifies
};

namespace {

/// Holds one side's lock, counting takeovers from dead holders (nothing to repair: every
/// change is one commit). Can let go while its owner sleeps.
class SideLock {
 public:
  template <class Side>
  explicit SideLock(Side& side) : m_(side.mutex), deaths_(side.owner_deaths) {
    take();
  }
  ~SideLock() {
    if (held_) m_.unlock();
  }
  SideLock(const SideLock&) = delete;
  SideLock& operator=(const SideLock&) = delete;

  void take() {
    if (m_.lock()) deaths_.fetch_add(1, std::memory_order_relaxed);
    held_ = true;
  }
  void release() noexcept {
    m_.unlock();
    held_ = false;
  }


 private:
  SharedMutex& m_;
  std::atomic<std::uint64_t>& deaths_;
  bool held_ = false;
};

std::string bytes(std::uint64_t n) { return std::to_string(n) + " bytes"; }

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

/// Gives back the pages of positions [c.discarded, target), then commits discarded = target.
/// Requires: the get lock; target page aligned, c.discarded < target <= c.head. In that order
/// because producers may write at the ring offsets of those pages once the commit is seen; a
/// consumer that dies in between only leaves consumed pages zeroed and uncommitted.
void give_back(QueueShared& s, SharedRegion& data, Consumed& c, std::uint64_t target) {
  const std::uint64_t cap = s.capacity;
  const std::uint64_t off = c.discarded % cap;
  const std::uint64_t len = target - c.discarded;
  const std::uint64_t first = std::min(len, cap - off);
  data.discard(static_cast<std::size_t>(off), static_cast<std::size_t>(first));
  if (len > first) data.discard(0, static_cast<std::size_t>(len - first));
  c.discarded = target;
  s.consumed.commit(c);
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

/// How long a sleeper goes without looking at the queue again. A notifier that dies between its
/// commit and its wake-up (SIGKILL lands there too) must not leave a waiter asleep forever; a
/// look every 100 ms costs a sleeper nothing measurable.
constexpr double kRecheckS = 0.1;

/// Waits, holding `lock` except while asleep, until ready() (which reads the other side and may
/// refresh a "seen" word). Returns normally once ready(), throws `Timeout` when `deadline()`
/// passes first.
template <class Timeout, class Ready, class D>
[[gnu::noinline]] void wait_until_ready(SideLock& lock, FutexEvent& event, Ready&& ready,
                                        D&& deadline) {
  for (;;) {
    if (ready()) return;
    const Deadline& d = deadline();
    if (d.expired()) throw Timeout();
    const std::uint32_t seen = event.prepare_wait();
    if (ready()) return;
    lock.release();
    (void)event.wait(seen, d.capped(kRecheckS));  // notified, timed out or time to look again
    lock.take();
  }
}

}  // namespace

QueueCore::QueueCore(const Config& config) {
  if (config.reserve_bytes < kMinReserve || config.reserve_bytes > kMaxReserve)
    throw ValueError("mpref: a queue reserve must be at least " + std::to_string(kMinReserve) +
                     " bytes and at most " + std::to_string(kMaxReserve) + ", got " +
                     std::to_string(config.reserve_bytes));
  const std::uint64_t reserve = round_up(config.reserve_bytes, page_size());
  const std::uint64_t max = config.maxsize > 0 ? static_cast<std::uint64_t>(config.maxsize) : 0;
  try {
    control_ = std::make_shared<SharedRegion>(sizeof(QueueShared));
    data_ = std::make_shared<SharedRegion>(static_cast<std::size_t>(reserve + page_size()));
  } catch (const boost::interprocess::interprocess_exception& e) {
    throw OSError(std::string("mpref: cannot map a queue of ") + bytes(reserve) + ": " + e.what());
  }
  s_ = ::new (control_->data()) QueueShared(max, reserve, config.joinable);
  ring_ = static_cast<std::byte*>(data_->data());
}

template <class D>
[[gnu::always_inline]] inline void QueueCore::put_until(const void* data, std::size_t n,
                                                      D&& deadline) {
  const std::uint64_t cap = s_->capacity;
  const std::uint64_t rec = record_size(n);
  if (n > s_->reserve || rec > s_->reserve)
    throw CapacityError("mpref queue: a message of " + bytes(n) +
                        " does not fit in the queue's reserve of " + bytes(s_->reserve) +
                        " (make the queue with a larger QueueOptions::reserve_bytes)");
  PutSide& side = s_->put_side;
  {
    SideLock lock(side);
    if (s_->maxsize != 0 && s_->produced.owned().puts - side.seen_gets >= s_->maxsize) {
      wait_until_ready<Full>(
          lock, s_->not_full,
          [&] {
            side.seen_gets = s_->consumed.snapshot().gets;
            return s_->produced.owned().puts - side.seen_gets < s_->maxsize;
          },
          deadline);
    }
    // The reserve: contents + this record <= reserve, exactly. contents = tail - head and
    // head >= discarded, so passing the first test proves it; failing it, a look at head
    // decides (and then the ring has room too: see Produced).
    Produced p = s_->produced.owned();
    if (p.tail + rec > side.seen_discarded + s_->reserve) [[unlikely]] {
      side.seen_discarded = s_->consumed.snapshot().discarded;
      if (p.tail + rec > side.seen_discarded + s_->reserve) {
        // Consumers give pages back in chunks; take what lies behind them now. Lock order:
        // put then get (a consumer never takes the put lock).
        SideLock get_lock(s_->get_side);
        Consumed c = s_->consumed.owned();
        const std::uint64_t target = round_down(c.head, page_size());
        if (target > c.discarded) give_back(*s_, *data_, c, target);
        side.seen_discarded = c.discarded;
        if (p.tail - c.head + rec > s_->reserve)
          throw CapacityError("mpref queue: reserve exhausted: " + bytes(p.tail - c.head) +
                              " of messages are queued and a message of " + bytes(n) +
                              " does not fit in the reserve of " + bytes(s_->reserve) +
                              " (consume items first, or make the queue with a larger "
                              "QueueOptions::reserve_bytes)");
      }
    }
    const std::uint64_t len = n;
    copy_in(ring_, cap, p.tail, &len, kHeader);  // never wraps: positions and cap are 8-aligned
    copy_in(ring_, cap, p.tail + kHeader, data, n);
    p.tail += rec;
    ++p.puts;
    s_->produced.commit(p);  // the put happens here
  }
  s_->not_empty.notify();
}

template <class D>
[[gnu::always_inline]] inline std::size_t QueueCore::get_until(Sink sink, void* ctx,
                                                             D&& deadline) {
  const std::uint64_t cap = s_->capacity;
  GetSide& side = s_->get_side;
  std::uint64_t n = 0;
  {
    SideLock lock(side);
    if (s_->consumed.owned().gets >= side.seen_puts) {
      wait_until_ready<Empty>(
          lock, s_->not_empty,
          [&] {
            side.seen_puts = s_->produced.snapshot().puts;
            return s_->consumed.owned().gets < side.seen_puts;
          },
          deadline);
    }
    Consumed c = s_->consumed.owned();
    copy_out(ring_, cap, c.head, &n, kHeader);
    void* dst = sink(ctx, static_cast<std::size_t>(n));
    copy_out(ring_, cap, c.head + kHeader, dst, n);
    c.head += record_size(n);
    ++c.gets;
    s_->consumed.commit(c);  // the get happens here
    const std::uint64_t target = round_down(c.head, page_size());
    if (target >= c.discarded + s_->discard_chunk) [[unlikely]]
      give_back(*s_, *data_, c, target);
  }
  if (s_->maxsize != 0) s_->not_full.notify();
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

namespace {

/// Both sides' committed state at one instant: both locks, in the order put then get.
struct BothSides {
  Produced p;
  Consumed c;
};
BothSides read_both(QueueShared& s) {
  SideLock put_lock(s.put_side);
  SideLock get_lock(s.get_side);
  return {s.produced.owned(), s.consumed.owned()};
}

}  // namespace

std::size_t QueueCore::qsize() const {
  const BothSides b = read_both(*s_);
  return static_cast<std::size_t>(b.p.puts - b.c.gets);
}

bool QueueCore::empty() const { return qsize() == 0; }

bool QueueCore::full() const { return s_->maxsize != 0 && qsize() >= s_->maxsize; }

void QueueCore::task_done() {
  bool now_zero = false;
  {
    SideLock lock(s_->get_side);
    Consumed c = s_->consumed.owned();
    const std::uint64_t puts = s_->produced.snapshot().puts;  // dones <= puts at every instant
    if (c.dones >= puts) throw ValueError("task_done() called too many times");
    ++c.dones;
    s_->consumed.commit(c);
    // Zero now? dones cannot move while we hold the get lock, so a read of puts after the
    // commit that equals it proves an instant at which the count was 0: record it for join().
    if (c.dones == puts && s_->produced.snapshot().puts == c.dones) {
      ++c.zeros;
      s_->consumed.commit(c);
      now_zero = true;
    }
  }
  if (now_zero) s_->all_done.notify();
}

std::uint64_t QueueCore::unfinished() const {
  // dones first: puts only grows, so puts read later is >= puts at the instant dones was read,
  // and the difference is never negative (exact at that instant when it is 0).
  const std::uint64_t dones = s_->consumed.snapshot().dones;
  return s_->produced.snapshot().puts - dones;
}

std::optional<std::uint64_t> QueueCore::join_mark() {
  // Under the get lock: a task_done()'s commit, its look at puts and its `zeros` bump are one
  // step for us, so a later bump proves a zero after this mark, never one before it.
  SideLock lock(s_->get_side);
  const Consumed c = s_->consumed.owned();
  if (s_->produced.snapshot().puts == c.dones) return std::nullopt;
  return c.zeros;
}

bool QueueCore::join_since(std::uint64_t mark, const Deadline& d) {
  for (;;) {
    const std::uint32_t seen = s_->all_done.prepare_wait();
    const Consumed c = s_->consumed.snapshot();
    if (c.zeros != mark || s_->produced.snapshot().puts == c.dones) return true;
    if (d.expired()) return false;
    (void)s_->all_done.wait(seen, d.capped(kRecheckS));  // see wait_until_ready()
  }
}

bool QueueCore::join(const Deadline& d) {
  const std::optional<std::uint64_t> mark = join_mark();
  return !mark || join_since(*mark, d);
}

std::int64_t QueueCore::maxsize() const noexcept { return static_cast<std::int64_t>(s_->maxsize); }
std::size_t QueueCore::reserve_bytes() const noexcept { return static_cast<std::size_t>(s_->reserve); }

std::size_t QueueCore::used_bytes() const {
  const BothSides b = read_both(*s_);
  return static_cast<std::size_t>(b.p.tail - b.c.head);
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
  return s_->put_side.owner_deaths.load(std::memory_order_relaxed) +
         s_->get_side.owner_deaths.load(std::memory_order_relaxed);
}

}  // namespace mpref::detail
