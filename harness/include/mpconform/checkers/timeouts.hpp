#pragma once
// mpconform/checkers/timeouts.hpp: timed calls never return early, and return in time.
//
// Reads every completed op with a timeout (Op::timeout_ns != kNoTimeout) of the kinds put,
// get, acquire, poll and process_join. Let d = return - invoke (the recorder's interval,
// which contains the call). Rules:
//  1. a call that timed out (put: fail Full, get: fail Empty, acquire/poll/process_join: fail
//     Timeout) never returns early: d >= timeout - seconds(early);
//  2. every such call returns in time, whatever its outcome: d <= timeout + seconds(late)
//     (`late_now` for calls that must not wait: timeout 0).
// Clauses: put Q-FULL-3 (timeout) / Q-FULL-1 (no wait); get Q-EMPTY-3 / Q-EMPTY-1; acquire
// L-ACQ-6 / L-ACQ-2; poll C-POLL-2 / C-POLL-1; process_join P-JOIN-5 / P-JOIN-6.
#include "mpconform/history.hpp"
#include "mpconform/tiers.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform {

struct TimeoutCheckOptions {
  Tier early = tiers::clock;     // forgiven earliness
  Tier late = tiers::short_;     // allowed lateness of a timed call
  Tier late_now = tiers::instant;  // allowed duration of a call that must not wait
};

/// Pure; O(n). Reads the tiers (MPCONFORM_TIME_SCALE) when called.
Verdict check_timeouts(const History& history, const TimeoutCheckOptions& options = {});

}  // namespace mpconform
