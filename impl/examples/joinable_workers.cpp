// The JoinableQueue seed program: a daemonic consumer process takes tasks and calls
// task_done() for each; the main process puts the tasks and join() returns once every one of
// them is done. The consumer never ends by itself: the exit function terminates it (daemon).
#include <cstdio>

#include "mpref/process.hpp"
#include "mpref/queues.hpp"

namespace {
constexpr int kTasks = 50;

void worker(mpref::JoinableQueue<int> tasks, mpref::Queue<int> results) {
  for (;;) {
    const int t = tasks.get();
    results.put(t * t);
    tasks.task_done();
  }
}
}  // namespace

int main() {
  mpref::JoinableQueue<int> tasks;
  mpref::Queue<int> results;
  mpref::Process w(mpref::ProcessOptions{.name = "worker", .daemon = true}, worker, tasks, results);
  w.start();
  for (int i = 0; i < kTasks; ++i) tasks.put(i);
  // join() as in Python; the bounded form (an mpref extension) keeps a broken build from hanging.
  const bool joined = tasks.join(30.0);
  const std::size_t done = results.qsize();  // every task_done() came after its result
  long sum = 0;
  while (!results.empty()) sum += results.get_nowait();
  long want = 0;
  for (int i = 0; i < kTasks; ++i) want += long{i} * i;
  std::printf("join() returned: %s; %zu results, sum of squares %ld (want %ld)\n",
              joined ? "yes" : "no (timed out)", done, sum, want);
  std::printf("unfinished tasks after join: %llu; daemon worker alive: %s\n",
              static_cast<unsigned long long>(tasks.unfinished_tasks()), w.is_alive() ? "yes" : "no");
  const bool ok = joined && done == static_cast<std::size_t>(kTasks) && sum == want &&
                  tasks.unfinished_tasks() == 0;
  if (!ok) {
    std::printf("example joinable_workers: FAILED\n");
    return 1;
  }
  std::printf("example joinable_workers: all checks passed\n");
  return 0;  // the exit function SIGTERMs and joins the daemonic worker
}
