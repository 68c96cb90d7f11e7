// State-machine tests of mpref's Pipe (both Connection ends, duplex and simplex) against
// spec/models/pipe.hpp, single process, calls that never wait. Plus the proof that the test can
// fail: a pipe that loses every second message must be refuted.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

#include "clause.hpp"
#include "mpref/connection.hpp"
#include "rc_glue.hpp"
#include "state_support.hpp"

namespace mpconform::props::state {
namespace {

using spec::PipeEnd;
using spec::PipeOp;
using spec::PipeState;

// Both ends of one pipe; broken when `lose_every` = n > 0: every n-th send that would succeed
// (both ends open, this one writable) returns without sending.
struct PipeSut {
  explicit PipeSut(bool duplex, int lose = 0) : ends(mpref::Pipe(duplex)), lose_every(lose) {}
  mpref::Connection& end(PipeEnd e) { return e == PipeEnd::a ? ends.first : ends.second; }
  bool lose(PipeEnd e) {
    const bool would_send =
        !end(e).closed() && !end(spec::peer_of(e)).closed() && end(e).writable();
    return lose_every > 0 && would_send && ++sends % lose_every == 0;
  }
  std::pair<mpref::Connection, mpref::Connection> ends;
  int lose_every;
  int sends = 0;
};

using PipeCommand = ModelCommand<PipeState, PipeOp, PipeSut>;

rc::Gen<PipeEnd> ends() { return rc::gen::element(PipeEnd::a, PipeEnd::b); }

// A receive made only when poll(block_bound()) says it will not block; otherwise observed as
// blocks. A poll that raises is skipped so the receive raises the same error itself (a
// negative maxlength is checked by the receive before it would wait).
template <class F>
Result bounded_receive(mpref::Connection& c, bool may_wait, F&& receive) {
  if (may_wait) {
    try {
      if (!c.poll(block_bound())) return Result::blocks();
    } catch (const mpref::Error&) {
    }
  }
  return observe(std::forward<F>(receive));
}

struct SendBytes : PipeCommand {
  PipeEnd e = *ends();
  std::string data = *rc::gen::resize(
      3, rc::gen::container<std::string>(rc::gen::inRange<char>('a', 'd')));
  PipeOp op() const override { return PipeOp::send_bytes(e, data); }
  Result call(PipeSut& s) const override {
    return observe([&] {
      if (s.lose(e)) return spec::Value();
      s.end(e).send_bytes(data);
      return spec::Value();
    });
  }
};

struct SendObject : PipeCommand {
  PipeEnd e = *ends();
  std::int64_t value = *rc::gen::inRange<std::int64_t>(-5, 100);
  PipeOp op() const override { return PipeOp::send(e, py(value)); }
  Result call(PipeSut& s) const override {
    return observe([&] {
      if (s.lose(e)) return spec::Value();
      s.end(e).send(value);
      return spec::Value();
    });
  }
};

struct RecvBytes : PipeCommand {
  PipeEnd e = *ends();
  std::optional<std::int64_t> maxlength =
      *rc::gen::weightedOneOf<std::optional<std::int64_t>>(
          {{4, rc::gen::just(std::optional<std::int64_t>())},
           {2, rc::gen::map(rc::gen::inRange<std::int64_t>(0, 5),
                            [](std::int64_t n) { return std::optional<std::int64_t>(n); })},
           {1, rc::gen::just(std::optional<std::int64_t>(-1))}});
  PipeOp op() const override { return PipeOp::recv_bytes(e, maxlength); }
  Result call(PipeSut& s) const override {
    return bounded_receive(s.end(e), !maxlength || *maxlength >= 0, [&] {
      const mpref::Bytes b = s.end(e).recv_bytes(maxlength);
      return spec::Value::bytes(std::string(reinterpret_cast<const char*>(b.data()), b.size()));
    });
  }
};

struct RecvObject : PipeCommand {
  PipeEnd e = *ends();
  PipeOp op() const override { return PipeOp::recv(e); }
  Result call(PipeSut& s) const override {
    return bounded_receive(s.end(e), true, [&] { return py(s.end(e).recv<std::int64_t>()); });
  }
};

struct Poll : PipeCommand {
  PipeEnd e = *ends();
  std::optional<double> timeout = *rc::gen::element(std::optional<double>(0.0),
                                                    std::optional<double>(-1.0),
                                                    std::optional<double>());
  PipeOp op() const override { return PipeOp::poll(e, timeout); }
  Result call(PipeSut& s) const override {
    bool ready = false;
    const Result r = observe([&] {
      ready = s.end(e).poll(timeout ? timeout : std::optional<double>(block_bound()));
      return py(ready);
    });
    return r.returned() && !ready && !timeout ? Result::blocks() : r;
  }
};

struct Close : PipeCommand {
  PipeEnd e = *ends();
  Close() { RC_PRE(*rc::gen::inRange(0, 6) == 0); }  // rare: a closed end mostly raises
  PipeOp op() const override { return PipeOp::close(e); }
  Result call(PipeSut& s) const override {
    return observe([&] {
      s.end(e).close();
      return spec::Value();
    });
  }
};

struct Flags : PipeCommand {
  PipeEnd e = *ends();
  int which = *rc::gen::inRange(0, 3);
  PipeOp op() const override {
    return which == 0 ? PipeOp::closed(e) : which == 1 ? PipeOp::readable(e) : PipeOp::writable(e);
  }
  Result call(PipeSut& s) const override {
    const mpref::Connection& c = s.end(e);
    return observe([&] {
      return py(which == 0 ? c.closed() : which == 1 ? c.readable() : c.writable());
    });
  }
};

auto pipe_commands() {
  return rc::state::gen::execOneOfWithArgs<SendBytes, SendBytes, SendObject, RecvBytes,
                                           RecvBytes, RecvObject, Poll, Close, Flags>();
}

MPC_RC_GTEST_PROP(state, Pipe, 200, ()) {
  MPC_CLAUSE("C-PIPE-1", "C-PIPE-2", "C-RW-1", "C-RW-2", "C-SEND-1", "C-SEND-3", "C-SEND-12",
             "C-MAXLEN-1", "C-MAXLEN-2", "C-MAXLEN-3", "C-MAXLEN-4", "C-POLL-1", "C-POLL-4",
             "C-EOF-1", "C-EOF-4", "C-EPIPE-1", "C-EPIPE-2", "C-CLOSE-1", "C-CLOSE-4",
             "C-CLOSE-5", "C-RESET-1");
  const bool duplex = *rc::gen::arbitrary<bool>();
  PipeSut sut(duplex);
  check_commands(PipeState::make(duplex), sut, pipe_commands());
}

// ---- the test can fail ------------------------------------------------------------------------

TEST(state_catches, PipeThatLosesMessages) {
  EXPECT_FALSE(rc::check("a Pipe that loses every second message", [] {
    const bool duplex = *rc::gen::arbitrary<bool>();
    PipeSut sut(duplex, 2);
    rc::state::check(PipeState::make(duplex), sut, pipe_commands());
  }));
}

}  // namespace
}  // namespace mpconform::props::state
