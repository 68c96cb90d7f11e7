// bench_history: time the queue checkers on synthetic legal histories of queue operations
// from 8 processes (4 producers, 4 consumers).
//
//   bench_history [--ops N] [--runs R] [--big N] [--models-seconds S]
//
// Workloads, on N ops (default 1,000,000), the median of R runs (default 5):
//  - queue_rules: check_queue's rules 1-8 (option exact off),
//  - queue_check: check_queue with all its rules (rule 9: the exact search),
//  - queue_exact: check_linearizable over the native queue state alone;
//  - queue_check_illegal: check_queue on the history made illegal (FIFO across producers), and
//    queue_exact_illegal: the search alone on 2,000 ops made illegal the same way;
//  - lock_check, lock_exact, lock_exact_illegal: check_lock and the search over the Lock model
//    on a Lock's history from 8 processes (and one made illegal: two holders);
// then once each: queue_exact on --big ops (default 10,000,000; 0 skips it), and the search
// through the models (the generic checker) on 1000, 2000, 4000, ... ops until one run takes
// longer than S/4 seconds (default S = 60: the next doubling would pass S).
// Output, one line per workload (the impl/bench shape): <workload>\tseconds\t<value>, and the
// peak resident memory after each exact run; details on stderr. Exit 1 if a checker does not
// answer ok.
//
// The history is a simulated FIFO queue: ops take effect at increasing instants, each process
// runs one op at a time with a random duration (so ops of different processes overlap), and
// every op takes effect at an instant of its interval (so the history is linearizable, hence
// legal), not always at its invoke. A
// consumer that finds the queue empty waits; at the end each consumer records one get that
// raises Empty.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <vector>

#include <sys/resource.h>

#include <cstdlib>
#include <functional>
#include <unordered_map>
#include <utility>
#include <string>
#include <string_view>

#include "mpconform/checkers/lock.hpp"
#include "mpconform/checkers/queue.hpp"
#include "mpconform/history.hpp"
#include "mpconform/linearizability.hpp"

namespace {

using namespace mpconform;

struct Rng {
  std::uint64_t s = 0x9e3779b97f4a7c15ULL;
  std::uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  std::int64_t between(std::int64_t lo, std::int64_t hi) {
    return lo + static_cast<std::int64_t>(next() % static_cast<std::uint64_t>(hi - lo + 1));
  }
};

History make_history(std::size_t total_ops, std::uint32_t producers, std::uint32_t consumers) {
  const std::uint32_t procs = producers + consumers;
  const std::size_t puts_total = (total_ops - consumers) / 2;  // the rest: gets, + 1 Empty each
  History h;
  h.ops.reserve(total_ops);
  Rng rng;
  std::vector<std::int64_t> free_at(procs, 0);
  std::vector<std::uint64_t> seq(producers, 0);
  std::deque<std::uint64_t> queue;
  std::size_t puts = 0;
  std::size_t gets = 0;
  std::int64_t t = 1000;
  while (gets < puts_total) {
    t += rng.between(1, 4);
    const auto p = static_cast<std::uint32_t>(rng.next() % procs);
    if (free_at[p] > t) continue;
    const bool producer = p < producers;
    if (producer && puts == puts_total) continue;
    if (!producer && queue.empty()) continue;
    Op op;
    op.process = p;
    op.pid = static_cast<std::int32_t>(1000 + p);
    // The op takes effect at t, anywhere in its interval (the search's first guess, invoke
    // order, is often wrong then).
    op.invoke_ns = std::max(free_at[p], t - rng.between(0, 40));
    op.return_ns = t + rng.between(1, 60);
    free_at[p] = op.return_ns + 1;
    if (producer) {
      op.kind = OpKind::put;
      op.value = make_tag(p, seq[p]++);
      queue.push_back(op.value);
      ++puts;
    } else {
      op.kind = OpKind::get;
      op.value = queue.front();
      queue.pop_front();
      ++gets;
    }
    h.ops.push_back(op);
  }
  for (std::uint32_t c = producers; c < procs; ++c) {
    t = std::max(t, free_at[c]) + 1;
    Op op;
    op.process = c;
    op.kind = OpKind::get;
    op.timeout_ns = 0;
    op.outcome = Outcome::fail;
    op.error = ErrorKind::Empty;
    op.invoke_ns = t;
    op.return_ns = t + 5;
    h.ops.push_back(op);
  }
  return h;
}

// A Lock's history from `procs` processes, the same way: each process acquires (blocking when
// the lock is free, else sometimes a non-blocking try that returns False), then releases; every
// op takes effect at an instant of its interval.
History make_lock_history(std::size_t total_ops, std::uint32_t procs) {
  History h;
  h.ops.reserve(total_ops);
  Rng rng;
  std::vector<std::int64_t> free_at(procs, 0);
  std::vector<bool> holding(procs, false);
  bool held = false;
  std::int64_t t = 1000;
  while (h.ops.size() < total_ops) {
    t += rng.between(1, 4);
    const auto p = static_cast<std::uint32_t>(rng.next() % procs);
    if (free_at[p] > t) continue;
    Op op;
    op.process = p;
    op.pid = static_cast<std::int32_t>(1000 + p);
    op.invoke_ns = std::max(free_at[p], t - rng.between(0, 40));
    op.return_ns = t + rng.between(1, 60);
    if (holding[p]) {
      op.kind = OpKind::release;
      holding[p] = held = false;
    } else if (!held) {
      op.kind = OpKind::acquire;
      holding[p] = held = true;
    } else if (rng.next() % 4 == 0) {
      op.kind = OpKind::acquire;
      op.timeout_ns = 0;
      op.outcome = Outcome::fail;
      op.error = ErrorKind::Timeout;
    } else {
      continue;
    }
    free_at[p] = op.return_ns + 1;
    h.ops.push_back(op);
  }
  return h;
}

long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

// The median of `runs` timings of `check` on `h`, printed as workload `name`; false (after
// saying why) when a run does not answer `expect`.
bool time_it(const char* name, const History& h, int runs, const std::function<Verdict(const History&)>& check,
             Status expect = Status::ok) {
  std::vector<double> times;
  for (int run = 0; run < runs; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    const Verdict v = check(h);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (v.status != expect) {
      std::fprintf(stderr, "bench_history: %s on %zu ops: expected %s, got %s %s: %s\n", name, h.ops.size(),
                   std::string(to_string(expect)).c_str(), std::string(to_string(v.status)).c_str(),
                   v.clause.c_str(), v.message.c_str());
      return false;
    }
    if (run == 0) std::fprintf(stderr, "bench_history: %s on %zu ops: %s\n", name, h.ops.size(), v.message.c_str());
  }
  std::sort(times.begin(), times.end());
  std::fprintf(stderr, "bench_history: %s on %zu ops: median of %d = %.3f s (min %.3f, max %.3f)\n", name,
               h.ops.size(), runs, times[times.size() / 2], times.front(), times.back());
  std::printf("%s.%zu_ops_8_procs\tseconds\t%.4f\n", name, h.ops.size(), times[times.size() / 2]);
  std::fflush(stdout);
  return true;
}

// `h` made illegal in its middle: one consumer's two gets in a row swap their items, items
// of two producers whose puts did not overlap (FIFO across producers is broken; no single
// producer's order is). A copy; `h` unchanged when no such pair exists.
History made_illegal(const History& h) {
  History bad = h;
  std::unordered_map<std::uint64_t, const Op*> put_of;  // item -> its put (make_history puts each once)
  for (const Op& op : h.ops)
    if (op.kind == OpKind::put) put_of.emplace(op.value, &op);
  std::unordered_map<std::uint32_t, std::size_t> last_get;  // process -> its latest ok get so far
  for (std::size_t i = h.ops.size() / 2; i < h.ops.size(); ++i) {
    const Op& g = h.ops[i];
    if (g.kind != OpKind::get || !g.ok()) continue;
    const auto [it, first] = last_get.try_emplace(g.process, i);
    if (first) continue;
    const std::size_t prev = std::exchange(it->second, i);
    const Op& p1 = *put_of.at(h.ops[prev].value);
    const Op& p2 = *put_of.at(g.value);
    if (p1.process == p2.process || p1.return_ns >= p2.invoke_ns) continue;
    std::swap(bad.ops[prev].value, bad.ops[i].value);
    break;
  }
  return bad;
}

Verdict exact(const History& h, LinearizabilityMethod method) {
  LinearizabilityOptions o;
  o.drained = true;
  o.method = method;
  o.max_states = std::uint64_t{1} << 62;
  return check_linearizable(h, o);
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t ops = 1'000'000, big = 10'000'000;
  int runs = 5;
  double models_seconds = 60;
  for (int i = 1; i < argc; i += 2) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "bench_history: %s needs a value\n", argv[i]);
      return 2;
    }
    const char* v = argv[i + 1];
    if (flag == "--ops") ops = std::strtoull(v, nullptr, 10);
    else if (flag == "--big") big = std::strtoull(v, nullptr, 10);
    else if (flag == "--runs") runs = std::atoi(v);
    else if (flag == "--models-seconds") models_seconds = std::strtod(v, nullptr);
    else {
      std::fprintf(stderr, "bench_history: unknown option %s (--ops, --big, --runs, --models-seconds)\n", argv[i]);
      return 2;
    }
  }
  if (ops < 100 || runs < 1) {
    std::fprintf(stderr, "bench_history: --ops must be >= 100 and --runs >= 1\n");
    return 2;
  }
  const History h = make_history(ops, 4, 4);
  QueueCheckOptions rules;
  rules.drained = true;
  rules.exact = false;
  QueueCheckOptions all = rules;
  all.exact = true;
  all.max_states = std::uint64_t{1} << 62;
  if (!time_it("queue_rules", h, runs, [&](const History& x) { return check_queue(x, rules); })) return 1;
  if (!time_it("queue_check", h, runs, [&](const History& x) { return check_queue(x, all); })) return 1;
  if (!time_it("queue_exact", h, runs, [](const History& x) { return exact(x, LinearizabilityMethod::native); }))
    return 1;
  std::printf("rss_after_exact.%zu_ops\tMiB\t%ld\n", ops, peak_rss_mib());
  // Illegal histories: check_queue names the violation by a rule (rule 3, FIFO across
  // producers) at any size; the search alone must give up every order of what came before
  // the violation, which is not linear: it runs on a small one.
  if (!time_it("queue_check_illegal", made_illegal(h), runs, [&](const History& x) { return check_queue(x, all); },
               Status::illegal))
    return 1;
  if (!time_it("queue_exact_illegal", made_illegal(make_history(2000, 4, 4)), runs,
               [](const History& x) { return exact(x, LinearizabilityMethod::native); }, Status::illegal))
    return 1;
  if (big > 0) {
    const History hb = make_history(big, 4, 4);
    if (!time_it("queue_exact", hb, 1, [](const History& x) { return exact(x, LinearizabilityMethod::native); }))
      return 1;
    std::printf("rss_after_exact.%zu_ops\tMiB\t%ld\n", big, peak_rss_mib());
  }
  // A Lock: the rule checker and the search (through the models: a lock's state is one word).
  const History hl = make_lock_history(ops, 8);
  if (!time_it("lock_check", hl, runs, [](const History& x) { return check_lock(x, LockCheckOptions{}); })) return 1;
  const auto lock_exact = [](const History& x) {
    LinearizabilityOptions o;
    o.kind = LinearizableKind::lock;
    o.max_states = std::uint64_t{1} << 62;
    return check_linearizable(x, o);
  };
  if (!time_it("lock_exact", hl, runs, lock_exact)) return 1;
  // Made illegal in its middle: a try that returned False returns True instead (two holders).
  History bad_lock = hl;
  for (std::size_t i = bad_lock.ops.size() / 2; i < bad_lock.ops.size(); ++i)
    if (bad_lock.ops[i].failed()) {
      bad_lock.ops[i].outcome = Outcome::ok;
      bad_lock.ops[i].error = ErrorKind::none;
      break;
    }
  if (!time_it("lock_exact_illegal", bad_lock, runs, lock_exact, Status::illegal)) return 1;
  // The generic checker (spec::step of the models) on growing prefixes.
  for (std::size_t n = 1000; n <= ops; n *= 2) {
    History prefix;
    prefix.ops.assign(h.ops.begin(), h.ops.begin() + static_cast<std::ptrdiff_t>(n));
    const auto t0 = std::chrono::steady_clock::now();
    LinearizabilityOptions o;  // not drained: a prefix may leave items queued
    o.max_states = std::uint64_t{1} << 62;
    const Verdict v = check_linearizable(prefix, o);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr, "bench_history: models search on %zu ops: %.3f s, %s\n", n, secs, v.message.c_str());
    std::printf("models_search.%zu_ops_8_procs\tseconds\t%.4f\n", n, secs);
    std::fflush(stdout);
    if (!v.is_ok()) return 1;
    if (secs > models_seconds / 4) break;
  }
  return 0;
}
