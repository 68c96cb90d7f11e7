// bench_process: mpref Process start + join; twin of cpython_process.py.
//
// Output, one line per workload:  <workload>\t<metric>\t<value>
//   process.start_join   seconds per start()+join() of a child whose target does nothing
// Time-bounded (about DURATION seconds), after a short warm-up.
#include <cstdio>

#include "mpref/detail/deadline.hpp"
#include "mpref/process.hpp"

namespace {

constexpr double kDuration = 0.5;

double start_join() {
  for (int i = 0; i < 5; ++i) {  // warm-up: page in the fork path
    mpref::Process p([] {});
    p.start();
    p.join();
  }
  long n = 0;
  const double t0 = mpref::detail::monotonic_now();
  double t = t0;
  while (t - t0 < kDuration) {
    mpref::Process p([] {});
    p.start();
    p.join();
    ++n;
    t = mpref::detail::monotonic_now();
  }
  return (t - t0) / static_cast<double>(n);
}

}  // namespace

int main() {
  std::printf("process.start_join\ts\t%.9f\n", start_join());
  return 0;
}
