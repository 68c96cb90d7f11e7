// Property "lock": workers take a Lock or RLock with every block/timeout mix and hold it for a
// while: no two critical sections overlap, a failed acquire means someone held it; RLock
// recursion (depth 1..3) and releases by a non-owner (must raise AssertionError).
//
// Processes: worker w is process w. Objects: 0 the lock.
#include <array>

#include "mpconform/checkers/lock.hpp"
#include "support.hpp"

namespace mpconform::properties {
namespace {

struct LockAttempt {
  CallSpec acquire;            // a failed (timed-out) acquire skips the hold
  std::uint32_t hold_us = 0;   // time inside the critical section
  std::uint32_t depth = 1;     // RLock: acquires (recursion) then as many releases; Lock: 1
  bool release_unowned_first = false;  // RLock: release() before acquiring (AssertionError)
  friend bool operator==(const LockAttempt&, const LockAttempt&) = default;
};
MPC_JSON_FIELDS(LockAttempt, acquire, hold_us, depth, release_unowned_first)

struct LockScenario {
  std::string type = "lock";                      // "lock" or "rlock"
  std::vector<std::vector<LockAttempt>> workers;  // 1..8 workers, 1..16 attempts each
  friend bool operator==(const LockScenario&, const LockScenario&) = default;
};
MPC_JSON_FIELDS(LockScenario, type, workers)

// The share of positive acquire timeouts drawn in [0.1, 0.2] s instead of up to max_timeout_s.
constexpr double kLongAcquireShare = 0.2;

class LockProperty final : public TypedProperty<LockScenario> {
 public:
  LockProperty()
      : TypedProperty("lock",
                      "workers acquire (every block/timeout mix), hold and release a Lock or RLock: sections never "
                      "overlap, a refusal means it was held, RLock ownership and recursion",
                      {"lock"}) {}

 protected:
  LockScenario draw(Rng& r, const GenLimits& l) const override {
    LockScenario s;
    s.type = r.chance(0.5) ? "rlock" : "lock";
    s.workers.resize(r.u(1, l.max_processes));
    for (auto& w : s.workers) {
      w.resize(r.u(1, std::min<std::uint32_t>(l.max_items, 16)));
      for (LockAttempt& a : w) {
        a.acquire = blocking_call(r, l, true);
        // Longer than the instant tier, so that an acquire that sleeps through a release during
        // its wait can show (check_lock rule 2c); they wait only while the lock is held.
        if (a.acquire.block && a.acquire.timeout && *a.acquire.timeout > 0 && r.chance(kLongAcquireShare))
          a.acquire.timeout = r.real(0.1, 0.2);
        a.hold_us = r.delay(l.max_delay_us);
        if (s.type == "rlock") {
          a.depth = r.u(1, 3);
          a.release_unowned_first = r.chance(0.2);
        }
      }
    }
    return s;
  }

  void verify(const LockScenario& s) const override {
    if (s.type != "lock" && s.type != "rlock") bad("type", fmt::format("'{}' is not lock or rlock", s.type));
    check_range(s.workers.size(), 1, 8, "workers");
    for (std::size_t w = 0; w < s.workers.size(); ++w) {
      check_range(s.workers[w].size(), 1, 16, fmt::format("workers[{}]", w));
      for (std::size_t i = 0; i < s.workers[w].size(); ++i) {
        const LockAttempt& a = s.workers[w][i];
        const std::string path = fmt::format("workers[{}][{}]", w, i);
        check_call(a.acquire, path + ".acquire");
        check_delay(a.hold_us, path + ".hold_us");
        check_range(a.depth, 1, s.type == "rlock" ? 3 : 1, path + ".depth");
        if (a.release_unowned_first && s.type != "rlock") bad(path + ".release_unowned_first", "is for an RLock only");
      }
    }
  }

  std::string describe_scenario(const LockScenario& s) const override {
    std::size_t a = 0;
    for (const auto& w : s.workers) a += w.size();
    return fmt::format("{}: {} workers, {} attempts", s.type == "lock" ? "Lock" : "RLock", s.workers.size(), a);
  }

  std::vector<LockScenario> shrink(const LockScenario& s) const override {
    std::vector<LockScenario> out;
    fewer(s, &LockScenario::workers, out, 2, true);
    shorter_each(s, &LockScenario::workers, out);
    LockScenario first = s;
    for (auto& w : first.workers)
      if (w.size() > 1) w.erase(w.begin());
    out.push_back(std::move(first));
    LockScenario calm = s;
    for (auto& w : calm.workers)
      for (LockAttempt& a : w) a.acquire.delay_us = 0;
    out.push_back(std::move(calm));
    return out;
  }

  Plan make_plan(const LockScenario& s) const override {
    Plan plan;
    PlanObject lock;
    lock.type = s.type == "rlock" ? ObjectType::rlock : ObjectType::lock;
    plan.objects.push_back(lock);
    for (std::uint32_t w = 0; w < s.workers.size(); ++w) {
      std::vector<Step> steps;
      for (const LockAttempt& a : s.workers[w]) {
        Step st = step(StepOp::critical_section, 0);
        st.call = a.acquire;
        st.depth = a.depth;
        st.hold_us = a.hold_us;
        st.release_unowned_first = a.release_unowned_first;
        steps.push_back(st);
      }
      plan.processes.push_back({w, fmt::format("worker {}", w), 0, {}, std::move(steps)});
    }
    return plan;
  }

  Verdict judge(const LockScenario& s, const History& h, Profile) const override {
    LockCheckOptions o;
    o.reentrant = s.type == "rlock";
    return check_lock(h, o);
  }

  std::vector<LinearizabilityOptions> models_of(const LockScenario& s, const History& /*h*/) const override {
    LinearizabilityOptions o;
    o.kind = s.type == "rlock" ? LinearizableKind::rlock : LinearizableKind::lock;
    return {o};
  }
};

}  // namespace

const Property& lock_property() {
  static const LockProperty p;
  return p;
}

}  // namespace mpconform::properties
