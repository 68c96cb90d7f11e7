// The property suite: randomized scenarios of forked producers, consumers, lock holders,
// buyers, writers and workers, run against the backend chosen at run time (MPCONFORM_BACKEND,
// default the reference) and checked by the harness's checkers.
//
// One property per checker (and per object type where a backend has two: Queue/SimpleQueue,
// Lock/RLock, tickets on a file/on a Value). Each case is one scenario drawn by generators.hpp
// in this process before the runner forks; a case fails when the scenario's verdict is fail,
// hang or error (never for unknown, which is only counted). The default number of cases is the
// third macro argument; RC_PARAMS="max_success=N" overrides it for every property. A failure
// prints the seed and the commands that replay it (rc_glue.hpp).
#include <rapidcheck.h>

#include "clause.hpp"
#include "generators.hpp"
#include "rc_glue.hpp"
#include "scenario_check.hpp"

namespace mpconform::props {
namespace {

// Producers 0..P-1 put tagged items on a Queue (maxsize 0..8) with every block/timeout mix,
// consumers get their quotas, probing qsize/empty/full, a drainer checks nothing is left.
MPC_RC_GTEST_PROP(properties, Queue, 100, ()) {
  MPC_CLAUSE("Q-ORDER-2", "Q-GET-1", "Q-SIZE-2", "Q-SIZE-3", "Q-SIZE-6", "Q-SIZE-9", "Q-PUT-1",
             "Q-MAX-1", "Q-MAX-3", "Q-FULL-7");
  check_scenario(*gen::queueScenario(QueueType::queue));
}

// The same with a SimpleQueue (unbounded; get(timeout) bounds the consumers' waits).
MPC_RC_GTEST_PROP(properties, SimpleQueue, 60, ()) {
  MPC_CLAUSE("SQ-10");
  check_scenario(*gen::queueScenario(QueueType::simple_queue));
}

// Workers take a Lock with every block/timeout mix and hold it for a while: no two critical
// sections overlap, and a failed acquire means someone held it.
MPC_RC_GTEST_PROP(properties, Lock, 80, ()) {
  MPC_CLAUSE("L-ACQ-1", "L-ACQ-2", "L-ACQ-3", "L-ACQ-6", "L-ACQ-9", "L-REL-3");
  check_scenario(*gen::lockScenario(LockType::lock));
}

// The same with an RLock, recursively (depth 1..3), and releases by a process that does not
// own it (must raise AssertionError and change nothing).
MPC_RC_GTEST_PROP(properties, RLock, 80, ()) {
  MPC_CLAUSE("RL-ACQ-1", "RL-ACQ-2", "RL-ACQ-3", "RL-REL-1");
  check_scenario(*gen::lockScenario(LockType::rlock));
}

// The seed's ticket grab on a file guarded by a Lock: sold == min(buyers, tickets), never
// negative, no buyer served twice.
MPC_RC_GTEST_PROP(properties, TicketsOnFile, 60, ()) {
  MPC_CLAUSE("L-EXCL-1");
  check_scenario(*gen::ticketScenario(TicketStore::file));
}

// The ticket grab on a shared Value under its own lock.
MPC_RC_GTEST_PROP(properties, TicketsOnValue, 60, ()) {
  MPC_CLAUSE("L-EXCL-1", "V-ATOM-3");
  check_scenario(*gen::ticketScenario(TicketStore::value));
}

// JoinableQueue producers, consumers (get, pause, task_done) and joiners: join never returns
// while a task is unfinished, the count is exact, a task_done too many raises ValueError.
MPC_RC_GTEST_PROP(properties, Joinable, 60, ()) {
  MPC_CLAUSE("JQ-9", "JQ-11", "JQ-2");
  check_scenario(*gen::joinableScenario());
}

// Calls made where they must time out (get on empty, put on full, acquire on a held lock,
// join with an unfinished task, poll on a silent pipe, Process.join on a live child): never
// early, never much later than the timeout, at once for block=False / zero / negative.
MPC_RC_GTEST_PROP(properties, Timeouts, 30, ()) {
  MPC_CLAUSE("Q-EMPTY-1", "Q-EMPTY-3", "Q-EMPTY-5", "Q-FULL-1", "Q-FULL-3", "Q-FULL-5",
             "L-ACQ-2", "L-ACQ-6", "L-ACQ-7", "C-POLL-2", "C-POLL-4", "P-JOIN-5", "P-JOIN-6");
  check_scenario(*gen::timeoutScenario());
}

// A parent starts daemonic and non-daemonic children and exits: its exit handling terminates
// the daemonic ones and joins the others first.
MPC_RC_GTEST_PROP(properties, Daemon, 40, ()) {
  MPC_CLAUSE("X-EXIT-1", "X-EXIT-8");
  check_scenario(*gen::daemonScenario());
}

// Writers send tagged messages on a simplex or duplex Pipe and close; the reader polls and
// receives until EOFError: per-direction FIFO, nothing lost, EOF only after every writer closed.
MPC_RC_GTEST_PROP(properties, Pipe, 100, ()) {
  MPC_CLAUSE("C-SEND-12", "C-EOF-2", "C-EOF-5");
  check_scenario(*gen::pipeScenario());
}

// Workers do `with v.get_lock(): v.value += 1` with a pause inside: no update is lost.
MPC_RC_GTEST_PROP(properties, Value, 80, ()) {
  MPC_CLAUSE("V-ATOM-3");
  check_scenario(*gen::valueScenario());
}

}  // namespace
}  // namespace mpconform::props
