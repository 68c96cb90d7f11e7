#pragma once
// mpconform/checkers/joinable.hpp: JoinableQueue's unfinished-task count.
//
// Reads put/task_done/join ops on one JoinableQueue (Op::object). Only ok puts count (a put
// that raised Full does not: JQ-10); info puts and task_dones may or may not have counted.
// For an op q, the count is at least L(q) = ok puts that returned before q was invoked minus
// task_dones (ok or info, other than q) invoked no later than q returned, and at most U(q) = puts
// (ok or info) invoked no later than q returned (equal instants overlap, as in the search) minus ok task_dones (other than q) that returned before
// q was invoked. Rules:
//  1. join never returns while tasks are unfinished: an ok join needs L(join) <= 0 (JQ-9);
//  2. task_done raises only at 0: a task_done that failed with ValueError needs L <= 0 (JQ-11);
//  3. over-calling task_done raises: a task_done that succeeded needs U >= 1 (JQ-2).
// Windows are the join/task_done plus the puts and task_dones counted.
#include <cstdint>

#include "mpconform/history.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform {

struct JoinableCheckOptions {
  std::uint32_t object = 0;  // the JoinableQueue's Op::object
};

/// Pure; O(n log n).
Verdict check_joinable(const History& history, const JoinableCheckOptions& options = {});

}  // namespace mpconform
