#pragma once
// mpref/detail/queue_core.hpp: the shared-memory message ring behind Queue, JoinableQueue and
// SimpleQueue (src/queues/queue_core.cpp).
//
// Layout: a small control mapping and a data mapping of `reserve` bytes (plus one page, see
// queue_core.cpp) of address space used as a byte ring of records [8-byte length][payload][pad
// to 8]. The data mapping is MAP_SHARED|MAP_ANONYMOUS and touched lazily, so only the pages
// that hold contents are committed; consumers give the pages behind them back (MADV_REMOVE) every 256 KiB.
//
// Two sides: producers (put) and consumers (get, task_done) each have their own robust lock,
// their own committed state (producers: tail and puts; consumers: head, gets, dones and
// discarded) and their own cache lines, so a producer and a consumer never wait for each
// other's lock on the way. Each reads the other's state without its lock (a consistent
// snapshot, detail/committed.hpp), and only when what it last read says it might have to
// wait: qsize = puts - gets, unfinished tasks = puts - dones. Sleeping uses FutexEvents
// (detail/futex_event.hpp), notified after each commit at the cost of a fence when nobody
// sleeps. qsize(), empty(), full() and used_bytes() take both locks (put, then get: the only
// order anything takes both), so they are exact at an instant, as the divergence clauses say.
//
// Crash consistency: every operation copies its bytes first (under its side's lock) and then
// commits its side's counters with a single store that flips between two copies of them. A
// process killed at any instant, while holding a lock or sleeping, leaves the committed state
// intact: a put either happened or did not, the item a dying get was taking is either still
// first in the queue or gone, never half. A process killed between its commit and its
// wake-up call cannot strand a sleeper either: sleepers look at the queue again every 100 ms.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "mpref/detail/deadline.hpp"
#include "mpref/detail/shared_memory.hpp"

namespace mpref::detail {

struct QueueShared;

class QueueCore {
 public:
  struct Config {
    std::int64_t maxsize = 0;                     // items; <= 0: unbounded
    std::size_t reserve_bytes = std::size_t{1} << 30;  // address space of the data ring
    bool joinable = false;                        // count unfinished tasks
  };

  /// Throws OSError when the mappings cannot be made, ValueError for a reserve under 64 KiB or
  /// beyond any address space (over 2^62 bytes).
  explicit QueueCore(const Config& config);

  /// Appends a message of n bytes. Waits while the queue holds maxsize items, until `d`.
  /// Throws Full when still full at the deadline; CapacityError when the message cannot fit
  /// in the reserve next to the current contents (never waits for room in the reserve).
  void put(const void* data, std::size_t n, const Deadline& d);
  /// As put(data, n, Deadline::from(block, timeout)), but reads the clock only if it must
  /// wait: the time-out then counts from the moment the queue is found full (after taking the
  /// lock), which is at most a lock acquisition later than the call.
  void put(const void* data, std::size_t n, bool block, std::optional<double> timeout);

  /// Where get() copies a message: returns room for n bytes. Called with the queue locked; if
  /// it throws, nothing is taken and the exception propagates.
  using Sink = void* (*)(void* ctx, std::size_t n);

  /// Takes the oldest message into sink(ctx, n) and returns n. Waits while empty, until `d`.
  /// Throws Empty when still empty at the deadline. Waits for another consumer's get() in
  /// progress whatever the deadline (that is what makes get_nowait() exact after a put; CPython
  /// raises Empty when another reader holds its lock).
  std::size_t get(Sink sink, void* ctx, const Deadline& d);
  /// As get(sink, ctx, Deadline::from(block, timeout)), reading the clock only if it must wait
  /// (see put()).
  std::size_t get(Sink sink, void* ctx, bool block, std::optional<double> timeout);

  [[nodiscard]] std::size_t qsize() const;
  [[nodiscard]] bool empty() const;
  [[nodiscard]] bool full() const;

  /// JoinableQueue: decrements the unfinished count; ValueError('task_done() called too many
  /// times') at 0.
  void task_done();
  /// JoinableQueue: waits until the unfinished count is 0 or `d` passes; returns whether it
  /// was 0 at some instant during the call. As in CPython, a count that reaches 0 while join()
  /// waits releases it even if a put() raises it again before join() looks.
  bool join(const Deadline& d);
  /// join() in steps (for callers that wait in slices): join_mark() returns nullopt when the
  /// count is 0 now, else a mark; join_since(mark, d) then waits as join() would have, for a
  /// zero after the mark.
  [[nodiscard]] std::optional<std::uint64_t> join_mark();
  bool join_since(std::uint64_t mark, const Deadline& d);
  [[nodiscard]] std::uint64_t unfinished() const;

  [[nodiscard]] std::int64_t maxsize() const noexcept;  // 0 when unbounded
  [[nodiscard]] std::size_t reserve_bytes() const noexcept;
  /// Bytes of contents (records with headers and padding): what the reserve is charged.
  [[nodiscard]] std::size_t used_bytes() const;
  /// The same shared state for every copy and every forked child: used as the object's address.
  [[nodiscard]] const void* address() const noexcept;
  /// The data ring, for memory measurements (bench, tests).
  [[nodiscard]] const void* ring_address() const noexcept;
  /// Pages of the ring currently committed, by mincore(2) (tests, bench).
  [[nodiscard]] std::size_t committed_bytes() const;
  /// Times a lock was taken over from a holder that died (tests).
  [[nodiscard]] std::uint64_t owner_deaths() const;

 private:
  template <class D>
  void put_until(const void* data, std::size_t n, D&& deadline);
  template <class D>
  std::size_t get_until(Sink sink, void* ctx, D&& deadline);

  std::shared_ptr<SharedRegion> control_;
  std::shared_ptr<SharedRegion> data_;
  QueueShared* s_;
  std::byte* ring_;
};

}  // namespace mpref::detail
