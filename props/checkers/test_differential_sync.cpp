// Differential tests of check_lock (Lock, RLock) and check_pipe against the exact search
// (check_linearizable, kinds lock / rlock / pipe): small random histories made by running the
// models (legal by construction), a fraction of them mutated, judged by both; any ok/illegal
// disagreement that is not excused below is saved as a fixture and fails the test.
//
// Replay one history: the failure prints its seed; MPCONFORM_DIFF_SEED=<seed>
// MPCONFORM_DIFF_HISTORIES=1 runs exactly that one (the saved fixture replays it too).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mpconform/checkers.hpp"
#include "mpconform/checkers/lock.hpp"
#include "mpconform/checkers/pipe.hpp"
#include "mpconform/linearizability.hpp"
#include "mpconform/spec/lock.hpp"
#include "mpconform/spec/pipe.hpp"
#include "mpconform/spec/rlock.hpp"
#include "differential.hpp"
#include "fixtures.hpp"

namespace {

using namespace mpconform;

constexpr std::uint64_t kCtestHistories = 3000;
constexpr std::uint32_t kLockObject = 1;
constexpr std::uint32_t kPipeObject = 5;
constexpr std::int64_t kTimed = 50'000'000;  // acquire(timeout=0.05) / poll(0.05)

using Rng = std::mt19937_64;

std::size_t below(Rng& rng, std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng); }
bool chance(Rng& rng, double p) { return std::bernoulli_distribution(p)(rng); }
std::int64_t any_timeout(Rng& rng) {
  const std::int64_t choices[] = {0, kTimed, kNoTimeout};
  return choices[below(rng, 3)];
}

// The first seed: MPCONFORM_DIFF_SEED when set (to replay one history), else a fixed one per test.
std::uint64_t first_seed(std::uint64_t fixed) {
  const char* env = std::getenv("MPCONFORM_DIFF_SEED");
  return env != nullptr && *env != '\0' ? std::strtoull(env, nullptr, 10) : fixed;
}

// A generated op at linearization time `t` (intervals come later, from assign_intervals).
Op at(std::uint32_t process, OpKind kind, std::uint32_t object, std::int64_t t) {
  Op o = fixtures::make_op(process, kind, 0, t, t);
  o.object = object;
  return o;
}

std::int64_t instant(std::size_t k) { return 10 + 4 * static_cast<std::int64_t>(k); }

// ---------------------------------------------------------------------------------------------
// Legal histories from the models

// Lock (reentrant = false) or RLock: 2-4 processes, 6-30 ops. Holders mostly release; others
// mostly acquire; a few releases by non-holders; a few killed calls (info, no return: the
// process's last op, which took effect or not) and info calls that returned.
History legal_lock(Rng& rng, bool reentrant) {
  const auto processes = static_cast<std::uint32_t>(2 + below(rng, 3));
  const std::size_t n = 6 + below(rng, 25);
  spec::LockState lock;
  spec::RLockState rlock;
  std::int64_t holder = -1;  // Lock: who acquired it last, -1 for nobody (for the bias only)
  std::vector<bool> alive(processes, true);
  History h;
  for (std::size_t attempt = 0; h.ops.size() < n && attempt < 8 * n; ++attempt) {
    std::vector<std::uint32_t> live;
    for (std::uint32_t p = 0; p < processes; ++p)
      if (alive[p]) live.push_back(p);
    if (live.empty()) break;
    const std::uint32_t p = live[below(rng, live.size())];
    const bool holds = reentrant ? rlock.owner == static_cast<spec::ThreadId>(p) : holder == static_cast<std::int64_t>(p);
    // Releases by non-holders are rare: a Lock's cross release makes check_lock answer Unknown.
    const bool release = holds ? chance(rng, 0.6) : chance(rng, reentrant ? 0.08 : 0.02);
    Op o = at(p, release ? OpKind::release : OpKind::acquire, kLockObject, instant(h.ops.size()));
    if (!release) o.timeout_ns = any_timeout(rng);
    const bool block = o.timeout_ns != 0;
    const std::optional<double> timeout =
        o.timeout_ns > 0 ? std::optional<double>(static_cast<double>(o.timeout_ns) / 1e9) : std::nullopt;
    spec::Result result;
    spec::LockState lock_next;
    spec::RLockState rlock_next;
    if (reentrant) {
      const auto thread = static_cast<spec::ThreadId>(p);
      const auto out = spec::step(rlock, release ? spec::RLockOp::release(thread)
                                                 : spec::RLockOp::acquire(thread, block, timeout));
      result = out.allowed().front().result;
      rlock_next = out.allowed().front().next;
    } else {
      const auto out = spec::step(lock, release ? spec::LockOp::release() : spec::LockOp::acquire(block, timeout));
      result = out.allowed().front().result;
      lock_next = out.allowed().front().next;
    }
    if (result.is_blocks()) continue;
    bool took_effect = true;
    if (chance(rng, 0.05)) {  // killed mid-call
      o.outcome = Outcome::info;
      o.return_ns = kNever;
      alive[p] = false;
      took_effect = chance(rng, 0.5);
    } else if (chance(rng, 0.03)) {  // returned in an unexpected way
      o.outcome = Outcome::info;
      o.error = ErrorKind::Other;
      took_effect = chance(rng, 0.5);
    } else if (result.raised()) {
      o.outcome = Outcome::fail;
      o.error = reentrant ? ErrorKind::AssertionError : ErrorKind::ValueError;
    } else if (!release && !result.value.as_bool()) {
      o.outcome = Outcome::fail;
      o.error = ErrorKind::Timeout;
    }
    if (took_effect) {
      if (!release && result.returned() && result.value.as_bool()) holder = p;
      if (release && result.returned()) holder = -1;
      lock = lock_next;
      rlock = rlock_next;
    }
    h.ops.push_back(o);
  }
  return h;
}

// One simplex pipe direction: processes 0..P-2 write (each its own copy of the write end),
// process P-1 reads (recv, poll(0 / 0.05 / None)) until EOFError. Writers send, then close or
// exit; a writer may be killed mid-send (info, no return), its copy then closed by its death,
// which another process observes with a gone op. Returns whether the reader read to EOF.
History legal_pipe(Rng& rng, bool& drained) {
  const auto processes = static_cast<std::uint32_t>(2 + below(rng, 3));
  const std::uint32_t reader = processes - 1;
  const std::size_t n = 6 + below(rng, 25);
  spec::PipeState pipe = spec::PipeState::make(false);
  std::vector<bool> open(reader, true), alive(processes, true), dead_open(reader, false);
  std::vector<std::uint64_t> seq(reader, 0);
  std::size_t open_copies = reader;
  drained = false;
  History h;
  const auto close_copy = [&](std::uint32_t w) {
    open[w] = false;
    if (--open_copies == 0) pipe = spec::step(pipe, spec::PipeOp::close(spec::PipeEnd::b)).allowed().front().next;
  };
  for (std::size_t attempt = 0; h.ops.size() < n && attempt < 8 * n; ++attempt) {
    const std::int64_t t = instant(h.ops.size());
    // A killed writer's death closes its copy; someone alive may observe it (gone).
    std::vector<std::uint32_t> dead;
    for (std::uint32_t w = 0; w < reader; ++w)
      if (dead_open[w]) dead.push_back(w);
    std::vector<std::uint32_t> live;
    for (std::uint32_t p = 0; p < processes; ++p)
      if (alive[p] && (p == reader || open[p])) live.push_back(p);
    if (live.empty()) break;
    if (!dead.empty() && chance(rng, 0.3)) {
      const std::uint32_t w = dead[below(rng, dead.size())];
      Op g = at(live[below(rng, live.size())], OpKind::gone, 0, t);
      g.value = w;
      dead_open[w] = false;
      close_copy(w);
      h.ops.push_back(g);
      continue;
    }
    const std::uint32_t p = live[below(rng, live.size())];
    if (p != reader) {
      const double r = std::uniform_real_distribution<double>(0, 1)(rng);
      if (r < 0.75) {
        Op o = at(p, OpKind::send, kPipeObject, t);
        o.value = make_tag(p, seq[p]++);
        const auto out = spec::step(pipe, spec::PipeOp::send(spec::PipeEnd::b, spec::Value::integer(
                                                                                    static_cast<spec::PyInt>(o.value))));
        bool took_effect = true;
        if (chance(rng, 0.05)) {
          o.outcome = Outcome::info;
          o.return_ns = kNever;
          alive[p] = false;
          dead_open[p] = true;
          took_effect = chance(rng, 0.5);
        }
        if (took_effect) pipe = out.allowed().front().next;
        h.ops.push_back(o);
      } else {
        h.ops.push_back(at(p, r < 0.95 ? OpKind::close : OpKind::exit, r < 0.95 ? kPipeObject : 0, t));
        close_copy(p);
        if (r >= 0.95) alive[p] = false;
      }
      continue;
    }
    const bool recv = chance(rng, 0.6);
    Op o = at(p, recv ? OpKind::recv : OpKind::poll, kPipeObject, t);
    if (!recv) o.timeout_ns = any_timeout(rng);
    const auto out = spec::step(pipe, recv ? spec::PipeOp::recv(spec::PipeEnd::a)
                                           : spec::PipeOp::poll(spec::PipeEnd::a, o.timeout_ns == kNoTimeout
                                                                                      ? std::nullopt
                                                                                      : std::optional<double>(0.0)));
    const spec::Result& result = out.allowed().front().result;
    if (result.is_blocks()) continue;
    bool took_effect = true;
    if (recv && chance(rng, 0.04)) {
      o.outcome = Outcome::info;
      o.return_ns = kNever;
      alive[p] = false;
      took_effect = chance(rng, 0.5);
    } else if (result.raised()) {  // EOFError: the reader is done
      o.outcome = Outcome::fail;
      o.error = ErrorKind::EOFError;
      alive[p] = false;
      drained = true;
    } else if (recv) {
      o.value = static_cast<std::uint64_t>(result.value.as_int());
    } else if (!result.value.as_bool()) {
      o.outcome = Outcome::fail;
      o.error = ErrorKind::Timeout;
    }
    if (took_effect) pipe = out.allowed().front().next;
    h.ops.push_back(o);
  }
  return h;
}

// ---------------------------------------------------------------------------------------------
// Mutations: each may make the history illegal (or leave it legal); both judges must agree.

// The outcome a failing call of this kind records.
ErrorKind natural_error(OpKind k, bool reentrant) {
  switch (k) {
    case OpKind::acquire:
    case OpKind::poll: return ErrorKind::Timeout;
    case OpKind::release: return reentrant ? ErrorKind::AssertionError : ErrorKind::ValueError;
    case OpKind::recv: return ErrorKind::EOFError;
    case OpKind::send: return ErrorKind::BrokenPipeError;
    default: return ErrorKind::OSError;
  }
}

// Whether op i is its process's last op (by invoke).
bool last_of_process(const History& h, std::size_t i) {
  for (std::size_t j = 0; j < h.ops.size(); ++j)
    if (j != i && h.ops[j].process == h.ops[i].process && h.ops[j].invoke_ns >= h.ops[i].invoke_ns) return false;
  return true;
}

// Each process is one calling thread: its ops do not overlap, one that never returned is its
// last, and none is invoked or returns after a gone op saw the process dead. The checkers rely
// on it (a recorder cannot produce anything else), so mutations keep it.
bool well_formed(const History& h) {
  std::map<std::uint32_t, std::vector<const Op*>> by_process;
  for (const Op& o : h.ops) {
    if (o.return_ns < o.invoke_ns) return false;  // a recorder never returns before it invokes
    by_process[o.process].push_back(&o);
  }
  // A process observed dead (an ok gone op naming it, returned) invokes and returns nothing
  // after that.
  for (const Op& g : h.ops)
    if (g.kind == OpKind::gone && g.ok() && g.return_ns != kNever)
      for (const Op& o : h.ops)
        if (o.process == g.value && (o.invoke_ns > g.return_ns || (o.return_ns != kNever && o.return_ns > g.return_ns)))
          return false;
  for (auto& [p, ops] : by_process) {
    std::sort(ops.begin(), ops.end(), [](const Op* a, const Op* b) { return a->invoke_ns < b->invoke_ns; });
    for (std::size_t k = 1; k < ops.size(); ++k)
      if (ops[k - 1]->return_ns >= ops[k]->invoke_ns) return false;
  }
  return true;
}

void mutate_once(History& h, Rng& rng, std::uint32_t processes, bool reentrant);

void mutate(History& h, Rng& rng, std::uint32_t processes, bool reentrant) {
  for (int attempt = 0; attempt < 8; ++attempt) {
    History m = h;
    mutate_once(m, rng, processes, reentrant);
    if (well_formed(m)) {
      h = std::move(m);
      return;
    }
  }
}

void mutate_once(History& h, Rng& rng, std::uint32_t processes, bool reentrant) {
  if (h.ops.empty()) return;
  std::vector<std::size_t> sent;  // ok send values, for a recv flipped to ok
  for (const Op& o : h.ops)
    if (o.kind == OpKind::send) sent.push_back(o.value);
  const std::size_t i = below(rng, h.ops.size());
  Op& op = h.ops[i];
  switch (below(rng, 7)) {
    case 0: {  // swap two ops' results
      const std::size_t j = below(rng, h.ops.size());
      Op& other = h.ops[j];
      if (other.kind != op.kind) return;
      std::swap(op.outcome, other.outcome);
      std::swap(op.error, other.error);
      if (op.kind == OpKind::recv) std::swap(op.value, other.value);
      if (op.return_ns == kNever || other.return_ns == kNever) std::swap(op.return_ns, other.return_ns);
      return;
    }
    case 1: h.ops.erase(h.ops.begin() + static_cast<std::ptrdiff_t>(i)); return;
    case 2: {  // duplicate, by some process, slightly shifted
      Op copy = op;
      copy.process = static_cast<std::uint32_t>(below(rng, processes));
      const auto d = static_cast<std::int64_t>(below(rng, 11)) - 5;
      copy.invoke_ns += d;
      if (copy.return_ns != kNever) copy.return_ns = std::max(copy.invoke_ns, copy.return_ns + d);
      h.ops.push_back(copy);
      return;
    }
    case 3: {  // stretch or shrink
      const auto r = static_cast<std::int64_t>(1 + below(rng, 12));
      switch (below(rng, 4)) {
        case 0: op.invoke_ns -= r; break;
        case 1:
          if (op.return_ns != kNever) op.return_ns += r;
          break;
        case 2: op.invoke_ns = std::min(op.invoke_ns + r, op.return_ns); break;
        default:
          if (op.return_ns != kNever) op.return_ns = std::max(op.invoke_ns, op.return_ns - r);
      }
      return;
    }
    case 4:  // unknown outcome; never returned only for the process's last op
      if (op.kind == OpKind::exit || op.kind == OpKind::gone) return;
      op.outcome = Outcome::info;
      op.error = ErrorKind::none;
      if (op.kind == OpKind::recv) op.value = 0;
      if (last_of_process(h, i) && chance(rng, 0.5)) op.return_ns = kNever;
      return;
    case 5:  // flip ok <-> fail
      if (op.kind == OpKind::exit || op.kind == OpKind::gone || op.return_ns == kNever) return;
      if (op.ok()) {
        op.outcome = Outcome::fail;
        op.error = natural_error(op.kind, reentrant);
      } else {
        op.outcome = Outcome::ok;
        op.error = ErrorKind::none;
        if (op.kind == OpKind::recv && !sent.empty()) op.value = sent[below(rng, sent.size())];
      }
      return;
    default:  // another timeout
      if (op.kind == OpKind::acquire || op.kind == OpKind::poll) op.timeout_ns = any_timeout(rng);
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// The runs

struct Mode {
  std::string name;  // "lock", "rlock", "pipe"
  std::uint64_t seed;
};

// One history of the mode from `seed`, mutated or not; with the two judges' options.
struct Case {
  History history;
  nlohmann::json checker_options;
  LinearizabilityOptions search_options;
};

Case make_case(const std::string& mode, std::uint64_t seed) {
  Rng rng(seed);
  Case c;
  std::uint32_t processes = 0;
  if (mode == "pipe") {
    bool drained = false;
    c.history = legal_pipe(rng, drained);
    c.search_options.kind = LinearizableKind::pipe;
    c.search_options.object = kPipeObject;
    c.search_options.drained = drained;
    // Every process but the reader (the last) holds a copy of the write end from the start.
    std::uint32_t last = 0;
    for (const Op& o : c.history.ops) last = std::max(last, o.process);
    for (std::uint32_t w = 0; w < last; ++w) c.search_options.writers.push_back(w);
    c.checker_options = {{"object", kPipeObject}, {"drained", drained}, {"writers", c.search_options.writers}};
  } else {
    const bool reentrant = mode == "rlock";
    c.history = legal_lock(rng, reentrant);
    c.search_options.kind = reentrant ? LinearizableKind::rlock : LinearizableKind::lock;
    c.search_options.object = kLockObject;
    c.checker_options = {{"object", kLockObject}, {"reentrant", reentrant}};
  }
  for (const Op& o : c.history.ops) processes = std::max(processes, o.process + 1);
  differential::assign_intervals(c.history.ops, rng);
  if (chance(rng, 0.6)) {
    const std::size_t k = 1 + below(rng, 2);
    for (std::size_t m = 0; m < k; ++m) mutate(c.history, rng, processes, mode == "rlock");
  }
  return c;
}

History without_polls(const History& h) {
  History out = h;
  std::erase_if(out.ops, [](const Op& o) { return o.kind == OpKind::poll; });
  return out;
}

// Why a difference is by design, or empty when it is a disagreement.
// Whether some process has an info op on the lock followed by more of its own lock ops.
bool info_then_more(const History& h) {
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& a = h.ops[i];
    if (!a.info() || (a.kind != OpKind::acquire && a.kind != OpKind::release)) continue;
    for (const Op& b : h.ops)
      if (&b != &a && b.process == a.process && b.object == a.object && b.invoke_ns > a.invoke_ns &&
          (b.kind == OpKind::acquire || b.kind == OpKind::release))
        return true;
  }
  return false;
}

// Whether every send that raised BrokenPipeError returned no earlier than the invoke of the
// last recv/poll that found a read end open (ok, EOFError, poll False): no op proves the read
// end open after it.
bool broken_pipes_after_last_read(const History& h) {
  std::int64_t last_read = std::numeric_limits<std::int64_t>::min();
  for (const Op& o : h.ops) {
    const bool read_open = (o.kind == OpKind::recv && (o.ok() || (o.failed() && o.error == ErrorKind::EOFError))) ||
                           (o.kind == OpKind::poll && (o.ok() || (o.failed() && o.error == ErrorKind::Timeout)));
    if (read_open) last_read = std::max(last_read, o.invoke_ns);
  }
  for (const Op& o : h.ops)
    if (o.kind == OpKind::send && o.failed() && o.error == ErrorKind::BrokenPipeError && o.return_ns < last_read)
      return false;
  return true;
}

// The history without its sends that raised BrokenPipeError.
History without_broken_pipe_sends(const History& h) {
  History out = h;
  std::erase_if(out.ops, [](const Op& o) {
    return o.kind == OpKind::send && o.failed() && o.error == ErrorKind::BrokenPipeError;
  });
  return out;
}

std::string excuse(const std::string& mode, const Case& c, const Verdict& checker, const Verdict& search) {
  // check_lock by design stops judging a process after its info acquire/release (its
  // recursion count may be off by one): its later sections count as possibly held only, and
  // its ownership rules are skipped. The search tries both; only it can reject such a history.
  if (mode != "pipe" && checker.is_ok() && search.is_illegal() && info_then_more(c.history)) return "info";
  // check_pipe judges a poll only once EOF is certain, or with a tolerance for a timed one that
  // these histories' nanosecond waits never exceed: another poll whose answer no order
  // explains is the search's alone ("poll"). A send that raised BrokenPipeError after the last recv/poll that proves the
  // read end open: the reader's end may have closed by then (its close or death is not an op
  // of this direction), so check_pipe accepts it (C-EPIPE-1 only rejects one with a later
  // proof); the search's model has no read-end close and rejects every BrokenPipeError
  // ("epipe"). Both excuses hold only when the search accepts the history without those ops
  // (a failed send changes nothing else; polls change nothing).
  if (mode == "pipe" && checker.is_ok() && search.is_illegal()) {
    const bool has_poll = std::ranges::any_of(c.history.ops, [](const Op& o) { return o.kind == OpKind::poll; });
    const bool epipe = broken_pipes_after_last_read(c.history) &&
                       std::ranges::any_of(c.history.ops, [](const Op& o) {
                         return o.kind == OpKind::send && o.failed() && o.error == ErrorKind::BrokenPipeError;
                       });
    if (has_poll && check_linearizable(without_polls(c.history), c.search_options).is_ok()) return "poll";
    if (epipe && check_linearizable(without_broken_pipe_sends(c.history), c.search_options).is_ok()) return "epipe";
    if (has_poll && epipe &&
        check_linearizable(without_polls(without_broken_pipe_sends(c.history)), c.search_options).is_ok())
      return "poll+epipe";
  }
  return {};
}

void run(const std::string& mode, std::uint64_t fixed_seed) {
  const std::uint64_t n = differential::histories(kCtestHistories);
  const std::uint64_t seed0 = first_seed(fixed_seed);
  differential::Tally tally;
  double search_seconds = 0;
  int reported = 0;
  std::map<std::string, std::uint64_t> excused_by;  // excuse -> count
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t k = 0; k < n; ++k) {
    const std::uint64_t seed = seed0 + k;
    const Case c = make_case(mode, seed);
    const Verdict checker = check(mode == "pipe" ? "pipe" : "lock", c.history, c.checker_options);
    const auto s0 = std::chrono::steady_clock::now();
    const Verdict search = check_linearizable(c.history, c.search_options);
    search_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    if (!tally.add(checker, search)) continue;
    if (const std::string why = excuse(mode, c, checker, search); !why.empty()) {
      --tally.disagreements;
      ++tally.excused;
      ++excused_by[why];
      continue;
    }
    // Every disagreement is saved when MPCONFORM_DIFF_SAVE is set (to sort them by shape);
    // the first five are reported.
    if (reported++ < 5 || std::getenv("MPCONFORM_DIFF_SAVE") != nullptr) {
      const auto path = differential::save_disagreement(mode, c.history, mode == "pipe" ? "pipe" : "lock",
                                                        c.checker_options, checker, search);
      if (reported <= 5)
      ADD_FAILURE() << fmt::format("{}: the checker said {}, the search {} (seed {}; replay: MPCONFORM_DIFF_SEED={} "
                                   "MPCONFORM_DIFF_HISTORIES=1 build/props/checkers/test_checkers "
                                   "--gtest_filter='DifferentialSync.*'); saved as {}\nchecker: {}\nsearch: {}\n{}",
                                   mode, to_string(checker.status), to_string(search.status), seed, seed,
                                   path.string(), describe(c.history, checker), describe(c.history, search),
                                   to_jsonl(c.history));
    }
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  tally.print(mode, seconds);
  std::string reasons;
  for (const auto& [why, count] : excused_by) reasons += fmt::format(" {}={}", why, count);
  std::cout << fmt::format("differential {}: excused by reason:{}\n", mode, reasons.empty() ? " none" : reasons);
  std::cout << fmt::format("differential {}: the search alone: {:.0f} histories/s\n", mode,
                           search_seconds > 0 ? static_cast<double>(n) / search_seconds : 0.0);
  EXPECT_EQ(tally.disagreements, 0u);
  // The generator must produce both verdicts, or the comparison says little.
  if (n >= 1000) {
    EXPECT_GT(tally.both_ok, n / 10) << mode;
    EXPECT_GT(tally.both_illegal, n / 10) << mode;
  }
}

TEST(DifferentialSync, LockAgreesWithTheSearch) { run("lock", 1'000'000); }
TEST(DifferentialSync, RLockAgreesWithTheSearch) { run("rlock", 2'000'000); }
TEST(DifferentialSync, PipeAgreesWithTheSearch) { run("pipe", 3'000'000); }

// Unmutated histories are legal by construction: the search must accept every one (this keeps
// the generators and the adapters honest; the checkers may answer unknown).
TEST(DifferentialSync, LegalHistoriesAreOkForTheSearch) {
  for (const std::string mode : {"lock", "rlock", "pipe"}) {
    for (std::uint64_t seed = 0; seed < 500; ++seed) {
      Rng rng(seed);
      Case c;
      bool drained = false;
      c.history = mode == "pipe" ? legal_pipe(rng, drained) : legal_lock(rng, mode == "rlock");
      differential::assign_intervals(c.history.ops, rng);
      LinearizabilityOptions o;
      std::uint32_t last = 0;
      for (const Op& op : c.history.ops) last = std::max(last, op.process);
      if (mode == "pipe")
        for (std::uint32_t w = 0; w < last; ++w) o.writers.push_back(w);
      o.kind = mode == "pipe" ? LinearizableKind::pipe : mode == "rlock" ? LinearizableKind::rlock : LinearizableKind::lock;
      o.object = mode == "pipe" ? kPipeObject : kLockObject;
      o.drained = drained;
      const Verdict v = check_linearizable(c.history, o);
      ASSERT_TRUE(v.is_ok()) << mode << " seed " << seed << "\n" << describe(c.history, v) << to_jsonl(c.history);
      const Verdict rules = mode == "pipe" ? check("pipe", c.history, {{"object", kPipeObject}, {"drained", drained}, {"writers", o.writers}})
                                           : check("lock", c.history, {{"object", kLockObject}, {"reentrant", mode == "rlock"}});
      ASSERT_FALSE(rules.is_illegal()) << mode << " seed " << seed << "\n" << describe(c.history, rules) << to_jsonl(c.history);
    }
  }
}

// Fixtures on which the two answers differ by design, with the reason.
const std::map<std::string, std::string>& expected_disagreements() {
  static const std::string timed =
      "a timing tolerance (the lock free, or the pipe readable, for longer than a tier during a timed wait that "
      "gave up); linearizability has no durations: the call may take effect before that";
  static const std::map<std::string, std::string> m{
      {"lock-timed-acquire-free-bad", "L-ACQ-6 is " + timed},
      {"lock-rlock-timed-acquire-free-bad", "RL-ACQ-2 (rule 2c) is " + timed},
      {"lock-rlock-timed-acquire-own-info-bad", "RL-ACQ-2 (rule 2c) is " + timed},
      {"pipe-poll-missed-bad", "C-POLL-2 is " + timed},
      {"pipe-poll-eof-timed-bad", "C-EOF-1 for a timed poll is " + timed},
  };
  return m;
}

// The lock and pipe fixtures, judged by the search too.
TEST(DifferentialSync, TheLockAndPipeFixturesAgree) {
  const auto fs = fixtures::load_fixtures([](const std::string& n) { return n.starts_with("lock-") || n.starts_with("pipe-"); });
  ASSERT_GE(fs.size(), 20u);
  for (const fixtures::Fixture& f : fs) {
    const nlohmann::json opt = f.options();
    LinearizabilityOptions o;
    o.object = opt.value("object", 0u);
    if (f.checker() == "pipe") {
      o.kind = LinearizableKind::pipe;
      o.drained = opt.value("drained", false);
      o.writers = opt.value("writers", std::vector<std::uint32_t>{});
    } else {
      o.kind = opt.value("reentrant", false) ? LinearizableKind::rlock : LinearizableKind::lock;
    }
    const Verdict rules = check(f.checker(), f.history, opt);
    const Verdict search = check_linearizable(f.history, o);
    if (rules.is_unknown() || search.is_unknown()) continue;
    if (const auto known = expected_disagreements().find(f.name); known != expected_disagreements().end()) {
      EXPECT_NE(search.status, rules.status) << f.name << " now agrees: drop it from expected_disagreements()";
      continue;
    }
    EXPECT_EQ(to_string(search.status), to_string(rules.status)) << f.name << ": " << search.message;
  }
}

}  // namespace
