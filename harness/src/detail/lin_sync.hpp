#pragma once
// The Lock, RLock and Pipe adapters of check_linearizable (harness/src/linearizability_sync.cpp;
// private to harness/src). Each answers check_linearizable for its LinearizableKind; see
// mpconform/linearizability.hpp for what the kinds read and how the history is bridged to the
// models.
#include "mpconform/history.hpp"
#include "mpconform/linearizability.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform::detail {

/// LinearizableKind::lock: spec::LockState / LockOp. Requires: history.dropped == 0.
Verdict search_lock(const History& history, const LinearizabilityOptions& options);
/// LinearizableKind::rlock: spec::RLockState / RLockOp, ThreadId = Op::process.
/// Requires: history.dropped == 0.
Verdict search_rlock(const History& history, const LinearizabilityOptions& options);
/// LinearizableKind::pipe: one direction of a simplex spec::PipeState, with the copies of the
/// write end tracked beside it. Requires: history.dropped == 0.
Verdict search_pipe(const History& history, const LinearizabilityOptions& options);

}  // namespace mpconform::detail
