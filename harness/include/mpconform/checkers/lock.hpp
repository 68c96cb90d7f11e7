#pragma once
// mpconform/checkers/lock.hpp: Lock and RLock.
//
// Reads the acquire/release ops on one lock (Op::object). acquire: ok = returned True,
// fail Timeout = returned False. release: ok, or fail (ValueError for Lock, AssertionError for
// RLock).
//
// A critical section of process p runs from an ok acquire by p (outermost, for an RLock) to
// p's matching release. It was definitely held during [acquire.return, release.invoke]
// (forever when p never released: nobody else did either, or the verdict is Unknown, and a
// holder's death does not release it, L-DEAD-1 / RL-DEAD-1) and possibly held during
// [acquire.invoke, release.return] (forever when never released).
// Requires: each process's ops do not overlap (one calling thread per process), as recorded.
// Rules:
//  0. acquire() with no timeout never returns False: a fail Timeout acquire with
//     timeout_ns == kNoTimeout is illegal (L-ACQ-9; RL-ACQ-2 for an RLock);
//  1. mutual exclusion: no two sections' definitely-held intervals overlap. The clause is that
//     of the second acquire: L-ACQ-2 (block=False or timeout 0), L-ACQ-6 (timeout), L-ACQ-9
//     (no timeout); RL-ACQ-2 for an RLock;
//  2. definite sections are ordered: when the next section by acquire return was definitely
//     held after a section was taken, the earlier one's release took effect by the next one's
//     acquire return (this bounds an info or late release). A Lock's failed release proves it
//     free at an instant of the call: a definite section taken before the call (acquire
//     return < release invoke) was released by the call's return, and one still definitely
//     held after the call was taken after its invoke. Then
//     a failed acquire while the lock was certainly free (no section possibly held during any
//     part of the call, intervals closed; for an RLock, no section of another process) is
//     illegal (L-ACQ-1; RL-ACQ-2). When the only sections that could explain it are info
//     acquires that are their process's last op (killed or lost while acquiring; held for good
//     if they took effect, L-DEAD-1 / RL-DEAD-1), one of them took effect by the failed
//     acquire's return: an ok acquire invoked after that return is illegal (clause of that
//     acquire, as in rule 1), and so is a Lock release invoked after it that failed (L-REL-3).
//     The same holds for a section ended by an info release that is its certain process's last
//     op (it ended by the release's return, or the release did not take effect and the lock
//     is held for good);
//  2b. Lock: a Lock is not reentrant: a holder's second ok acquire with no release between is
//     illegal (L-ACQ-3); a release that failed while the Lock was definitely held during the
//     whole call is illegal (L-REL-3);
//  2c. a timed acquire notices the lock freeing while it waits: an acquire with a positive
//     timeout that returned False is illegal when the lock was certainly free (no section
//     possibly held, as in rule 2, sections held for good and uncertain ones included; for an
//     RLock, no section of another process) for a run longer than the `notice` tier during
//     [invoke, min(return, invoke + timeout)] (it may give up late, never early, so it was
//     waiting then). L-ACQ-6 (RL-ACQ-2 for an RLock): False is the outcome of a lock that
//     stayed held through the wait. The tier is the rule's one assumption: a waiting acquire
//     takes a lock that frees within it;
//  3. RLock ownership: a release that succeeded by a process that did not own the RLock (its
//     own acquires and releases balance) is illegal (RL-REL-1); a failed release or a failed
//     acquire by the owner is illegal (RL-ACQ-3, RL-ACQ-1).
// A Lock has no owner (L-REL-3): when a process releases a Lock it did not acquire, or may
// have (an ok or info release at depth 0, or any ok/info release after its own info op),
// sections cannot be paired and the verdict is Unknown. An info acquire/release (killed
// mid-call) makes its process's later sections uncertain, unless it is an info acquire that
// returned and provably had no effect (it is then left out): another process definitely held
// the lock during the whole call, or it is its process's last op (it would hold the lock for
// good) and another process's section was definitely held after it returned. Uncertain
// sections count as possibly held, never as definitely (an RLock's then count as possibly
// held for good, its count being unknown), and its RLock ownership rules are no longer
// checked (deliberately inexact: the exact search, mpconform/linearizability.hpp, tries both
// outcomes). An info acquire by a
// Lock's holder changes nothing (it blocks or gets False) and makes nothing uncertain.
#include <cstdint>

#include "mpconform/history.hpp"
#include "mpconform/tiers.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform {

struct LockCheckOptions {
  std::uint32_t object = 0;  // the lock's Op::object
  bool reentrant = false;    // an RLock
  // Rule 2c: how soon a waiting acquire takes a lock that frees (the reference wakes it at once).
  Tier notice = tiers::instant;
};

/// Checks the lock rules above. Pure; O(n log n) (rule 2c: once more per RLock process that
/// may hold the lock for good, after its own info op, and later timed out). Reads the tier
/// (MPCONFORM_TIME_SCALE) when called.
Verdict check_lock(const History& history, const LockCheckOptions& options = {});

}  // namespace mpconform
