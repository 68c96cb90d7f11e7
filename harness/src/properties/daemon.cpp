// Property "daemon": a parent starts daemonic and non-daemonic children and exits; its exit
// handling terminates the daemonic ones (first) and joins the others. An observer watches the
// parent and every child end (pidfd).
//
// Processes: 0 the parent, 1 the observer, 2+i child i (started by the parent with the
// implementation's own Process). Objects: none.
#include <array>

#include "mpconform/checkers/daemon.hpp"
#include "mpconform/tiers.hpp"
#include "support.hpp"

namespace mpconform::properties {
namespace {

struct DaemonChild {
  bool daemon = true;
  std::uint32_t run_us = 0;  // non-daemonic: work time before exiting (0..50000)
  friend bool operator==(const DaemonChild&, const DaemonChild&) = default;
};
MPC_JSON_FIELDS(DaemonChild, daemon, run_us)

struct DaemonScenario {
  std::vector<DaemonChild> children;  // 1..4
  std::uint32_t parent_delay_us = 0;  // 0..20000: between the observer watching and the exit
  friend bool operator==(const DaemonScenario&, const DaemonScenario&) = default;
};
MPC_JSON_FIELDS(DaemonScenario, children, parent_delay_us)


// CPython's exit handling SIGTERMs the daemonic children *first* and only then joins the others,
// so a daemonic child is gone within a grace of the *start* of its parent's exit work, however
// long the non-daemonic ones take (X-EXIT-1). check_daemon measures from the end of the exit
// work, which a backend that ignores the daemon flag delays by joining the daemonic child.
Verdict daemon_terminated_first(const History& h) {
  // Twice `short`: the rule must tell "terminated" from "lived out its daemon life" (4 x
  // short), and a loaded machine may take a while to schedule a dying process.
  const std::int64_t grace = 2 * nanoseconds(tiers::short_);
  std::optional<std::size_t> exit;
  for (std::size_t i = 0; i < h.ops.size(); ++i)
    if (h.ops[i].process == 0 && h.ops[i].kind == OpKind::exit && h.ops[i].ok()) exit = i;
  if (!exit) return Verdict::ok();
  const std::int64_t e = h.ops[*exit].invoke_ns;
  for (std::size_t s = 0; s < h.ops.size(); ++s) {
    const Op& st = h.ops[s];
    if (st.process != 0 || st.kind != OpKind::start || !st.ok() || st.aux != 1) continue;
    for (std::size_t g = 0; g < h.ops.size(); ++g) {
      const Op& gone = h.ops[g];
      if (gone.kind != OpKind::gone || gone.value != st.value || gone.info()) continue;
      if (gone.return_ns > e + grace)
        return Verdict::illegal(
            "X-EXIT-1", {s, *exit, g},
            fmt::format("daemonic child p{} was still alive {:.3f} s after its parent began its exit work "
                        "(daemonic children are terminated first; allowed: {:.3f} s)",
                        st.value, static_cast<double>(gone.return_ns - e) / 1e9, static_cast<double>(grace) / 1e9));
    }
  }
  return Verdict::ok();
}

class DaemonProperty final : public TypedProperty<DaemonScenario> {
 public:
  DaemonProperty()
      : TypedProperty("daemon",
                      "a parent starts daemonic and non-daemonic children and exits: daemonic ones are terminated "
                      "(first), the others joined before it ends",
                      {"daemon"}, {"X-EXIT-1"}) {}

 protected:
  DaemonScenario draw(Rng& r, const GenLimits& l) const override {
    DaemonScenario s;
    s.children.resize(r.u(1, std::min<std::uint32_t>(4, l.max_processes)));
    for (DaemonChild& c : s.children) {
      c.daemon = r.chance(0.5);
      c.run_us = c.daemon ? 0 : r.u(0, 20000);
    }
    s.parent_delay_us = r.u(0, 10000);
    return s;
  }

  void verify(const DaemonScenario& s) const override {
    check_range(s.children.size(), 1, 4, "children");
    for (std::size_t i = 0; i < s.children.size(); ++i) check_range(s.children[i].run_us, 0, 50000, fmt::format("children[{}].run_us", i));
    check_range(s.parent_delay_us, 0, 20000, "parent_delay_us");
  }

  std::string describe_scenario(const DaemonScenario& s) const override {
    std::size_t d = 0;
    for (const DaemonChild& c : s.children) d += c.daemon ? 1 : 0;
    return fmt::format("daemon: {} children ({} daemonic)", s.children.size(), d);
  }

  std::vector<DaemonScenario> shrink(const DaemonScenario& s) const override {
    std::vector<DaemonScenario> out;
    for (std::size_t i = 0; s.children.size() > 1 && i < s.children.size(); ++i) {
      DaemonScenario c = s;
      c.children.erase(c.children.begin() + static_cast<std::ptrdiff_t>(i));
      out.push_back(std::move(c));
    }
    return out;
  }

  Plan make_plan(const DaemonScenario& s) const override {
    Plan plan;
    const auto N = static_cast<std::uint32_t>(s.children.size());
    Step start = step(StepOp::start_children);
    Step observe = step(StepOp::observe);
    observe.watch.push_back(0);
    for (std::uint32_t i = 0; i < N; ++i) {
      start.children.push_back({2 + i, s.children[i].daemon, s.children[i].run_us});
      observe.watch.push_back(2 + i);
    }
    Step pause = step(StepOp::sleep);
    pause.us = s.parent_delay_us;
    plan.processes.push_back({0, "parent", 0, {}, {start, pause, step(StepOp::exit_handling)}});
    plan.processes.push_back({1, "observer", 0, {}, {observe}});
    return plan;
  }

  Verdict judge(const DaemonScenario&, const History& h, Profile) const override {
    return first_failure({check_daemon(h, {}), daemon_terminated_first(h)});
  }
};

}  // namespace

const Property& daemon_property() {
  static const DaemonProperty p;
  return p;
}

}  // namespace mpconform::properties
