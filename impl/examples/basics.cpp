// example basics: a child's name, pid and liveness; terminate() and its exit code.
//
//   Process-1 pid=<pid> alive=true
//   after terminate: exitcode=-15 alive=false
//   example basics: all checks passed
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

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
  // The target would sleep 30 s; terminate() ends it early.
  mpref::Process p([] { ::sleep(30); });
  check(p.name() == "Process-1", "the first Process in main is named Process-1");
  check(!p.pid() && !p.is_alive() && !p.exitcode(), "no pid, not alive, no exitcode before start");

  p.start();
  const bool alive = p.is_alive();
  std::printf("%s pid=%d alive=%s\n", p.name().c_str(), static_cast<int>(p.pid().value_or(-1)),
              alive ? "true" : "false");
  check(alive, "alive after start");
  check(p.pid().has_value() && *p.pid() != ::getpid(), "the child has its own pid");
  check(mpref::current_process().name() == "MainProcess", "we are MainProcess");

  p.terminate();  // SIGTERM; returns at once
  p.join(10.0);   // bounded
  const auto code = p.exitcode();
  std::printf("after terminate: exitcode=%d alive=%s\n", code.value_or(999),
              p.is_alive() ? "true" : "false");
  check(code == -15, "a terminated child's exitcode is -SIGTERM");
  check(!p.is_alive() && mpref::active_children().empty(), "reaped: not alive, not active");

  std::printf("example basics: all checks passed\n");
  return 0;
}
