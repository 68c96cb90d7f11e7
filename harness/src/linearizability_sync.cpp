// The Lock, RLock and Pipe adapters of the linearizability search (see lin_search.hpp for the
// adapter interface and mpconform/linearizability.hpp for how each kind reads a history).
#include <algorithm>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "checker_support.hpp"
#include "detail/lin_search.hpp"
#include "detail/lin_sync.hpp"
#include "mpconform/spec/error.hpp"
#include "mpconform/spec/lock.hpp"
#include "mpconform/spec/pipe.hpp"
#include "mpconform/spec/rlock.hpp"

namespace mpconform::detail {

namespace {

// ---------------------------------------------------------------------------------------------
// Lock and RLock

bool is_lock_op(const Op& op) { return op.kind == OpKind::acquire || op.kind == OpKind::release; }

// acquire: ok = returned True; fail Timeout = returned False (the history records a False
// return as a definite failure; the models return the boolean). release: ok = returned None.
Expected lock_expected(const Op& op) {
  if (op.kind == OpKind::acquire && op.failed() && op.error == ErrorKind::Timeout) {
    Expected e;
    e.seen = Seen::returned;
    e.value = spec::Value::boolean(false);
    return e;
  }
  return expected_from(op, op.kind == OpKind::acquire ? spec::Value::boolean(true) : spec::Value::none());
}

// The clause hint of the op at which the best attempt got stuck (the rule checker's names).
std::string lock_clause(const Op& op, bool reentrant) {
  if (op.kind == OpKind::release) {
    if (op.failed()) return reentrant ? "RL-ACQ-3" : "L-REL-3";
    return reentrant ? "RL-REL-1" : "L-REL-1";
  }
  if (op.failed()) return reentrant ? "RL-ACQ-1" : "L-ACQ-1";
  if (reentrant) return "RL-ACQ-2";
  if (op.timeout_ns == kNoTimeout) return "L-ACQ-9";
  return op.timeout_ns == 0 ? "L-ACQ-2" : "L-ACQ-6";
}

// Nothing of a lock is "left" in a drained object and nothing is produced.
struct NoItems {
  static bool produced(const Op& /*op*/, const spec::Value& /*v*/) { return false; }
};

struct LockAdapter : NoItems {
  using State = spec::LockState;
  using Call = spec::LockOp;

  static bool reads(const Op& op) { return is_lock_op(op); }
  static std::optional<Call> to_call(const Op& op, const LinearizabilityOptions& /*o*/) {
    if (op.kind == OpKind::release) return Call::release();
    const auto [block, timeout] = block_timeout(op.timeout_ns);
    return Call::acquire(block, timeout);
  }
  static Expected expected(const Op& op) { return lock_expected(op); }
  static std::string clause(const Op& op, const LinearizabilityOptions& /*o*/) { return lock_clause(op, false); }
  static void encode(const State& s, std::vector<std::uint64_t>& key) { key.push_back(s.locked ? 1u : 0u); }
  static std::vector<spec::Value> leftover(const State& /*s*/) { return {}; }
  static std::string_view drained_clause(const LinearizabilityOptions& /*o*/) { return "L-ACQ-9"; }
};

struct RLockAdapter : NoItems {
  using State = spec::RLockState;
  using Call = spec::RLockOp;

  static bool reads(const Op& op) { return is_lock_op(op); }
  // The owner identity is the process: the harness's processes are single-threaded callers.
  static std::optional<Call> to_call(const Op& op, const LinearizabilityOptions& /*o*/) {
    const auto thread = static_cast<spec::ThreadId>(op.process);
    if (op.kind == OpKind::release) return Call::release(thread);
    const auto [block, timeout] = block_timeout(op.timeout_ns);
    return Call::acquire(thread, block, timeout);
  }
  static Expected expected(const Op& op) { return lock_expected(op); }
  static std::string clause(const Op& op, const LinearizabilityOptions& /*o*/) { return lock_clause(op, true); }
  static void encode(const State& s, std::vector<std::uint64_t>& key) {
    key.push_back(s.owner ? static_cast<std::uint64_t>(*s.owner) + 1 : 0);
    key.push_back(static_cast<std::uint64_t>(s.count));
  }
  static std::vector<spec::Value> leftover(const State& /*s*/) { return {}; }
  static std::string_view drained_clause(const LinearizabilityOptions& /*o*/) { return "RL-ACQ-2"; }
};

// ---------------------------------------------------------------------------------------------
// One direction of a Pipe

// spec::PipeState treats an end as one object; a forked writer holds its own copy of the write
// end, and the read end sees EOF only once every copy is closed (C-EOF-2). So the state keeps
// the writers whose copy is still open beside the model, and closes the model's write end when
// the last copy closes.
struct PipeDirState {
  spec::PipeState pipe;                     // simplex: a = the read end, b = the write end
  std::vector<std::uint32_t> open_copies;   // writers whose copy of b is open, sorted
  friend bool operator==(const PipeDirState&, const PipeDirState&) = default;
};

struct PipeDirCall {
  spec::PipeOp op;             // on the model (close: of the copy, see step)
  std::uint32_t process = 0;   // the caller (whose copy a send or close uses)
};

// The model's step, with sends and closes on the caller's copy of the write end: a send from a
// closed copy raises OSError('handle is closed'); close() of a copy is repeatable and closes
// the model's write end when it was the last open copy.
spec::Outcome<PipeDirState> step(const PipeDirState& s, const PipeDirCall& c) {
  using O = spec::Outcome<PipeDirState>;
  const auto mine = std::lower_bound(s.open_copies.begin(), s.open_copies.end(), c.process);
  const bool open = mine != s.open_copies.end() && *mine == c.process;
  const bool on_copy = c.op.kind == spec::PipeOp::Kind::close || c.op.kind == spec::PipeOp::Kind::send;
  if (on_copy && !open) {
    if (c.op.kind == spec::PipeOp::Kind::close) return O::single(spec::Result::returns(), s);
    return O::single(spec::Result::raises(spec::errors::os_error(spec::errors::kHandleClosed)), s);
  }
  if (c.op.kind == spec::PipeOp::Kind::close) {
    PipeDirState next = s;
    next.open_copies.erase(next.open_copies.begin() + (mine - s.open_copies.begin()));
    if (!next.open_copies.empty()) return O::single(spec::Result::returns(), std::move(next));
    const spec::Outcome<spec::PipeState> inner = step(s.pipe, c.op);
    next.pipe = inner.allowed().front().next;
    return O::single(inner.allowed().front().result, std::move(next));
  }
  spec::Outcome<spec::PipeState> inner = step(s.pipe, c.op);
  if (inner.is_illegal()) return O::illegal("the pipe model rejects " + c.op.to_string());
  // The pipe model is deterministic; the loop keeps any racy alternative it may gain. `inner`
  // is a local about to die: its next states are moved, not copied (two deques each; copying
  // them was most of the search's time).
  auto& allowed = const_cast<std::vector<spec::Allowed<spec::PipeState>>&>(inner.allowed());
  O out = O::single(std::move(allowed.front().result), PipeDirState{std::move(allowed.front().next), s.open_copies});
  for (std::size_t k = 1; k < allowed.size(); ++k)
    out.or_else(std::move(allowed[k].result), PipeDirState{std::move(allowed[k].next), s.open_copies});
  return out;
}

bool is_pipe_op(const Op& op) {
  return op.kind == OpKind::send || op.kind == OpKind::recv || op.kind == OpKind::poll || op.kind == OpKind::close;
}

struct PipeAdapter {
  using State = PipeDirState;
  using Call = PipeDirCall;

  static bool reads(const Op& op) { return is_pipe_op(op); }
  static std::optional<Call> to_call(const Op& op, const LinearizabilityOptions& /*o*/) {
    using spec::PipeEnd;
    switch (op.kind) {
      case OpKind::send: return Call{spec::PipeOp::send(PipeEnd::b, item_of(op.value)), op.process};
      case OpKind::recv: return Call{spec::PipeOp::recv(PipeEnd::a), op.process};
      case OpKind::poll: {
        // poll(None) waits; poll(0) and negative timeouts do not (C-POLL-1, C-POLL-4).
        const auto [block, timeout] = block_timeout(op.timeout_ns);
        return Call{spec::PipeOp::poll(PipeEnd::a, block ? timeout : std::optional<double>(0.0)), op.process};
      }
      case OpKind::close: return Call{spec::PipeOp::close(PipeEnd::b), op.process};
      default: return std::nullopt;
    }
  }
  // poll: ok = returned True, fail Timeout = returned False (as acquire).
  static Expected expected(const Op& op) {
    switch (op.kind) {
      case OpKind::recv: return expected_from(op, item_of(op.value));
      case OpKind::poll:
        if (op.failed() && op.error == ErrorKind::Timeout) {
          Expected e;
          e.seen = Seen::returned;
          e.value = spec::Value::boolean(false);
          return e;
        }
        return expected_from(op, spec::Value::boolean(true));
      default: return expected_from(op, spec::Value::none());
    }
  }
  static std::string clause(const Op& op, const LinearizabilityOptions& /*o*/) {
    switch (op.kind) {
      case OpKind::recv:
        if (op.failed() && op.error == ErrorKind::EOFError) return "C-EOF-2";
        return "C-SEND-12";
      case OpKind::poll: return op.failed() ? "C-EOF-1" : "C-POLL-1";
      case OpKind::close: return "C-EOF-2";
      default: return "C-SEND-12";
    }
  }
  static void encode(const State& s, std::vector<std::uint64_t>& key) {
    const spec::PipeEndState& r = s.pipe.end(spec::PipeEnd::a);
    key.push_back(s.pipe.end(spec::PipeEnd::b).closed ? 1u : 0u);
    key.push_back(r.inbox.size());
    for (const spec::PipeMessage& m : r.inbox) key.push_back(static_cast<std::uint64_t>(m.payload.as_int()));
    key.push_back(s.open_copies.size());
    for (std::uint32_t p : s.open_copies) key.push_back(p);
  }
  static std::vector<spec::Value> leftover(const State& s) {
    std::vector<spec::Value> out;
    for (const spec::PipeMessage& m : s.pipe.end(spec::PipeEnd::a).inbox) out.push_back(m.payload);
    return out;
  }
  static bool produced(const Op& op, const spec::Value& v) {
    return op.kind == OpKind::send && item_of(op.value) == v;
  }
  static std::string_view drained_clause(const LinearizabilityOptions& /*o*/) { return "C-SEND-12"; }
};

}  // namespace

Verdict search_lock(const History& h, const LinearizabilityOptions& o) {
  if (!o.real_time) return SequentialSearch<LockAdapter>(h, o, spec::LockState::make()).run();
  return Search<LockAdapter>(h, o, spec::LockState::make()).run();
}

Verdict search_rlock(const History& h, const LinearizabilityOptions& o) {
  if (!o.real_time) return SequentialSearch<RLockAdapter>(h, o, spec::RLockState::make()).run();
  return Search<RLockAdapter>(h, o, spec::RLockState::make()).run();
}

Verdict search_pipe(const History& h, const LinearizabilityOptions& o) {
  // The copies of the write end: the listed writers and every process that sends or closes.
  std::vector<std::uint32_t> writers = o.writers;
  for (const Op& op : h.ops)
    if (op.object == o.object && (op.kind == OpKind::send || op.kind == OpKind::close)) writers.push_back(op.process);
  std::sort(writers.begin(), writers.end());
  writers.erase(std::unique(writers.begin(), writers.end()), writers.end());
  const auto is_writer = [&](std::uint32_t p) { return std::binary_search(writers.begin(), writers.end(), p); };

  // A writer's exit closes its copy (at some point after the exit op's invoke), and an ok gone
  // op says it ended, copies closed, by the gone op's return: each becomes a close of that
  // copy, appended, with the window mapped back to the op it came from.
  History derived = h;
  std::vector<std::size_t> source;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    Op c;
    c.kind = OpKind::close;
    c.object = o.object;
    if (op.kind == OpKind::exit && is_writer(op.process)) {
      c.process = op.process;
      c.invoke_ns = op.invoke_ns;
      c.return_ns = kNever;
    } else if (op.kind == OpKind::gone && op.ok() && op.value <= std::numeric_limits<std::uint32_t>::max() &&
               is_writer(static_cast<std::uint32_t>(op.value))) {
      c.process = static_cast<std::uint32_t>(op.value);
      c.invoke_ns = std::numeric_limits<std::int64_t>::min();
      c.return_ns = op.return_ns;
    } else {
      continue;
    }
    derived.ops.push_back(c);
    source.push_back(i);
  }
  // No copy at all: the write end is closed from the start (as check_pipe: no writer to wait for).
  PipeDirState initial{spec::PipeState::make(/*duplex=*/false), writers};
  if (writers.empty()) initial.pipe.end(spec::PipeEnd::b).closed = true;
  Verdict v = Search<PipeAdapter>(derived, o, std::move(initial)).run();
  if (!v.is_illegal() || source.empty()) return v;
  std::vector<std::size_t> window;
  for (std::size_t i : v.window) window.push_back(i < h.ops.size() ? i : source[i - h.ops.size()]);
  return Verdict::illegal(v.clause, std::move(window), v.message);
}

}  // namespace mpconform::detail
