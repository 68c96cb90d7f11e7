// The property suite as RapidCheck tests: each case is a seed, the scenario is drawn from it by
// the harness's generator (the one `mpconform run` uses) and run against the backend chosen at
// run time (MPCONFORM_BACKEND, default the reference). A case fails when the scenario's verdict
// is fail, crash, hang or error (never for unknown, which is only counted). The default number
// of cases is the third macro argument; RC_PARAMS="max_success=N" overrides it for every
// property. A failure prints the seed and the commands that replay it (rc_glue.hpp), and the
// shrunk scenario with its `mpconform run` replay command.
//
// The clauses each property checks come from its file (`mpconform properties` lists them); the
// MPC_CLAUSE lists below name the same ones for the clause coverage report.
#include <rapidcheck.h>

#include "clause.hpp"
#include "rc_glue.hpp"
#include "scenario_check.hpp"

namespace mpconform::props {
namespace {

std::uint64_t seed() { return *rc::gen::noShrink(rc::gen::arbitrary<std::uint64_t>()); }

// Producers put tagged items on a Queue (maxsize 0..8) or a SimpleQueue with every block/timeout
// mix, consumers get their quotas, probing qsize/empty/full, a drainer checks nothing is left.
MPC_RC_GTEST_PROP(properties, Queue, 120, ()) {
  MPC_CLAUSE("Q-ORDER-2", "Q-GET-1", "Q-SIZE-2", "Q-SIZE-3", "Q-SIZE-6", "Q-SIZE-9", "Q-EMPTY-3", "Q-PUT-1",
             "Q-MAX-1", "Q-MAX-3", "Q-FULL-7", "SQ-10");
  check_seed("queue", seed());
}

// Workers take a Lock or RLock with every block/timeout mix and hold it for a while; RLock
// recursion and releases by a process that does not own it.
MPC_RC_GTEST_PROP(properties, Lock, 120, ()) {
  MPC_CLAUSE("L-ACQ-1", "L-ACQ-2", "L-ACQ-3", "L-ACQ-6", "L-ACQ-9", "L-REL-3", "RL-ACQ-1", "RL-ACQ-2",
             "RL-ACQ-3", "RL-REL-1");
  check_seed("lock", seed());
}

// The seed's ticket grab, on a file guarded by a Lock or on a shared Value under its own lock.
MPC_RC_GTEST_PROP(properties, Tickets, 100, ()) {
  MPC_CLAUSE("L-EXCL-1", "V-ATOM-3");
  check_seed("tickets", seed());
}

// JoinableQueue producers, consumers (get, pause, task_done) and joiners.
MPC_RC_GTEST_PROP(properties, Joinable, 60, ()) {
  MPC_CLAUSE("JQ-9", "JQ-11", "JQ-2");
  check_seed("joinable", seed());
}

// Calls made where they must time out: never early, never much later than the timeout.
MPC_RC_GTEST_PROP(properties, Timeouts, 30, ()) {
  MPC_CLAUSE("Q-EMPTY-1", "Q-EMPTY-3", "Q-EMPTY-5", "Q-FULL-1", "Q-FULL-3", "Q-FULL-5", "L-ACQ-2", "L-ACQ-6",
             "L-ACQ-7", "C-POLL-2", "C-POLL-4", "P-JOIN-5", "P-JOIN-6");
  check_seed("timeouts", seed());
}

// A parent starts daemonic and non-daemonic children and exits.
MPC_RC_GTEST_PROP(properties, Daemon, 40, ()) {
  MPC_CLAUSE("X-EXIT-1", "X-EXIT-8");
  check_seed("daemon", seed());
}

// Writers send tagged messages on a simplex or duplex Pipe and close; readers read until EOF.
MPC_RC_GTEST_PROP(properties, Pipe, 100, ()) {
  MPC_CLAUSE("C-SEND-12", "C-EOF-2", "C-EOF-5", "C-CLOSE-1", "C-CLOSE-4", "C-EPIPE-1");
  check_seed("pipe", seed());
}

// Workers do `with v.get_lock(): v.value += 1` with a pause inside: no update is lost.
MPC_RC_GTEST_PROP(properties, Value, 80, ()) {
  MPC_CLAUSE("V-ATOM-3");
  check_seed("value", seed());
}

}  // namespace
}  // namespace mpconform::props
