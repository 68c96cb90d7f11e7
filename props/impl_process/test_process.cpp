// mpref::Process against spec/clauses/process.json: the object's API (names, pids, start,
// run, join, is_alive, terminate/kill, daemon, close, sentinel) and exit codes.
// Children report through pipes (GoogleTest assertions only run in the test process).
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>

#include "clause.hpp"
#include "mpref/process.hpp"
#include "support.hpp"

namespace {

using mpref::Process;
using mpref::ProcessOptions;
using namespace process_test;

/// "Process-12" -> 12.
int number_of(const std::string& name) { return std::stoi(name.substr(name.rfind('-') + 1)); }

/// A child that waits for `gate` (bounded) and exits 0.
Process sleeper(const Gate& gate, ProcessOptions options = {}) {
  return Process([&gate] { gate.wait(); }, std::move(options));
}

// ------------------------------------------------------------------------------------ names

TEST_F(ProcessTest, NameCounterAdvancesOnEveryConstruction) {
  MPC_CLAUSE("P-NAME-6");
  Process a;
  Process b;
  Process x(Process::Target{}, {.name = "x"});
  Process d;
  const int n = number_of(a.name());
  EXPECT_EQ(a.name(), "Process-" + std::to_string(n));
  EXPECT_EQ(b.name(), "Process-" + std::to_string(n + 1));
  EXPECT_EQ(x.name(), "x");
  EXPECT_EQ(d.name(), "Process-" + std::to_string(n + 3));
}

TEST_F(ProcessTest, EmptyNameMeansDefaultAndConsumesCounter) {
  MPC_CLAUSE("P-NAME-3");
  Process a;
  Process e(Process::Target{}, {.name = ""});
  Process c;
  const int n = number_of(a.name());
  EXPECT_EQ(e.name(), "Process-" + std::to_string(n + 1));
  EXPECT_EQ(c.name(), "Process-" + std::to_string(n + 2));
}

TEST_F(ProcessTest, ChildRestartsCounterUnderItsIdentity) {
  MPC_CLAUSE("P-NAME-7");
  Pipe out;
  Process p([w = out.w()] {
    Process c1;
    Process c2;
    put(w, mpref::current_process().name() + " " + c1.name() + " " + c2.name() + "\n");
  });
  ASSERT_EQ(run_to_end(p), 0);
  Reader r(out.r());
  EXPECT_EQ(r.line(), p.name() + " " + p.name() + ":1 " + p.name() + ":2");
}

TEST_F(ProcessTest, NamedChildStillUsesIdentityForItsChildren) {
  MPC_CLAUSE("P-NAME-7", "P-NAME-1");
  Pipe out;
  Process p(
      [w = out.w()] {
        Process c1;
        put(w, c1.name() + "\n");
      },
      {.name = "Kid"});
  Process probe;  // the next number tells which identity "Kid" got
  const int kid = number_of(probe.name()) - 1;
  ASSERT_EQ(run_to_end(p), 0);
  Reader r(out.r());
  EXPECT_EQ(r.line(), "Process-" + std::to_string(kid) + ":1");
}

TEST_F(ProcessTest, MainProcessHasNoParent) {
  MPC_CLAUSE("P-NAME-5");
  EXPECT_EQ(mpref::current_process().name(), "MainProcess");
  EXPECT_FALSE(mpref::parent_process().has_value());
  EXPECT_EQ(mpref::current_process().pid(), ::getpid());
}

TEST_F(ProcessTest, ChildSeesItselfAndItsParent) {
  MPC_CLAUSE("P-NAME-8");
  Pipe out;
  Process p([w = out.w()] {
    auto me = mpref::current_process();
    auto parent = mpref::parent_process();
    put(w, "name=" + me.name() + " pid=" + std::to_string(me.pid().value_or(-1)) +
               " getpid=" + std::to_string(::getpid()) +
               " parent=" + (parent ? parent->name() : "none") +
               " ppid=" + std::to_string(parent ? parent->pid() : -1) + "\n");
  });
  ASSERT_EQ(run_to_end(p), 0);
  Reader r(out.r());
  auto line = r.line();
  ASSERT_TRUE(line);
  EXPECT_EQ(field(*line, "name"), p.name());
  EXPECT_EQ(field(*line, "pid"), std::to_string(*p.pid()));
  EXPECT_EQ(field(*line, "getpid"), std::to_string(*p.pid()));
  EXPECT_EQ(field(*line, "parent"), "MainProcess");
  EXPECT_EQ(field(*line, "ppid"), std::to_string(::getpid()));
}

// ------------------------------------------------------------------------------ pid, start

TEST_F(ProcessTest, BeforeStartNoPidNoExitcodeNotAlive) {
  MPC_CLAUSE("P-PID-1");
  Process p([] {});
  EXPECT_EQ(p.pid(), std::nullopt);
  EXPECT_EQ(p.exitcode(), std::nullopt);
  EXPECT_FALSE(p.is_alive());
}

TEST_F(ProcessTest, PidIsTheChildsAndIsKept) {
  MPC_CLAUSE("P-PID-2");
  Pipe out;
  Gate gate;
  Started p{Process([w = out.w(), &gate] {
    put(w, std::to_string(::getpid()) + "\n");
    gate.wait();
  })};
  Reader r(out.r());
  auto line = r.line();
  ASSERT_TRUE(line);
  ASSERT_TRUE(p->pid());
  EXPECT_EQ(std::to_string(*p->pid()), *line);
  EXPECT_EQ(p->exitcode(), std::nullopt);
  gate.open();
  p->join(Tier::bound());
  EXPECT_EQ(p->exitcode(), 0);
  EXPECT_EQ(std::to_string(p->pid().value_or(-1)), *line);
}

TEST_F(ProcessTest, StartTwiceIsRejected) {
  MPC_CLAUSE("P-START-1");
  Gate gate;
  Started p(sleeper(gate));
  EXPECT_EQ(error_of<mpref::AssertionError>([&] { p->start(); }), "cannot start a process twice");
  gate.open();
  p->join(Tier::bound());
  ASSERT_EQ(p->exitcode(), 0);
  EXPECT_EQ(error_of<mpref::AssertionError>([&] { p->start(); }), "cannot start a process twice");
}

TEST_F(ProcessTest, StartOfObjectFromAnotherProcessIsRejected) {
  MPC_CLAUSE("P-START-2");
  Pipe out;
  Process inherited([] {});
  Process p([&inherited, w = out.w()] {
    put(w, error_of<mpref::AssertionError>([&] { inherited.start(); }) + "\n");
  });
  ASSERT_EQ(run_to_end(p), 0);
  Reader r(out.r());
  EXPECT_EQ(r.line(), "can only start a process object created by current process");
}

TEST_F(ProcessTest, StartReapsFinishedChildren) {
  MPC_CLAUSE("P-START-3");
  Process a([] {});
  a.start();
  const pid_t apid = *a.pid();
  ASSERT_TRUE(readable(a.sentinel()));  // a has exited; nobody has polled it
  Process b([] {});
  b.start();
  EXPECT_EQ(proc_state(apid), std::nullopt) << "start() did not reap the finished child";
  EXPECT_EQ(a.exitcode(), 0);
  b.join(Tier::bound());
  EXPECT_EQ(b.exitcode(), 0);
}

TEST_F(ProcessTest, StartFlushesStdoutSoNothingIsDuplicated) {
  MPC_CLAUSE("P-START-4");
  Pipe out;
  Process p([w = out.w()] {
    ::dup2(w, 1);
    std::printf("before;");  // buffered (no newline, stdout is a pipe)
    Process g([] { std::printf("child;"); });
    g.start();
    g.join();
    std::printf("after;");
  });
  p.start();
  out.close_w();
  Reader r(out.r());
  EXPECT_EQ(r.rest(), "before;child;after;");
  p.join(Tier::bound());
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_F(ProcessTest, StartAndJoinFromAnotherThread) {
  MPC_CLAUSE("P-START-5");
  std::optional<int> code;
  std::thread t([&] {
    Process p([] {});
    code = run_to_end(p);
  });
  t.join();
  EXPECT_EQ(code, 0);
}

TEST_F(ProcessTest, ChildStdinIsDevNull) {
  // C++ analogue of P-START-7 (a python-only clause): fd 0 and std::cin read EOF at once.
  Pipe out;
  Pipe in;  // stdin the child would block on, were it inherited
  const int saved = ::dup(0);
  ::dup2(in.r(), 0);
  Process p([w = out.w()] {
    char c;
    ssize_t n = ::read(0, &c, 1);
    int g = std::getchar();
    put(w, "read=" + std::to_string(n) + " getchar_eof=" + std::to_string(g == EOF) + "\n");
  });
  p.start();
  ::dup2(saved, 0);
  ::close(saved);
  Reader r(out.r());
  EXPECT_EQ(r.line(), "read=0 getchar_eof=1");
  p.join(Tier::bound());
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_F(ProcessTest, ParentDropsTargetAfterStart) {
  // C++ analogue of P-START-8 (python-only): the target's captures are released in the parent;
  // run() afterwards raises as CPython does once _target is deleted (P-OPT-2's message).
  auto token = std::make_shared<int>(1);
  std::weak_ptr<int> watch = token;
  Process p([token] {});
  token.reset();
  EXPECT_FALSE(watch.expired());
  p.start();
  EXPECT_TRUE(watch.expired());
  EXPECT_EQ(error_of<mpref::AttributeError>([&] { p.run(); }),
            "'Process' object has no attribute '_target'");
  p.join(Tier::bound());
  EXPECT_EQ(p.exitcode(), 0);
}

// ------------------------------------------------------------------------------------- run

TEST_F(ProcessTest, RunCallsTargetInCallingProcess) {
  MPC_CLAUSE("P-RUN-1");
  pid_t seen = 0;
  Process p([&seen] { seen = ::getpid(); });
  p.run();
  EXPECT_EQ(seen, ::getpid());
  EXPECT_TRUE(mpref::active_children().empty());
  std::size_t total = 0;
  Process q([](int a, const std::string& s, std::size_t* o) { *o = static_cast<std::size_t>(a) + s.size(); },
            3, std::string("ab"), &total);
  q.run();
  EXPECT_EQ(total, 5U);
}

TEST_F(ProcessTest, NoTargetRunsNothingAndExitsZero) {
  MPC_CLAUSE("P-RUN-2");
  Process p;
  EXPECT_NO_THROW(p.run());
  EXPECT_EQ(run_to_end(p), 0);
}

// ------------------------------------------------------------------------------ exit codes

TEST_F(ProcessTest, NormalReturnIsZero) {
  MPC_CLAUSE("P-EXIT-1");
  Process p([] {});
  EXPECT_EQ(run_to_end(p), 0);
  Process q([] { return 5; });  // a return value is discarded
  EXPECT_EQ(run_to_end(q), 0);
}

TEST_F(ProcessTest, UncaughtExceptionIsOneAndReportedOnStderr) {
  MPC_CLAUSE("P-EXIT-4");
  {
    Pipe err;
    Process p([w = err.w()] {
      ::dup2(w, 2);
      throw std::runtime_error("boom");
    });
    p.start();
    err.close_w();
    Reader r(err.r());
    EXPECT_EQ(r.rest(), "Process " + p.name() + ":\nstd::runtime_error: boom\n");
    p.join(Tier::bound());
    EXPECT_EQ(p.exitcode(), 1);
  }
  {
    Pipe err;
    Process p([w = err.w()] {
      ::dup2(w, 2);
      throw mpref::ValueError("bad value");
    }, {.name = "Named"});
    p.start();
    err.close_w();
    Reader r(err.r());
    EXPECT_EQ(r.rest(), "Process Named:\nValueError: bad value\n");
    p.join(Tier::bound());
    EXPECT_EQ(p.exitcode(), 1);
  }
}

TEST_F(ProcessTest, ExitCodeIsLowByte) {
  MPC_CLAUSE("P-EXIT-7");
  const std::pair<int, int> cases[] = {{3, 3}, {-1, 255}, {256, 0}, {257, 1}, {0, 0}};
  for (auto [code, expected] : cases) {
    Process p([c = code] { mpref::exit(c); });
    EXPECT_EQ(run_to_end(p), expected) << "mpref::exit(" << code << ")";
  }
  Process q([] { throw mpref::SystemExit(3); });
  EXPECT_EQ(run_to_end(q), 3);
  // SystemExit is not a std::exception: a catch-all for std::exception does not swallow it.
  Process s([] {
    try {
      mpref::exit(4);
    } catch (const std::exception&) {
    }
  });
  EXPECT_EQ(run_to_end(s), 4);
}

TEST_F(ProcessTest, UnderscoreExitIsLowByte) {
  MPC_CLAUSE("P-EXIT-9");
  Process p([] { ::_exit(300); });
  EXPECT_EQ(run_to_end(p), 44);
}

TEST_F(ProcessTest, SignalGivesMinusSignum) {
  MPC_CLAUSE("P-EXIT-2", "P-TERM-7");
  Gate gate;
  {
    Started p(sleeper(gate));
    p->terminate();
    p->join(Tier::bound());
    EXPECT_EQ(p->exitcode(), -SIGTERM);
  }
  {
    Started p(sleeper(gate));
    p->kill();
    p->join(Tier::bound());
    EXPECT_EQ(p->exitcode(), -SIGKILL);
  }
  for (int sig : {SIGSEGV, SIGUSR1}) {
    Process p([sig] {
      const rlimit no_core{0, 0};
      ::setrlimit(RLIMIT_CORE, &no_core);
      ::signal(sig, SIG_DFL);  // sanitizers install their own SIGSEGV handler
      ::raise(sig);
    });
    EXPECT_EQ(run_to_end(p), -sig) << "signal " << sig;
  }
}

TEST_F(ProcessTest, ExitcodeReapsWithoutJoin) {
  MPC_CLAUSE("P-EXIT-3");
  Gate gate;
  Started running(sleeper(gate));
  const double t0 = now();
  EXPECT_EQ(running->exitcode(), std::nullopt);
  EXPECT_LT(now() - t0, Tier::at_once());

  Process p([] {});
  p.start();
  ASSERT_TRUE(readable(p.sentinel()));
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_EQ(proc_state(*p.pid()), std::nullopt) << "exitcode did not reap";
  gate.open();
}

// ------------------------------------------------------------------------------------ join

TEST_F(ProcessTest, JoinWithTimeoutWaitsAboutThatLong) {
  MPC_CLAUSE("P-JOIN-5");
  Gate gate;
  Started p(sleeper(gate));
  const double t0 = now();
  p->join(Tier::wait);
  const double dt = now() - t0;
  EXPECT_GE(dt, Tier::wait - 0.01);
  EXPECT_LE(dt, Tier::wait + Tier::late());
  EXPECT_TRUE(p->is_alive());
  EXPECT_EQ(p->exitcode(), std::nullopt);
  gate.open();
}

TEST_F(ProcessTest, JoinZeroOrNegativeReturnsAtOnce) {
  MPC_CLAUSE("P-JOIN-6");
  Gate gate;
  Started p(sleeper(gate));
  for (double t : {0.0, -1.0, -0.5}) {
    const double t0 = now();
    p->join(t);
    EXPECT_LT(now() - t0, Tier::at_once()) << "join(" << t << ")";
    EXPECT_TRUE(p->is_alive());
  }
  gate.open();
}

TEST_F(ProcessTest, JoinWithoutTimeoutWaitsForExit) {
  MPC_CLAUSE("P-JOIN-7");
  Process p([] { ::usleep(300000); });
  p.start();
  const double t0 = now();
  p.join();  // the child bounds itself (0.3 s)
  EXPECT_GE(now() - t0, 0.29);
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_TRUE(mpref::active_children().empty());
  const double t1 = now();
  p.join();
  p.join(std::nullopt);
  p.join(1.0);
  EXPECT_LT(now() - t1, Tier::at_once());
}

TEST_F(ProcessTest, JoinUnstartedIsRejected) {
  MPC_CLAUSE("P-JOIN-2");
  Process p([] {});
  EXPECT_EQ(error_of<mpref::AssertionError>([&] { p.join(); }), "can only join a started process");
}

TEST_F(ProcessTest, OnlyTheCreatorMayJoin) {
  MPC_CLAUSE("P-JOIN-3");
  EXPECT_EQ(error_of<mpref::AssertionError>([] { mpref::current_process().join(); }),
            "can only join a child process");
  Gate gate;
  Started sibling(sleeper(gate));
  Pipe out;
  Process p([&sibling, w = out.w()] {
    put(w, error_of<mpref::AssertionError>([&] { sibling->join(0.0); }) + "\n");
    put(w, error_of<mpref::AssertionError>([] { mpref::current_process().join(0.0); }) + "\n");
  });
  ASSERT_EQ(run_to_end(p), 0);
  Reader r(out.r());
  EXPECT_EQ(r.line(), "can only join a child process");
  EXPECT_EQ(r.line(), "can only join a child process");
  gate.open();
}

TEST_F(ProcessTest, OnlyTheCreatorMayTest) {
  MPC_CLAUSE("P-JOIN-8");
  Gate gate;
  Started sibling(sleeper(gate));
  Pipe out;
  Process p([&sibling, w = out.w()] {
    put(w, error_of<mpref::AssertionError>([&] { (void)sibling->is_alive(); }) + "\n");
  });
  ASSERT_EQ(run_to_end(p), 0);
  Reader r(out.r());
  EXPECT_EQ(r.line(), "can only test a child process");
  gate.open();
}

// ------------------------------------------------------------------ is_alive, active_children

TEST_F(ProcessTest, IsAliveTracksTheChildAndReaps) {
  MPC_CLAUSE("P-ALIVE-1");
  EXPECT_TRUE(mpref::current_process().is_alive());
  Gate gate;
  Process p = sleeper(gate);
  p.start();
  EXPECT_TRUE(p.is_alive());
  gate.open();
  ASSERT_TRUE(readable(p.sentinel()));
  EXPECT_FALSE(p.is_alive());
  EXPECT_EQ(proc_state(*p.pid()), std::nullopt) << "is_alive() did not reap";
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_TRUE(mpref::active_children().empty());
}

TEST_F(ProcessTest, ActiveChildrenListsStartedUnreapedChildren) {
  MPC_CLAUSE("P-ACT-1");
  Gate gate;
  Process unstarted([] {});
  Process p = sleeper(gate);
  p.start();
  auto kids = mpref::active_children();
  ASSERT_EQ(kids.size(), 1U);
  EXPECT_TRUE(kids[0] == p);
  gate.open();
  ASSERT_TRUE(readable(p.sentinel()));
  EXPECT_TRUE(mpref::active_children().empty());
  EXPECT_EQ(proc_state(*p.pid()), std::nullopt) << "active_children() did not reap";
  EXPECT_EQ(p.exitcode(), 0);
}

// ------------------------------------------------------------------------- terminate, kill

TEST_F(ProcessTest, TerminateAndKillReturnAtOnce) {
  MPC_CLAUSE("P-TERM-1");
  Gate gate;
  for (bool use_kill : {false, true}) {
    Started p(sleeper(gate));
    const double t0 = now();
    use_kill ? p->kill() : p->terminate();
    EXPECT_LT(now() - t0, Tier::at_once());
    p->join(Tier::bound());
    EXPECT_EQ(p->exitcode(), use_kill ? -SIGKILL : -SIGTERM);
  }
}

TEST_F(ProcessTest, TerminateOrKillAfterExitDoesNothing) {
  MPC_CLAUSE("P-TERM-3");
  Process reaped([] {});
  ASSERT_EQ(run_to_end(reaped), 0);
  EXPECT_NO_THROW(reaped.terminate());
  EXPECT_NO_THROW(reaped.kill());
  EXPECT_EQ(reaped.exitcode(), 0);

  Process zombie([] {});
  zombie.start();
  ASSERT_TRUE(readable(zombie.sentinel()));  // exited, not yet reaped
  EXPECT_NO_THROW(zombie.terminate());
  EXPECT_NO_THROW(zombie.kill());
  zombie.join(Tier::bound());
  EXPECT_EQ(zombie.exitcode(), 0);
}

TEST_F(ProcessTest, ChildIgnoringSigtermSurvivesTerminate) {
  MPC_CLAUSE("P-TERM-4");
  Gate gate;
  Pipe ready;
  Started p{Process([&gate, w = ready.w()] {
    ::signal(SIGTERM, SIG_IGN);
    put(w, "ready\n");
    gate.wait();
  })};
  Reader r(ready.r());
  ASSERT_EQ(r.line(), "ready");
  p->terminate();
  p->join(Tier::wait);
  EXPECT_TRUE(p->is_alive());
  p->kill();
  p->join(Tier::bound());
  EXPECT_EQ(p->exitcode(), -SIGKILL);
}

TEST_F(ProcessTest, TerminatedChildDoesNotRunItsExitWork) {
  MPC_CLAUSE("P-TERM-5");
  Gate child_gate;
  Gate grandchild_gate;
  Pipe out;
  Started p{Process([&, w = out.w()] {
    Process g([&grandchild_gate] { grandchild_gate.wait(); });  // non-daemonic
    g.start();
    put(w, std::to_string(*g.pid()) + "\n");
    child_gate.wait();
  })};
  Reader r(out.r());
  auto line = r.line();
  ASSERT_TRUE(line);
  const pid_t g = std::stoi(*line);
  const double t0 = now();
  p->terminate();
  p->join(Tier::bound());
  EXPECT_LT(now() - t0, Tier::late()) << "the terminated child waited for its child";
  EXPECT_EQ(p->exitcode(), -SIGTERM);
  EXPECT_TRUE(running(g)) << "the grandchild was not left running";
  grandchild_gate.open();
  EXPECT_EQ(reap_pid(g), 0);  // the orphan came back to us (subreaper)
  child_gate.open();
}

TEST_F(ProcessTest, TerminateUnstartedIsAttributeError) {
  MPC_CLAUSE("P-TERM-2");
  Process p([] {});
  EXPECT_EQ(error_of<mpref::AttributeError>([&] { p.terminate(); }),
            "'NoneType' object has no attribute 'terminate'");
}

TEST_F(ProcessTest, KillUnstartedIsAttributeError) {
  MPC_CLAUSE("P-TERM-6");
  Process p([] {});
  EXPECT_EQ(error_of<mpref::AttributeError>([&] { p.kill(); }),
            "'NoneType' object has no attribute 'kill'");
}

// ----------------------------------------------------------------------------------- daemon

TEST_F(ProcessTest, DaemonDefaultsToCreatorsFlag) {
  MPC_CLAUSE("P-DAEMON-1");
  EXPECT_FALSE(Process().daemon());
  EXPECT_TRUE(Process(Process::Target{}, {.daemon = true}).daemon());
  EXPECT_FALSE(Process(Process::Target{}, {.daemon = false}).daemon());
  Pipe out;
  Process d(
      [w = out.w()] {
        put(w, std::to_string(Process().daemon()) +
                   std::to_string(Process(Process::Target{}, {.daemon = false}).daemon()) + "\n");
      },
      {.daemon = true});
  ASSERT_EQ(run_to_end(d), 0);
  Reader r(out.r());
  EXPECT_EQ(r.line(), "10");
}

TEST_F(ProcessTest, DaemonCannotChangeAfterStart) {
  MPC_CLAUSE("P-DAEMON-2");
  Gate gate;
  Process p = sleeper(gate);
  p.set_daemon(true);
  p.set_daemon(false);
  Started s(p);
  EXPECT_EQ(error_of<mpref::AssertionError>([&] { p.set_daemon(true); }),
            "process has already started");
  gate.open();
  p.join(Tier::bound());
  EXPECT_EQ(error_of<mpref::AssertionError>([&] { p.set_daemon(true); }),
            "process has already started");
  EXPECT_FALSE(p.daemon());
}

TEST_F(ProcessTest, DaemonCannotHaveChildren) {
  MPC_CLAUSE("P-DAEMON-3");
  Pipe out;
  Process d(
      [w = out.w()] {
        Process c([] {});
        put(w, error_of<mpref::AssertionError>([&] { c.start(); }) + "\n");
      },
      {.daemon = true});
  ASSERT_EQ(run_to_end(d), 0);
  Reader r(out.r());
  EXPECT_EQ(r.line(), "daemonic processes are not allowed to have children");

  Pipe err;
  Process u(
      [w = err.w()] {
        ::dup2(w, 2);
        Process c([] {});
        c.start();
      },
      {.name = "D", .daemon = true});
  u.start();
  err.close_w();
  Reader e(err.r());
  EXPECT_EQ(e.rest(), "Process D:\nAssertionError: daemonic processes are not allowed to have children\n");
  u.join(Tier::bound());
  EXPECT_EQ(u.exitcode(), 1);
}

// ------------------------------------------------------------------------- close, sentinel

TEST_F(ProcessTest, CloseWhileRunningIsRejected) {
  MPC_CLAUSE("P-CLOSE-1");
  Gate gate;
  Started p(sleeper(gate));
  EXPECT_EQ(error_of<mpref::ValueError>([&] { p->close(); }),
            "Cannot close a process while it is still running. You should first call join() or "
            "terminate().");
  EXPECT_TRUE(p->is_alive());
  gate.open();
}

TEST_F(ProcessTest, CloseUnstartedOrFinishedSucceedsTwice) {
  MPC_CLAUSE("P-CLOSE-2");
  Process u([] {});
  EXPECT_NO_THROW(u.close());
  EXPECT_NO_THROW(u.close());
  Process f([] {});
  f.start();
  ASSERT_TRUE(readable(f.sentinel()));  // finished, not joined: close() reaps it
  EXPECT_NO_THROW(f.close());
  EXPECT_NO_THROW(f.close());
}

TEST_F(ProcessTest, ClosedObjectRejectsEverything) {
  MPC_CLAUSE("P-CLOSE-3");
  Process u([] {});
  u.close();
  Process f([] {});
  ASSERT_EQ(run_to_end(f), 0);
  f.close();
  for (Process* p : {&u, &f}) {
    auto closed = [&](auto fn) { return error_of<mpref::ValueError>(fn); };
    const std::string msg = "process object is closed";
    EXPECT_EQ(closed([&] { (void)p->is_alive(); }), msg);
    EXPECT_EQ(closed([&] { p->join(); }), msg);
    EXPECT_EQ(closed([&] { p->terminate(); }), msg);
    EXPECT_EQ(closed([&] { p->kill(); }), msg);
    EXPECT_EQ(closed([&] { p->start(); }), msg);
    EXPECT_EQ(closed([&] { (void)p->exitcode(); }), msg);
    EXPECT_EQ(closed([&] { (void)p->pid(); }), msg);
    EXPECT_EQ(closed([&] { (void)p->sentinel(); }), msg);
  }
}

TEST_F(ProcessTest, ClosedObjectKeepsNameAndDaemon) {
  MPC_CLAUSE("P-CLOSE-4");
  Process p([] {}, {.name = "keep", .daemon = true});
  ASSERT_EQ(run_to_end(p), 0);
  p.close();
  EXPECT_EQ(p.name(), "keep");
  EXPECT_TRUE(p.daemon());
}

TEST_F(ProcessTest, SentinelBeforeStartIsRejected) {
  MPC_CLAUSE("P-SENT-1");
  Process p([] {});
  EXPECT_EQ(error_of<mpref::ValueError>([&] { (void)p.sentinel(); }), "process not started");
}

TEST_F(ProcessTest, SentinelBecomesReadableAtExit) {
  MPC_CLAUSE("P-SENT-2");
  Gate gate;
  Started p(sleeper(gate));
  const int fd = p->sentinel();
  EXPECT_GE(fd, 0);
  EXPECT_FALSE(readable(fd, 0.0));
  EXPECT_FALSE(readable(fd, Tier::wait));
  gate.open();
  EXPECT_TRUE(readable(fd));
  p->join(Tier::bound());
  EXPECT_EQ(p->exitcode(), 0);
  EXPECT_TRUE(readable(fd, 0.0));
}

// ------------------------------------------------------------ handles, hooks, bootstrap (mpref)

TEST_F(ProcessTest, DroppingHandleOfFinishedChildReapsIt) {
  MPC_CLAUSE("P-START-6");  // the divergence: a destroyed handle never leaves a zombie behind
  pid_t pid = 0;
  {
    Process p([] {});
    p.start();
    pid = *p.pid();
    ASSERT_TRUE(readable(p.sentinel()));
  }
  EXPECT_EQ(proc_state(pid), std::nullopt);
}

TEST_F(ProcessTest, DroppedHandleOfRunningChildStaysRegistered) {
  MPC_CLAUSE("P-START-6");  // ...and a running one stays registered for the exit function
  Gate gate;
  pid_t pid = 0;
  {
    Process p = sleeper(gate);
    p.start();
    pid = *p.pid();
  }
  auto kids = mpref::active_children();
  ASSERT_EQ(kids.size(), 1U);
  EXPECT_EQ(kids[0].pid(), pid);
  gate.open();
  kids[0].join(Tier::bound());
  EXPECT_EQ(kids[0].exitcode(), 0);
}

std::atomic<bool> hooks_on{false};
std::string hook_log;  // parent side
int hook_pipe = -1;    // child side reports here

TEST_F(ProcessTest, ForkHooksRunAroundStartOnly) {
  static bool registered = false;
  if (!registered) {
    registered = true;
    mpref::register_at_fork({.before = [] { if (hooks_on) hook_log += "b1;"; },
                             .after_in_parent = [] { if (hooks_on) hook_log += "p1;"; },
                             .after_in_child = [] { if (hooks_on) put(hook_pipe, "c1;"); }});
    mpref::register_at_fork({.before = [] { if (hooks_on) hook_log += "b2;"; },
                             .after_in_parent = [] { if (hooks_on) hook_log += "p2;"; },
                             .after_in_child = [] {
                               if (hooks_on) put(hook_pipe, "c2:" + mpref::current_process().name() + ";");
                             }});
  }
  Pipe out;
  hook_pipe = out.w();
  hook_log.clear();
  hooks_on = true;
  Process p([w = out.w()] { put(w, "target;"); });
  p.start();
  hooks_on = false;
  EXPECT_EQ(hook_log, "b2;b1;p1;p2;");
  out.close_w();
  Reader r(out.r());
  EXPECT_EQ(r.rest(), "c1;c2:" + p.name() + ";target;");
  p.join(Tier::bound());
  EXPECT_EQ(p.exitcode(), 0);
}

TEST_F(ProcessTest, CustomBootstrapDecidesExitCode) {
  Pipe out;
  mpref::set_bootstrap([w = out.w()](Process& self) {
    put(w, "custom " + self.name() + "\n");
    return mpref::default_bootstrap(self) + 7;
  });
  Process p([w = out.w()] { put(w, "target\n"); });
  p.start();
  mpref::set_bootstrap({});
  p.join(Tier::bound());
  EXPECT_EQ(p.exitcode(), 7);
  Reader r(out.r());
  EXPECT_EQ(r.line(), "custom " + p.name());
  EXPECT_EQ(r.line(), "target");
  Process q([] {});
  EXPECT_EQ(run_to_end(q), 0);  // default restored
}

}  // namespace
