// Process exit and shutdown (spec/clauses/process.json X-EXIT-*), plus the main-process
// facts that need a fresh main (P-NAME-1): the main-process cases run process_probe.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <string>

#include "clause.hpp"
#include "mpref/process.hpp"
#include "support.hpp"

namespace {

using mpref::Process;
using namespace process_test;

double num(const std::string& s) { return s.empty() ? -1.0 : std::stod(s); }

int count(const std::string& text, const std::string& what) {
  int n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

/// The line of `text` that starts with `key`, or "".
std::string line_of(const std::string& text, const std::string& key) {
  auto pos = text.find(key);
  if (pos == std::string::npos) return "";
  return text.substr(pos, text.find('\n', pos) - pos);
}

TEST_F(ProcessTest, FirstTwoProcessesInMainAreProcess1And2) {
  MPC_CLAUSE("P-NAME-1", "P-NAME-5");
  ProbeResult r = run_probe({"names"});
  EXPECT_EQ(r.exitcode, 0);
  EXPECT_EQ(r.out, "main=MainProcess parent=none a=Process-1 b=Process-2\n");
}

TEST_F(ProcessTest, MainExitTerminatesDaemonicChildren) {
  MPC_CLAUSE("X-EXIT-1");
  ProbeResult r = run_probe({"daemon_term"});
  EXPECT_EQ(r.exitcode, 0) << r.out;
  const double end = num(field(r.out, "main_end t"));
  ASSERT_FALSE(line_of(r.out, "daemon_sigterm").empty()) << r.out;
  const double term = num(field(line_of(r.out, "daemon_sigterm"), "t"));
  EXPECT_GE(term, end);
  EXPECT_LT(term - end, Tier::late()) << "the daemon was not signalled when main ended";
}

TEST_F(ProcessTest, MainExitJoinsNonDaemonicChildrenAfterTheSigterms) {
  MPC_CLAUSE("X-EXIT-8");
  ProbeResult r = run_probe({"daemon_term"});
  EXPECT_EQ(r.exitcode, 0) << r.out;
  const double end = num(field(r.out, "main_end t"));
  const double term = num(field(line_of(r.out, "daemon_sigterm"), "t"));
  const double done = num(field(line_of(r.out, "nondaemon_done"), "t"));
  ASSERT_GT(done, 0.0) << "the non-daemonic child did not finish: " << r.out;
  EXPECT_LT(term, done) << "daemons are signalled before non-daemons are joined";
  EXPECT_GE(r.elapsed, 0.5) << "main did not wait for its non-daemonic child";
  EXPECT_GT(done, end);
}

TEST_F(ProcessTest, DaemonIgnoringSigtermHoldsMainExit) {
  MPC_CLAUSE("X-EXIT-2");
  ProbeResult r = run_probe({"daemon_ignores_term"});
  EXPECT_EQ(r.exitcode, 0) << r.out;
  EXPECT_NE(r.out.find("daemon_done"), std::string::npos) << r.out;
  EXPECT_GE(r.elapsed, 0.95);
}

TEST_F(ProcessTest, ParentAtexitHandlersDoNotRunInChildren) {
  MPC_CLAUSE("X-EXIT-5");
  ProbeResult r = run_probe({"atexit"});
  EXPECT_EQ(r.exitcode, 0) << r.out;
  EXPECT_EQ(field(r.out, "child_exitcode"), "0");
  EXPECT_EQ(count(r.out, "atexit pid="), 1) << r.out;
  EXPECT_EQ(field(r.out, "atexit pid"), field(r.out, "main pid"));
}

TEST_F(ProcessTest, NonDaemonicChildrenOutliveAKilledParent) {
  MPC_CLAUSE("X-EXIT-4");
  for (const char* how : {"kill", "_exit"}) {
    ProbeResult r = run_probe({"orphan", how});
    EXPECT_EQ(r.exitcode, std::string(how) == "kill" ? -SIGKILL : 0) << how;
    const std::string pid = field(r.out, "orphan pid");
    ASSERT_FALSE(pid.empty()) << r.out;
    EXPECT_NE(r.out.find("orphan_done"), std::string::npos) << how << ": " << r.out;
    EXPECT_EQ(reap_pid(std::stoi(pid)), 0) << how;  // came back to us as subreaper
  }
}

TEST_F(ProcessTest, DaemonicChildrenDieWithTheirParent) {
  MPC_CLAUSE("X-EXIT-7");  // divergence: CPython leaves them running
  for (const char* how : {"kill", "_exit"}) {
    ProbeResult r = run_probe({"daemon_orphan", how});
    const std::string pid = field(r.out, "daemon pid");
    ASSERT_FALSE(pid.empty()) << r.out;
    EXPECT_EQ(r.out.find("daemon_survived"), std::string::npos);
    const double t0 = now();
    EXPECT_EQ(reap_pid(std::stoi(pid)), -SIGKILL) << how;
    EXPECT_LT(now() - t0, Tier::late());
  }
  // Also when the parent is itself a killed mpref child.
  Pipe out;
  Started p{Process([w = out.w()] {
    Process d([] { ::sleep(30); }, {.daemon = true});
    d.start();
    put(w, std::to_string(*d.pid()) + "\n");
    ::sleep(30);
  })};
  Reader reader(out.r());
  auto line = reader.line();
  ASSERT_TRUE(line);
  p->kill();
  p->join(Tier::bound());
  EXPECT_EQ(reap_pid(std::stoi(*line)), -SIGKILL);
}

TEST_F(ProcessTest, ChildRunsTheExitFunction) {
  MPC_CLAUSE("X-EXIT-3");
  Pipe out;
  Pipe ready;
  Process p([w = out.w(), rw = ready.w(), rr = ready.r()] {
    Process d(
        [w, rw] {
          ::signal(SIGTERM, [](int) {});  // a handler: sleep() returns early on SIGTERM
          put(rw, "r");
          ::sleep(30);
          put(w, "daemon_end t=" + std::to_string(now()) + "\n");
        },
        {.daemon = true});
    Process n([w] {
      ::usleep(500000);
      put(w, "nondaemon_end t=" + std::to_string(now()) + "\n");
    });
    d.start();
    n.start();
    readable(rr);
    put(w, "child_return t=" + std::to_string(now()) + "\n");
  });
  const double t0 = now();
  p.start();
  p.join(Tier::bound());
  const double dt = now() - t0;
  EXPECT_EQ(p.exitcode(), 0);
  EXPECT_GE(dt, 0.5) << "the child did not wait for its non-daemonic child";
  out.close_w();
  Reader r(out.r());
  const std::string text = r.rest();
  const double ret = num(field(text, "child_return t"));
  const double dend = num(field(text, "daemon_end t"));
  const double nend = num(field(text, "nondaemon_end t"));
  ASSERT_GT(ret, 0.0) << text;
  ASSERT_GT(dend, 0.0) << "the daemonic grandchild was not signalled: " << text;
  ASSERT_GT(nend, 0.0) << text;
  EXPECT_LT(dend - ret, Tier::late());
  EXPECT_LT(dend, nend);
}

TEST_F(ProcessTest, ChildWatchesItsParent) {
  MPC_CLAUSE("X-EXIT-12");
  Pipe out;
  Gate never;
  Started middle{Process([w = out.w(), &never] {
    Process g([w] {
      auto parent = mpref::parent_process();
      if (!parent) {
        put(w, "no parent\n");
        return;
      }
      const bool alive1 = parent->is_alive();
      double t0 = now();
      parent->join(Tier::wait);
      const double waited = now() - t0;
      put(w, "alive=" + std::to_string(alive1) + " waited=" + std::to_string(waited) + "\n");
      parent->join(Tier::bound());  // until the test kills the parent
      const bool alive2 = parent->is_alive();
      t0 = now();
      parent->join(Tier::bound());
      put(w, "alive=" + std::to_string(alive2) + " waited=" + std::to_string(now() - t0) + "\n");
    });
    g.start();
    put(w, "gpid=" + std::to_string(*g.pid()) + "\n");
    never.wait();
  })};
  Reader r(out.r());
  auto first = r.line();
  auto second = r.line();
  ASSERT_TRUE(first && second);
  const std::string gpid = field(*first + " " + *second, "gpid");
  const std::string report = field(*first, "gpid").empty() ? *first : *second;
  EXPECT_EQ(field(report, "alive"), "1");
  EXPECT_GE(num(field(report, "waited")), Tier::wait - 0.01);
  EXPECT_LE(num(field(report, "waited")), Tier::wait + Tier::late());
  middle->kill();
  middle->join(Tier::bound());
  auto after = r.line();
  ASSERT_TRUE(after);
  EXPECT_EQ(field(*after, "alive"), "0");
  EXPECT_LT(num(field(*after, "waited")), Tier::at_once());
  ASSERT_FALSE(gpid.empty());
  EXPECT_EQ(reap_pid(std::stoi(gpid)), 0);
}

TEST_F(ProcessTest, ChildFlushesStdoutBeforeExit) {
  MPC_CLAUSE("X-EXIT-13");
  Pipe out;
  Process p([w = out.w()] {
    ::dup2(w, 1);
    std::printf("unflushed");
    std::fputs(" and more", stdout);
  });
  p.start();
  out.close_w();
  Reader r(out.r());
  EXPECT_EQ(r.rest(), "unflushed and more");
  p.join(Tier::bound());
  EXPECT_EQ(p.exitcode(), 0);
}

}  // namespace
