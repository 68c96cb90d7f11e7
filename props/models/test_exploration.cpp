// Every model, explored breadth-first over a small alphabet of operations to a bounded depth:
// in every reachable state, every outcome is either illegal with a reason or a non-empty,
// unambiguous set; check() accepts each allowed result and returns its next state; states and
// ops print; and the model's own invariants hold. This is the exhaustive counterpart of the
// hand-written histories in the other files.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "mpconform/spec/models.hpp"
#include "replay.hpp"

namespace mpconform::spec {
namespace {

struct Explored {
  std::size_t states = 0;
  std::size_t racy_steps = 0;
  std::size_t illegal_steps = 0;
};

// Explores from `initial` with the ops of `alphabet`, at most `depth` steps deep.
template <class State, class Op>
Explored explore(const State& initial, const std::vector<Op>& alphabet, int depth,
                 const std::function<std::string(const State&)>& invariant) {
  Explored e;
  std::set<std::string> seen{initial.to_string()};
  std::deque<std::pair<State, int>> frontier{{initial, 0}};
  while (!frontier.empty()) {
    auto [s, d] = frontier.front();
    frontier.pop_front();
    ++e.states;
    const std::string broken = invariant(s);
    EXPECT_TRUE(broken.empty()) << broken << " in " << s.to_string();
    if (d == depth) continue;
    for (const Op& op : alphabet) {
      EXPECT_FALSE(op.to_string().empty());
      const Outcome<State> o = step(s, op);
      if (o.is_illegal()) {
        ++e.illegal_steps;
        EXPECT_FALSE(o.reason().empty()) << op.to_string() << " in " << s.to_string();
        continue;
      }
      if (o.is_racy()) ++e.racy_steps;
      EXPECT_TRUE(testing::unambiguous(o)) << op.to_string() << " in " << s.to_string();
      for (const auto& a : o.allowed()) {
        EXPECT_EQ(check(s, op, a.result), a.next)
            << op.to_string() << " -> " << a.result.to_string() << " in " << s.to_string();
        // A blocking call has not happened yet: it must leave the state alone.
        if (a.result.is_blocks()) {
          EXPECT_EQ(a.next, s) << op.to_string();
        }
        if (seen.insert(a.next.to_string()).second) frontier.emplace_back(a.next, d + 1);
      }
    }
  }
  return e;
}

std::vector<QueueOp> queue_alphabet() {
  using Q = QueueOp;
  return {Q::put(py::integer(1)),
          Q::put(py::integer(2), true, 0.1),
          Q::put_nowait(py::integer(3)),
          Q::get(),
          Q::get_nowait(),
          Q::get(true, -1.0),
          Q::qsize(),
          Q::empty(),
          Q::full(),
          Q::close(),
          Q::join_thread(),
          Q::task_done(),
          Q::join()};
}

std::string queue_invariant(const QueueState& s) {
  if (s.qsize() > s.capacity) return "more items than the capacity";
  if (s.unfinished < 0) return "negative unfinished count";
  if (s.kind == QueueKind::queue && s.unfinished != 0) return "a plain Queue counts tasks";
  if (!s.items.empty() && !s.feeder_started) return "items without a feeder";
  return {};
}

TEST(ModelExploration, QueueAndJoinableQueue) {
  for (const Surface surface : {Surface::cpp, Surface::python}) {
    for (const bool racy : {false, true}) {
      const QueueRaces races{racy, racy};
      const Explored q = explore<QueueState, QueueOp>(QueueState::make(2, races, surface),
                                                      queue_alphabet(), 6, queue_invariant);
      const Explored jq = explore<QueueState, QueueOp>(make_joinable_queue(2, races, surface),
                                                       queue_alphabet(), 6, queue_invariant);
      EXPECT_GT(q.states, 10u);
      EXPECT_GT(q.illegal_steps, 0u);  // task_done/join on a plain Queue
      EXPECT_GT(jq.states, q.states);  // the task count adds states
      EXPECT_EQ(racy, q.racy_steps > 0);
    }
  }
}

TEST(ModelExploration, SimpleQueue) {
  using SQ = SimpleQueueOp;
  const Explored e = explore<SimpleQueueState, SimpleQueueOp>(
      SimpleQueueState::make(),
      {SQ::put(py::integer(1)), SQ::put(py::integer(2)), SQ::get(), SQ::empty(), SQ::close()}, 5,
      [](const SimpleQueueState&) { return std::string(); });
  EXPECT_GT(e.states, 10u);
  EXPECT_EQ(e.racy_steps, 0u);
}

TEST(ModelExploration, LockRLockSemaphore) {
  using L = LockOp;
  explore<LockState, LockOp>(
      LockState::make(), {L::acquire(), L::acquire(false), L::acquire(true, -1.0), L::release()}, 4,
      [](const LockState&) { return std::string(); });
  using R = RLockOp;
  const Explored r = explore<RLockState, RLockOp>(
      RLockState::make(),
      {R::acquire(1), R::acquire(2, false), R::acquire(2, true, 0.5), R::release(1), R::release(2)},
      6, [](const RLockState& s) -> std::string {
        if (s.count < 0) return "negative count";
        if (s.owner.has_value() != (s.count > 0))
          return "owner without count or count without owner";
        return {};
      });
  EXPECT_GT(r.states, 6u);
  using S = SemaphoreOp;
  auto sem_invariant = [](const SemaphoreState& s) -> std::string {
    if (s.value < 0 || s.value > s.maxvalue) return "value out of [0, maxvalue]";
    return {};
  };
  const std::vector<SemaphoreOp> sem_ops = {S::acquire(), S::acquire(false), S::release(),
                                            S::get_value()};
  explore<SemaphoreState, SemaphoreOp>(SemaphoreState::make(1), sem_ops, 5, sem_invariant);
  explore<SemaphoreState, SemaphoreOp>(SemaphoreState::make_bounded(2), sem_ops, 5, sem_invariant);
}

TEST(ModelExploration, Pipe) {
  using P = PipeOp;
  std::vector<PipeOp> ops;
  for (const PipeEnd e : {PipeEnd::a, PipeEnd::b}) {
    for (const PipeOp& op :
         {P::send_bytes(e, "xyz"), P::send_bytes(e, ""), P::recv_bytes(e), P::recv_bytes(e, 1),
          P::poll(e), P::poll(e, std::nullopt), P::close(e), P::readable(e)}) {
      ops.push_back(op);
    }
  }
  auto invariant = [](const PipeState& s) -> std::string {
    for (const auto& end : s.ends) {
      if (end.closed && !end.inbox.empty()) return "a closed end keeps messages";
      if (end.closed && end.reset_pending) return "a closed end waits for a reset";
      if (end.reset_pending && !s.duplex) return "a reset on a simplex pipe";
    }
    return {};
  };
  for (const bool duplex : {true, false}) {
    const Explored e = explore<PipeState, PipeOp>(PipeState::make(duplex), ops, 4, invariant);
    EXPECT_GT(e.states, 10u);
    EXPECT_EQ(e.racy_steps, 0u);
  }
}

TEST(ModelExploration, Registers) {
  using Op = RegisterOp;
  const std::vector<RegisterOp> ops = {Op::set_item(0, py::integer(300)),
                                       Op::set_item(-1, py::integer(-1)),
                                       Op::get_item(2),
                                       Op::get_slice({{}, {}, -1}),
                                       Op::set_slice({0, 2, {}}, py::int_list({1, 2})),
                                       Op::len(),
                                       Op::get_value()};
  for (const char tc : std::string("bBhHiIlLqQ")) {
    explore<RegisterState, RegisterOp>(
        RegisterState::array(tc, 2), ops, 3, [tc](const RegisterState& s) -> std::string {
          for (const Value& c : s.cells) {
            if (!c.is_int() || wrap_to_typecode(tc, c.as_int()) != c.as_int()) {
              return "a cell outside the C range";
            }
          }
          return {};
        });
  }
}

TEST(ModelExploration, Process) {
  using P = ProcessOp;
  const Explored e = explore<ProcessState, ProcessOp>(
      ProcessState::make(),
      {P::start(), P::join(), P::join(0.1), P::is_alive(), P::exitcode(), P::terminate(),
       P::close(), P::set_daemon(true), P::child_exits(0), P::child_exits(-9)},
      5, [](const ProcessState& s) -> std::string {
        if (s.exitcode.has_value() != (s.phase == ProcessPhase::stopped)) {
          return "exitcode set outside the stopped phase";
        }
        return {};
      });
  EXPECT_GT(e.illegal_steps, 0u);  // exit events where no child runs
}

}  // namespace
}  // namespace mpconform::spec
