// bench_queues: mpref Queue / JoinableQueue / Pipe throughput and latency, and the resident
// memory of an unbounded queue. Twin: cpython_queues.py (same workload names).
// Output: <workload>\t<metric>\t<value>, metric per_s (higher is better), s (seconds per
// operation, lower is better) or mib (C++ only, no CPython twin).
#include <sys/wait.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "mpref/connection.hpp"
#include "mpref/detail/deadline.hpp"
#include "mpref/queues.hpp"

namespace {

double now() { return mpref::detail::monotonic_now(); }

template <class F>
pid_t spawn(F&& body) {
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) {
    std::perror("fork");
    std::exit(2);
  }
  if (pid == 0) {
    int code = 0;
    try {
      body();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "bench child: %s\n", e.what());
      code = 3;
    }
    ::_exit(code);
  }
  return pid;
}

void reap(const std::vector<pid_t>& pids) {
  for (pid_t p : pids) {
    int st = 0;
    if (::waitpid(p, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
      std::fprintf(stderr, "bench child %d failed\n", static_cast<int>(p));
      std::exit(2);
    }
  }
}

void report(const char* name, const char* metric, double value) {
  std::printf("%s\t%s\t%.6g\n", name, metric, value);
  std::fflush(stdout);
}

// Producers and consumers of 8-byte items; every consumer takes its share.
double queue_rate(int pairs, std::uint64_t total) {
  mpref::Queue<std::uint64_t> q;
  const std::uint64_t share = total / static_cast<std::uint64_t>(pairs);
  std::vector<pid_t> kids;
  const double t0 = now();
  for (int c = 0; c < pairs; ++c)
    kids.push_back(spawn([&] {
      std::uint64_t sum = 0;
      for (std::uint64_t i = 0; i < share; ++i) sum += q.get(true, 60.0);
      if (sum == 0xdeadbeef) std::puts("");  // keep the loop
    }));
  for (int p = 0; p < pairs; ++p)
    kids.push_back(spawn([&] {
      for (std::uint64_t i = 0; i < share; ++i) q.put(i);
    }));
  reap(kids);
  return static_cast<double>(share * static_cast<std::uint64_t>(pairs)) / (now() - t0);
}

// One producer (this process) puts; one consumer process gets and calls task_done(); join().
double joinable_rate(std::uint64_t n) {
  mpref::JoinableQueue<std::uint64_t> q;
  const double t0 = now();
  std::vector<pid_t> kids{spawn([&] {
    for (std::uint64_t i = 0; i < n; ++i) {
      (void)q.get(true, 60.0);
      q.task_done();
    }
  })};
  for (std::uint64_t i = 0; i < n; ++i) q.put(i);
  if (!q.join(60.0)) {
    std::fprintf(stderr, "joinable: join timed out\n");
    std::exit(2);
  }
  const double t = now() - t0;
  reap(kids);
  return static_cast<double>(n) / t;
}

// 8-byte message to an echoing child and back, over a duplex Pipe.
double pipe_roundtrip(int n) {
  auto [a, b] = mpref::Pipe();
  std::vector<pid_t> kids{spawn([&, b = b] {
    mpref::Connection e = b;
    std::byte buf[64];
    for (int i = 0; i < n; ++i) {
      const std::size_t len = e.recv_bytes_into(buf);
      e.send_bytes(std::span<const std::byte>(buf, len));
    }
  })};
  b.close();
  const std::uint64_t msg = 0x0102030405060708ULL;
  std::byte buf[64];
  for (int i = 0; i < 200; ++i) {  // warm-up
    a.send(msg);
    (void)a.recv_bytes_into(buf);
  }
  const double t0 = now();
  for (int i = 200; i < n; ++i) {
    a.send(msg);
    (void)a.recv_bytes_into(buf);
  }
  const double t = now() - t0;
  reap(kids);
  return t / (n - 200);
}

// Rss (KiB) of the mapping that contains `addr`, from /proc/self/smaps.
long mapping_rss_kib(const void* addr) {
  std::ifstream smaps("/proc/self/smaps");
  std::string line;
  const auto a = reinterpret_cast<std::uintptr_t>(addr);
  bool in = false;
  while (std::getline(smaps, line)) {
    unsigned long lo = 0, hi = 0;
    if (std::sscanf(line.c_str(), "%lx-%lx ", &lo, &hi) == 2 && line.find(':') > line.find(' ')) {
      in = a >= lo && a < hi;
      continue;
    }
    long kib = 0;
    if (in && std::sscanf(line.c_str(), "Rss: %ld kB", &kib) == 1) return kib;
  }
  return -1;
}

// An unbounded queue (1 GiB reserve) holding ~1 MiB while 256 MiB stream through it.
double reserve_rss_mib() {
  mpref::Queue<> q;
  const mpref::Bytes item(4096, std::byte{1});
  for (int i = 0; i < 256; ++i) q.put(item);
  for (int i = 0; i < 256 * 256; ++i) {
    q.put(item);
    (void)q.get();
  }
  return static_cast<double>(mapping_rss_kib(q.core().ring_address())) / 1024.0;
}

}  // namespace

int main() {
  report("queue.1to1", "per_s", queue_rate(1, 2'000'000));
  report("queue.4to4", "per_s", queue_rate(4, 4'000'000));
  report("joinable.put_get_task_done", "per_s", joinable_rate(1'000'000));
  report("pipe.roundtrip", "s", pipe_roundtrip(20'000));
  report("queue.reserve_rss_mib", "mib", reserve_rss_mib());
  return 0;
}
