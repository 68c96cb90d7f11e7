#pragma once
// props/state/state_support.hpp: RapidCheck state-machine tests (rc::state) of mpref against
// the sequential models of spec/models.
//
// The model of a test is the spec state itself (spec::QueueState, spec::LockState, ...); the
// system under test (SUT) is an mpref object in this process. Each operation is one
// ModelCommand: it names its spec op (op()), calls mpref (call(), returning what happened as a
// spec::Result: the value returned, or the exception raised as (python_type(), what())), and
// shows itself as the op's Python spelling, so a counterexample reads as a program.
//
// A command is only generated where the model says the call returns or raises at once (never
// "blocks") with exactly one allowed result, so nothing ever waits: block=False, zero or negative
// timeouts, or blocking calls the model knows will not block. run() checks that the model
// allows what mpref did (spec::explain() is the failure message).
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "mpconform/spec/models.hpp"
#include "mpconform/tiers.hpp"
#include "mpref/errors.hpp"

namespace mpconform::props::state {

namespace spec = ::mpconform::spec;
using spec::Result;

/// What a call did, as the models say it: f() returns a spec::Value, or throws an mpref::Error
/// (recorded as raised, with the Python class and exact message). Anything else propagates.
template <class F>
Result observe(F&& f) {
  try {
    return Result::returns(std::forward<F>(f)());
  } catch (const mpref::Error& e) {
    return Result::raises(spec::PyError{std::string(e.python_type()), e.what()});
  }
}


/// How long a call without a timeout may take before it counts as blocking. The model only
/// lets a test make such a call where it returns at once, so a correct SUT never waits; a
/// broken one (or a model/SUT divergence) may, and then the call is made with this bound
/// instead and observed as Result::blocks() when it runs out, which fails the test at once
/// instead of hanging it.
inline double block_bound() { return seconds(tiers::short_); }

/// observe(f) for a call that mpref makes with block_bound() as its timeout because the op has
/// none: the exception `TimedOut` (mpref::Empty, mpref::Full) means it would have blocked.
template <class TimedOut, class F>
Result observe_bounded(F&& f) {
  try {
    return Result::returns(std::forward<F>(f)());
  } catch (const TimedOut&) {
    return Result::blocks();
  } catch (const mpref::Error& e) {
    return Result::raises(spec::PyError{std::string(e.python_type()), e.what()});
  }
}

/// The Python value of a C++ result.
inline spec::Value py(bool b) { return spec::Value::boolean(b); }
template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
spec::Value py(T v) {
  return spec::Value::integer(static_cast<spec::PyInt>(v));
}
template <class T>
  requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
spec::Value py(const std::vector<T>& v) {
  std::vector<spec::PyInt> out(v.begin(), v.end());
  return spec::py::int_list(out);
}

/// Commands run by the current case (for check_commands' distribution).
inline int& commands_run() {
  static int n = 0;
  return n;
}

/// rc::state::check(initial, sut, commands), tagging the case with how many commands ran
/// ("0", "1-9", "10-49", "50+"), so the distribution printed at the end shows what was tested.
template <class State, class Sut, class GenFunc>
void check_commands(const State& initial, Sut& sut, GenFunc&& commands) {
  commands_run() = 0;
  rc::state::check(initial, sut, std::forward<GenFunc>(commands));
  const int n = commands_run();
  RC_TAG(n == 0    ? "0 commands"
         : n < 10  ? "1-9 commands"
         : n < 50  ? "10-49 commands"
                   : "50+ commands");
}

/// True when `op` may be generated in `state`: legal, never blocking, one allowed result.
template <class State, class Op>
bool runnable(const State& state, const Op& op) {
  const spec::Outcome<State> outcome = step(state, op);
  if (outcome.is_illegal() || outcome.allowed().size() != 1) return false;
  return !outcome.allowed().front().result.is_blocks();
}

/// One operation of a state-machine test. Derived classes draw their arguments in their
/// constructor (taking the current model state), and define op() and call().
template <class State, class Op, class Sut>
struct ModelCommand : rc::state::Command<State, Sut> {
  /// The operation as the model spells it.
  [[nodiscard]] virtual Op op() const = 0;
  /// Makes the call on the SUT and reports what it did.
  virtual Result call(Sut& sut) const = 0;

  void checkPreconditions(const State& s) const override { RC_PRE(runnable(s, op())); }
  void apply(State& s) const override { s = step(s, op()).allowed().front().next; }
  void run(const State& s, Sut& sut) const override {
    ++commands_run();
    const Result observed = call(sut);
    if (!step(s, op()).find(observed)) RC_FAIL(spec::explain(s, op(), observed));
  }
  void show(std::ostream& os) const override { os << op().to_string(); }
};

/// A thread that runs one call at a time on request and waits for it: RLock ownership is per
/// thread, so the RLock test calls from two of them (ThreadId 1 and 2).
class CallThread {
 public:
  CallThread() : thread_([this] { loop(); }) {}
  ~CallThread() {
    {
      std::lock_guard<std::mutex> g(m_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  CallThread(const CallThread&) = delete;
  CallThread& operator=(const CallThread&) = delete;

  /// Runs f on this thread and returns its result (f must not throw: wrap it in observe()).
  Result run(std::function<Result()> f) {
    std::unique_lock<std::mutex> lk(m_);
    job_ = std::move(f);
    result_.reset();
    cv_.notify_all();
    cv_.wait(lk, [this] { return result_.has_value(); });
    return *result_;
  }

 private:
  void loop() {
    std::unique_lock<std::mutex> lk(m_);
    for (;;) {
      cv_.wait(lk, [this] { return stop_ || job_; });
      if (stop_) return;
      std::function<Result()> f = std::move(job_);
      job_ = nullptr;
      lk.unlock();
      Result r = f();
      lk.lock();
      result_ = std::move(r);
      cv_.notify_all();
    }
  }

  std::mutex m_;
  std::condition_variable cv_;
  std::function<Result()> job_;
  std::optional<Result> result_;
  bool stop_ = false;
  std::thread thread_;  // last: started once the members above exist
};

/// Arguments of a call that may wait, restricted to those that never do when the model says
/// the call would block otherwise: block=False (with or without an ignored timeout), timeout 0,
/// a negative timeout, or None (only kept when the model says the call returns at once).
struct WaitArgs {
  bool block = true;
  std::optional<double> timeout;
};
inline rc::Gen<WaitArgs> waitArgs() {
  return rc::gen::element(WaitArgs{true, std::nullopt}, WaitArgs{false, std::nullopt},
                          WaitArgs{false, 5.0}, WaitArgs{false, -1.0}, WaitArgs{true, 0.0},
                          WaitArgs{true, -1.0});
}

}  // namespace mpconform::props::state
