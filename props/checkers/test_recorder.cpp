// The shared-memory recorder under real forks: concurrent appends, a SIGKILL mid-call,
// overflow, and the small helpers (tags, timeouts).
#include <gtest/gtest.h>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <thread>
#include <vector>

#include "mpconform/checkers.hpp"
#include "mpconform/history.hpp"
#include "mpconform/tiers.hpp"

namespace {

using namespace mpconform;

// Waits for `pid` for at most the watchdog tier; kills it if it is still running then.
// Returns the wait status (or -1 if it had to be killed).
int reap(pid_t pid) {
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::duration<double>(seconds(tiers::watchdog));
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  return -1;
}

// Kills and reaps the children still listed when a test leaves early (a failed ASSERT), so no
// test leaves a process behind.
struct Children {
  std::vector<pid_t> pids;
  ~Children() {
    for (pid_t pid : pids) {
      ::kill(pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0);
    }
  }
  // Reaps `pid` (bounded, see reap) and stops tracking it.
  int reap_one(pid_t pid) {
    const int status = reap(pid);
    pids.erase(std::remove(pids.begin(), pids.end(), pid), pids.end());
    return status;
  }
};

// Runs `body` in a forked child and never returns there: exit 0, or 2 if body throws (so an
// exception can never unwind into the test framework in the child).
template <class F>
[[noreturn]] void child(F&& body) {
  try {
    body();
  } catch (...) {
    ::_exit(2);
  }
  ::_exit(0);
}

TEST(Recorder, ForkedProcessesAppendConcurrently) {
  constexpr std::uint32_t kProcs = 8;
  constexpr std::uint64_t kEach = 5000;
  Recorder rec(kProcs * kEach);
  Children guard;
  std::map<pid_t, std::uint32_t> children;
  for (std::uint32_t p = 0; p < kProcs; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      child([&] {
        const ProcessLog log = rec.log(p);
        for (std::uint64_t i = 0; i < kEach; ++i) {
          Call c = log.invoke(OpKind::put, 0, make_tag(p, i), 0);
          c.ok();
        }
      });
    }
    guard.pids.push_back(pid);
    children[pid] = p;
  }
  for (const auto& [pid, p] : children) {
    const int status = guard.reap_one(pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child p" << p;
  }
  const History h = rec.read();
  EXPECT_EQ(h.dropped, 0u);
  EXPECT_EQ(h.torn, 0u);
  ASSERT_EQ(h.ops.size(), kProcs * kEach);
  std::map<std::uint32_t, std::uint64_t> next_seq;
  std::map<std::uint32_t, std::int64_t> last_return;
  for (const Op& op : h.ops) {
    ASSERT_TRUE(op.ok());
    ASSERT_EQ(tag_producer(op.value), op.process);
    EXPECT_EQ(children.at(op.pid), op.process);
    // Each process's ops appear in its own order, each after the previous one returned.
    EXPECT_EQ(tag_seq(op.value), next_seq[op.process]++);
    EXPECT_LE(op.invoke_ns, op.return_ns);
    EXPECT_GE(op.invoke_ns, last_return[op.process]);
    last_return[op.process] = op.return_ns;
  }
  // Nothing consumed them, but as a history of puts it is legal.
  EXPECT_TRUE(check_queue(h).is_ok());
}

TEST(Recorder, CallOfAKilledProcessIsInfo) {
  Recorder rec(16);
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  Children guard;
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    child([&] {
      ::close(ready[0]);
      const ProcessLog log = rec.log(3);
      log.invoke(OpKind::put, 0, make_tag(3, 0), kNoTimeout).ok();
      Call c = log.invoke(OpKind::get, 0, 0, kNoTimeout);  // "blocked in get()" when killed
      const char byte = 1;
      (void)!::write(ready[1], &byte, 1);
      ::sleep(static_cast<unsigned>(seconds(tiers::watchdog)) + 1);  // killed long before
      c.ok(42);
    });
  }
  guard.pids.push_back(pid);
  ::close(ready[1]);
  pollfd pfd{ready[0], POLLIN, 0};
  ASSERT_EQ(::poll(&pfd, 1, static_cast<int>(seconds(tiers::watchdog) * 1000)), 1) << "child never got going";
  char byte = 0;
  ASSERT_EQ(::read(ready[0], &byte, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  const int status = guard.reap_one(pid);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

  const History h = rec.read();
  ASSERT_EQ(h.ops.size(), 2u);
  EXPECT_TRUE(h.ops[0].ok());
  EXPECT_EQ(h.ops[0].value, make_tag(3, 0));
  const Op& killed = h.ops[1];
  EXPECT_EQ(killed.kind, OpKind::get);
  EXPECT_EQ(killed.process, 3u);
  EXPECT_EQ(killed.pid, pid);
  EXPECT_TRUE(killed.info());
  EXPECT_FALSE(killed.completed());
  EXPECT_EQ(killed.return_ns, kNever);
  EXPECT_GE(killed.invoke_ns, h.ops[0].return_ns);
  // The info get may have taken the item: with the queue drained, nothing counts as lost.
  QueueCheckOptions o;
  o.drained = true;
  EXPECT_TRUE(check_queue(h, o).is_ok());
  // And the JSON form keeps it info with no return.
  const History back = history_from_jsonl(to_jsonl(h));
  EXPECT_EQ(back.ops, h.ops);
}

TEST(Recorder, OverflowIsCountedNotSilent) {
  Recorder rec(4);
  const ProcessLog log = rec.log(0);
  for (std::uint64_t i = 0; i < 6; ++i) {
    Call c = log.invoke(OpKind::put, 0, make_tag(0, i), 0);
    EXPECT_EQ(c.pending(), i < 4);
    c.ok();
  }
  EXPECT_EQ(rec.dropped(), 2u);
  const History h = rec.read();
  EXPECT_EQ(h.ops.size(), 4u);
  EXPECT_EQ(h.dropped, 2u);
  const Verdict v = check_queue(h);
  EXPECT_TRUE(v.is_unknown()) << v.message;
  EXPECT_EQ(history_from_jsonl(to_jsonl(h)).dropped, 2u);
  rec.clear();
  EXPECT_EQ(rec.read().ops.size(), 0u);
  EXPECT_EQ(rec.dropped(), 0u);
}

TEST(Recorder, CallDroppedWithoutOutcomeIsInfoWithReturnTime) {
  Recorder rec(4);
  const ProcessLog log = rec.log(1);
  {
    Call c = log.invoke(OpKind::acquire, 2, 0, 0);
    (void)c;  // e.g. an unexpected exception unwound past it
  }
  log.invoke(OpKind::get, 2, 0, 0).fail(ErrorKind::Empty);
  log.instant(OpKind::exit);
  const History h = rec.read();
  ASSERT_EQ(h.ops.size(), 3u);
  EXPECT_TRUE(h.ops[0].info());
  EXPECT_TRUE(h.ops[0].completed());
  EXPECT_EQ(h.ops[0].object, 2u);
  EXPECT_TRUE(h.ops[1].failed());
  EXPECT_EQ(h.ops[1].error, ErrorKind::Empty);
  EXPECT_EQ(h.ops[1].timeout_ns, 0);
  EXPECT_EQ(h.ops[2].kind, OpKind::exit);
  EXPECT_TRUE(h.ops[2].ok());
}

TEST(History, TagsCarryProducerAndSequence) {
  const std::uint64_t t = make_tag(7, 123456789);
  EXPECT_TRUE(is_tag(t));
  EXPECT_EQ(tag_producer(t), 7u);
  EXPECT_EQ(tag_seq(t), 123456789u);
  EXPECT_TRUE(is_tag(make_tag(0, 0)));
  EXPECT_NE(make_tag(0, 0), 0u);
  EXPECT_TRUE(is_tag(make_tag(kMaxTagProducer, kMaxTagSeq)));
  EXPECT_FALSE(is_tag(0));
  EXPECT_FALSE(is_tag(5));
  EXPECT_FALSE(is_tag(static_cast<std::uint64_t>(-1)));  // a qsize of -1 is not a tag
  EXPECT_THROW((void)make_tag(kMaxTagProducer + 1, 0), std::out_of_range);
  EXPECT_THROW((void)make_tag(0, kMaxTagSeq + 1), std::out_of_range);
}

TEST(History, TimeoutsFollowCPythonRules) {
  EXPECT_EQ(timeout_ns_of(true, std::nullopt), kNoTimeout);
  EXPECT_EQ(timeout_ns_of(false, std::nullopt), 0);
  EXPECT_EQ(timeout_ns_of(false, 5.0), 0);  // the timeout is ignored with block=False
  EXPECT_EQ(timeout_ns_of(true, 0.0), 0);
  EXPECT_EQ(timeout_ns_of(true, -1.0), 0);  // negative: do not wait
  EXPECT_EQ(timeout_ns_of(true, 0.25), 250'000'000);
}

TEST(History, JsonRejectsMalformedOps) {
  EXPECT_THROW(history_from_jsonl(R"({"process":0,"op":"put","outcome":"ok","invoke":1})"), std::invalid_argument);
  EXPECT_THROW(history_from_jsonl(R"({"process":0,"op":"bogus","outcome":"ok","invoke":1,"return":2})"),
               std::invalid_argument);
  EXPECT_THROW(history_from_jsonl(R"({"process":0,"op":"get","outcome":"fail","invoke":1,"return":2})"),
               std::invalid_argument);
  EXPECT_THROW(history_from_jsonl(R"({"process":0,"op":"get","outcome":"ok","invoke":3,"return":2})"),
               std::invalid_argument);
  EXPECT_THROW(history_from_jsonl("{\"process\":0,\"op\":\"put\",\"outcome\":\"ok\",\"invoke\":1,\"return\":2,"
                                  "\"value\":\"1:x\"}"),
               std::invalid_argument);
  const History h = history_from_jsonl(
      "\n{\"process\":1,\"op\":\"qsize\",\"outcome\":\"ok\",\"invoke\":1,\"return\":2,\"value\":-1}\n\n");
  ASSERT_EQ(h.ops.size(), 1u);
  EXPECT_EQ(static_cast<std::int64_t>(h.ops[0].value), -1);
  EXPECT_NE(to_jsonl(h).find("\"value\":-1"), std::string::npos);
}

}  // namespace
