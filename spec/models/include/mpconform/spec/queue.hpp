#pragma once
// Sequential model of multiprocessing.Queue (CPython 3.11, Lib/multiprocessing/queues.py).
//
// The state is the queue as one linearizable object: the items in FIFO order, the capacity,
// and the closed flag. What the model leaves out, on purpose:
//  - pickling (items are plain values; unpicklable items are not modelled, Q-SER-1),
//  - per-process state: CPython's closed flag and feeder thread are per process (Q-CLOSE-6,
//    Q-FORK-2); the model is the view of one process, so a harness must keep one model state
//    per process for close(), or only close at the end,
//  - pipe capacity (join_thread and exit blocking on unread data, Q-JT-3, Q-EXIT-5),
//  - argument type errors (Python-only).
//
// CPython races (see QueueRaces) are opt-in: with them off the model is exact, which is what a
// stronger implementation (mpref) is held to; with them on it also admits what CPython 3.11
// does because put() hands items to a feeder thread that writes them to the pipe later.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "mpconform/spec/limits.hpp"
#include "mpconform/spec/outcome.hpp"
#include "mpconform/spec/surface.hpp"
#include "mpconform/spec/value.hpp"

namespace mpconform::spec {

// Which CPython 3.11 races the model admits. All off = exact.
struct QueueRaces {
  // empty() asks "is there readable data in the pipe", which lags put() until the feeder
  // thread has written (Q-SIZE-1): with items queued, empty() may return True as well as
  // False. After close() (with a feeder started, python surface), empty() may also answer
  // True or False instead of raising OSError('handle is closed') until the feeder has closed
  // the pipe (Q-CLOSE-8).
  bool cpython_racy_empty = false;
  // A get that does not wait forever (block=False, or a timeout) polls the pipe once the
  // deadline is reached, so right after put() it may raise queue.Empty although the queue
  // holds items (observed 100/100 for put(); get_nowait()). The item stays queued.
  bool cpython_racy_get = false;

  friend bool operator==(const QueueRaces&, const QueueRaces&) = default;
};

// Which class the state models; it changes the closed message and enables task_done/join.
enum class QueueKind { queue, joinable_queue };

struct QueueState {
  // Queue(maxsize): maxsize <= 0 means unbounded (capacity SEM_VALUE_MAX, Q-MAX-1).
  // `surface` only matters for empty() after close() (see step()).
  // Requires: maxsize <= kSemValueMax (CPython raises OverflowError, see queue_ctor_error);
  // throws std::invalid_argument otherwise.
  static QueueState make(std::int64_t maxsize = 0, QueueRaces races = {},
                         Surface surface = Surface::cpp);

  QueueKind kind = QueueKind::queue;
  std::int64_t capacity = kSemValueMax;  // maxsize after the <= 0 rule
  std::deque<Value> items;               // front = next get
  bool closed = false;
  // CPython starts the feeder thread on the first successful put; close() then makes the
  // feeder close both pipe ends, after which empty() raises OSError (Q-CLOSE-8 vs Q-CLOSE-2).
  bool feeder_started = false;
  QueueRaces races;
  Surface surface = Surface::cpp;
  // JoinableQueue only: successful puts minus successful task_done() calls (JQ-9).
  std::int64_t unfinished = 0;

  std::int64_t qsize() const { return static_cast<std::int64_t>(items.size()); }
  bool full() const { return qsize() >= capacity; }

  // "Queue(maxsize=2, items=[1, 2], closed)"; racy flags and the feeder are shown when set.
  std::string to_string() const;
  friend bool operator==(const QueueState&, const QueueState&) = default;
};

// The OverflowError CPython raises for Queue(maxsize) with maxsize > SEM_VALUE_MAX, else none.
std::optional<PyError> queue_ctor_error(PyInt maxsize);

// One call on a Queue or JoinableQueue. A timeout of nullopt is Python's None.
struct QueueOp {
  enum class Kind {
    put,  // put(item, block, timeout); put_nowait(item) is put(item, False)
    get,  // get(block, timeout); get_nowait() is get(False)
    qsize,
    empty,
    full,
    close,
    join_thread,
    cancel_join_thread,
    task_done,  // JoinableQueue only
    join,       // JoinableQueue only
  };
  Kind kind = Kind::qsize;
  Value item;  // put
  bool block = true;
  std::optional<double> timeout;
  bool nowait_spelling = false;  // printed as put_nowait/get_nowait (same semantics)

  static QueueOp put(Value item, bool block = true, std::optional<double> timeout = {});
  static QueueOp put_nowait(Value item);
  static QueueOp get(bool block = true, std::optional<double> timeout = {});
  static QueueOp get_nowait();
  static QueueOp qsize() { return simple(Kind::qsize); }
  static QueueOp empty() { return simple(Kind::empty); }
  static QueueOp full() { return simple(Kind::full); }
  static QueueOp close() { return simple(Kind::close); }
  static QueueOp join_thread() { return simple(Kind::join_thread); }
  static QueueOp cancel_join_thread() { return simple(Kind::cancel_join_thread); }
  static QueueOp task_done() { return simple(Kind::task_done); }
  static QueueOp join() { return simple(Kind::join); }

  // Python spelling: "q.put(1)", "q.put(1, block=False)", "q.get(timeout=0.5)", "q.qsize()".
  std::string to_string() const;
  friend bool operator==(const QueueOp&, const QueueOp&) = default;

 private:
  static QueueOp simple(Kind k) {
    QueueOp op;
    op.kind = k;
    return op;
  }
};

// step(state, op), for Queue (kind == queue) and JoinableQueue (kind == joinable_queue).
// Every call on a closed queue except qsize/full/empty/close/join_thread/cancel_join_thread
// (and, for JoinableQueue, task_done/join, which do not check the flag: JQ-13) raises
//   ValueError('Queue <multiprocessing.queues.Queue object at 0x…> is closed')
// with JoinableQueue in the class path for a JoinableQueue (Q-CLOSE-4, Q-CLOSE-5).
//  - put(x, block, timeout): not full -> None, x appended (JoinableQueue: unfinished + 1).
//    Full: block=False -> queue.Full (the timeout is ignored); block=True with any timeout,
//    including 0 and negative ones -> queue.Full (Q-FULL-1..6); block=True, timeout=None ->
//    blocks. A put that raises changes nothing.
//  - get(block, timeout): non-empty -> the front item, removed; with races.cpython_racy_get
//    and not (block=True, timeout=None), queue.Empty is also allowed (item kept). Empty queue:
//    block=True, timeout=None -> blocks; otherwise -> queue.Empty (negative/zero timeouts do
//    not wait, Q-EMPTY-1..6).
//  - qsize() -> int, exact (Q-SIZE-2). full() -> bool, exact (Q-SIZE-3); never True when
//    unbounded.
//  - empty() -> qsize() == 0; with races.cpython_racy_empty, True is also allowed while items
//    are queued (Q-SIZE-1). After close():
//      python surface, feeder started -> OSError('handle is closed') (Q-CLOSE-8); with
//        races.cpython_racy_empty also True or False, whatever the items (the feeder closes
//        the pipe under a running poll, which can see the dead descriptor as readable);
//      python surface, no feeder -> the pipes stay open and empty() answers (Q-CLOSE-2);
//      cpp surface -> empty() keeps answering (both clauses are python-only; mpref's C++
//        Queue::empty() works after close()).
//  - close() -> None, repeatable. join_thread(): before close ->
//    AssertionError('Queue <multiprocessing.queues.Queue object at 0x…> not closed'), after
//    -> None (pipe capacity is not modelled). cancel_join_thread() -> None, any time.
//  - task_done()/join() on a plain Queue: illegal (no such method). JoinableQueue:
//    task_done() at unfinished == 0 -> ValueError('task_done() called too many times'), else
//    None and unfinished - 1 (not tied to get(), JQ-11); join() -> None at 0, else blocks.
Outcome<QueueState> step(const QueueState& state, const QueueOp& op);

struct QueueModel {
  using State = QueueState;
  using Op = QueueOp;
  static Outcome<State> step(const State& s, const Op& op) { return spec::step(s, op); }
};

}  // namespace mpconform::spec
