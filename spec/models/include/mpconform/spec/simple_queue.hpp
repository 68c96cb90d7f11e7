#pragma once
// Sequential model of multiprocessing.SimpleQueue (CPython 3.11, queues.py:337-379): a pipe
// with a lock on each end, no feeder thread, no capacity, no timeouts.
//
// put() pickles and writes synchronously, so there are no races here: empty() is exact right
// after put() (SQ-8). Not modelled: pipe capacity (put blocks while the pipe is full), pickling
// errors, and the per-process nature of close() (it closes this process's pipe ends only).
#include <deque>
#include <string>

#include "mpconform/spec/outcome.hpp"
#include "mpconform/spec/value.hpp"

namespace mpconform::spec {

struct SimpleQueueState {
  static SimpleQueueState make() { return {}; }

  std::deque<Value> items;  // front = next get
  bool closed = false;

  // "SimpleQueue(items=[1, 2])", "SimpleQueue(items=[], closed)".
  std::string to_string() const;
  friend bool operator==(const SimpleQueueState&, const SimpleQueueState&) = default;
};

struct SimpleQueueOp {
  enum class Kind { put, get, empty, close };
  Kind kind = Kind::empty;
  Value item;  // put

  static SimpleQueueOp put(Value item);
  static SimpleQueueOp get() { return of(Kind::get); }
  static SimpleQueueOp empty() { return of(Kind::empty); }
  static SimpleQueueOp close() { return of(Kind::close); }

  // "sq.put(1)", "sq.get()", "sq.empty()", "sq.close()".
  std::string to_string() const;
  friend bool operator==(const SimpleQueueOp&, const SimpleQueueOp&) = default;

 private:
  static SimpleQueueOp of(Kind k) {
    SimpleQueueOp op;
    op.kind = k;
    return op;
  }
};

// step(state, op):
//  - put(x) -> None, x appended.
//  - get() -> the front item, removed; on an empty queue -> blocks (there is no timeout and
//    this process's own write end keeps the pipe open, so no EOF: SQ-3).
//  - empty() -> True iff no items (exact, SQ-8).
//  - close() -> None, repeatable (SQ-4).
//  - after close(), put/get/empty -> OSError('handle is closed') (not the ValueError of
//    Queue, SQ-11).
Outcome<SimpleQueueState> step(const SimpleQueueState& state, const SimpleQueueOp& op);

struct SimpleQueueModel {
  using State = SimpleQueueState;
  using Op = SimpleQueueOp;
  static Outcome<State> step(const State& s, const Op& op) { return spec::step(s, op); }
};

}  // namespace mpconform::spec
