#pragma once
// Test helpers for the sequential models: replay a hand-written history (ops with the results
// an implementation is supposed to have returned) through check(), and report a rejected step
// as a short program, the way a harness counterexample reads.
#include <gtest/gtest.h>

#include <concepts>
#include <cstddef>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "mpconform/spec/models.hpp"

namespace mpconform::spec {

// GoogleTest prints states, ops and results through their to_string() (found by ADL).
template <class T>
requires requires(const T& t) {
  { t.to_string() } -> std::convertible_to<std::string>;
}
void PrintTo(const T& t, std::ostream* os) { *os << t.to_string(); }

}  // namespace mpconform::spec

namespace mpconform::spec::testing {

// One call of a history and what it was observed to do.
template <class Op>
struct Step {
  Op op;
  Result observed;
};

template <class State>
struct Replay {
  std::optional<std::size_t> rejected_at;  // index of the first step check() refused
  State state;                             // the state after the last accepted step
  std::string transcript;                  // the program, one step per line
};

// Replays `steps` from `initial`, stopping at the first step the model does not allow.
template <class State, class Op>
Replay<State> replay(const State& initial, const std::vector<Step<Op>>& steps) {
  Replay<State> r{std::nullopt, initial, "# " + initial.to_string() + "\n"};
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const auto& st = steps[i];
    const std::optional<State> next = check(r.state, st.op, st.observed);
    if (!next) {
      r.rejected_at = i;
      r.transcript += "> " + explain(r.state, st.op, st.observed) + "\n";
      return r;
    }
    r.transcript += "  " + st.op.to_string() + "  -> " + st.observed.to_string() + "\n";
    r.state = *next;
  }
  return r;
}

// The allowed results of an outcome, as text, in the model's order ({} when illegal).
template <class State>
std::vector<std::string> results(const Outcome<State>& o) {
  std::vector<std::string> out;
  for (const auto& a : o.allowed()) out.push_back(a.result.to_string());
  return out;
}

// No two allowed results admit the same observation, so check() picks one next state.
template <class State>
::testing::AssertionResult unambiguous(const Outcome<State>& o) {
  const auto& all = o.allowed();
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (std::size_t j = 0; j < all.size(); ++j) {
      if (i != j && all[i].result.admits(all[j].result)) {
        return ::testing::AssertionFailure() << "ambiguous outcome " << o.to_string();
      }
    }
  }
  return ::testing::AssertionSuccess();
}

// Short spellings for expected results.
inline Result none() { return Result::returns(); }
inline Result yes() { return Result::returns(Value::boolean(true)); }
inline Result no() { return Result::returns(Value::boolean(false)); }
inline Result integer(PyInt i) { return Result::returns(Value::integer(i)); }
inline Result ret(Value v) { return Result::returns(std::move(v)); }
inline Result raises(PyError e) { return Result::raises(std::move(e)); }
inline Result blocks() { return Result::blocks(); }

}  // namespace mpconform::spec::testing
