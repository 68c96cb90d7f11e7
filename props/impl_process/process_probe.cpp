// process_probe <scenario> [args]: a fresh main process for the tests that concern the main
// process itself (its counter, its exit function, its death). test_exit.cpp runs it with
// stdout on a pipe and reads what it (and its children) report, one `key=value` line each.
// Reports are written with write(2), so no stdio buffering muddles their order.
#include <signal.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "mpref/detail/deadline.hpp"
#include "mpref/process.hpp"

namespace {

using mpref::Process;

void say(const std::string& line) {
  std::string s = line + "\n";
  std::size_t off = 0;
  while (off < s.size()) {
    ssize_t n = ::write(1, s.data() + off, s.size() - off);
    if (n <= 0) return;
    off += static_cast<std::size_t>(n);
  }
}

std::string t() {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.6f", mpref::detail::monotonic_now());
  return buf;
}

/// A ready handshake from a child to main (main waits at most 10 s).
struct Ready {
  int fds[2];
  Ready() {
    if (::pipe(fds) != 0) std::abort();
  }
  void signal() const {
    if (::write(fds[1], "r", 1) != 1) std::abort();
  }
  void wait() const {
    char c;
    ::close(fds[1]);
    alarm(10);  // a probe must never hang
    if (::read(fds[0], &c, 1) != 1) std::abort();
    alarm(0);
  }
};

volatile std::sig_atomic_t got_term = 0;
extern "C" void on_term(int) { got_term = 1; }

/// Sleeps up to `seconds`, returning early when SIGTERM arrives (its handler is installed).
void sleep_until_term(unsigned seconds) {
  for (unsigned i = 0; i < seconds * 10 && got_term == 0; ++i) ::usleep(100000);
}

int names() {
  Process a;
  Process b;
  auto parent = mpref::parent_process();
  say("main=" + mpref::current_process().name() + " parent=" + (parent ? "some" : "none") +
      " a=" + a.name() + " b=" + b.name());
  return 0;
}

// X-EXIT-1 / X-EXIT-8: at main's end, the daemon gets SIGTERM at once, then the non-daemon
// child is waited for.
int daemon_term() {
  Ready ready;
  Process d(
      [&] {
        std::signal(SIGTERM, on_term);
        ready.signal();
        sleep_until_term(30);
        say(std::string(got_term ? "daemon_sigterm" : "daemon_timeout") + " t=" + t());
      },
      {.daemon = true});
  Process n([] {
    ::usleep(500000);
    say("nondaemon_done t=" + t());
  });
  d.start();
  n.start();
  ready.wait();
  say("main_end t=" + t());
  return 0;
}

// X-EXIT-2: a daemon that ignores SIGTERM holds main's exit until it ends by itself.
int daemon_ignores_term() {
  Ready ready;
  Process d(
      [&] {
        std::signal(SIGTERM, SIG_IGN);
        ready.signal();
        ::usleep(1000000);
        say("daemon_done t=" + t());
      },
      {.daemon = true});
  d.start();
  ready.wait();
  say("main_end t=" + t());
  return 0;
}

// X-EXIT-5: the parent's atexit handlers do not run in children.
int atexit_once() {
  std::atexit([] { say("atexit pid=" + std::to_string(::getpid())); });
  Process c([] {});
  c.start();
  c.join();
  say("main pid=" + std::to_string(::getpid()) + " child_exitcode=" +
      std::to_string(c.exitcode().value_or(-1000)));
  return 0;
}

[[noreturn]] void die(const char* how) {
  if (std::strcmp(how, "kill") == 0) ::raise(SIGKILL);
  ::_exit(0);
}

// X-EXIT-4: main dies without exit work; its non-daemonic child runs on to completion.
int orphan(const char* how) {
  Process n([] {
    ::usleep(500000);
    say("orphan_done");
  });
  n.start();
  say("orphan pid=" + std::to_string(*n.pid()));
  die(how);
}

// X-EXIT-7 (divergence): main dies without exit work; its daemonic child dies with it.
int daemon_orphan(const char* how) {
  Ready ready;
  Process d(
      [&] {
        ready.signal();
        ::sleep(30);
        say("daemon_survived");
      },
      {.daemon = true});
  d.start();
  ready.wait();
  say("daemon pid=" + std::to_string(*d.pid()));
  die(how);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string scenario = argc > 1 ? argv[1] : "";
  const char* how = argc > 2 ? argv[2] : "kill";
  if (scenario == "names") return names();
  if (scenario == "daemon_term") return daemon_term();
  if (scenario == "daemon_ignores_term") return daemon_ignores_term();
  if (scenario == "atexit") return atexit_once();
  if (scenario == "orphan") return orphan(how);
  if (scenario == "daemon_orphan") return daemon_orphan(how);
  std::fprintf(stderr, "process_probe: unknown scenario '%s'\n", scenario.c_str());
  return 2;
}
