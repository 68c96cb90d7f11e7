#pragma once
// mpref/queues.hpp: Queue, JoinableQueue and SimpleQueue (CPython: multiprocessing/queues.py).
//
// A queue is a cheap copyable handle to a message ring in shared memory: copies, and copies in
// forked children, are the same queue. Messages are bytes (any size up to the reserve); the
// typed layer encodes values through mpref::Codec (mpref/reduction.hpp): every trivially
// copyable type, std::string, std::vector of trivially copyable, std::optional of those, and
// any type you give a Codec.
//
// How mpref differs from CPython, on purpose (the divergence clauses of spec/clauses/queues.json):
//   - No feeder thread: put() encodes and writes the item into shared memory before it returns.
//     So empty()/qsize()/get_nowait() see the item at once (exact, where CPython's empty() is
//     racy), an item cannot be mutated after put(), a process never waits at exit for queue data,
//     and join_thread() after close() returns at once.
//   - An unbounded queue holds at most its reserve of bytes (QueueOptions::reserve_bytes, 1 GiB
//     by default, address space committed only as used; pages are given back behind the
//     consumer). put() past it raises mpref::CapacityError at once and changes nothing.
//   - A process killed inside get() (or put()) does not poison the queue: the others go on, and
//     the item it was taking is either still first in the queue or was taken, never half.
//   - empty() keeps working after close() (CPython's raises OSError once its feeder closed the
//     pipes, a Python-only clause).
//
// Timeouts follow CPython (mpref/detail/deadline.hpp): block=false ignores the timeout and does
// not wait; timeout=nullopt waits forever; zero or negative does not wait.
//
// Messages after close(): "Queue <multiprocessing.queues.Queue object at 0x7f...> is closed"
// (JoinableQueue: "...queues.JoinableQueue object..."), CPython's text with the address of the
// queue's shared state, which is the same in every handle copy and every forked child.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "mpref/detail/deadline.hpp"
#include "mpref/detail/queue_core.hpp"
#include "mpref/errors.hpp"
#include "mpref/reduction.hpp"

namespace mpref {

/// Extensions, not in CPython.
struct QueueOptions {
  /// Address space reserved for the queue's contents; each message takes its size plus 8 to 15
  /// bytes. Committed only as used. At least 64 KiB (ValueError otherwise); rounded up to pages.
  std::size_t reserve_bytes = std::size_t{1} << 30;
};

/// The untyped part of Queue<T> and JoinableQueue<T>: byte messages and everything that does
/// not depend on T.
class QueueBase {
 public:
  /// Effects: appends a copy of `message`. On a queue holding maxsize items, waits by the
  /// timeout rules for a get() to free a slot.
  /// Throws: ValueError('Queue <...> is closed') after close() in this process (checked first);
  /// Full() when still full after the wait (at once for block=false or timeout <= 0);
  /// CapacityError when the message does not fit the reserve next to the current contents
  /// (never waits for room; the queue is unchanged).
  void put_bytes(std::span<const std::byte> message, bool block = true,
                 std::optional<double> timeout = std::nullopt);

  /// Effects: removes and returns the oldest message; on an empty queue waits by the timeout
  /// rules. Throws: ValueError('Queue <...> is closed') after close(); Empty() when still empty.
  Bytes get_bytes(bool block = true, std::optional<double> timeout = std::nullopt);

  /// Items in the queue: successful puts minus completed gets, exact at any time.
  [[nodiscard]] std::size_t qsize() const { return core_.qsize(); }
  /// qsize() == 0, exact (an intentional divergence: CPython's may say True right after put()).
  /// Works after close().
  [[nodiscard]] bool empty() const { return core_.empty(); }
  /// A bounded queue holds maxsize items. Never true for an unbounded queue.
  [[nodiscard]] bool full() const { return core_.full(); }

  /// Effects: marks the queue closed in this process (all handle copies in it; a process forked
  /// earlier is not affected, a child forked later inherits the flag). Repeatable. Items
  /// already put stay in the queue for other processes.
  void close() noexcept { local_->closed = true; }
  /// Extension: whether close() was called in this process.
  [[nodiscard]] bool closed() const noexcept { return local_->closed; }

  /// CPython waits for the feeder thread to flush; mpref has none, so after close() this
  /// returns at once. Throws: AssertionError('Queue <...> not closed') before close().
  void join_thread() const;
  /// Accepted at any time; there is no feeder whose flush could be cancelled.
  void cancel_join_thread() noexcept { local_->join_cancelled = true; }

  /// Extension: the maxsize the queue was made with, 0 when unbounded (maxsize <= 0).
  [[nodiscard]] std::int64_t maxsize() const noexcept { return core_.maxsize(); }
  /// Extension: "<multiprocessing.queues.Queue object at 0x...>", the stand-in for repr().
  [[nodiscard]] std::string repr() const;

  /// Internals, for tests and benchmarks (memory measurements, crash tests).
  [[nodiscard]] detail::QueueCore& core() noexcept { return core_; }
  [[nodiscard]] const detail::QueueCore& core() const noexcept { return core_; }

 protected:
  QueueBase(std::int64_t maxsize, const QueueOptions& options, bool joinable, const char* type_name);
  void check_not_closed() const {
    if (local_->closed) [[unlikely]] throw_closed();
  }
  [[noreturn]] void throw_closed() const;

  detail::QueueCore core_;

 private:
  struct Local {  // per process: a forked child gets its own copy
    bool closed = false;
    bool join_cancelled = false;
  };
  std::shared_ptr<Local> local_;
  const char* type_name_;
};

/// multiprocessing.Queue for values of T.
template <Encodable T = Bytes>
class Queue : public QueueBase {
 public:
  /// maxsize <= 0: unbounded (CPython: SEM_VALUE_MAX items; mpref: the reserve's bytes).
  explicit Queue(std::int64_t maxsize = 0, const QueueOptions& options = {})
      : QueueBase(maxsize, options, false, "Queue") {}

  /// As put_bytes() with obj's encoding. The value is copied before put() returns.
  void put(const T& obj, bool block = true, std::optional<double> timeout = std::nullopt) {
    check_not_closed();
    detail::with_encoded(obj, [&](std::span<const std::byte> b) {
      core_.put(b.data(), b.size(), block, timeout);
    });
  }
  /// put(obj, false).
  void put_nowait(const T& obj) { put(obj, false); }

  /// As get_bytes(), decoded. Throws ValueError also when the message is not a valid encoding
  /// of T (the message is consumed).
  T get(bool block = true, std::optional<double> timeout = std::nullopt) {
    check_not_closed();
    detail::DecodeBuffer buf;
    core_.get(&detail::DecodeBuffer::sink, &buf, block, timeout);
    return detail::decode_from<T>(buf);
  }
  /// get(false).
  T get_nowait() { return get(false); }

 protected:
  Queue(std::int64_t maxsize, const QueueOptions& options, bool joinable, const char* type_name)
      : QueueBase(maxsize, options, joinable, type_name) {}
};

/// multiprocessing.JoinableQueue: a Queue that counts unfinished tasks.
template <Encodable T = Bytes>
class JoinableQueue : public Queue<T> {
 public:
  explicit JoinableQueue(std::int64_t maxsize = 0, const QueueOptions& options = {})
      : Queue<T>(maxsize, options, true, "JoinableQueue") {}

  // put()/put_nowait() raise the unfinished count by one when they succeed (in the same commit
  // as the item, so join() never sees an item that is not counted); a put that raises does not.

  /// Effects: lowers the unfinished count by one; wakes join() when it reaches 0. Not tied to
  /// get(), and ignores close(). Throws: ValueError('task_done() called too many times') at 0.
  void task_done() { this->core_.task_done(); }

  /// Blocks until the unfinished count is 0 (returns at once when it is). Ignores close().
  void join() { (void)this->core_.join(detail::Deadline::forever()); }
  /// Extension (CPython's join() takes no timeout): waits at most `timeout` seconds (nullopt:
  /// forever; <= 0: do not wait). Returns true when the count is 0, false on time-out.
  bool join(std::optional<double> timeout) {
    return this->core_.join(detail::Deadline::from(true, timeout));
  }

  /// Extension: the unfinished-task count.
  [[nodiscard]] std::uint64_t unfinished_tasks() const { return this->core_.unfinished(); }
};

/// multiprocessing.SimpleQueue: put, get, empty, close; unbounded, no timeouts (CPython's put
/// blocks while its pipe is full; mpref's does not while the contents fit the reserve).
template <Encodable T = Bytes>
class SimpleQueue {
 public:
  explicit SimpleQueue(const QueueOptions& options = {})
      : core_(detail::QueueCore::Config{0, options.reserve_bytes, false}),
        local_(std::make_shared<Local>()) {}

  /// Appends obj's encoding. Throws OSError('handle is closed') after close() in this process;
  /// CapacityError past the reserve.
  void put(const T& obj) {
    check_open();
    detail::with_encoded(obj, [&](std::span<const std::byte> b) {
      core_.put(b.data(), b.size(), detail::Deadline::forever());
    });
  }
  /// Removes and returns the oldest item, waiting with no bound while empty.
  /// Throws OSError('handle is closed') after close().
  T get() { return get_until(detail::Deadline::forever()); }
  /// Extension (CPython's get() has no timeout): waits at most `timeout` seconds (<= 0: do not
  /// wait). Throws Empty() on time-out; OSError('handle is closed') after close().
  T get(double timeout) { return get_until(detail::Deadline::from(true, timeout)); }
  /// Exact: false right after put(). Throws OSError('handle is closed') after close().
  [[nodiscard]] bool empty() const {
    check_open();
    return core_.empty();
  }
  /// Repeatable; marks the queue closed in this process only.
  void close() noexcept { local_->closed = true; }
  /// Extension.
  [[nodiscard]] bool closed() const noexcept { return local_->closed; }

  [[nodiscard]] detail::QueueCore& core() noexcept { return core_; }

 private:
  struct Local {
    bool closed = false;
  };
  void check_open() const {
    if (local_->closed) [[unlikely]] throw OSError("handle is closed");
  }
  T get_until(const detail::Deadline& d) {
    check_open();
    detail::DecodeBuffer buf;
    core_.get(&detail::DecodeBuffer::sink, &buf, d);
    return detail::decode_from<T>(buf);
  }

  detail::QueueCore core_;
  std::shared_ptr<Local> local_;
};

}  // namespace mpref
