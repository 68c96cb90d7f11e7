// The three-producers seed program: three producer processes, two daemonic consumer processes.
// Every item is consumed exactly once (the consumers report what they took through a second
// queue), the main process ends, and no consumer is left behind.
//
// To check that last point from inside the program, the scenario runs in a (non-daemonic)
// child acting as "main": when it returns, its exit function terminates and reaps the daemonic
// consumers; the real main then checks that their pids are gone.
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <vector>

#include "mpref/process.hpp"
#include "mpref/queues.hpp"

namespace {
constexpr std::uint32_t kProducers = 3;
constexpr std::uint32_t kPerProducer = 1000;

struct Item {
  std::uint32_t producer;
  std::uint32_t seq;
};
struct Report {
  std::uint32_t consumer;
  Item item;
};

void produce(mpref::Queue<Item> q, std::uint32_t id) {
  for (std::uint32_t s = 0; s < kPerProducer; ++s) q.put(Item{id, s});
}

void consume(mpref::Queue<Item> q, mpref::Queue<Report> reports, std::uint32_t id) {
  for (;;) reports.put(Report{id, q.get()});  // forever: a daemon, ended by its parent's exit
}

// The original program's main().
void scenario(mpref::Queue<int> outcome, mpref::Queue<pid_t> consumer_pids) {
  mpref::Queue<Item> q(100);
  mpref::Queue<Report> reports;
  std::vector<mpref::Process> consumers;
  for (std::uint32_t c = 0; c < 2; ++c) {
    consumers.emplace_back(mpref::ProcessOptions{.name = "", .daemon = true}, consume, q, reports, c);
    consumers.back().start();
    consumer_pids.put(*consumers.back().pid());
  }
  std::vector<mpref::Process> producers;
  for (std::uint32_t p = 0; p < kProducers; ++p) {
    producers.emplace_back(produce, q, p);
    producers.back().start();
  }
  std::vector<std::vector<int>> seen(kProducers, std::vector<int>(kPerProducer, 0));
  std::uint32_t per_consumer[2] = {0, 0};
  bool ok = true;
  for (std::uint32_t n = 0; n < kProducers * kPerProducer; ++n) {
    Report r{};
    try {
      r = reports.get(true, 30.0);
    } catch (const mpref::Empty&) {
      std::printf("FAILED: only %u of %u items reported\n", n, kProducers * kPerProducer);
      ok = false;
      break;
    }
    ++seen[r.item.producer][r.item.seq];
    ++per_consumer[r.consumer];
  }
  for (auto& p : producers) p.join(30.0);
  std::uint32_t once = 0;
  for (const auto& v : seen)
    for (int c : v) once += (c == 1);
  std::printf("items consumed exactly once: %u of %u (consumer 0: %u, consumer 1: %u)\n", once,
              kProducers * kPerProducer, per_consumer[0], per_consumer[1]);
  ok = ok && once == kProducers * kPerProducer && reports.empty() && q.empty();
  for (auto& p : producers) ok = ok && p.exitcode() == 0;
  outcome.put(ok ? 1 : 0);
  // Returning ends this "main": its exit function SIGTERMs and joins the daemonic consumers.
}

bool gone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }
}  // namespace

int main() {
  mpref::Queue<int> outcome;
  mpref::Queue<pid_t> consumer_pids;
  mpref::Process main_process(mpref::ProcessOptions{.name = "MainProcess-scenario", .daemon = false},
                              scenario, outcome, consumer_pids);
  main_process.start();
  bool ok = false;
  try {
    ok = outcome.get(true, 60.0) == 1;
  } catch (const mpref::Empty&) {
    std::printf("FAILED: the scenario reported nothing\n");
  }
  main_process.join(30.0);
  const auto code = main_process.exitcode();
  std::printf("scenario main exited with %d\n", code.value_or(-999));
  bool none_left = true;
  while (!consumer_pids.empty()) {
    const pid_t pid = consumer_pids.get_nowait();
    const bool g = gone(pid);
    std::printf("consumer pid %d left behind: %s\n", static_cast<int>(pid), g ? "no" : "YES");
    none_left = none_left && g;
  }
  if (!(ok && code == 0 && none_left)) {
    std::printf("example three_producers: FAILED\n");
    return 1;
  }
  std::printf("example three_producers: all checks passed\n");
  return 0;
}
