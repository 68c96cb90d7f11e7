// bench_history: time the queue checker on a history of 1,000,000 queue operations from 8
// processes (4 producers, 4 consumers), synthetic and legal.
//
// Output, one line per workload (the impl/bench shape): <workload>\tseconds\t<value>, the
// median of 5 runs; details on stderr. Exit 1 if the checker does not answer ok.
//
// The history is a simulated FIFO queue: ops start at increasing instants, each process runs
// one op at a time with a random duration (so ops of different processes overlap), and every
// op takes effect at its invoke instant (so the history is linearizable, hence legal). A
// consumer that finds the queue empty waits; at the end each consumer records one get that
// raises Empty.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <vector>

#include "mpconform/checkers/queue.hpp"
#include "mpconform/history.hpp"

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
    op.invoke_ns = t;
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

}  // namespace

int main() {
  constexpr std::size_t kOps = 1'000'000;
  const History h = make_history(kOps, 4, 4);
  QueueCheckOptions o;
  o.drained = true;
  std::vector<double> times;
  Verdict v;
  for (int run = 0; run < 5; ++run) {
    const auto t0 = std::chrono::steady_clock::now();
    v = check_queue(h, o);
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (!v.is_ok()) {
      std::fprintf(stderr, "bench_history: expected ok, got %s %s: %s\n", std::string(to_string(v.status)).c_str(),
                   v.clause.c_str(), v.message.c_str());
      return 1;
    }
  }
  std::sort(times.begin(), times.end());
  const double median = times[times.size() / 2];
  std::fprintf(stderr, "bench_history: %zu queue ops from 8 processes (4 producers, 4 consumers), "
                       "check_queue median of 5 = %.3f s (min %.3f, max %.3f; target < 1 s)\n",
               h.ops.size(), median, times.front(), times.back());
  std::printf("queue_check.1M_ops_8_procs\tseconds\t%.4f\n", median);
  return 0;
}
