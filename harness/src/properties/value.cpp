// Property "value": workers do `with v.get_lock(): v.value += 1` with a pause inside, a final
// reader reads the value: no update is lost.
//
// Processes: worker w is process w; W (phase 1) the reader. Objects: 0 the Value.
#include <array>

#include "mpconform/checkers/value.hpp"
#include "support.hpp"

namespace mpconform::properties {
namespace {

struct ValueScenario {
  std::uint64_t initial = 0;
  /// workers[w][i]: the pause (us) between the read and the write of increment i of worker w.
  std::vector<std::vector<std::uint32_t>> workers;  // 1..8 workers, 1..32 increments each
  friend bool operator==(const ValueScenario&, const ValueScenario&) = default;
};
MPC_JSON_FIELDS(ValueScenario, initial, workers)

class ValueProperty final : public TypedProperty<ValueScenario> {
 public:
  ValueProperty()
      : TypedProperty("value",
                      "workers increment a shared Value under its own lock, a reader reads it: no update lost",
                      {"value"}) {}

 protected:
  ValueScenario draw(Rng& r, const GenLimits& l) const override {
    ValueScenario s;
    s.initial = r.u(0, 1000);
    s.workers.resize(r.u(1, l.max_processes));
    for (auto& w : s.workers) {
      w.resize(r.u(1, std::min<std::uint32_t>(l.max_items, 32)));
      for (std::uint32_t& d : w) d = r.chance(0.5) ? 0 : r.u(0, l.max_delay_us / 2);
    }
    return s;
  }

  void verify(const ValueScenario& s) const override {
    check_range(s.workers.size(), 1, 8, "workers");
    for (std::size_t w = 0; w < s.workers.size(); ++w) {
      check_range(s.workers[w].size(), 1, 32, fmt::format("workers[{}]", w));
      for (std::size_t i = 0; i < s.workers[w].size(); ++i) check_delay(s.workers[w][i], fmt::format("workers[{}][{}]", w, i));
    }
    if (s.initial > (std::uint64_t{1} << 40)) bad("initial", "exceeds 2^40");
  }

  std::string describe_scenario(const ValueScenario& s) const override {
    std::size_t m = 0;
    for (const auto& w : s.workers) m += w.size();
    return fmt::format("Value: {} workers, {} increments", s.workers.size(), m);
  }

  std::vector<ValueScenario> shrink(const ValueScenario& s) const override {
    std::vector<ValueScenario> out;
    fewer(s, &ValueScenario::workers, out, 2);
    shorter_each(s, &ValueScenario::workers, out);
    return out;
  }

  Plan make_plan(const ValueScenario& s) const override {
    Plan plan;
    PlanObject v;
    v.type = ObjectType::value;
    v.initial = s.initial;
    plan.objects.push_back(v);
    const auto W = static_cast<std::uint32_t>(s.workers.size());
    for (std::uint32_t w = 0; w < W; ++w) {
      std::vector<Step> steps;
      for (std::uint32_t think : s.workers[w]) {
        Step st = step(StepOp::increment, 0);
        st.hold_us = think;
        steps.push_back(st);
      }
      plan.processes.push_back({w, fmt::format("worker {}", w), 0, {}, std::move(steps)});
    }
    plan.processes.push_back({W, "reader", 1, {}, {step(StepOp::read, 0)}});
    return plan;
  }

  Verdict judge(const ValueScenario& s, const History& h, Profile) const override {
    ValueCheckOptions o;
    o.initial = static_cast<std::int64_t>(s.initial);
    o.results_recorded = true;
    return check_value(h, o);
  }
};

}  // namespace

const Property& value_property() {
  static const ValueProperty p;
  return p;
}

}  // namespace mpconform::properties
