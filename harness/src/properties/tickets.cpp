// Property "tickets": the seed program's ticket grab. Buyers, each under the lock, read the count
// of tickets left and, if any, write it back one lower; a final reader reads the count. Sold ==
// min(buyers, tickets), the count never goes negative, no ticket or buyer is sold twice. The
// count lives in a file guarded by a Lock, or in a shared Value under its own lock.
//
// Processes: buyer b is process b; B (phase 1) the reader. Objects: file store: 0 the ticket
// file, 1 the Lock; value store: 0 the Value (its own lock).
#include <array>

#include "mpconform/checkers/tickets.hpp"
#include "support.hpp"

namespace mpconform::properties {
namespace {

struct Buyer {
  std::uint32_t start_delay_us = 0;
  std::uint32_t pause_us = 0;  // between reading and writing the count
  std::uint32_t attempts = 1;  // tries until it has a ticket: 1..3
  friend bool operator==(const Buyer&, const Buyer&) = default;
};
MPC_JSON_FIELDS(Buyer, start_delay_us, pause_us, attempts)

struct TicketScenario {
  std::string store = "value";  // "file" or "value"
  std::uint32_t tickets = 0;    // 0..16
  std::vector<Buyer> buyers;    // 1..8
  friend bool operator==(const TicketScenario&, const TicketScenario&) = default;
};
MPC_JSON_FIELDS(TicketScenario, store, tickets, buyers)

class TicketsProperty final : public TypedProperty<TicketScenario> {
 public:
  TicketsProperty()
      : TypedProperty("tickets",
                      "buyers grab tickets under a lock (a file with a Lock, or a Value's own lock): never oversold, "
                      "sold == min(buyers, tickets)",
                      {"tickets"}) {}

 protected:
  TicketScenario draw(Rng& r, const GenLimits& l) const override {
    TicketScenario s;
    s.store = r.chance(0.5) ? "file" : "value";
    s.tickets = r.u(0, 10);
    s.buyers.resize(r.u(1, l.max_processes));
    for (Buyer& b : s.buyers) {
      b.start_delay_us = r.delay(l.max_delay_us);
      b.pause_us = r.chance(0.3) ? 0 : r.u(0, l.max_delay_us);
      b.attempts = r.u(1, 3);
    }
    return s;
  }

  void verify(const TicketScenario& s) const override {
    if (s.store != "file" && s.store != "value") bad("store", fmt::format("'{}' is not file or value", s.store));
    check_range(s.tickets, 0, 16, "tickets");
    check_range(s.buyers.size(), 1, 8, "buyers");
    for (std::size_t b = 0; b < s.buyers.size(); ++b) {
      const std::string path = fmt::format("buyers[{}]", b);
      check_range(s.buyers[b].attempts, 1, 3, path + ".attempts");
      check_delay(s.buyers[b].start_delay_us, path + ".start_delay_us");
      check_delay(s.buyers[b].pause_us, path + ".pause_us");
    }
  }

  std::string describe_scenario(const TicketScenario& s) const override {
    return fmt::format("tickets on a {}: {} tickets, {} buyers", s.store == "file" ? "file" : "shared Value",
                       s.tickets, s.buyers.size());
  }

  std::vector<TicketScenario> shrink(const TicketScenario& s) const override {
    std::vector<TicketScenario> out;
    fewer(s, &TicketScenario::buyers, out, 2);
    if (s.tickets > 0) {
      TicketScenario c = s;
      c.tickets /= 2;
      out.push_back(std::move(c));
    }
    TicketScenario one = s;
    for (Buyer& b : one.buyers) b.attempts = 1;
    out.push_back(std::move(one));
    return out;
  }

  Plan make_plan(const TicketScenario& s) const override {
    Plan plan;
    PlanObject store;
    store.type = s.store == "file" ? ObjectType::ticket_file : ObjectType::value;
    store.initial = s.tickets;
    plan.objects.push_back(store);
    std::uint32_t lock = 0;  // a Value's own lock
    if (s.store == "file") {
      PlanObject l;
      l.type = ObjectType::lock;
      plan.objects.push_back(l);
      lock = 1;
    }
    const auto B = static_cast<std::uint32_t>(s.buyers.size());
    for (std::uint32_t i = 0; i < B; ++i) {
      Step st = step(StepOp::buy, lock);
      st.record = 0;
      st.store = 0;
      st.attempts = s.buyers[i].attempts;
      st.hold_us = s.buyers[i].pause_us;
      st.call.delay_us = s.buyers[i].start_delay_us;
      plan.processes.push_back({i, fmt::format("buyer {}", i), 0, {}, {st}});
    }
    plan.processes.push_back({B, "reader", 1, {}, {step(StepOp::read, 0)}});
    return plan;
  }

  Verdict judge(const TicketScenario& s, const History& h, Profile) const override {
    TicketCheckOptions o;
    o.tickets = s.tickets;
    o.buyers = static_cast<std::int64_t>(s.buyers.size());
    return check_tickets(h, o);
  }
};

}  // namespace

const Property& tickets_property() {
  static const TicketsProperty p;
  return p;
}

}  // namespace mpconform::properties
