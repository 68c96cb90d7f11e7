// The built-in mutants: the reference with one behaviour broken on purpose. Each must be caught
// by the property named in its entry (`mpconform mutants` checks that every one is).
//
// Per-process state of a mutant (counters, held items) lives in the object itself, which every
// forked process has its own copy of; state shared between processes lives in a small anonymous
// shared mapping made in the parent.
#include "mutants.hpp"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "detail/shared.hpp"
#include "mpconform/backend.hpp"
#include "mpconform/forwarding_backend.hpp"
#include "mpconform/history.hpp"
#include "mpref/errors.hpp"

namespace mpconform::engine {
namespace {

// ---- waiting: futex waits on a 32-bit word of a shared mapping, by Python's timeout rules,
// never busy.

using detail::Shared;
using detail::wake_all;

// How long one futex wait lasts at most before the waiter looks again (a waker that died
// between its store and its wake-up must not strand anybody).
constexpr std::int64_t kRecheckNs = 100'000'000;

// A call's wait under Python's rules: block=false never waits; timeout nullopt waits forever;
// zero or negative does not wait; a positive timeout waits at most that long.
class Wait {
 public:
  Wait(bool block, std::optional<double> timeout) {
    if (!block || (timeout && !(*timeout > 0))) {
      none_ = true;
    } else if (timeout) {
      deadline_ = monotonic_ns() + static_cast<std::int64_t>(*timeout * 1e9);
    }
  }
  [[nodiscard]] bool expired() const { return none_ || (deadline_ != kForever && monotonic_ns() >= deadline_); }
  // Sleeps while `word` holds `value`: until woken, the deadline, or the recheck interval.
  void sleep(std::atomic<std::uint32_t>& word, std::uint32_t value) const {
    std::int64_t left = kRecheckNs;
    if (deadline_ != kForever) left = std::min(left, deadline_ - monotonic_ns());
    if (left <= 0) return;
    detail::futex_wait(word, value, left);
  }

 private:
  static constexpr std::int64_t kForever = INT64_MAX;
  bool none_ = false;
  std::int64_t deadline_ = kForever;
};

// Sleeps a whole positive timeout, woken by nobody: what the sleeps-through mutants do instead of
// waiting for the notification that would end their wait early.
void sleep_through(double timeout) {
  std::atomic<std::uint32_t> word{0};  // nobody bumps or wakes it
  const Wait w(true, timeout);
  while (!w.expired()) w.sleep(word, 0);
}

// The race window of the atomicity mutants: what the broken code does between its load and its
// store (a full fence and about 300 ns of arithmetic on the 2-core test machine). Not a sleep:
// processes released together with microsecond offsets (--mode overlap) land in it; randomly
// delayed ones mostly do when one is preempted inside it (many processes on few cores) or when
// several waiters are woken at once (lock-test-then-set's release wakes every waiter).
[[gnu::noinline]] void race_window() {
  std::atomic_thread_fence(std::memory_order_seq_cst);
  volatile std::uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 256; ++i) x = x * 6364136223846793005ULL + 1442695040888963407ULL;
}

// A Queue that forwards everything (mutants override one member).
class QueueWrap : public Queue {
 public:
  explicit QueueWrap(std::unique_ptr<Queue> q) : q_(std::move(q)) {}
  void put(std::uint64_t item, bool block, std::optional<double> timeout) override {
    q_->put(item, block, timeout);
  }
  std::uint64_t get(bool block, std::optional<double> timeout) override { return q_->get(block, timeout); }
  std::int64_t qsize() override { return q_->qsize(); }
  bool empty() override { return q_->empty(); }
  bool full() override { return q_->full(); }
  void close() override { q_->close(); }

 protected:
  std::unique_ptr<Queue> q_;
};

// A SimpleQueue that forwards everything (mutants override one member).
class SimpleQueueWrap : public SimpleQueue {
 public:
  explicit SimpleQueueWrap(std::unique_ptr<SimpleQueue> q) : q_(std::move(q)) {}
  void put(std::uint64_t item) override { q_->put(item); }
  std::uint64_t get(std::optional<double> timeout) override { return q_->get(timeout); }
  bool empty() override { return q_->empty(); }
  void close() override { q_->close(); }

 protected:
  std::unique_ptr<SimpleQueue> q_;
};

// A Connection that forwards everything (mutants override one member).
class ConnectionWrap : public Connection {
 public:
  explicit ConnectionWrap(std::unique_ptr<Connection> c) : c_(std::move(c)) {}
  void send(std::uint64_t m) override { c_->send(m); }
  std::uint64_t recv() override { return c_->recv(); }
  bool poll(std::optional<double> timeout) override { return c_->poll(timeout); }
  void close() override { c_->close(); }

 protected:
  std::unique_ptr<Connection> c_;
};

// A Lock (or RLock) that forwards everything (mutants override one member).
class LockWrap : public Lock {
 public:
  explicit LockWrap(std::unique_ptr<Lock> l) : l_(std::move(l)) {}
  bool acquire(bool block, std::optional<double> timeout) override { return l_->acquire(block, timeout); }
  void release() override { l_->release(); }

 protected:
  std::unique_ptr<Lock> l_;
};

// ---- queue-drop: a put under contention (another put in flight) returns but loses the item;
// without contention every 8th put of a process is lost.
class DroppingQueue final : public QueueWrap {
 public:
  using QueueWrap::QueueWrap;
  void put(std::uint64_t item, bool block, std::optional<double> timeout) override {
    const std::int64_t others = in_flight_->fetch_add(1);
    const bool drop = others > 0 || ++count_ % 8 == 0;
    if (!drop) {
      try {
        q_->put(item, block, timeout);
      } catch (...) {
        in_flight_->fetch_sub(1);
        throw;
      }
    }
    in_flight_->fetch_sub(1);
  }

 private:
  Shared<std::atomic<std::int64_t>> in_flight_;
  std::uint64_t count_ = 0;
};

// ---- simple-queue-drop: every 5th put of a process returns but loses the item.
class DroppingSimpleQueue final : public SimpleQueueWrap {
 public:
  using SimpleQueueWrap::SimpleQueueWrap;
  void put(std::uint64_t item) override {
    if (++count_ % 5 != 0) q_->put(item);
  }

 private:
  std::uint64_t count_ = 0;
};

// ---- queue-reorder: get swaps two adjacent items when a second one is already there (the held
// one is returned by the next get; a consumer that stops with one held loses it).
class ReorderingQueue final : public QueueWrap {
 public:
  using QueueWrap::QueueWrap;
  std::uint64_t get(bool block, std::optional<double> timeout) override {
    if (held_) {
      const std::uint64_t v = *held_;
      held_.reset();
      return v;
    }
    const std::uint64_t first = q_->get(block, timeout);
    try {
      const std::uint64_t second = q_->get(false);
      held_ = first;
      return second;
    } catch (const mpref::Empty&) {
      return first;
    }
  }

 private:
  std::optional<std::uint64_t> held_;
};

// ---- queue-put-segv: the 3rd put of a process dies of SIGSEGV in the middle of the call (a
// crash inside the implementation; the run must report the crash, the process and its call).
class SegvQueue final : public QueueWrap {
 public:
  using QueueWrap::QueueWrap;
  void put(std::uint64_t item, bool block, std::optional<double> timeout) override {
    if (++puts_ == 3) {
      ::signal(SIGSEGV, SIG_DFL);
      ::raise(SIGSEGV);
    }
    q_->put(item, block, timeout);
  }

 private:
  int puts_ = 0;
};

// ---- lock-two-holders: an acquire that finds the lock taken succeeds anyway every other time
// (without taking it); that holder's release is then a no-op.
class LeakyLock final : public LockWrap {
 public:
  using LockWrap::LockWrap;
  bool acquire(bool block, std::optional<double> timeout) override {
    if (fake_depth_ > 0) {
      ++fake_depth_;
      return true;
    }
    if (l_->acquire(false)) {
      ++real_depth_;
      return true;
    }
    if (real_depth_ == 0 && ++contended_ % 2 == 1) {
      fake_depth_ = 1;
      return true;
    }
    if (l_->acquire(block, timeout)) {
      ++real_depth_;
      return true;
    }
    return false;
  }
  void release() override {
    if (fake_depth_ > 0) {
      --fake_depth_;
      return;
    }
    l_->release();
    if (real_depth_ > 0) --real_depth_;
  }

 private:
  std::uint32_t fake_depth_ = 0;
  std::uint32_t real_depth_ = 0;
  std::uint32_t contended_ = 0;
};

// ---- joinable-off-by-one: the first task_done of each process counts twice.
class OffByOneJoinable final : public JoinableQueue {
 public:
  explicit OffByOneJoinable(std::unique_ptr<JoinableQueue> q) : q_(std::move(q)) {}
  void put(std::uint64_t item, bool block, std::optional<double> timeout) override {
    q_->put(item, block, timeout);
  }
  std::uint64_t get(bool block, std::optional<double> timeout) override { return q_->get(block, timeout); }
  std::int64_t qsize() override { return q_->qsize(); }
  bool empty() override { return q_->empty(); }
  bool full() override { return q_->full(); }
  void close() override { q_->close(); }
  void task_done() override {
    q_->task_done();
    if (!extra_done_) {
      extra_done_ = true;
      try {
        q_->task_done();
      } catch (const mpref::ValueError&) {
      }
    }
  }
  bool join(std::optional<double> timeout) override { return q_->join(timeout); }

 private:
  std::unique_ptr<JoinableQueue> q_;
  bool extra_done_ = false;
};

// ---- timeout-early: every positive timeout waits half as long.
std::optional<double> halve(std::optional<double> t) {
  if (t && *t > 0) return *t / 2;
  return t;
}

class EarlyQueue final : public QueueWrap {
 public:
  using QueueWrap::QueueWrap;
  void put(std::uint64_t item, bool block, std::optional<double> timeout) override {
    q_->put(item, block, halve(timeout));
  }
  std::uint64_t get(bool block, std::optional<double> timeout) override {
    return q_->get(block, halve(timeout));
  }
};

class EarlyLock final : public LockWrap {
 public:
  using LockWrap::LockWrap;
  bool acquire(bool block, std::optional<double> timeout) override {
    return l_->acquire(block, halve(timeout));
  }
};

class EarlySimpleQueue final : public SimpleQueueWrap {
 public:
  using SimpleQueueWrap::SimpleQueueWrap;
  std::uint64_t get(std::optional<double> timeout) override { return q_->get(halve(timeout)); }
};

class EarlyConnection final : public ConnectionWrap {
 public:
  using ConnectionWrap::ConnectionWrap;
  bool poll(std::optional<double> timeout) override { return c_->poll(halve(timeout)); }
};

class EarlyProcess final : public Process {
 public:
  explicit EarlyProcess(std::unique_ptr<Process> p) : p_(std::move(p)) {}
  void start() override { p_->start(); }
  std::optional<pid_t> pid() override { return p_->pid(); }
  void join(std::optional<double> timeout) override { p_->join(halve(timeout)); }
  bool is_alive() override { return p_->is_alive(); }
  std::optional<int> exitcode() override { return p_->exitcode(); }
  void terminate() override { p_->terminate(); }

 private:
  std::unique_ptr<Process> p_;
};

class EarlyTimeouts final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<Queue> make_queue(std::int64_t maxsize) override {
    return std::make_unique<EarlyQueue>(inner_->make_queue(maxsize));
  }
  std::unique_ptr<SimpleQueue> make_simple_queue() override {
    return std::make_unique<EarlySimpleQueue>(inner_->make_simple_queue());
  }
  std::unique_ptr<Lock> make_lock() override { return std::make_unique<EarlyLock>(inner_->make_lock()); }
  std::unique_ptr<Lock> make_rlock() override { return std::make_unique<EarlyLock>(inner_->make_rlock()); }
  PipeEnds make_pipe(bool duplex) override {
    PipeEnds e = inner_->make_pipe(duplex);
    return {std::make_unique<EarlyConnection>(std::move(e.first)),
            std::make_unique<EarlyConnection>(std::move(e.second))};
  }
  std::unique_ptr<Process> make_process(std::function<void()> target, bool daemon) override {
    return std::make_unique<EarlyProcess>(inner_->make_process(std::move(target), daemon));
  }
};

// ---- pipe-reorder: recv swaps two adjacent messages when the second is already there.
class ReorderingConnection final : public ConnectionWrap {
 public:
  using ConnectionWrap::ConnectionWrap;
  std::uint64_t recv() override {
    if (held_) {
      const std::uint64_t v = *held_;
      held_.reset();
      return v;
    }
    const std::uint64_t first = c_->recv();
    if (c_->poll(0.0)) {
      try {
        const std::uint64_t second = c_->recv();
        held_ = first;
        return second;
      } catch (const mpref::EOFError&) {
      }
    }
    return first;
  }
  bool poll(std::optional<double> timeout) override { return held_ || c_->poll(timeout); }

 private:
  std::optional<std::uint64_t> held_;
};

// ---- pipe-early-eof: the 3rd recv of each process raises EOFError, whatever is pending.
class EarlyEofConnection final : public ConnectionWrap {
 public:
  using ConnectionWrap::ConnectionWrap;
  std::uint64_t recv() override {
    if (++count_ == 3) throw mpref::EOFError();
    return c_->recv();
  }

 private:
  std::uint32_t count_ = 0;
};

template <class Wrap>
class PipeMutant final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  PipeEnds make_pipe(bool duplex) override {
    PipeEnds e = inner_->make_pipe(duplex);
    return {std::make_unique<Wrap>(std::move(e.first)), std::make_unique<Wrap>(std::move(e.second))};
  }
};

// ---- value-lock-noop: get_lock() returns a lock that excludes nobody; value reads and writes
// take no lock either.
class NoopLock final : public Lock {
 public:
  bool acquire(bool, std::optional<double>) override { return true; }
  void release() override {}
};

class UnlockedValue final : public SharedValue {
 public:
  explicit UnlockedValue(std::unique_ptr<SharedValue> v) : v_(std::move(v)) {}
  std::uint64_t read() override { return v_->read_raw(); }
  void write(std::uint64_t x) override { v_->write_raw(x); }
  std::uint64_t read_raw() override { return v_->read_raw(); }
  void write_raw(std::uint64_t x) override { v_->write_raw(x); }
  Lock& get_lock() override { return lock_; }

 private:
  std::unique_ptr<SharedValue> v_;
  NoopLock lock_;
};

// ---- ticket-check-outside-lock: the purchase reads the count before taking the lock.
std::uint64_t check_outside_lock(Lock& lock, const TicketIo& io) {
  const std::uint64_t count = io.read();
  if (count == 0) return 0;
  io.pause();
  lock.acquire();
  try {
    io.write(count - 1);
  } catch (...) {
    lock.release();
    throw;
  }
  lock.release();
  return count;
}

// ---- queue-get-sleeps-through (order): a get(block=True, timeout>0) that finds the queue empty
// waits its whole timeout for a notification no put ever sends, then raises Empty without
// looking again. A get that finds an item returns it; the other timeout forms are the reference's.
class SleepsThroughQueue final : public QueueWrap {
 public:
  using QueueWrap::QueueWrap;
  std::uint64_t get(bool block, std::optional<double> timeout) override {
    if (!block || !timeout || !(*timeout > 0)) return q_->get(block, timeout);
    try {
      return q_->get(false);
    } catch (const mpref::Empty&) {
    }
    sleep_through(*timeout);
    throw mpref::Empty();
  }
};

// ---- lock-acquire-sleeps-through (order): an acquire(block=True, timeout>0) that finds the lock
// held waits its whole timeout for a release it never hears of, then returns False without
// trying again. An acquire that finds it free (or an RLock's owner) takes it; the other timeout
// forms are the reference's.
class SleepsThroughLock final : public LockWrap {
 public:
  using LockWrap::LockWrap;
  bool acquire(bool block, std::optional<double> timeout) override {
    if (!block || !timeout || !(*timeout > 0)) return l_->acquire(block, timeout);
    if (l_->acquire(false)) return true;
    sleep_through(*timeout);
    return false;
  }
};

// ---- pipe-poll-sleeps-through (order): a poll(timeout>0) that finds nothing readable waits its
// whole timeout for a message or EOF it never hears of, then returns False without looking again.
// poll(None) and poll(0) are the reference's.
class SleepsThroughConnection final : public ConnectionWrap {
 public:
  using ConnectionWrap::ConnectionWrap;
  bool poll(std::optional<double> timeout) override {
    if (!timeout || !(*timeout > 0)) return c_->poll(timeout);
    if (c_->poll(0.0)) return true;
    sleep_through(*timeout);
    return false;
  }
};

// ---- joinable-count-race (atomicity): the unfinished-task count is a plain shared integer
// updated by a load, the window, then a store: put adds 1 after queueing the item, task_done
// takes 1 (ValueError when it reads 0; wakes the joiners at 0). A put and a task_done (or two of
// either) overlapping in the window lose an update.
class RacyCountJoinable final : public JoinableQueue {
 public:
  explicit RacyCountJoinable(std::unique_ptr<Queue> q) : q_(std::move(q)) {}
  void put(std::uint64_t item, bool block, std::optional<double> timeout) override {
    q_->put(item, block, timeout);
    const std::uint32_t c = s_->count.load(std::memory_order_relaxed);
    race_window();
    s_->count.store(c + 1, std::memory_order_relaxed);
  }
  std::uint64_t get(bool block, std::optional<double> timeout) override { return q_->get(block, timeout); }
  std::int64_t qsize() override { return q_->qsize(); }
  bool empty() override { return q_->empty(); }
  bool full() override { return q_->full(); }
  void close() override { q_->close(); }
  void task_done() override {
    std::atomic<std::uint32_t>& count = s_->count;
    const std::uint32_t c = count.load(std::memory_order_relaxed);
    if (c == 0) throw mpref::ValueError("task_done() called too many times");
    race_window();
    count.store(c - 1, std::memory_order_release);
    if (c == 1) wake_all(count);
  }
  bool join(std::optional<double> timeout) override {
    std::atomic<std::uint32_t>& count = s_->count;
    const Wait w(true, timeout);
    for (;;) {
      const std::uint32_t c = count.load(std::memory_order_acquire);
      if (c == 0) return true;
      if (w.expired()) return false;
      w.sleep(count, c);
    }
  }

 private:
  struct State {
    std::atomic<std::uint32_t> count{0};
  };
  std::unique_ptr<Queue> q_;
  Shared<State> s_;
};

// ---- lock-test-then-set (atomicity): acquire reads the shared flag and, when it is 0, stores 1
// after the window (test, then set), so two acquires overlapping there both hold the Lock.
// release stores 0 and wakes every waiter (which then race each other in the window).
class TestThenSetLock final : public Lock {
 public:
  bool acquire(bool block, std::optional<double> timeout) override {
    std::atomic<std::uint32_t>& flag = s_->flag;
    const Wait w(block, timeout);
    for (;;) {
      if (flag.load(std::memory_order_acquire) == 0) {
        race_window();
        flag.store(1, std::memory_order_release);
        return true;
      }
      if (w.expired()) return false;
      w.sleep(flag, 1);
    }
  }
  void release() override {
    std::atomic<std::uint32_t>& flag = s_->flag;
    if (flag.load(std::memory_order_acquire) == 0)
      throw mpref::ValueError("semaphore or lock released too many times");
    flag.store(0, std::memory_order_release);
    wake_all(flag);
  }

 private:
  struct State {
    std::atomic<std::uint32_t> flag{0};
  };
  Shared<State> s_;
};

// ---- queue-double-get (atomicity): get reads the head and removes it only after the window: the
// item a get has taken stays published as "the head being taken" until its window ends, and a get
// that starts meanwhile returns that same item (a duplicate) instead of the next one.
class DoubleGetQueue final : public QueueWrap {
 public:
  using QueueWrap::QueueWrap;
  std::uint64_t get(bool block, std::optional<double> timeout) override {
    std::atomic<std::uint64_t>& head = s_->head;
    if (const std::uint64_t v = head.load(std::memory_order_acquire); v != 0) return v;  // tags are never 0
    const std::uint64_t item = q_->get(block, timeout);
    head.store(item, std::memory_order_release);
    race_window();
    std::uint64_t expected = item;
    head.compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
    return item;
  }

 private:
  struct State {
    std::atomic<std::uint64_t> head{0};
  };
  Shared<State> s_;
};

// ---- queue-bounded-put-race (atomicity): a bounded Queue over an unbounded one, its size kept in
// a shared count: put checks count < maxsize, then (after the window, holding nothing) counts
// itself in and puts, so two puts overlapping there both take the last free slot; get takes 1
// and wakes the putters. A put that finds it full waits (futex, by the timeout rules) for a get.
class BoundedPutRaceQueue final : public QueueWrap {
 public:
  BoundedPutRaceQueue(std::unique_ptr<Queue> q, std::int64_t maxsize) : QueueWrap(std::move(q)), max_(maxsize) {}
  void put(std::uint64_t item, bool block, std::optional<double> timeout) override {
    std::atomic<std::uint32_t>& count = s_->count;
    const Wait w(block, timeout);
    for (;;) {
      const std::uint32_t c = count.load(std::memory_order_acquire);
      if (static_cast<std::int64_t>(c) < max_) {
        race_window();
        count.fetch_add(1, std::memory_order_acq_rel);
        try {
          q_->put(item, false);
        } catch (...) {
          count.fetch_sub(1, std::memory_order_acq_rel);
          wake_all(count);
          throw;
        }
        return;
      }
      if (w.expired()) throw mpref::Full();
      w.sleep(count, c);
    }
  }
  std::uint64_t get(bool block, std::optional<double> timeout) override {
    const std::uint64_t item = q_->get(block, timeout);
    s_->count.fetch_sub(1, std::memory_order_acq_rel);
    wake_all(s_->count);
    return item;
  }
  bool full() override { return static_cast<std::int64_t>(s_->count.load(std::memory_order_acquire)) >= max_; }

 private:
  struct State {
    std::atomic<std::uint32_t> count{0};
  };
  std::int64_t max_;
  Shared<State> s_;
};

// ---- the mutant backends ----------------------------------------------------------------------

// The reference with each Queue wrapped in `Wrap` (a mutant that overrides Queue members).
template <class Wrap>
class QueueMutant final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<Queue> make_queue(std::int64_t maxsize) override {
    return std::make_unique<Wrap>(inner_->make_queue(maxsize));
  }
};

class SimpleQueueDrop final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<SimpleQueue> make_simple_queue() override {
    return std::make_unique<DroppingSimpleQueue>(inner_->make_simple_queue());
  }
};

// The reference with each Lock and RLock wrapped in `Wrap` (a mutant over LockWrap).
template <class Wrap>
class LockMutant final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<Lock> make_lock() override { return std::make_unique<Wrap>(inner_->make_lock()); }
  std::unique_ptr<Lock> make_rlock() override { return std::make_unique<Wrap>(inner_->make_rlock()); }
};

class JoinableOffByOne final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<JoinableQueue> make_joinable_queue(std::int64_t maxsize) override {
    return std::make_unique<OffByOneJoinable>(inner_->make_joinable_queue(maxsize));
  }
};

class DaemonIgnored final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<Process> make_process(std::function<void()> target, bool) override {
    return inner_->make_process(std::move(target), false);
  }
};

class ValueLockNoop final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<SharedValue> make_value(std::uint64_t initial) override {
    return std::make_unique<UnlockedValue>(inner_->make_value(initial));
  }
};

class TicketOutsideLock final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  TicketProgram ticket_program() const override { return &check_outside_lock; }
};

class JoinableCountRace final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<JoinableQueue> make_joinable_queue(std::int64_t maxsize) override {
    return std::make_unique<RacyCountJoinable>(inner_->make_queue(maxsize));
  }
};

class LockTestThenSet final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<Lock> make_lock() override { return std::make_unique<TestThenSetLock>(); }
};

class QueueBoundedPutRace final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<Queue> make_queue(std::int64_t maxsize) override {
    if (maxsize <= 0) return inner_->make_queue(maxsize);
    return std::make_unique<BoundedPutRaceQueue>(inner_->make_queue(0), maxsize);
  }
};

struct Entry {
  const char* name;
  const char* description;
  const char* caught_by;
  const char* kind;  // BackendInfo::kind: "order", "atomicity" or "control" (mutants.hpp)
  std::unique_ptr<Backend> (*make)(std::string, std::unique_ptr<Backend>);
};

template <class M>
std::unique_ptr<Backend> make_as(std::string name, std::unique_ptr<Backend> base) {
  return std::make_unique<M>(std::move(name), std::move(base));
}

const Entry kMutants[] = {
    {"queue-drop", "Queue.put loses the item under contention (or every 8th put)", "queue",
     "control", &make_as<QueueMutant<DroppingQueue>>},
    {"queue-reorder", "Queue.get swaps two adjacent items", "queue", "control", &make_as<QueueMutant<ReorderingQueue>>},
    {"queue-put-segv", "Queue.put dies of SIGSEGV on the 3rd put of a process (a crash)", "queue",
     "control", &make_as<QueueMutant<SegvQueue>>},
    {"simple-queue-drop", "SimpleQueue.put loses every 5th item of a process", "queue",
     "control", &make_as<SimpleQueueDrop>},
    {"lock-two-holders", "Lock/RLock.acquire lets a second holder in every other time it is contended",
     "lock", "control", &make_as<LockMutant<LeakyLock>>},
    {"joinable-off-by-one", "JoinableQueue.task_done counts twice on its first call in a process",
     "joinable", "control", &make_as<JoinableOffByOne>},
    {"timeout-early", "every positive timeout waits only half as long", "timeouts",
     "control", &make_as<EarlyTimeouts>},
    {"daemon-ignored", "Process ignores the daemon flag", "daemon", "control", &make_as<DaemonIgnored>},
    {"pipe-reorder", "Connection.recv swaps two adjacent messages", "pipe",
     "control", &make_as<PipeMutant<ReorderingConnection>>},
    {"pipe-early-eof", "Connection.recv raises EOFError on its 3rd call, before the writers closed",
     "pipe", "control", &make_as<PipeMutant<EarlyEofConnection>>},
    {"ticket-check-outside-lock", "the ticket purchase reads the count before taking the lock",
     "tickets", "atomicity", &make_as<TicketOutsideLock>},
    {"value-lock-noop", "a shared Value whose lock excludes nobody", "value", "atomicity", &make_as<ValueLockNoop>},
    {"queue-get-sleeps-through",
     "Queue.get(block=True, timeout>0) that finds the queue empty sleeps its whole timeout (no put wakes it), "
     "then raises Empty without looking again",
     "queue", "order", &make_as<QueueMutant<SleepsThroughQueue>>},
    {"lock-acquire-sleeps-through",
     "Lock/RLock.acquire(block=True, timeout>0) that finds the lock held sleeps its whole timeout (no release "
     "wakes it), then returns False without trying again",
     "lock", "order", &make_as<LockMutant<SleepsThroughLock>>},
    {"pipe-poll-sleeps-through",
     "Connection.poll(timeout>0) that finds nothing readable sleeps its whole timeout (no send or close wakes "
     "it), then returns False without looking again",
     "pipe", "order", &make_as<PipeMutant<SleepsThroughConnection>>},
    {"joinable-count-race",
     "JoinableQueue's unfinished-task count is a shared integer updated by load, window, store in put and "
     "task_done: overlapping updates are lost",
     "joinable", "atomicity", &make_as<JoinableCountRace>},
    {"lock-test-then-set",
     "Lock.acquire tests the shared flag, then sets it after a window: two overlapping acquires both hold it "
     "(RLock is the reference's)",
     "lock", "atomicity", &make_as<LockTestThenSet>},
    {"queue-double-get",
     "Queue.get removes the head only after a window: a get starting inside it returns the same item again",
     "queue", "atomicity", &make_as<QueueMutant<DoubleGetQueue>>},
    {"queue-bounded-put-race",
     "bounded Queue.put checks size < maxsize, then puts holding nothing: two overlapping puts into the last "
     "free slot both succeed (maxsize + 1 items)",
     "queue", "atomicity", &make_as<QueueBoundedPutRace>},
};

}  // namespace

std::vector<BackendInfo> mutant_infos() {
  std::vector<BackendInfo> out;
  for (const Entry& e : kMutants) out.push_back({e.name, e.description, true, e.caught_by, e.kind});
  return out;
}

std::unique_ptr<Backend> make_mutant(std::string_view name, std::unique_ptr<Backend> base) {
  for (const Entry& e : kMutants)
    if (name == e.name) return e.make("mutant:" + std::string(name), std::move(base));
  return nullptr;
}

}  // namespace mpconform::engine
