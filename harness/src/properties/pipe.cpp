// Property "pipe": writers send tagged messages on a simplex or duplex Pipe and close; the
// reader polls and receives until EOFError: per-direction FIFO, nothing lost, invented or
// duplicated, EOF only after every writer closed.
//
// Simplex: processes 0..W-1 write to the write end (end 1), process W reads end 0 until EOF.
// Duplex (exactly 2 writers): process 0 holds end 0, sends its messages, receives the other's,
// closes; process 1 holds end 1, sends, receives until EOFError, closes. History objects:
// direction 0 = the simplex writers' messages, or those of process 0 of a duplex pipe;
// direction 1 = those of process 1 of a duplex pipe. Message i of writer w is make_tag(w, i).
#include <array>

#include "mpconform/checkers/pipe.hpp"
#include "support.hpp"

namespace mpconform::properties {
namespace {

struct PipeWriter {
  std::vector<std::uint32_t> delays_us;  // one per message: 1..32 messages
  friend bool operator==(const PipeWriter&, const PipeWriter&) = default;
};
MPC_JSON_FIELDS(PipeWriter, delays_us)

struct PipeScenario {
  bool duplex = false;
  bool bytes = false;  // send_bytes/recv_bytes of 8-byte tags instead of send/recv (pickled)
  std::vector<PipeWriter> writers;         // simplex 1..3, duplex exactly 2
  std::vector<std::optional<double>> polls;  // reader's poll(timeout) before each recv, cycled
  friend bool operator==(const PipeScenario&, const PipeScenario&) = default;
};
MPC_JSON_FIELDS(PipeScenario, duplex, bytes, writers, polls)


std::size_t messages(const PipeScenario& s) {
  std::size_t n = 0;
  for (const PipeWriter& w : s.writers) n += w.delays_us.size();
  return n;
}

// The share of positive poll timeouts drawn in [0.1, 0.2] s instead of up to max_timeout_s.
constexpr double kLongPollShare = 0.2;

class PipeProperty final : public TypedProperty<PipeScenario> {
 public:
  PipeProperty()
      : TypedProperty("pipe",
                      "writers send on a simplex or duplex Pipe and close, readers receive until EOFError: FIFO per "
                      "direction, nothing lost, EOF only after every writer closed",
                      {"pipe"}) {}

 protected:
  PipeScenario draw(Rng& r, const GenLimits& l) const override {
    PipeScenario s;
    s.duplex = r.chance(0.4);
    s.bytes = r.chance(0.5);
    s.writers.resize(s.duplex ? 2 : r.u(1, std::min<std::uint32_t>(3, l.max_processes)));
    for (PipeWriter& w : s.writers) {
      w.delays_us.resize(r.u(1, std::min<std::uint32_t>(l.max_items, 32)));
      for (std::uint32_t& d : w.delays_us) d = r.delay(l.max_delay_us);
    }
    // Duplex: the first poll always waits. A reader whose next poll (its until_quiet one) gives up
    // closes with the peer's messages unread, and the peer's recv then raises ConnectionResetError:
    // a crash that would hide the clause of a poll that slept through (rule 8).
    s.polls.resize(r.u(s.duplex ? 1 : 0, 4));
    for (std::size_t i = 0; i < s.polls.size(); ++i) {
      auto& t = s.polls[i];
      const std::uint32_t pick = r.u(s.duplex && i == 0 ? 4 : 0, 9);
      t = pick < 3 ? std::optional<double>(0.0) : pick < 4 ? std::nullopt : std::optional<double>(r.real(0.001, l.max_timeout_s));
      // Longer than the instant tier, so that a poll that sleeps through a send or the last
      // close during its wait can show (check_pipe rule 8); they wait only while nothing is readable.
      if (t && *t > 0 && r.chance(kLongPollShare)) t = r.real(0.1, 0.2);
    }
    return s;
  }

  void verify(const PipeScenario& s) const override {
    if (s.duplex)
      check_range(s.writers.size(), 2, 2, "writers");
    else
      check_range(s.writers.size(), 1, 3, "writers");
    for (std::size_t w = 0; w < s.writers.size(); ++w) {
      check_range(s.writers[w].delays_us.size(), 1, 32, fmt::format("writers[{}].delays_us", w));
      for (std::size_t k = 0; k < s.writers[w].delays_us.size(); ++k)
        check_delay(s.writers[w].delays_us[k], fmt::format("writers[{}].delays_us[{}]", w, k));
    }
    check_range(s.polls.size(), 0, 16, "polls");
    for (std::size_t i = 0; i < s.polls.size(); ++i)
      if (s.polls[i] && (!std::isfinite(*s.polls[i]) || *s.polls[i] > 10)) bad(fmt::format("polls[{}]", i), "at most 10 s");
  }

  std::string describe_scenario(const PipeScenario& s) const override {
    return fmt::format("{} Pipe: {} writers, {} messages{}", s.duplex ? "duplex" : "simplex", s.writers.size(),
                       messages(s), s.bytes ? " (send_bytes/recv_bytes)" : "");
  }

  std::vector<PipeScenario> shrink(const PipeScenario& s) const override {
    std::vector<PipeScenario> out;
    if (!s.duplex) fewer(s, &PipeScenario::writers, out, 1);
    for (std::size_t keep : {std::size_t{2}, std::size_t{0}}) {
      PipeScenario c = s;
      for (PipeWriter& w : c.writers) w.delays_us.resize(keep ? std::min(keep, w.delays_us.size()) : (w.delays_us.size() + 1) / 2);
      out.push_back(std::move(c));
    }
    if (!s.polls.empty()) {
      PipeScenario c = s;
      c.polls.clear();
      out.push_back(std::move(c));
    }
    return out;
  }

  static std::vector<Step> sends(const PipeWriter& w, std::uint32_t writer, std::uint32_t end, std::uint32_t record,
                                 bool bytes) {
    std::vector<Step> steps;
    for (std::size_t k = 0; k < w.delays_us.size(); ++k) {
      Step st = step(StepOp::send, 0);
      st.end = end;
      st.record = record;
      st.item = make_tag(writer, k);
      st.bytes = bytes;
      st.call.delay_us = w.delays_us[k];
      steps.push_back(st);
    }
    return steps;
  }

  static Step end_step(StepOp op, std::uint32_t end, std::uint32_t record) {
    Step st = step(op, 0);
    st.end = end;
    st.record = record;
    return st;
  }

  Plan make_plan(const PipeScenario& s) const override {
    Plan plan;
    PlanObject pipe;
    pipe.type = ObjectType::pipe;
    pipe.duplex = s.duplex;
    plan.objects.push_back(pipe);
    const auto total = static_cast<std::uint32_t>(messages(s));
    if (!s.duplex) {
      const auto W = static_cast<std::uint32_t>(s.writers.size());
      for (std::uint32_t w = 0; w < W; ++w) {
        std::vector<Step> steps = sends(s.writers[w], w, 1, 0, s.bytes);
        steps.push_back(end_step(StepOp::close, 1, 0));
        plan.processes.push_back({w, fmt::format("writer {}", w), 0, {{0, 0}}, std::move(steps)});
      }
      Step read = end_step(StepOp::recv_all, 0, 0);
      read.polls = s.polls;
      read.bytes = s.bytes;
      read.limit = total + 8;
      plan.processes.push_back({W, "reader", 0, {{0, 1}}, {read}});
      return plan;
    }
    const auto n1 = static_cast<std::uint32_t>(s.writers[1].delays_us.size());
    std::vector<Step> first = sends(s.writers[0], 0, 0, 0, s.bytes);
    Step read0 = end_step(StepOp::recv_all, 0, 1);
    read0.polls = s.polls;
    read0.bytes = s.bytes;
    read0.limit = n1;
    read0.until_quiet = true;
    first.push_back(read0);
    first.push_back(end_step(StepOp::close, 0, 0));
    plan.processes.push_back({0, "end 0", 0, {{0, 1}}, std::move(first)});
    std::vector<Step> second = sends(s.writers[1], 1, 1, 1, s.bytes);
    Step read1 = end_step(StepOp::recv_all, 1, 0);
    read1.polls = s.polls;
    read1.bytes = s.bytes;
    read1.limit = total + 8;
    second.push_back(read1);
    second.push_back(end_step(StepOp::close, 1, 1));
    plan.processes.push_back({1, "end 1", 0, {{0, 0}}, std::move(second)});
    return plan;
  }

  Verdict judge(const PipeScenario& s, const History& h, Profile) const override {
    if (!s.duplex) {
      PipeCheckOptions o;
      for (std::uint32_t w = 0; w < s.writers.size(); ++w) o.writers.push_back(w);
      o.drained = drained(s, h);
      return check_pipe(h, o);
    }
    PipeCheckOptions d0;
    d0.object = 0;
    d0.writers = {0};
    // end 1 reads direction 0 until EOF, then records its close (on object 1).
    for (const Op& op : h.ops)
      if (op.process == 1 && op.kind == OpKind::recv && op.object == 0 && op.failed() && op.error == ErrorKind::EOFError)
        d0.drained = true;
    PipeCheckOptions d1;
    d1.object = 1;
    d1.writers = {1};
    return first_failure({check_pipe(h, d0), check_pipe(h, d1)});
  }

  // Simplex only: a duplex pipe's two directions share their ends (closing one closes both),
  // which one direction's model does not say.
  std::vector<LinearizabilityOptions> models_of(const PipeScenario& s, const History& h) const override {
    if (s.duplex) return {};
    LinearizabilityOptions o;
    o.kind = LinearizableKind::pipe;
    for (std::uint32_t w = 0; w < s.writers.size(); ++w) o.writers.push_back(w);
    o.drained = drained(s, h);
    return {o};
  }

 private:
  // Simplex: the reader (the process after the writers) read until EOF.
  static bool drained(const PipeScenario& s, const History& h) {
    return ended_with(h, static_cast<std::uint32_t>(s.writers.size()), OpKind::recv, ErrorKind::EOFError);
  }
};

}  // namespace

const Property& pipe_property() {
  static const PipeProperty p;
  return p;
}

}  // namespace mpconform::properties
