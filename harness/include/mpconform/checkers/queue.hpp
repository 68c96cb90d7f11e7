#pragma once
// mpconform/checkers/queue.hpp: Queue, SimpleQueue and JoinableQueue items.
//
// Reads the put/get/qsize/empty/full ops on one queue (Op::object). Put values must be unique
// among ok and info puts (make_tag); a failed put may be retried with the same value.
//
// Rules, in the order they are checked (the first violation is returned):
//  1. nothing invented: every ok get returns a value some ok or info put put, and does not
//     return before that put was invoked (Q-ORDER-2; a value whose only put raised queue.Full:
//     Q-FULL-7);
//  2. nothing duplicated: no value is got by two ok gets (Q-ORDER-2);
//  3. FIFO per producer (Q-ORDER-2): for two items a, b put by the same process, a first:
//     - if both were got, get(b) must not return before get(a) was invoked (a single consumer
//       gets them in order; across consumers only real-time order is checked: overlapping
//       gets prove nothing);
//     - if a was put ok and never got, get(b) must not return before some info get (a
//       consumer killed mid-call) could have taken a.
//     Items of different producers are ordered the same way (put(a) returned before put(b)
//     was invoked) only for a queue judged linearizable (`exact`, no racy flags, as rule 9):
//     CPython's feeder threads may let them overtake.
//  4. nothing lost (only with `drained`: the consumers emptied the queue at the end): every ok
//     put is got, except as many as there are info gets (each may have taken one) (Q-ORDER-2);
//  5. Empty only when allowed: a get that raised queue.Empty is illegal when some item was
//     definitely in the queue during the whole call: its put returned before the get was
//     invoked, and it was got only by a get invoked after this one returned (or never got,
//     with no info get invoked before this one returned). A get with no timeout never raises
//     Empty (Q-GET-1). Other gets: Q-SIZE-9 (the reference makes an item readable as soon as
//     put returns); skipped with `cpython_racy_get`, where CPython's model allows Empty.
//  6. a timed get notices an item that arrives while it waits: a get with a positive timeout
//     that raised queue.Empty is illegal when some item was definitely in the queue (as in
//     rule 5: its put returned, and it was got only by a get invoked later, or never got) for
//     longer than the `notice` tier during [invoke, min(return, invoke + timeout)] (a get may
//     time out late, never early, so it was waiting for an item then). Q-EMPTY-3: Empty is the
//     outcome of a queue that stayed empty through the wait. Skipped with `cpython_racy_get`.
//     The tier is the rule's one assumption: a waiting get that a put wakes takes the item
//     within it (more than `instant` of scheduling delay inside one call would be needed to
//     break it);
//  6b. a timed put notices a slot that frees while it waits (bounded queues): a put with a
//     positive timeout that raised queue.Full is illegal when at most maxsize - 1 items can have
//     been in the queue (puts invoked by then, minus items whose get returned before) for
//     longer than the `notice` tier during [invoke, min(return, invoke + timeout)]. Q-FULL-3:
//     Full is the outcome of a queue that stayed full through the wait. Not skipped with the
//     racy flags (CPython's put waits on a semaphore, which is exact);
//  7. never more than maxsize items (bounded queues), Q-MAX-3: a put that succeeded while
//     maxsize items were definitely in the queue during its whole call (put returned before it
//     was invoked, not taken before it returned) is illegal; so is an instant at which more than
//     maxsize items were definitely in the queue (each put returned before it, none taken
//     before it: two puts that both took the last free slot);
//  8. bounds. For an op q, L(q) = items definitely in the queue during all of q (as in rule 5)
//     and U(q) = items possibly in the queue at some instant of q (put invoked no later than q
//     returned, not got by a get that returned before q was invoked):
//     qsize() = n needs 0 <= n, n <= maxsize when bounded (Q-MAX-3) and L <= n <= U (Q-SIZE-2);
//     full() True needs a bounded queue (Q-MAX-1) and U >= maxsize, False needs L < maxsize
//     (Q-SIZE-3); empty() True needs L == 0 (Q-SIZE-7, skipped with `cpython_racy_empty`),
//     False needs U >= 1 (Q-SIZE-6); a put that raised Full needs a bounded queue (Q-MAX-1)
//     and U >= maxsize (Q-PUT-1).
//     This rule costs O(ops * items); past `max_work` it answers Unknown instead.
//  9. linearizable (with `exact`, and only without the `cpython_racy_*` flags): some order of all the ops, each
//     taking effect within its call, is accepted by the queue model (the exact search of
//     mpconform/linearizability.hpp over a native state). This makes the checker exact for
//     a queue that claims to be linearizable (the reference): rules 1-8 approximate it and
//     name better clauses and windows, rule 9 catches what they cannot see (items of
//     different producers overtaking each other in real time; sizes, Empty, Full, task counts
//     that only a whole order contradicts). The clause is the search's hint (see
//     check_linearizable), the window the ops it could not place. Past `max_states` the rule
//     is not decided and the verdict stays ok with a note. With CPython's races the models
//     are stronger than CPython (no feeder threads), so the rule is off there.
// SimpleQueue (`simple_queue`): rules 1-4 name SQ-10 instead of Q-ORDER-2.
// A history with dropped ops is Unknown.
#include <cstdint>

#include "mpconform/history.hpp"
#include "mpconform/tiers.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform {

struct QueueCheckOptions {
  std::uint32_t object = 0;     // the queue's Op::object
  std::int64_t maxsize = 0;     // as passed to Queue(maxsize): <= 0 is unbounded
  bool drained = false;         // consumers got every item there was at the end (enables rule 4)
  bool simple_queue = false;    // a SimpleQueue: name SQ-10 for rules 1-4
  // The CPython 3.11 races of spec::QueueRaces (spec/models/.../queue.hpp), for checking a
  // backend that is only as strong as CPython. Off: the reference's exact behaviour.
  bool cpython_racy_get = false;
  bool cpython_racy_empty = false;
  // Rule 6: how soon a waiting get takes an item that was put (the reference wakes it at once).
  Tier notice = tiers::instant;
  // Budget of rule 8 (size ops + failed puts, times items); beyond it rule 8 is Unknown.
  std::uint64_t max_work = 200'000'000;
  bool joinable = false;  // a JoinableQueue: rule 9 reads task_done and join too
  bool exact = true;      // rule 9 (off: rules 1-8 only, O(n log n))
  // Budget of rule 9 (states of the search); beyond it rule 9 is not decided.
  std::uint64_t max_states = 5'000'000;
};

/// Checks the queue rules above. Pure; O(n log n) for rules 1-7; rule 9 is exponential in the
/// worst case, near linear when few ops overlap (bench_checkers). Reads the tier
/// (MPCONFORM_TIME_SCALE) when called.
Verdict check_queue(const History& history, const QueueCheckOptions& options = {});

}  // namespace mpconform
