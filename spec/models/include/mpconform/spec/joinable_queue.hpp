#pragma once
// Sequential model of multiprocessing.JoinableQueue (CPython 3.11, queues.py:294-331).
//
// A JoinableQueue is a Queue plus an "unfinished tasks" count, so it shares QueueState,
// QueueOp and step() with the Queue model (queue.hpp); a state made here has
// kind == QueueKind::joinable_queue, which enables task_done()/join() and names
// JoinableQueue in the closed message. Contracts, beyond the Queue ones:
//  - a put that succeeds raises the count by one; a put that raises queue.Full (or
//    ValueError on a closed queue) does not (JQ-9, JQ-10). get() does not change it (JQ-3).
//  - task_done(): count 0 -> ValueError('task_done() called too many times') (JQ-2); else None
//    and the count drops by one. Not tied to get(): it may run ahead of the gets.
//  - join(): count 0 -> None at once (also on a fresh queue); else blocks (there is no
//    timeout parameter, JQ-4).
//  - maxsize bounds the queued items only: get() frees a slot, task_done() does not, so the
//    count may exceed maxsize (JQ-5, JQ-12).
//  - after close(): put/get raise ValueError('Queue <multiprocessing.queues.JoinableQueue
//    object at 0x…> is closed'); task_done() and join() ignore the closed flag (JQ-7, JQ-13).
// Not modelled: an unpicklable put still counts but its item is dropped (JQ-6).
#include <cstdint>

#include "mpconform/spec/queue.hpp"

namespace mpconform::spec {

// JoinableQueue(maxsize): as QueueState::make, with kind == joinable_queue and count 0.
// Requires: maxsize <= kSemValueMax (throws std::invalid_argument otherwise).
QueueState make_joinable_queue(std::int64_t maxsize = 0, QueueRaces races = {},
                               Surface surface = Surface::cpp);

struct JoinableQueueModel {
  using State = QueueState;
  using Op = QueueOp;
  static Outcome<State> step(const State& s, const Op& op) { return spec::step(s, op); }
};

}  // namespace mpconform::spec
