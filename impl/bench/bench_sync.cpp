// bench_sync: mpref Lock and Value throughput; twin of cpython_sync.py (same workloads).
// Output, one line per workload:  <workload>\t<metric>\t<value>
//   lock.uncontended        acquire/release pairs per second, one process
//   lock.contended2         pairs per second, two processes hammering one lock (total)
//   value.increment_locked  `with v.get_lock(): v.value += 1` per second, one process
// Each workload runs for about `duration` seconds (time-bounded, not count-bounded).
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <mutex>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mpref/detail/deadline.hpp"
#include "mpref/sharedctypes.hpp"
#include "mpref/synchronize.hpp"

namespace {

using mpref::detail::monotonic_now;

constexpr double duration = 0.4;
constexpr int batch = 1024;  // iterations between clock reads

void report(const char* workload, double per_s) {
  std::printf("%s\tper_s\t%.0f\n", workload, per_s);
  std::fflush(stdout);
}

void sleep_until(double t) {
  timespec ts{};
  ts.tv_sec = static_cast<time_t>(t);
  ts.tv_nsec = static_cast<long>((t - static_cast<double>(ts.tv_sec)) * 1e9);
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

double lock_uncontended() {
  mpref::Lock lock;
  long long n = 0;
  const double t0 = monotonic_now(), stop = t0 + duration;
  double t = t0;
  do {
    for (int i = 0; i < batch; ++i) {
      lock.acquire();
      lock.release();
    }
    n += batch;
    t = monotonic_now();
  } while (t < stop);
  return static_cast<double>(n) / (t - t0);
}

double lock_contended2() {
  mpref::Lock lock;
  mpref::RawArray<long long> counts(2);
  mpref::RawArray<double> ends(2);
  const double start = monotonic_now() + 0.05;  // both begin together, after both forks
  const double stop = start + duration;
  pid_t pids[2];
  for (int p = 0; p < 2; ++p) {
    pids[p] = fork();
    if (pids[p] < 0) return -1;
    if (pids[p] == 0) {
      sleep_until(start);
      long long n = 0;
      double t = 0;
      do {
        for (int i = 0; i < batch; ++i) {
          lock.acquire();
          lock.release();
        }
        n += batch;
        t = monotonic_now();
      } while (t < stop);
      counts.set(p, n);
      ends.set(p, t);
      _exit(0);
    }
  }
  bool ok = true;
  for (pid_t pid : pids) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    ok = ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
  }
  if (!ok) return -1;
  double end = ends.get(0) > ends.get(1) ? ends.get(0) : ends.get(1);
  return static_cast<double>(counts.get(0) + counts.get(1)) / (end - start);
}

double value_increment_locked() {
  mpref::Value<int> v;
  long long n = 0;
  const double t0 = monotonic_now(), stop = t0 + duration;
  double t = t0;
  do {
    for (int i = 0; i < batch; ++i) {
      std::lock_guard<mpref::RLock> g(v.get_lock());
      v.set_value(v.value() + 1);
    }
    n += batch;
    t = monotonic_now();
  } while (t < stop);
  if (v.value() != n) return -1;
  return static_cast<double>(n) / (t - t0);
}

}  // namespace

int main() {
  report("lock.uncontended", lock_uncontended());
  double c = lock_contended2();
  if (c < 0) {
    std::fprintf(stderr, "bench_sync: lock.contended2 failed\n");
    return 1;
  }
  report("lock.contended2", c);
  double v = value_increment_locked();
  if (v < 0) {
    std::fprintf(stderr, "bench_sync: value.increment_locked lost an update\n");
    return 1;
  }
  report("value.increment_locked", v);
  return 0;
}
