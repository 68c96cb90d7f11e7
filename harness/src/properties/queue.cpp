// Property "queue": producers put tagged items on a Queue (or SimpleQueue), consumers get their
// quotas probing qsize/empty/full, a drainer checks nothing is left: FIFO per producer,
// nothing lost, duplicated or invented, Empty/Full/qsize within what was possible.
//
// Processes: 0..P-1 producers, P..P+C-1 consumers, P+C the drainer (phase 1, after all).
// Objects: 0 the queue.
#include <array>

#include "mpconform/checkers/queue.hpp"
#include "producers.hpp"

namespace mpconform::properties {
namespace {

struct Consumer {
  std::uint32_t quota = 0;          // items it takes before it stops
  std::vector<CallSpec> gets;       // cycled; SimpleQueue: get(timeout), block=false = timeout 0
  std::vector<std::string> probes;  // after gets[i]: "", "qsize", "empty", "full" (same size)
  friend bool operator==(const Consumer&, const Consumer&) = default;
};
MPC_JSON_FIELDS(Consumer, quota, gets, probes)

struct QueueScenario {
  std::string type = "queue";  // "queue" or "simple_queue"
  std::int64_t maxsize = 0;    // <= 0 unbounded, else 1..16 (SimpleQueue: 0)
  std::vector<Producer> producers;  // 1..8
  std::vector<Consumer> consumers;  // 1..8
  friend bool operator==(const QueueScenario&, const QueueScenario&) = default;
};
MPC_JSON_FIELDS(QueueScenario, type, maxsize, producers, consumers)

// The share of positive get timeouts drawn in [0.1, 0.2] s instead of up to max_timeout_s.
constexpr double kLongGetShare = 0.2;

class QueueProperty final : public TypedProperty<QueueScenario> {
 public:
  QueueProperty()
      : TypedProperty("queue",
                      "producers, consumers and a drainer on a Queue or SimpleQueue: per-producer FIFO, "
                      "nothing lost or duplicated, Empty/Full/qsize/empty/full only when possible",
                      {"queue"}) {}

 protected:
  QueueScenario draw(Rng& r, const GenLimits& l) const override {
    QueueScenario s;
    s.type = r.chance(0.2) ? "simple_queue" : "queue";
    s.maxsize = (s.type == "simple_queue" || r.chance(0.4)) ? 0 : r.u(1, 8);
    s.producers = gen_producers(r, l, r.u(1, l.max_processes));
    s.consumers.resize(r.u(1, l.max_processes));
    constexpr std::array<const char*, 4> kProbes{"", "qsize", "empty", "full"};
    for (Consumer& c : s.consumers) {
      const std::uint32_t n = r.u(1, 8);
      for (std::uint32_t i = 0; i < n; ++i) {
        CallSpec g = blocking_call(r, l, true);
        // A share of the timed gets wait longer than the instant tier, so that a get that
        // sleeps through an item put during its wait can show (check_queue rule 6); they wait
        // only when the queue is empty.
        if (g.block && g.timeout && *g.timeout > 0 && r.chance(kLongGetShare)) g.timeout = r.real(0.1, 0.2);
        c.gets.push_back(g);
        c.probes.emplace_back(r.chance(0.7) ? "" : kProbes[r.u(1, 3)]);
      }
    }
    assign_quotas(r, s.consumers, total_items(s.producers));
    return s;
  }

  void verify(const QueueScenario& s) const override {
    if (s.type != "queue" && s.type != "simple_queue") bad("type", fmt::format("'{}' is not queue or simple_queue", s.type));
    if (s.maxsize > 16) bad("maxsize", fmt::format("is {}, at most 16", s.maxsize));
    if (s.type == "simple_queue" && s.maxsize > 0) bad("maxsize", "a SimpleQueue has no maxsize");
    check_producers(s.producers, 8, "producers");
    check_range(s.consumers.size(), 1, 8, "consumers");
    for (std::size_t c = 0; c < s.consumers.size(); ++c) {
      const Consumer& k = s.consumers[c];
      const std::string path = fmt::format("consumers[{}]", c);
      check_range(k.gets.size(), 1, 16, path + ".gets");
      if (k.probes.size() != k.gets.size()) bad(path + ".probes", "must have as many entries as gets");
      for (std::size_t i = 0; i < k.gets.size(); ++i) check_call(k.gets[i], fmt::format("{}.gets[{}]", path, i));
      for (std::size_t i = 0; i < k.probes.size(); ++i) {
        const std::string& p = k.probes[i];
        if (p != "" && p != "qsize" && p != "empty" && p != "full")
          bad(fmt::format("{}.probes[{}]", path, i), fmt::format("unknown probe '{}'", p));
      }
    }
    check_quotas(s.consumers, total_items(s.producers), "consumers");
  }

  std::string describe_scenario(const QueueScenario& s) const override {
    return fmt::format("{}: {} producers, {} items, {} consumers, maxsize {}",
                       s.type == "queue" ? "Queue" : "SimpleQueue", s.producers.size(),
                       total_items(s.producers), s.consumers.size(), s.maxsize);
  }

  std::vector<QueueScenario> shrink(const QueueScenario& s) const override {
    std::vector<QueueScenario> out;
    shrink_producers(s, out);
    QueueScenario c = s;
    for (Consumer& k : c.consumers) std::fill(k.probes.begin(), k.probes.end(), "");
    out.push_back(std::move(c));
    return out;
  }

  Plan make_plan(const QueueScenario& s) const override {
    Plan plan;
    PlanObject q;
    q.type = s.type == "simple_queue" ? ObjectType::simple_queue : ObjectType::queue;
    q.maxsize = s.maxsize;
    plan.objects.push_back(q);
    const auto P = static_cast<std::uint32_t>(s.producers.size());
    const auto C = static_cast<std::uint32_t>(s.consumers.size());
    for (std::uint32_t p = 0; p < P; ++p)
      plan.processes.push_back({p, fmt::format("producer {}", p), 0, {}, producer_steps(s.producers[p], p, 0)});
    for (std::uint32_t c = 0; c < C; ++c) {
      const Consumer& k = s.consumers[c];
      Step st = step(StepOp::consume, 0);
      st.quota = k.quota;
      st.gets = k.gets;
      st.probes = k.probes;
      plan.processes.push_back({P + c, fmt::format("consumer {}", c), 0, {}, {st}});
    }
    Step drain = step(StepOp::drain, 0);
    drain.limit = static_cast<std::uint32_t>(total_items(s.producers) + 16);
    plan.processes.push_back({P + C, "drainer", 1, {}, {drain}});
    return plan;
  }

  Verdict judge(const QueueScenario& s, const History& h, Profile profile) const override {
    QueueCheckOptions o;
    o.maxsize = s.maxsize;
    o.simple_queue = s.type == "simple_queue";
    o.drained = drained(s, h);
    o.cpython_racy_get = o.cpython_racy_empty = profile == Profile::cpython;
    return check_queue(h, o);
  }

  std::vector<LinearizabilityOptions> models_of(const QueueScenario& s, const History& h) const override {
    LinearizabilityOptions o;
    o.kind = s.type == "simple_queue" ? LinearizableKind::simple_queue : LinearizableKind::queue;
    o.maxsize = s.maxsize;
    o.drained = drained(s, h);
    return {o};
  }

 private:
  // The drainer's last get raised Empty: the queue ended empty.
  static bool drained(const QueueScenario& s, const History& h) {
    return ended_with(h, static_cast<std::uint32_t>(s.producers.size() + s.consumers.size()), OpKind::get,
                      ErrorKind::Empty);
  }
};

}  // namespace

const Property& queue_property() {
  static const QueueProperty p;
  return p;
}

}  // namespace mpconform::properties
