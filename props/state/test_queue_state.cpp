// State-machine tests of mpref's Queue, JoinableQueue and SimpleQueue against spec/models
// (queue.hpp, joinable_queue.hpp, simple_queue.hpp), single process, calls that never wait.
// Plus the proof that the test can fail: the same commands against a queue that drops every
// third put must be refuted.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <cstdint>
#include <optional>

#include "clause.hpp"
#include "mpref/queues.hpp"
#include "rc_glue.hpp"
#include "state_support.hpp"

namespace mpconform::props::state {
namespace {

using spec::QueueOp;
using spec::QueueState;
using Item = std::int64_t;

// A Queue or JoinableQueue of Item, optionally broken: with drop_every = n > 0, every n-th put
// that would succeed returns without putting anything (the item is lost).
template <class Q>
struct QueueSut {
  explicit QueueSut(std::int64_t maxsize, int drop = 0) : q(maxsize), drop_every(drop) {}
  // put(item, True, None) is made with block_bound() instead (mpref::Full then means blocks).
  void put(Item item, bool block, std::optional<double> timeout, bool nowait) {
    if (drop_every > 0 && !q.closed() && !q.full() && ++puts % drop_every == 0) return;
    if (nowait)
      q.put_nowait(item);
    else
      q.put(item, block, block && !timeout ? std::optional<double>(block_bound()) : timeout);
  }
  Q q;
  int drop_every;
  int puts = 0;
};

template <class Sut>
using QueueCommand = ModelCommand<QueueState, QueueOp, Sut>;

template <class Sut>
struct Put : QueueCommand<Sut> {
  Item item = *rc::gen::inRange<Item>(0, 100);
  WaitArgs w = *waitArgs();
  bool nowait = !w.block && !w.timeout && *rc::gen::arbitrary<bool>();
  QueueOp op() const override {
    return nowait ? QueueOp::put_nowait(py(item)) : QueueOp::put(py(item), w.block, w.timeout);
  }
  Result call(Sut& s) const override {
    auto put = [&] {
      s.put(item, w.block, w.timeout, nowait);
      return spec::Value();
    };
    return w.block && !w.timeout ? observe_bounded<mpref::Full>(put) : observe(put);
  }
};

template <class Sut>
struct Get : QueueCommand<Sut> {
  WaitArgs w = *waitArgs();
  bool nowait = !w.block && !w.timeout && *rc::gen::arbitrary<bool>();
  QueueOp op() const override {
    return nowait ? QueueOp::get_nowait() : QueueOp::get(w.block, w.timeout);
  }
  Result call(Sut& s) const override {
    if (w.block && !w.timeout)
      return observe_bounded<mpref::Empty>([&] { return py(s.q.get(true, block_bound())); });
    return observe([&] { return py(nowait ? s.q.get_nowait() : s.q.get(w.block, w.timeout)); });
  }
};

template <class Sut>
struct QSize : QueueCommand<Sut> {
  QueueOp op() const override { return QueueOp::qsize(); }
  Result call(Sut& s) const override { return observe([&] { return py(s.q.qsize()); }); }
};

template <class Sut>
struct Empty : QueueCommand<Sut> {
  QueueOp op() const override { return QueueOp::empty(); }
  Result call(Sut& s) const override { return observe([&] { return py(s.q.empty()); }); }
};

template <class Sut>
struct Full : QueueCommand<Sut> {
  QueueOp op() const override { return QueueOp::full(); }
  Result call(Sut& s) const override { return observe([&] { return py(s.q.full()); }); }
};

template <class Sut>
struct Close : QueueCommand<Sut> {
  // Rare: after close() most calls only raise.
  Close() { RC_PRE(*rc::gen::inRange(0, 8) == 0); }
  QueueOp op() const override { return QueueOp::close(); }
  Result call(Sut& s) const override {
    return observe([&] {
      s.q.close();
      return spec::Value();
    });
  }
};

template <class Sut>
struct JoinThread : QueueCommand<Sut> {
  QueueOp op() const override { return QueueOp::join_thread(); }
  Result call(Sut& s) const override {
    return observe([&] {
      s.q.join_thread();
      return spec::Value();
    });
  }
};

template <class Sut>
struct CancelJoinThread : QueueCommand<Sut> {
  QueueOp op() const override { return QueueOp::cancel_join_thread(); }
  Result call(Sut& s) const override {
    return observe([&] {
      s.q.cancel_join_thread();
      return spec::Value();
    });
  }
};

template <class Sut>
struct TaskDone : QueueCommand<Sut> {
  QueueOp op() const override { return QueueOp::task_done(); }
  Result call(Sut& s) const override {
    return observe([&] {
      s.q.task_done();
      return spec::Value();
    });
  }
};

template <class Sut>
struct Join : QueueCommand<Sut> {
  QueueOp op() const override { return QueueOp::join(); }
  Result call(Sut& s) const override {
    // join() with block_bound() (an mpref extension) instead of forever: false means blocks.
    bool joined = false;
    const Result r = observe([&] {
      joined = s.q.join(std::optional<double>(block_bound()));
      return spec::Value();
    });
    return r.returned() && !joined ? Result::blocks() : r;
  }
};

using QSut = QueueSut<mpref::Queue<Item>>;
using JQSut = QueueSut<mpref::JoinableQueue<Item>>;

auto queue_commands() {
  return rc::state::gen::execOneOfWithArgs<Put<QSut>, Put<QSut>, Get<QSut>, Get<QSut>,
                                           QSize<QSut>, Empty<QSut>, Full<QSut>, Close<QSut>,
                                           JoinThread<QSut>, CancelJoinThread<QSut>>();
}

auto joinable_commands() {
  return rc::state::gen::execOneOfWithArgs<Put<JQSut>, Put<JQSut>, Get<JQSut>, QSize<JQSut>,
                                           Empty<JQSut>, Full<JQSut>, Close<JQSut>,
                                           TaskDone<JQSut>, TaskDone<JQSut>, Join<JQSut>>();
}

rc::Gen<std::int64_t> maxsizes() { return rc::gen::element<std::int64_t>(0, -3, 1, 2, 3, 5); }

MPC_RC_GTEST_PROP(state, Queue, 200, ()) {
  MPC_CLAUSE("Q-PUT-1", "Q-FULL-1", "Q-FULL-2", "Q-FULL-4", "Q-FULL-5", "Q-FULL-6", "Q-FULL-7",
             "Q-GET-3", "Q-GET-4", "Q-GET-5", "Q-EMPTY-1", "Q-EMPTY-2", "Q-EMPTY-4", "Q-EMPTY-5",
             "Q-EMPTY-6", "Q-SIZE-2", "Q-SIZE-3", "Q-SIZE-5", "Q-MAX-3", "Q-ORDER-1", "Q-CLOSE-1",
             "Q-CLOSE-4", "Q-CLOSE-5", "Q-CLOSE-9");
  const std::int64_t maxsize = *maxsizes();
  QSut sut(maxsize);
  check_commands(QueueState::make(maxsize), sut, queue_commands());
}

MPC_RC_GTEST_PROP(state, JoinableQueue, 200, ()) {
  MPC_CLAUSE("JQ-1", "JQ-2", "JQ-3", "JQ-5", "JQ-7", "JQ-10", "JQ-11", "JQ-12", "JQ-13");
  const std::int64_t maxsize = *maxsizes();
  JQSut sut(maxsize);
  check_commands(spec::make_joinable_queue(maxsize), sut, joinable_commands());
}

// ---- SimpleQueue ----------------------------------------------------------------------------

using spec::SimpleQueueOp;
using spec::SimpleQueueState;
using SQ = mpref::SimpleQueue<Item>;

struct SPut : ModelCommand<SimpleQueueState, SimpleQueueOp, SQ> {
  Item item = *rc::gen::inRange<Item>(0, 100);
  SimpleQueueOp op() const override { return SimpleQueueOp::put(py(item)); }
  Result call(SQ& q) const override {
    return observe([&] {
      q.put(item);
      return spec::Value();
    });
  }
};

struct SGet : ModelCommand<SimpleQueueState, SimpleQueueOp, SQ> {
  SimpleQueueOp op() const override { return SimpleQueueOp::get(); }
  Result call(SQ& q) const override {
    return observe_bounded<mpref::Empty>([&] { return py(q.get(block_bound())); });
  }
};

struct SEmpty : ModelCommand<SimpleQueueState, SimpleQueueOp, SQ> {
  SimpleQueueOp op() const override { return SimpleQueueOp::empty(); }
  Result call(SQ& q) const override { return observe([&] { return py(q.empty()); }); }
};

struct SClose : ModelCommand<SimpleQueueState, SimpleQueueOp, SQ> {
  SClose() { RC_PRE(*rc::gen::inRange(0, 8) == 0); }
  SimpleQueueOp op() const override { return SimpleQueueOp::close(); }
  Result call(SQ& q) const override {
    return observe([&] {
      q.close();
      return spec::Value();
    });
  }
};

MPC_RC_GTEST_PROP(state, SimpleQueue, 200, ()) {
  MPC_CLAUSE("SQ-4", "SQ-8", "SQ-11");
  SQ q;
  check_commands(SimpleQueueState::make(), q,
                   rc::state::gen::execOneOfWithArgs<SPut, SPut, SGet, SEmpty, SClose>());
}

// ---- the test can fail ------------------------------------------------------------------------

// A Queue that drops every third put: the state test must find a counterexample.
TEST(state_catches, QueueThatDropsPuts) {
  EXPECT_FALSE(rc::check("a Queue that drops every third put", [] {
    const std::int64_t maxsize = *maxsizes();
    QSut sut(maxsize, 3);
    rc::state::check(QueueState::make(maxsize), sut, queue_commands());
  }));
}

// A JoinableQueue that drops every second put (item and task count): the model's items and
// count no longer match.
TEST(state_catches, JoinableQueueThatDropsPuts) {
  EXPECT_FALSE(rc::check("a JoinableQueue that drops every second put", [] {
    const std::int64_t maxsize = *maxsizes();
    JQSut sut(maxsize, 2);
    rc::state::check(spec::make_joinable_queue(maxsize), sut, joinable_commands());
  }));
}

}  // namespace
}  // namespace mpconform::props::state
