#pragma once
// The shape shared by every sequential model (Porcupine style):
//
//   Outcome<State> step(const State&, const Op&)
//
// is a pure function. It answers either "illegal" (the model rejects the operation in that
// state, with a reason) or the non-empty set of results the call may have, each with the state
// it leaves behind. Deterministic behaviour gives one element; where CPython 3.11 itself is
// racy, the set has several. Within one outcome, no two elements have results that admit the
// same observation, so an observed result picks at most one next state (check() relies on it;
// the tests assert it).
//
// A result is one of: returned a value, raised an exception, or blocks (the call cannot return
// in this state: in a sequential run it never returns; in a concurrent history it can only
// return once other operations have changed the state first). Timed calls never block: after
// their timeout they return or raise, and the models do not model elapsed time.
#include <concepts>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "mpconform/spec/error.hpp"
#include "mpconform/spec/value.hpp"

namespace mpconform::spec {

// What one call did (observed) or may do (allowed).
struct Result {
  enum class Kind { returned, raised, blocks };
  Kind kind = Kind::returned;
  Value value;    // meaningful when kind == returned
  PyError error;  // meaningful when kind == raised

  static Result returns(Value v = Value()) { return {Kind::returned, std::move(v), {}}; }
  static Result raises(PyError e) { return {Kind::raised, Value(), std::move(e)}; }
  static Result blocks() { return {Kind::blocks, Value(), {}}; }

  bool returned() const { return kind == Kind::returned; }
  bool raised() const { return kind == Kind::raised; }
  bool is_blocks() const { return kind == Kind::blocks; }

  // True when this allowed result admits `observed`: same kind; for returns, equal values; for
  // raises, PyError::matches (the allowed message may hold "0x…"/"<pid>" placeholders).
  bool admits(const Result& observed) const;

  // "None", "True", "raises queue.Full()", "blocks".
  std::string to_string() const;

  friend bool operator==(const Result&, const Result&) = default;
};

template <class State>
struct Allowed {
  Result result;
  State next;
};

template <class State>
class Outcome {
 public:
  // The model rejects the operation in this state. Requires: a non-empty reason.
  static Outcome illegal(std::string reason) {
    Outcome o;
    o.reason_ = std::move(reason);
    return o;
  }
  // Exactly one allowed result.
  static Outcome single(Result r, State next) {
    Outcome o;
    o.allowed_.push_back({std::move(r), std::move(next)});
    return o;
  }
  // Adds one more allowed result (a racy alternative). Requires: not illegal.
  Outcome& or_else(Result r, State next) {
    allowed_.push_back({std::move(r), std::move(next)});
    return *this;
  }

  bool is_illegal() const { return allowed_.empty(); }
  // Why the operation is illegal; empty when it is not.
  const std::string& reason() const { return reason_; }
  // The allowed results with their next states; empty iff illegal.
  const std::vector<Allowed<State>>& allowed() const { return allowed_; }
  // More than one result is allowed (CPython is racy here).
  bool is_racy() const { return allowed_.size() > 1; }

  // The allowed element admitting `observed`, or nullptr.
  const Allowed<State>* find(const Result& observed) const {
    for (const auto& a : allowed_) {
      if (a.result.admits(observed)) return &a;
    }
    return nullptr;
  }

  // "illegal: <reason>" or "{True -> <state>, False -> <state>}".
  std::string to_string() const {
    if (is_illegal()) return "illegal: " + reason_;
    std::string out = "{";
    for (std::size_t i = 0; i < allowed_.size(); ++i) {
      if (i != 0) out += ", ";
      out += allowed_[i].result.to_string() + " -> " + allowed_[i].next.to_string();
    }
    return out + "}";
  }

 private:
  Outcome() = default;
  std::vector<Allowed<State>> allowed_;
  std::string reason_;
};

// A model bundles its state and op types with its step function, for generic checkers:
//   struct QueueModel { using State = QueueState; using Op = QueueOp; static step(...); };
template <class M>
concept Model = requires(const typename M::State& s, const typename M::Op& op) {
  { M::step(s, op) } -> std::same_as<Outcome<typename M::State>>;
  { s.to_string() } -> std::convertible_to<std::string>;
  { op.to_string() } -> std::convertible_to<std::string>;
  { s == s } -> std::convertible_to<bool>;
};

// check(state, op, observed): validates one observed call of a history.
// Returns: the next state if the model allows `observed` for `op` in `state`; nullopt if the op
// is illegal there or `observed` is not among the allowed results. Pure; found by overload on
// the model's step(State, Op).
template <class State, class Op>
requires requires(const State& s, const Op& op) {
  { step(s, op) } -> std::same_as<Outcome<State>>;
}
std::optional<State> check(const State& state, const Op& op, const Result& observed) {
  const Outcome<State> outcome = step(state, op);
  if (const Allowed<State>* a = outcome.find(observed)) return a->next;
  return std::nullopt;
}

// explain(state, op, observed): one line for a report when check() failed, e.g.
//   "in Queue(maxsize=1, items=[7]): q.get_nowait() -> raises queue.Empty() is not allowed;
//    allowed: {7 -> Queue(maxsize=1, items=[])}"
// and "... is allowed" when it is.
template <class State, class Op>
requires requires(const State& s, const Op& op) {
  { step(s, op) } -> std::same_as<Outcome<State>>;
}
std::string explain(const State& state, const Op& op, const Result& observed) {
  const Outcome<State> outcome = step(state, op);
  std::string line =
      "in " + state.to_string() + ": " + op.to_string() + " -> " + observed.to_string();
  if (outcome.find(observed) != nullptr) return line + " is allowed";
  return line + " is not allowed; " +
         (outcome.is_illegal() ? outcome.to_string() : "allowed: " + outcome.to_string());
}

}  // namespace mpconform::spec
