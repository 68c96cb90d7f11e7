// bench_checkers: the exact queue check at scale (issue 13's figures), not a test.
//
//   bench_checkers [--ops N] [--processes P] [--backlog B] [--search-seconds S] [--seed X]
//
// Builds a legal Queue history of N ops from P processes (half producers putting, half
// consumers getting, with get_nowait raising Empty, qsize and empty probes, and overlapping
// intervals), then times, on the same history:
//  - the exact search over the native queue state (check_linearizable, method native),
//  - the rule-based check_queue,
//  - the same exact search stepping through the models (method models, the generic checker)
//    on growing prefixes (1000, 2000, 4000, ... ops) until one takes longer than S/4 seconds
//    (default S = 60: the next doubling would pass S).
// Prints one line per measurement: "<what>\t<ops>\t<seconds>\t<verdict>", and the peak RSS.
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <iostream>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "differential.hpp"
#include "mpconform/checkers.hpp"
#include "mpconform/linearizability.hpp"

namespace {

using namespace mpconform;

// A legal history: each step one process makes one call at the next instant, as a FIFO queue
// would answer it then.
History legal_history(std::size_t n, std::uint32_t processes, std::size_t backlog, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::deque<std::uint64_t> q;
  std::vector<std::uint64_t> seq(processes, 0);
  History h;
  h.ops.reserve(n);
  std::uniform_int_distribution<std::uint32_t> who(0, processes - 1);
  std::uniform_int_distribution<int> what(0, 99);
  std::int64_t t = 100;
  for (std::size_t i = 0; i < n; ++i, t += 2 + static_cast<std::int64_t>(rng() % 8)) {
    Op o;
    o.process = who(rng);
    o.invoke_ns = o.return_ns = t;
    const bool producer = o.process % 2 == 0;
    const int r = what(rng);
    // Producers hold back while `backlog` items wait (as with a bounded queue), so the
    // consumers keep up (an unbounded backlog of items from concurrent puts leaves their order
    // open until they are got, which the search then has to settle).
    if (r < 5 || (producer && q.size() >= backlog)) {
      o.kind = OpKind::qsize;
      o.value = q.size();
    } else if (r < 10) {
      o.kind = OpKind::empty;
      o.value = q.empty() ? 1 : 0;
    } else if (producer) {
      o.kind = OpKind::put;
      o.value = make_tag(o.process, seq[o.process]++);
      q.push_back(o.value);
    } else {
      o.kind = OpKind::get;
      o.timeout_ns = 0;
      if (q.empty()) {
        o.outcome = Outcome::fail;
        o.error = ErrorKind::Empty;
      } else {
        o.value = q.front();
        q.pop_front();
      }
    }
    h.ops.push_back(o);
  }
  differential::assign_intervals(h.ops, rng);
  return h;
}

long peak_rss_mib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss / 1024;
}

template <class F>
double timed(F f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void report(std::string_view what, std::size_t ops, double secs, const Verdict& v) {
  std::cout << fmt::format("{}\t{}\t{:.3f}\t{}", what, ops, secs, to_string(v.status))
            << "\t" << v.message << "\n"
            << std::flush;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t ops = 1'000'000;
  std::uint32_t processes = 8;
  double search_seconds = 60;
  std::uint64_t seed = 1;
  std::size_t backlog = 4;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const char* v = argv[i + 1];
    if (flag == "--ops") ops = std::strtoull(v, nullptr, 10);
    else if (flag == "--processes") processes = static_cast<std::uint32_t>(std::strtoul(v, nullptr, 10));
    else if (flag == "--search-seconds") search_seconds = std::strtod(v, nullptr);
    else if (flag == "--backlog") backlog = std::strtoull(v, nullptr, 10);
    else if (flag == "--seed") seed = std::strtoull(v, nullptr, 10);
    else {
      std::cerr << "bench_checkers: unknown option " << flag << "\n";
      return 2;
    }
  }
  if (argc % 2 == 0 || ops == 0 || processes < 2) {
    std::cerr << "usage: bench_checkers [--ops N] [--processes P>=2] [--backlog B] [--search-seconds S] [--seed X]\n";
    return 2;
  }
  const History h = legal_history(ops, processes, backlog, seed);
  std::cout << fmt::format("history\t{}\t{} processes\tseed {}\tbacklog {}\trss {} MiB\n", ops, processes, seed, backlog, peak_rss_mib());

  LinearizabilityOptions exact;
  exact.method = LinearizabilityMethod::native;
  exact.max_states = std::uint64_t{1} << 62;
  Verdict v;
  double secs = timed([&] { v = check_linearizable(h, exact); });
  report("native", ops, secs, v);
  std::cout << fmt::format("rss\t{} MiB after the native search\n", peak_rss_mib());
  secs = timed([&] { v = check_queue(h); });
  report("rules", ops, secs, v);

  // The search through the models on growing prefixes, until one takes longer than S/4.
  for (std::size_t n = 1000; n <= ops; n *= 2) {
    History prefix;
    prefix.ops.assign(h.ops.begin(), h.ops.begin() + static_cast<std::ptrdiff_t>(n));
    LinearizabilityOptions dfs;
    dfs.max_states = std::uint64_t{1} << 62;
    secs = timed([&] { v = check_linearizable(prefix, dfs); });
    report("models", n, secs, v);
    if (secs > search_seconds / 4) break;  // the next doubling would take longer than the limit
  }
  return 0;
}
