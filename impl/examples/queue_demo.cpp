// The queue demo seed program: a Queue(maxsize=3), full/empty, and the nowait errors.
//
//   q = Queue(3); put 1, 2, 3 -> full(); put_nowait(4) -> queue.Full; put(4, timeout=0.2)
//   -> queue.Full after ~0.2 s; get x3 -> 1, 2, 3 (FIFO); empty(); get_nowait() -> queue.Empty;
//   get(timeout=0.2) -> queue.Empty after ~0.2 s.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "mpref/detail/deadline.hpp"
#include "mpref/queues.hpp"

namespace {
int failures = 0;
void check(bool ok, const std::string& what) {
  std::printf("%s %s\n", ok ? "ok    " : "FAILED", what.c_str());
  if (!ok) ++failures;
}
double now() { return mpref::detail::monotonic_now(); }
}  // namespace

int main() {
  mpref::Queue<int> q(3);
  for (int i = 1; i <= 3; ++i) q.put(i);
  check(q.full() && q.qsize() == 3, "after 3 puts: full() and qsize() == 3");

  try {
    q.put_nowait(4);
    check(false, "put_nowait on a full queue raises queue.Full");
  } catch (const mpref::Full& e) {
    check(std::string(e.what()).empty() && e.python_type() == "queue.Full",
          "put_nowait on a full queue raises queue.Full (empty message)");
  }
  double t0 = now();
  try {
    q.put(4, true, 0.2);
    check(false, "put(4, timeout=0.2) on a full queue raises queue.Full");
  } catch (const mpref::Full&) {
    const double t = now() - t0;
    check(t >= 0.19 && t < 1.5, "put(4, timeout=0.2) raises queue.Full after " + std::to_string(t) + " s");
  }

  bool fifo = true;
  for (int i = 1; i <= 3; ++i) fifo = fifo && q.get() == i;
  check(fifo, "get x3 returns 1, 2, 3 (FIFO)");
  check(q.empty() && q.qsize() == 0 && !q.full(), "then empty() and qsize() == 0");

  try {
    (void)q.get_nowait();
    check(false, "get_nowait on an empty queue raises queue.Empty");
  } catch (const mpref::Empty& e) {
    check(std::string(e.what()).empty() && e.python_type() == "queue.Empty",
          "get_nowait on an empty queue raises queue.Empty (empty message)");
  }
  t0 = now();
  try {
    (void)q.get(true, 0.2);
    check(false, "get(timeout=0.2) on an empty queue raises queue.Empty");
  } catch (const mpref::Empty&) {
    const double t = now() - t0;
    check(t >= 0.19 && t < 1.5, "get(timeout=0.2) raises queue.Empty after " + std::to_string(t) + " s");
  }
  try {
    (void)q.get(true, -1.0);
    check(false, "get(timeout=-1) raises queue.Empty at once");
  } catch (const mpref::Empty&) {
    check(true, "get(timeout=-1) raises queue.Empty at once (negative timeout: do not wait)");
  }

  if (failures != 0) {
    std::printf("example queue_demo: %d check(s) FAILED\n", failures);
    return 1;
  }
  std::printf("example queue_demo: all checks passed\n");
  return 0;
}
