#pragma once
// mpconform/linearizability.hpp: exact linearizability of one queue's history against the
// sequential models of spec/models (Wing-Gong search with Lowe's memo, as Knossos and
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
// `max_states`; meant for histories of tens of operations (tests, differential testing).
#include <cstdint>
#include <string_view>

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
};

/// Which sequential semantics the search steps through; both give the same answers (the
/// differential tests check it on every run), they differ in speed.
enum class LinearizabilityMethod : std::uint8_t {
  // spec::step of the models in spec/models: the ground truth, with CPython's races.
  models,
  // A native queue state (the items as tags, the task count) with the models' semantics
  // without races: allocation-light, for histories of millions of ops. Requires
  // !cpython_races (with races, `models` is used whatever this says).
  native,
};

struct LinearizabilityOptions {
  std::uint32_t object = 0;  // the queue's Op::object; ops on other objects are ignored
  LinearizableKind kind = LinearizableKind::queue;
  std::int64_t maxsize = 0;  // Queue(maxsize): <= 0 is unbounded (ignored for simple_queue)
  // Admit CPython 3.11's races (spec::QueueRaces, both flags): a non-blocking or timed get may
  // raise Empty with items queued, empty() may say True with items queued. Off: exact.
  bool cpython_races = false;
  // The consumers emptied the queue at the end: the order must also leave no item queued
  // (info gets may have taken one; info puts may not have happened).
  bool drained = false;
  LinearizabilityMethod method = LinearizabilityMethod::models;
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
///    Q-SIZE-7 (True) / Q-SIZE-6 (False) (SQ-8 for a SimpleQueue), full() Q-SIZE-3 (Q-MAX-1
///    for True when unbounded), task_done JQ-2 (ok) / JQ-11 (ValueError), join JQ-9; drained:
///    Q-ORDER-2. It names where the best order broke, not a proof of which rule did.
/// Pure; the search is O(2^k * n) states for k concurrent ops in the worst case.
Verdict check_linearizable(const History& history, const LinearizabilityOptions& options = {});

std::string_view to_string(LinearizableKind kind) noexcept;

}  // namespace mpconform
