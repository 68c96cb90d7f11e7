// The built-in mutants: the reference with one behaviour broken on purpose. Each must be caught
// by the property named in its entry (`mpconform mutants` checks that every one is).
//
// Per-process state of a mutant (counters, held items) lives in the object itself, which every
// forked process has its own copy of; state shared between processes lives in a small anonymous
// shared mapping made in the parent.
#include "mutants.hpp"

#include <signal.h>
#include <sys/mman.h>

#include <atomic>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "mpconform/backend.hpp"
#include "mpconform/forwarding_backend.hpp"
#include "mpref/errors.hpp"

namespace mpconform::engine {
namespace {

// A counter in shared memory (one page), visible to every process forked after it was made.
class SharedCounter {
 public:
  SharedCounter() {
    void* p = ::mmap(nullptr, sizeof(std::atomic<std::int64_t>), PROT_READ | PROT_WRITE,
                     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap failed");
    c_ = new (p) std::atomic<std::int64_t>(0);
  }
  ~SharedCounter() { ::munmap(c_, sizeof(std::atomic<std::int64_t>)); }
  SharedCounter(const SharedCounter&) = delete;
  SharedCounter& operator=(const SharedCounter&) = delete;
  std::atomic<std::int64_t>& operator*() { return *c_; }

 private:
  std::atomic<std::int64_t>* c_;
};


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

// ---- queue-drop: a put under contention (another put in flight) returns but loses the item;
// without contention every 8th put of a process is lost.
class DroppingQueue final : public QueueWrap {
 public:
  using QueueWrap::QueueWrap;
  void put(std::uint64_t item, bool block, std::optional<double> timeout) override {
    const std::int64_t others = (**in_flight_).fetch_add(1);
    const bool drop = others > 0 || ++count_ % 8 == 0;
    if (!drop) {
      try {
        q_->put(item, block, timeout);
      } catch (...) {
        (**in_flight_).fetch_sub(1);
        throw;
      }
    }
    (**in_flight_).fetch_sub(1);
  }

 private:
  std::shared_ptr<SharedCounter> in_flight_ = std::make_shared<SharedCounter>();
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
class LeakyLock final : public Lock {
 public:
  explicit LeakyLock(std::unique_ptr<Lock> l) : l_(std::move(l)) {}
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
  std::unique_ptr<Lock> l_;
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

class EarlyLock final : public Lock {
 public:
  explicit EarlyLock(std::unique_ptr<Lock> l) : l_(std::move(l)) {}
  bool acquire(bool block, std::optional<double> timeout) override {
    return l_->acquire(block, halve(timeout));
  }
  void release() override { l_->release(); }

 private:
  std::unique_ptr<Lock> l_;
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

// ---- the mutant backends ----------------------------------------------------------------------

class QueueDrop final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<Queue> make_queue(std::int64_t maxsize) override {
    return std::make_unique<DroppingQueue>(inner_->make_queue(maxsize));
  }
};

class SimpleQueueDrop final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<SimpleQueue> make_simple_queue() override {
    return std::make_unique<DroppingSimpleQueue>(inner_->make_simple_queue());
  }
};

class QueueReorder final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<Queue> make_queue(std::int64_t maxsize) override {
    return std::make_unique<ReorderingQueue>(inner_->make_queue(maxsize));
  }
};

class QueuePutSegv final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<Queue> make_queue(std::int64_t maxsize) override {
    return std::make_unique<SegvQueue>(inner_->make_queue(maxsize));
  }
};

class LockTwoHolders final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
  std::unique_ptr<Lock> make_lock() override { return std::make_unique<LeakyLock>(inner_->make_lock()); }
  std::unique_ptr<Lock> make_rlock() override { return std::make_unique<LeakyLock>(inner_->make_rlock()); }
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

struct Entry {
  const char* name;
  const char* description;
  const char* caught_by;
  std::unique_ptr<Backend> (*make)(std::string, std::unique_ptr<Backend>);
};

template <class M>
std::unique_ptr<Backend> make_as(std::string name, std::unique_ptr<Backend> base) {
  return std::make_unique<M>(std::move(name), std::move(base));
}

const Entry kMutants[] = {
    {"queue-drop", "Queue.put loses the item under contention (or every 8th put)", "queue",
     &make_as<QueueDrop>},
    {"queue-reorder", "Queue.get swaps two adjacent items", "queue", &make_as<QueueReorder>},
    {"queue-put-segv", "Queue.put dies of SIGSEGV on the 3rd put of a process (a crash)", "queue",
     &make_as<QueuePutSegv>},
    {"simple-queue-drop", "SimpleQueue.put loses every 5th item of a process", "queue",
     &make_as<SimpleQueueDrop>},
    {"lock-two-holders", "Lock/RLock.acquire lets a second holder in every other time it is contended",
     "lock", &make_as<LockTwoHolders>},
    {"joinable-off-by-one", "JoinableQueue.task_done counts twice on its first call in a process",
     "joinable", &make_as<JoinableOffByOne>},
    {"timeout-early", "every positive timeout waits only half as long", "timeouts",
     &make_as<EarlyTimeouts>},
    {"daemon-ignored", "Process ignores the daemon flag", "daemon", &make_as<DaemonIgnored>},
    {"pipe-reorder", "Connection.recv swaps two adjacent messages", "pipe",
     &make_as<PipeMutant<ReorderingConnection>>},
    {"pipe-early-eof", "Connection.recv raises EOFError on its 3rd call, before the writers closed",
     "pipe", &make_as<PipeMutant<EarlyEofConnection>>},
    {"ticket-check-outside-lock", "the ticket purchase reads the count before taking the lock",
     "tickets", &make_as<TicketOutsideLock>},
    {"value-lock-noop", "a shared Value whose lock excludes nobody", "value", &make_as<ValueLockNoop>},
};

}  // namespace

std::vector<BackendInfo> mutant_infos() {
  std::vector<BackendInfo> out;
  for (const Entry& e : kMutants) out.push_back({e.name, e.description, true, e.caught_by, ""});
  return out;
}

std::unique_ptr<Backend> make_mutant(std::string_view name, std::unique_ptr<Backend> base) {
  for (const Entry& e : kMutants)
    if (name == e.name) return e.make("mutant:" + std::string(name), std::move(base));
  return nullptr;
}

}  // namespace mpconform::engine
