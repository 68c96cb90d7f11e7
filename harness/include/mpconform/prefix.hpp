#pragma once
// mpconform/prefix.hpp: the longest prefix of a history that a checker accepts (Porcupine's
// "longest linearizable prefix", porcupine#21): where a failing history stops making sense.
//
// A prefix is the history as it stood at one instant `until_ns`: the operations invoked before
// it, those still running at it turned into pending `info` operations (their results unknown:
// a get's item, a qsize's size), and nothing invoked later.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>

#include "mpconform/history.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform {

/// `history` as it stood just before `until_ns`: ops invoked at or after it are dropped; ops
/// that returned at or after it become info with no return and no error (an argument such as a
/// put's item is kept, a result such as a get's item is cleared). `dropped` and `torn` carry over.
History cut_history(const History& history, std::int64_t until_ns);

struct AcceptedPrefix {
  std::int64_t until_ns = 0;  // the cut: every event strictly before it is in the prefix
  std::size_t ops = 0;        // operations the prefix holds (pending ones included)
};

/// The latest cut, among the instants just after each event (an invoke or a return), whose
/// prefix `check` does not reject (ok or unknown); nullopt when even the first event's prefix
/// is rejected, the history is empty, or none of the last `max_checks` cuts is accepted (the
/// cuts are tried from the last one back: a prefix can be rejected while a longer one is not,
/// e.g. an item counted lost until its get appears, so bisecting would not be exact).
std::optional<AcceptedPrefix> longest_accepted_prefix(const History& history,
                                                      const std::function<Verdict(const History&)>& check,
                                                      std::size_t max_checks = 2000);

}  // namespace mpconform
