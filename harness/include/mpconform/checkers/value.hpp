#pragma once
// mpconform/checkers/value.hpp: a shared Value incremented under its lock.
//
// Reads increment ops (one `with v.get_lock(): v.value += 1`; value = the new value when
// `results_recorded`) and read ops (value = what was read, as int64) on one Value
// (Op::object). Rules (V-ATOM-3, "no lost update under the lock"):
//  1. with results_recorded: no two ok increments wrote the same value;
//  2. a read of n needs initial + (ok increments returned before it was invoked) <= n <=
//     initial + (increments, ok or info, invoked before it returned). So the final value,
//     read after every increment returned, equals initial + the number of ok increments.
#include <cstdint>

#include "mpconform/history.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform {

struct ValueCheckOptions {
  std::uint32_t object = 0;
  std::int64_t initial = 0;
  bool results_recorded = false;
};

Verdict check_value(const History& history, const ValueCheckOptions& options = {});

}  // namespace mpconform
