// The producer/consumer seed program: one producer process puts 0..99 and then a sentinel
// (std::nullopt, Python's None); one consumer process takes items until the sentinel and
// reports the count and the sum through a second queue.
#include <cstdio>
#include <optional>

#include "mpref/process.hpp"
#include "mpref/queues.hpp"

namespace {
constexpr int kItems = 100;

struct Summary {  // trivially copyable: travels through a Queue as is
  int count;
  long sum;
};

void producer(mpref::Queue<std::optional<int>> q) {
  for (int i = 0; i < kItems; ++i) q.put(i);
  q.put(std::nullopt);  // the sentinel
}

void consumer(mpref::Queue<std::optional<int>> q, mpref::Queue<Summary> report) {
  int count = 0;
  long sum = 0;
  int expected = 0;
  bool in_order = true;
  for (;;) {
    std::optional<int> item = q.get(true, 30.0);  // bounded: never hang a test run
    if (!item) break;
    in_order = in_order && *item == expected++;
    ++count;
    sum += *item;
  }
  report.put(Summary{in_order ? count : -count, sum});
}
}  // namespace

int main() {
  mpref::Queue<std::optional<int>> q;
  mpref::Queue<Summary> report;
  mpref::Process c(consumer, q, report);
  mpref::Process p(producer, q);
  c.start();
  p.start();
  const auto [count, sum] = report.get(true, 30.0);
  p.join(30.0);
  c.join(30.0);
  const long want = long{kItems} * (kItems - 1) / 2;
  std::printf("consumer took %d items in order, sum %ld (want %d, %ld)\n", count, sum, kItems, want);
  std::printf("producer exitcode %d, consumer exitcode %d\n", p.exitcode().value_or(-999),
              c.exitcode().value_or(-999));
  const bool ok = count == kItems && sum == want && p.exitcode() == 0 && c.exitcode() == 0 &&
                  q.empty();
  if (!ok) {
    std::printf("example producer_consumer: FAILED\n");
    return 1;
  }
  std::printf("example producer_consumer: all checks passed\n");
  return 0;
}
