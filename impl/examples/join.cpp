// example join: join() waits for each child. Three children sleep 100, 200 and 300 ms; joining
// them one after the other takes about as long as the longest, and each exits 0.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "mpref/detail/deadline.hpp"
#include "mpref/process.hpp"

namespace {
void check(bool ok, const std::string& what) {
  if (!ok) {
    std::printf("FAILED: %s\n", what.c_str());
    std::exit(1);
  }
}
}  // namespace

int main() {
  const double t0 = mpref::detail::monotonic_now();
  std::vector<mpref::Process> children;
  for (unsigned ms : {100U, 200U, 300U}) {
    // Process(f, args...) copies the arguments, as Python's args=(...) tuple.
    children.emplace_back([](unsigned m) { ::usleep(m * 1000); }, ms);
    children.back().start();
  }
  check(mpref::active_children().size() == 3, "three active children");
  for (auto& c : children) {
    c.join(10.0);  // bounded: a child that hangs fails the check below instead of the example
    std::printf("%s exitcode=%d at %.3f s\n", c.name().c_str(), c.exitcode().value_or(999),
                mpref::detail::monotonic_now() - t0);
    check(c.exitcode() == 0, c.name() + " exited 0");
  }
  const double elapsed = mpref::detail::monotonic_now() - t0;
  std::printf("all joined after %.3f s\n", elapsed);
  check(elapsed >= 0.29, "join waited for the 300 ms child");
  check(elapsed < 5.0, "the children ran concurrently");
  check(mpref::active_children().empty(), "no child left");
  std::printf("example join: all checks passed\n");
  return 0;
}
