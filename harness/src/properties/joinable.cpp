// Property "joinable": JoinableQueue producers, consumers (get, pause, task_done) and joiners:
// join never returns while a task is unfinished, the count is exact, a task_done too many
// raises ValueError; the queue rules hold too.
//
// Processes: producers 0..P-1, consumers P..P+C-1, joiners after them, then (phase 1) one
// process that calls task_done extra_task_done times (each must raise ValueError) and join()
// (must return at once). Objects: 0 the JoinableQueue.
#include <array>

#include "mpconform/checkers/joinable.hpp"
#include "mpconform/checkers/queue.hpp"
#include "mpconform/tiers.hpp"
#include "producers.hpp"

namespace mpconform::properties {
namespace {

struct JoinableConsumer {
  std::uint32_t quota = 0;
  std::vector<CallSpec> gets;       // cycled, 1..16
  std::uint32_t task_pause_us = 0;  // between get and task_done
  friend bool operator==(const JoinableConsumer&, const JoinableConsumer&) = default;
};
MPC_JSON_FIELDS(JoinableConsumer, quota, gets, task_pause_us)

struct JoinableScenario {
  std::int64_t maxsize = 0;                 // <= 0 unbounded, else 1..16
  std::vector<Producer> producers;          // 1..4
  std::vector<JoinableConsumer> consumers;  // 1..4
  std::vector<std::uint32_t> joiners;       // start delay (us) of each joiner: 1..2 joiners
  std::uint32_t extra_task_done = 1;        // 0..2
  friend bool operator==(const JoinableScenario&, const JoinableScenario&) = default;
};
MPC_JSON_FIELDS(JoinableScenario, maxsize, producers, consumers, joiners,
                                                extra_task_done)

class JoinableProperty final : public TypedProperty<JoinableScenario> {
 public:
  JoinableProperty()
      : TypedProperty("joinable",
                      "JoinableQueue producers, consumers calling task_done, joiners, an over-caller: join never early, "
                      "the task count exact, one task_done too many raises ValueError",
                      {"joinable", "queue"}) {}

 protected:
  JoinableScenario draw(Rng& r, const GenLimits& l) const override {
    JoinableScenario s;
    s.maxsize = r.chance(0.5) ? 0 : r.u(1, 8);
    s.producers = gen_producers(r, l, r.u(1, std::min<std::uint32_t>(4, l.max_processes)));
    s.consumers.resize(r.u(1, std::min<std::uint32_t>(4, l.max_processes)));
    for (JoinableConsumer& c : s.consumers) {
      const std::uint32_t n = r.u(1, 8);
      for (std::uint32_t i = 0; i < n; ++i) c.gets.push_back(blocking_call(r, l, true));
      c.task_pause_us = r.delay(l.max_delay_us);
    }
    assign_quotas(r, s.consumers, total_items(s.producers));
    s.joiners.resize(r.u(1, 2));
    for (std::uint32_t& j : s.joiners) j = r.delay(l.max_delay_us * 4);
    s.extra_task_done = r.u(0, 2);
    return s;
  }

  void verify(const JoinableScenario& s) const override {
    if (s.maxsize > 16) bad("maxsize", fmt::format("is {}, at most 16", s.maxsize));
    check_producers(s.producers, 4, "producers");
    check_range(s.consumers.size(), 1, 4, "consumers");
    for (std::size_t c = 0; c < s.consumers.size(); ++c) {
      const std::string path = fmt::format("consumers[{}]", c);
      check_range(s.consumers[c].gets.size(), 1, 16, path + ".gets");
      for (std::size_t i = 0; i < s.consumers[c].gets.size(); ++i)
        check_call(s.consumers[c].gets[i], fmt::format("{}.gets[{}]", path, i));
      check_delay(s.consumers[c].task_pause_us, path + ".task_pause_us");
    }
    check_range(s.joiners.size(), 1, 2, "joiners");
    for (std::size_t j = 0; j < s.joiners.size(); ++j) check_delay(s.joiners[j], fmt::format("joiners[{}]", j));
    check_range(s.extra_task_done, 0, 2, "extra_task_done");
    check_quotas(s.consumers, total_items(s.producers), "consumers");
  }

  std::string describe_scenario(const JoinableScenario& s) const override {
    return fmt::format("JoinableQueue: {} producers, {} items, {} consumers, {} joiners, maxsize {}, {} extra task_done",
                       s.producers.size(), total_items(s.producers), s.consumers.size(), s.joiners.size(), s.maxsize,
                       s.extra_task_done);
  }

  std::vector<JoinableScenario> shrink(const JoinableScenario& s) const override {
    std::vector<JoinableScenario> out;
    shrink_producers(s, out);
    if (s.joiners.size() > 1) {
      JoinableScenario c = s;
      c.joiners.pop_back();
      out.push_back(std::move(c));
    }
    return out;
  }

  Plan make_plan(const JoinableScenario& s) const override {
    Plan plan;
    PlanObject q;
    q.type = ObjectType::joinable_queue;
    q.maxsize = s.maxsize;
    plan.objects.push_back(q);
    const auto P = static_cast<std::uint32_t>(s.producers.size());
    const auto C = static_cast<std::uint32_t>(s.consumers.size());
    const auto J = static_cast<std::uint32_t>(s.joiners.size());
    for (std::uint32_t p = 0; p < P; ++p)
      plan.processes.push_back({p, fmt::format("producer {}", p), 0, {}, producer_steps(s.producers[p], p, 0)});
    for (std::uint32_t c = 0; c < C; ++c) {
      Step st = step(StepOp::consume, 0);
      st.quota = s.consumers[c].quota;
      st.gets = s.consumers[c].gets;
      st.task_done = true;
      st.task_pause_us = s.consumers[c].task_pause_us;
      plan.processes.push_back({P + c, fmt::format("consumer {}", c), 0, {}, {st}});
    }
    const PlanTiming t = plan_timing();
    for (std::uint32_t j = 0; j < J; ++j) {
      Step st = step(StepOp::join, 0);
      st.call.delay_us = s.joiners[j];
      st.call.timeout = t.observe;
      plan.processes.push_back({P + C + j, fmt::format("joiner {}", j), 0, {}, {st}});
    }
    std::vector<Step> over(s.extra_task_done, step(StepOp::task_done, 0));
    Step join = step(StepOp::join, 0);
    join.call.timeout = seconds(tiers::short_);
    over.push_back(join);
    plan.processes.push_back({P + C + J, "over-caller", 1, {}, std::move(over)});
    return plan;
  }

  Verdict judge(const JoinableScenario& s, const History& h, Profile profile) const override {
    QueueCheckOptions q;
    q.maxsize = s.maxsize;
    q.joinable = true;
    q.cpython_racy_get = q.cpython_racy_empty = profile == Profile::cpython;
    return first_failure({check_joinable(h, {}), check_queue(h, q)});
  }

  std::vector<LinearizabilityOptions> models_of(const JoinableScenario& s, const History& /*h*/) const override {
    LinearizabilityOptions o;
    o.kind = LinearizableKind::joinable_queue;
    o.maxsize = s.maxsize;
    return {o};
  }
};

}  // namespace

const Property& joinable_property() {
  static const JoinableProperty p;
  return p;
}

}  // namespace mpconform::properties
