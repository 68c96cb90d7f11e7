#pragma once
// mpconform/checkers/daemon.hpp: what happens to a process's children when it exits.
//
// Reads process ops: start (by the parent: value = child, aux = 1 for a daemonic child),
// exit (by the parent: [target returned, just before _exit]) and gone (by an observer:
// value = the process that ended within [invoke, return]; fail Timeout = still alive at
// return; a zombie counts as ended). Only parents with an ok exit are checked (a parent
// killed by a signal does no exit work: X-EXIT-4), unless `pdeathsig`.
// Rules, with E = the parent's exit return:
//  1. a daemonic child is gone within the `grace` tier after its parent's exit: illegal when
//     it was seen alive after E + grace (gone.invoke, or a failed gone's return) (X-EXIT-1);
//  2. a non-daemonic child is joined before its parent's exit completes: illegal when it was
//     seen alive after E (X-EXIT-8);
//  3. with `pdeathsig` (the reference's divergence X-EXIT-7): a daemonic child of a parent
//     that was killed (gone, no ok exit) is gone within grace after the parent's gone.return.
//  4. exit codes (exitcode ops by the parent after its exit work: value = the code of child aux):
//     a daemonic child's is 0 (it ended by itself) or -SIGTERM (terminated), never 128 + 15 as
//     a shell would say (P-EXIT-2); a non-daemonic child's target returned, so 0 (P-EXIT-1).
// A checked child with no gone op at all makes the verdict Unknown.
#include "mpconform/history.hpp"
#include "mpconform/tiers.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform {

struct DaemonCheckOptions {
  Tier grace = tiers::short_;
  bool pdeathsig = false;  // daemonic children also die with a killed parent (mpref)
};

Verdict check_daemon(const History& history, const DaemonCheckOptions& options = {});

}  // namespace mpconform
