#pragma once
// mpconform/linearizability.hpp: exact linearizability of one object's history (a queue, a
// Lock, an RLock, one direction of a Pipe) against the sequential models of spec/models (Wing-Gong search with Lowe's memo, as Knossos and
// Porcupine do it).
//
// The question: is there a total order of the history's operations on one object that
//  - respects real time: if a returned before b was invoked (a.return_ns < b.invoke_ns), a
//    comes first (equal times overlap, as in the rule-based checkers), and
//  - is accepted by the model: replaying it through spec::step from the initial state, each
//    operation's recorded outcome is one the model allows in the state it meets?
// Operations by outcome:
//  - ok: took effect once, between invoke and return, with exactly the recorded result (a get
//    returned its tag, qsize its number, empty()/full() 1 or 0; put, task_done and join
//    returned). A call with no timeout that returned is placed where it does not block.
//  - fail: did not take effect. When its error is one the model can raise (put: queue.Full,
//    get: queue.Empty, task_done: ValueError, and ValueError/OSError/AssertionError
//    generally), the model must raise an exception of that type at some point within
//    [invoke, return] (a get_nowait that raised Empty needs an empty queue then, unless
//    CPython's racy get is admitted). Exception messages are not recorded, so only the type is
//    compared. A fail with another error (none, Timeout, Other...) constrains nothing.
//  - info: either never took effect, or took effect at one point after its invoke (and before
//    its return, when it has one) with any non-blocking result the model allows there (an
//    info get takes the front item).
// This is the ground truth the rule-based checkers of mpconform/checkers/ approximate, except
// where they deliberately add timing tolerances (Q-EMPTY-3: a timed get must notice an item
// that stayed for longer than a tier; this checker has no notion of duration, so a timed
// get that raised Empty is legal whenever the queue was empty at some instant of its call).
//
// Cost: exponential in the worst case (the number of concurrent operations), bounded by
// `max_states`. With `method: native` (a queue) it is linear on legal histories (millions of
// ops: it guesses the order from when items were got, and prunes with the order FIFO proves);
// an illegal one costs about 200 states per op before the violation with 8 processes
// (harness/INTERPRETING.md, "The exact search"). Through the models it suits histories of up
// to some hundred thousand ops.
#include <cstdint>
#include <string_view>
#include <string>
#include <vector>

#include "mpconform/history.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform {

/// Which model judges the history.
enum class LinearizableKind : std::uint8_t {
  queue,           // spec::QueueState: put/get/qsize/empty/full
  joinable_queue,  // the same plus task_done/join (spec::make_joinable_queue)
  simple_queue,    // put/get/empty of spec::QueueState, unbounded, never racy (SimpleQueue.put
                   // writes the pipe itself); a get with a timeout (the harness's drain, the
                   // C++ API) times out as Queue.get does
  // spec::LockState: acquire/release. acquire ok = returned True; fail Timeout = returned
  // False (the model returns the boolean; the history records False as a definite failure);
  // a fail acquire with another error constrains nothing. release ok = returned None, fail
  // ValueError = raised it (L-REL-1). Op::timeout_ns gives (block, timeout): a blocking
  // acquire with no timeout can only return True (a recorded False is illegal).
  lock,
  // spec::RLockState: the same ops; the owner is the process (ThreadId = Op::process: each
  // recording process is one calling thread). release fail AssertionError = raised it.
  rlock,
  // One direction of a simplex spec::PipeState (Op::object = the messages written to one end):
  // send (ok = returned, value = the message), recv (ok = returned `value`, fail EOFError),
  // poll (ok = returned True, fail Timeout = returned False; timeout_ns 0 = poll(), kNoTimeout
  // = poll(None)), close (a process closed its copy of the write end). The model has one write
  // end; the adapter keeps, beside it, the processes whose copy is open (`writers` plus every
  // process that sends or closes on the object): a send from a closed copy raises OSError, and
  // the model's write end closes with the last copy, so EOF needs every copy closed (C-EOF-2).
  // A writer's `exit` op closes its copy at some instant after its invoke, and an ok `gone` op
  // for a writer closes it by the gone op's return (as check_pipe reads them). The read end is
  // never closed and never stops reading (no recv_bytes, no maxlength): recv only raises EOF.
  pipe,
};

/// Which sequential semantics the search steps through; both give the same answers (the
/// differential tests check it on every run), they differ in speed.
enum class LinearizabilityMethod : std::uint8_t {
  // spec::step of the models in spec/models: the ground truth, with CPython's races.
  models,
  // A native queue state (the items as tags, the task count) with the models' semantics
  // without races: allocation-light, for histories of millions of ops. Requires
  // !cpython_races (with races, `models` is used whatever this says); queue kinds only (the
  // others always step through their models).
  native,
};

struct LinearizabilityOptions {
  std::uint32_t object = 0;  // the object's Op::object; ops on other objects are ignored
  LinearizableKind kind = LinearizableKind::queue;
  std::int64_t maxsize = 0;  // Queue(maxsize): <= 0 is unbounded (ignored for simple_queue)
  // Admit CPython 3.11's races (spec::QueueRaces, both flags): a non-blocking or timed get may
  // raise Empty with items queued, empty() may say True with items queued. Off: exact.
  bool cpython_races = false;
  // The consumers emptied the queue (the reader read the pipe direction to EOF) at the end: the
  // order must also leave no item queued, no message unread (info gets/recvs may have taken
  // one; info puts/sends may not have happened). Ignored for lock and rlock.
  bool drained = false;
  LinearizabilityMethod method = LinearizabilityMethod::models;
  // pipe: processes holding a copy of the write end from the start, besides those that send or
  // close on the object (as PipeCheckOptions::writers). Ignored for the other kinds.
  std::vector<std::uint32_t> writers;
  // Off: sequential consistency instead: an order that keeps each process's own order (its ops
  // by invoke time) but ignores real time across processes. Queue kinds, lock and rlock (a
  // pipe answers Unknown).
  bool real_time = true;
  // Search budget: memoised (state, linearized set) pairs. Past it the answer is Unknown.
  std::uint64_t max_states = 1'000'000;
};

/// Decides whether the ops of `history` on `options.object` are linearizable under the model
/// of `options.kind` (see above).
/// Requires: nothing of the values (duplicated values are handled: the model compares them).
/// Returns:
///  - ok when some order exists (message: how many states were searched);
///  - unknown when the history is incomplete (dropped > 0), when an op kind the model does not
///    have occurs (e.g. qsize on a SimpleQueue, task_done on a plain Queue; clause Q-API-1), or
///    when more than `max_states` states were needed (message says so);
///  - illegal when no order exists. The search shows only that; the verdict reports its best
///    attempt: `window` = the ops of the longest partial linearization's frontier (the ops not
///    yet placed that could have come next, among them the one whose return forced the search
///    back), or, when every op was placed but `drained` failed, the puts of the items left.
///    `clause` is a hint from the op at which that attempt got stuck: get/put Q-ORDER-2 (SQ-10
///    for a SimpleQueue), put raising Full Q-PUT-1 (Q-MAX-1 when unbounded), get raising Empty
///    Q-SIZE-9 (Q-GET-1 with no timeout), qsize Q-SIZE-2 (Q-MAX-3 above maxsize), empty()
///    Q-SIZE-7 (True) / Q-SIZE-6 (False), full() Q-SIZE-3 (Q-MAX-1
///    for True when unbounded), task_done JQ-2 (ok) / JQ-11 (ValueError), join JQ-9; drained:
///    Q-ORDER-2. Lock: acquire L-ACQ-9 / L-ACQ-2 (block=False or timeout 0) / L-ACQ-6 (timed),
///    a False acquire L-ACQ-1, release L-REL-1 (ok) / L-REL-3 (fail); RLock: acquire RL-ACQ-2,
///    False acquire RL-ACQ-1, release RL-REL-1 (ok) / RL-ACQ-3 (fail) (the rule checker's
///    names); pipe: send/recv C-SEND-12, EOF and close C-EOF-2, poll C-POLL-1 (True) / C-EOF-1
///    (False); drained: C-SEND-12. It names where the best order broke, not a proof of which
///    rule did.
/// Pure; the search is O(2^k * n) states for k concurrent ops in the worst case.
Verdict check_linearizable(const History& history, const LinearizabilityOptions& options = {});

std::string_view to_string(LinearizableKind kind) noexcept;

/// Where a history that a checker rejected stands, strongest claim first.
enum class HistoryClass : std::uint8_t {
  linearizable,     // some real-time order is accepted by the exact models: the checker's
                    // objection is one linearizability cannot see (a timing tolerance)
  cpython_weak,     // not linearizable, but accepted once CPython's racy outcomes are admitted
                    // (spec::QueueRaces): CPython itself may do this
  sequential_only,  // not even that, but sequentially consistent: each process's own order
                    // is kept and some interleaving is accepted; only real time is broken
  illegal,          // no interleaving of the processes' own orders is accepted at all
  unknown,          // a search ran out of budget, or the object's kind is not searched
};
std::string_view to_string(HistoryClass c) noexcept;  // "linearizable", "cpython-weak", ...

struct Classification {
  HistoryClass cls = HistoryClass::unknown;
  std::string message;  // per object: which searches said what
};

/// Classifies `history` over its objects (one LinearizabilityOptions each; the weakest object
/// decides, illegal before sequential_only before cpython_weak before linearizable). For each
/// object: exact search (races off); if illegal, with CPython's races (queue kinds); if still
/// illegal, sequential consistency with the races (queue kinds) or exact. `cpython_races` and
/// `real_time` of the options are ignored (set by the classification); the budget is theirs.
Classification classify(const History& history, const std::vector<LinearizabilityOptions>& objects);

}  // namespace mpconform
