#pragma once
// mpconform/reference_backend.hpp: the reference backend, every interface of backend.hpp
// implemented over mpref. The harness's built-in "reference" backend is this class, and so is
// the example plugin (harness/examples/plugin_reference.cpp).
//
// To test your own C++ implementation: copy this file, replace each mpref call with yours,
// rename the classes, and export your backend from a shared library with
// MPCONFORM_EXPORT_BACKEND (harness/INTERPRETING.md, "Backends").
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "mpconform/backend.hpp"
#include "mpref/connection.hpp"
#include "mpref/process.hpp"
#include "mpref/queues.hpp"
#include "mpref/sharedctypes.hpp"
#include "mpref/synchronize.hpp"

namespace mpconform::reference {


// Queues get a small reserve: a scenario holds at most a few hundred 8-byte items, and every
// object's mapping is created per scenario.
inline mpref::QueueOptions small_queue() {
  mpref::QueueOptions o;
  o.reserve_bytes = std::size_t{1} << 20;
  return o;
}

/// The Queue operations over an mpref queue type `Q`, for the Queue interface `Interface`
/// (Queue, or JoinableQueue which adds task_done and join).
template <class Interface, class Q>
class RefQueueOps : public Interface {
 public:
  explicit RefQueueOps(std::int64_t maxsize) : q_(maxsize, small_queue()) {}
  void put(std::uint64_t item, bool block, std::optional<double> timeout) override {
    q_.put(item, block, timeout);
  }
  std::uint64_t get(bool block, std::optional<double> timeout) override {
    return q_.get(block, timeout);
  }
  std::int64_t qsize() override { return static_cast<std::int64_t>(q_.qsize()); }
  bool empty() override { return q_.empty(); }
  bool full() override { return q_.full(); }
  void close() override { q_.close(); }

 protected:
  Q q_;
};

class RefQueue final : public RefQueueOps<Queue, mpref::Queue<std::uint64_t>> {
 public:
  using RefQueueOps::RefQueueOps;
};

class RefJoinableQueue final
    : public RefQueueOps<JoinableQueue, mpref::JoinableQueue<std::uint64_t>> {
 public:
  using RefQueueOps::RefQueueOps;
  void task_done() override { q_.task_done(); }
  bool join(std::optional<double> timeout) override {
    if (!timeout) {
      q_.join();
      return true;
    }
    return q_.join(timeout);
  }
};

class RefSimpleQueue final : public SimpleQueue {
 public:
  RefSimpleQueue() : q_(small_queue()) {}
  void put(std::uint64_t item) override { q_.put(item); }
  std::uint64_t get(std::optional<double> timeout) override {
    return timeout ? q_.get(*timeout) : q_.get();
  }
  bool empty() override { return q_.empty(); }
  void close() override { q_.close(); }

 private:
  mpref::SimpleQueue<std::uint64_t> q_;
};

template <class L>
class RefLock final : public Lock {
 public:
  RefLock() = default;
  explicit RefLock(L lock) : l_(std::move(lock)) {}
  bool acquire(bool block, std::optional<double> timeout) override {
    return l_.acquire(block, timeout);
  }
  void release() override { l_.release(); }

 private:
  L l_;
};

class RefConnection final : public Connection {
 public:
  explicit RefConnection(mpref::Connection c) : c_(std::move(c)) {}
  void send(std::uint64_t message) override { c_.send(message); }
  std::uint64_t recv() override { return c_.recv<std::uint64_t>(); }
  bool poll(std::optional<double> timeout) override { return c_.poll(timeout); }
  void close() override { c_.close(); }

 private:
  mpref::Connection c_;
};

class RefValue final : public SharedValue {
 public:
  explicit RefValue(std::uint64_t initial) : v_(initial), lock_(v_.get_lock()) {}
  std::uint64_t read() override { return v_.value(); }
  void write(std::uint64_t value) override { v_.set_value(value); }
  std::uint64_t read_raw() override { return v_.get_obj().value(); }
  void write_raw(std::uint64_t value) override { v_.get_obj().set_value(value); }
  Lock& get_lock() override { return lock_; }

 private:
  mpref::Value<std::uint64_t> v_;
  RefLock<mpref::RLock> lock_;  // a handle to v_'s own lock
};

class RefProcess final : public Process {
 public:
  RefProcess(std::function<void()> target, bool daemon)
      : p_(std::move(target), mpref::ProcessOptions{{}, daemon}) {}
  void start() override { p_.start(); }
  std::optional<pid_t> pid() override { return p_.pid(); }
  void join(std::optional<double> timeout) override { p_.join(timeout); }
  bool is_alive() override { return p_.is_alive(); }
  std::optional<int> exitcode() override { return p_.exitcode(); }
  void terminate() override { p_.terminate(); }

 private:
  mpref::Process p_;
};

class ReferenceBackend final : public Backend {
 public:
  std::string name() const override { return "reference"; }
  std::unique_ptr<Queue> make_queue(std::int64_t maxsize) override {
    return std::make_unique<RefQueue>(maxsize);
  }
  std::unique_ptr<JoinableQueue> make_joinable_queue(std::int64_t maxsize) override {
    return std::make_unique<RefJoinableQueue>(maxsize);
  }
  std::unique_ptr<SimpleQueue> make_simple_queue() override {
    return std::make_unique<RefSimpleQueue>();
  }
  std::unique_ptr<Lock> make_lock() override { return std::make_unique<RefLock<mpref::Lock>>(); }
  std::unique_ptr<Lock> make_rlock() override {
    return std::make_unique<RefLock<mpref::RLock>>();
  }
  PipeEnds make_pipe(bool duplex) override {
    auto [a, b] = mpref::Pipe(duplex);
    return {std::make_unique<RefConnection>(std::move(a)),
            std::make_unique<RefConnection>(std::move(b))};
  }
  std::unique_ptr<SharedValue> make_value(std::uint64_t initial) override {
    return std::make_unique<RefValue>(initial);
  }
  std::unique_ptr<Process> make_process(std::function<void()> target, bool daemon) override {
    return std::make_unique<RefProcess>(std::move(target), daemon);
  }
  void exit_handling() override { mpref::exit_function(); }
};

}  // namespace mpconform::reference
