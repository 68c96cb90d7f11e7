// Property "timeouts": calls made where they must time out (get on an empty Queue or
// SimpleQueue, put on a full Queue, acquire on a Lock / RLock the executor holds, join on a
// JoinableQueue with an unfinished task, poll on a pipe nothing is sent on, Process.join on a
// child that is still running): never early, never much later than the timeout, at once for
// block=False / zero / negative.
//
// Processes: worker w is process w; the executor's setup (filling the full queue, taking the
// locks, one unfinished task) is recorded as process W. Objects: see TimeoutObject.
#include <array>

#include "mpconform/checkers/joinable.hpp"
#include "mpconform/checkers/lock.hpp"
#include "mpconform/checkers/queue.hpp"
#include "mpconform/checkers/timeouts.hpp"
#include "support.hpp"

namespace mpconform::properties {
namespace {

enum TimeoutObject : std::uint32_t {
  kEmptyQueue = 0,
  kFullQueue = 1,
  kSimpleQueue = 2,
  kHeldLock = 3,
  kHeldRLock = 4,
  kJoinable = 5,
  kQuietPipe = 6,
};


constexpr std::array<std::string_view, 8> kOps{"queue_get",     "queue_put",     "simple_get", "lock_acquire",
                                               "rlock_acquire", "joinable_join", "pipe_poll",  "process_join"};

struct TimedCall {
  std::string op = "queue_get";  // one of kOps
  /// timeout: never None (it would block forever); zero, negative and positive up to 0.2 s.
  /// block=false only for queue_get, queue_put, lock_acquire, rlock_acquire.
  CallSpec call;
  friend bool operator==(const TimedCall&, const TimedCall&) = default;
};
MPC_JSON_FIELDS(TimedCall, op, call)

struct TimeoutScenario {
  std::int64_t full_maxsize = 1;                // the full queue's maxsize: 1..4
  std::vector<std::vector<TimedCall>> workers;  // 1..8 workers, 1..8 calls each
  friend bool operator==(const TimeoutScenario&, const TimeoutScenario&) = default;
};
MPC_JSON_FIELDS(TimeoutScenario, full_maxsize, workers)


bool may_nonblock(const std::string& op) {
  return op == "queue_get" || op == "queue_put" || op == "lock_acquire" || op == "rlock_acquire";
}

class TimeoutsProperty final : public TypedProperty<TimeoutScenario> {
 public:
  TimeoutsProperty()
      : TypedProperty("timeouts",
                      "calls that must time out (empty/full queues, held locks, an unfinished task, a quiet pipe, a live "
                      "child): never early, never much late, at once when they must not wait",
                      {"timeouts", "queue", "lock", "joinable"}) {}

 protected:
  TimeoutScenario draw(Rng& r, const GenLimits& l) const override {
    TimeoutScenario s;
    s.full_maxsize = r.u(1, 4);
    s.workers.resize(r.u(1, l.max_processes));
    for (auto& w : s.workers) {
      w.resize(r.u(1, 4));
      for (TimedCall& t : w) {
        t.op = kOps[r.u(0, 7)];
        t.call.delay_us = r.delay(l.max_delay_us);
        const std::uint32_t pick = r.u(0, 99);
        if (pick < 15 && may_nonblock(t.op)) {
          t.call.block = false;
        } else if (pick < 30) {
          t.call.timeout = 0.0;
        } else if (pick < 40) {
          t.call.timeout = -r.real(0.001, 1.0);
        } else {
          t.call.timeout = r.real(0.001, std::max(0.002, l.max_timeout_s * 2));
        }
      }
    }
    return s;
  }

  void verify(const TimeoutScenario& s) const override {
    if (s.full_maxsize < 1 || s.full_maxsize > 4) bad("full_maxsize", fmt::format("is {}, expected 1..4", s.full_maxsize));
    check_range(s.workers.size(), 1, 8, "workers");
    for (std::size_t w = 0; w < s.workers.size(); ++w) {
      check_range(s.workers[w].size(), 1, 8, fmt::format("workers[{}]", w));
      for (std::size_t i = 0; i < s.workers[w].size(); ++i) {
        const TimedCall& t = s.workers[w][i];
        const std::string path = fmt::format("workers[{}][{}]", w, i);
        if (std::find(kOps.begin(), kOps.end(), t.op) == kOps.end()) bad(path + ".op", fmt::format("unknown timed op '{}'", t.op));
        check_call(t.call, path + ".call");
        if (!t.call.timeout && t.call.block) bad(path + ".call.timeout", "a timed call needs a timeout (or block false)");
        if (t.call.timeout && *t.call.timeout > 0.2) bad(path + ".call.timeout", "exceeds 0.2 s");
        if (!t.call.block && !may_nonblock(t.op)) bad(path + ".call.block", "false only for get, put and acquire");
      }
    }
  }

  std::string describe_scenario(const TimeoutScenario& s) const override {
    std::size_t a = 0;
    for (const auto& w : s.workers) a += w.size();
    return fmt::format("timeouts: {} workers, {} timed calls", s.workers.size(), a);
  }

  std::vector<TimeoutScenario> shrink(const TimeoutScenario& s) const override {
    std::vector<TimeoutScenario> out;
    fewer(s, &TimeoutScenario::workers, out, 1, true);
    shorter_each(s, &TimeoutScenario::workers, out, 1);
    shorter_each(s, &TimeoutScenario::workers, out);
    TimeoutScenario last = s;
    for (auto& w : last.workers)
      if (w.size() > 1) w.erase(w.begin());
    out.push_back(std::move(last));
    return out;
  }

  Plan make_plan(const TimeoutScenario& s) const override {
    Plan plan;
    auto object = [&](ObjectType t, std::int64_t maxsize = 0, bool duplex = true) {
      PlanObject o;
      o.type = t;
      o.maxsize = maxsize;
      o.duplex = duplex;
      plan.objects.push_back(o);
    };
    object(ObjectType::queue);                  // kEmptyQueue
    object(ObjectType::queue, s.full_maxsize);  // kFullQueue
    object(ObjectType::simple_queue);           // kSimpleQueue
    object(ObjectType::lock);                   // kHeldLock
    object(ObjectType::rlock);                  // kHeldRLock
    object(ObjectType::joinable_queue);         // kJoinable
    object(ObjectType::pipe, 0, false);         // kQuietPipe
    const auto W = static_cast<std::uint32_t>(s.workers.size());
    plan.setup_process = W;
    // The executor brings every object to the state where its timed calls must time out.
    for (std::int64_t i = 0; i < s.full_maxsize; ++i) {
      Step put = step(StepOp::put, kFullQueue);
      put.item = make_tag(W, static_cast<std::uint64_t>(i));
      put.call.block = false;
      plan.setup.push_back(put);
    }
    for (std::uint32_t lock : {kHeldLock, kHeldRLock}) {
      Step acquire = step(StepOp::acquire, lock);
      acquire.call.block = false;
      plan.setup.push_back(acquire);
    }
    Step task = step(StepOp::put, kJoinable);
    task.item = make_tag(W, 1000);
    task.call.block = false;
    plan.setup.push_back(task);

    for (std::uint32_t w = 0; w < W; ++w) {
      std::vector<Step> steps;
      std::uint64_t seq = 0;
      for (const TimedCall& t : s.workers[w]) {
        Step st;
        if (t.op == "queue_get") st = step(StepOp::get, kEmptyQueue);
        else if (t.op == "simple_get") st = step(StepOp::get, kSimpleQueue);
        else if (t.op == "queue_put") {
          st = step(StepOp::put, kFullQueue);
          st.item = make_tag(w, seq++);
        } else if (t.op == "lock_acquire") st = step(StepOp::critical_section, kHeldLock);
        else if (t.op == "rlock_acquire") st = step(StepOp::critical_section, kHeldRLock);
        else if (t.op == "joinable_join") st = step(StepOp::join, kJoinable);
        else if (t.op == "pipe_poll") st = step(StepOp::poll, kQuietPipe);
        else st = step(StepOp::timed_process_join);
        st.call = t.call;
        steps.push_back(st);
      }
      plan.processes.push_back({w, fmt::format("worker {}", w), 0, {}, std::move(steps)});
    }
    return plan;
  }

  Verdict judge(const TimeoutScenario& s, const History& h, Profile profile) const override {
    const bool racy = profile == Profile::cpython;
    QueueCheckOptions empty;
    empty.object = kEmptyQueue;
    empty.cpython_racy_get = empty.cpython_racy_empty = racy;
    QueueCheckOptions full;
    full.object = kFullQueue;
    full.maxsize = s.full_maxsize;
    full.cpython_racy_get = full.cpython_racy_empty = racy;
    QueueCheckOptions simple;
    simple.object = kSimpleQueue;
    simple.simple_queue = true;
    simple.cpython_racy_get = simple.cpython_racy_empty = racy;
    LockCheckOptions lock;
    lock.object = kHeldLock;
    LockCheckOptions rlock;
    rlock.object = kHeldRLock;
    rlock.reentrant = true;
    JoinableCheckOptions joinable;
    joinable.object = kJoinable;
    return first_failure({check_timeouts(h), check_queue(h, empty), check_queue(h, full), check_queue(h, simple),
                          check_lock(h, lock), check_lock(h, rlock), check_joinable(h, joinable)});
  }
};

}  // namespace

const Property& timeouts_property() {
  static const TimeoutsProperty p;
  return p;
}

}  // namespace mpconform::properties
