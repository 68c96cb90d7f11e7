#pragma once
// mpconform/forwarding_backend.hpp: a Backend that forwards every call to another one. Derive
// from it to change one factory of an existing backend (the mutants do: each overrides the one
// primitive it breaks) or to rename a backend (plugins are named after their file).
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include "mpconform/backend.hpp"

namespace mpconform {

/// Forwards everything to `inner`; `name()` is `name`.
class ForwardingBackend : public Backend {
 public:
  ForwardingBackend(std::string name, std::unique_ptr<Backend> inner)
      : name_(std::move(name)), inner_(std::move(inner)) {}
  std::string name() const override { return name_; }
  std::unique_ptr<Queue> make_queue(std::int64_t maxsize) override { return inner_->make_queue(maxsize); }
  std::unique_ptr<JoinableQueue> make_joinable_queue(std::int64_t maxsize) override {
    return inner_->make_joinable_queue(maxsize);
  }
  std::unique_ptr<SimpleQueue> make_simple_queue() override { return inner_->make_simple_queue(); }
  std::unique_ptr<Lock> make_lock() override { return inner_->make_lock(); }
  std::unique_ptr<Lock> make_rlock() override { return inner_->make_rlock(); }
  PipeEnds make_pipe(bool duplex) override { return inner_->make_pipe(duplex); }
  std::unique_ptr<SharedValue> make_value(std::uint64_t initial) override {
    return inner_->make_value(initial);
  }
  std::unique_ptr<Process> make_process(std::function<void()> target, bool daemon) override {
    return inner_->make_process(std::move(target), daemon);
  }
  void exit_handling() override { inner_->exit_handling(); }
  void after_fork_in_child() override { inner_->after_fork_in_child(); }
  TicketProgram ticket_program() const override { return inner_->ticket_program(); }

 protected:
  std::string name_;
  std::unique_ptr<Backend> inner_;
};

}  // namespace mpconform
