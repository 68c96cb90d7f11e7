// check_linearizable (mpconform/linearizability.hpp): hand-built histories with a known answer,
// the queue and joinable fixtures compared with the rule-based checkers, random legal
// histories (which must all be linearizable) and their throughput.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mpconform/checkers.hpp"
#include "mpconform/linearizability.hpp"
#include "mpconform/spec/queue.hpp"
#include "fixtures.hpp"

namespace {

using namespace mpconform;

// ---------------------------------------------------------------------------------------------
// Building histories

Op op(std::uint32_t p, OpKind k, std::uint64_t value, std::int64_t inv, std::int64_t ret) {
  return fixtures::make_op(p, k, value, inv, ret);
}
std::uint64_t tag(std::uint32_t producer, std::uint64_t seq) { return make_tag(producer, seq); }
Op put(std::uint32_t p, std::uint64_t t, std::int64_t inv, std::int64_t ret) { return op(p, OpKind::put, t, inv, ret); }
Op get(std::uint32_t p, std::uint64_t t, std::int64_t inv, std::int64_t ret) { return op(p, OpKind::get, t, inv, ret); }
// get_nowait() that raised queue.Empty.
Op get_empty(std::uint32_t p, std::int64_t inv, std::int64_t ret) {
  Op o = op(p, OpKind::get, 0, inv, ret);
  o.timeout_ns = 0;
  o.outcome = Outcome::fail;
  o.error = ErrorKind::Empty;
  return o;
}
Op qsize(std::uint32_t p, std::int64_t n, std::int64_t inv, std::int64_t ret) {
  return op(p, OpKind::qsize, static_cast<std::uint64_t>(n), inv, ret);
}
// The process died mid-call: no return, no result.
Op pending(Op o) {
  o.outcome = Outcome::info;
  o.return_ns = kNever;
  if (o.kind == OpKind::get) o.value = 0;
  return o;
}

Verdict lin(std::vector<Op> ops, LinearizabilityOptions o = {}) {
  History h;
  h.ops = std::move(ops);
  return check_linearizable(h, o);
}

// ---------------------------------------------------------------------------------------------
// Hand-built histories

TEST(Linearizability, SequentialLegalHistoryIsOk) {
  const auto a = tag(0, 0), b = tag(0, 1);
  const Verdict v = lin({put(0, a, 10, 20), put(0, b, 30, 40), qsize(1, 2, 50, 60), get(1, a, 70, 80),
                         get(1, b, 90, 100), qsize(1, 0, 110, 120), get_empty(1, 130, 140)});
  EXPECT_TRUE(v.is_ok()) << v.message;
}

TEST(Linearizability, OneConsumerGettingAProducersItemsOutOfOrderIsIllegal) {
  const auto a = tag(0, 0), b = tag(0, 1);
  const Verdict v = lin({put(0, a, 10, 20), put(0, b, 30, 40), get(1, b, 50, 60), get(1, a, 70, 80)});
  ASSERT_TRUE(v.is_illegal()) << v.message;
  EXPECT_EQ(v.clause, "Q-ORDER-2");
  EXPECT_TRUE(std::binary_search(v.window.begin(), v.window.end(), std::size_t{2})) << v.message;
}

// The native search's proved order (FIFO: the gets order the puts) stops it at the first put
// and says why; the window shows both puts and both gets.
TEST(Linearizability, AFailureOnFifoOrderSaysWhichPutMustComeFirst) {
  const auto a = tag(0, 0), b = tag(1, 0);
  LinearizabilityOptions native;
  native.method = LinearizabilityMethod::native;
  const Verdict v = lin({put(0, a, 10, 20), put(1, b, 30, 40), get(2, b, 50, 60), get(2, a, 70, 80)}, native);
  ASSERT_TRUE(v.is_illegal()) << v.message;
  EXPECT_EQ(v.clause, "Q-ORDER-2");
  EXPECT_NE(v.message.find("it must follow #1 p1 put(1:0): its item was got first, and a queue is FIFO"),
            std::string::npos)
      << v.message;
  std::vector<std::size_t> window = v.window;
  std::sort(window.begin(), window.end());
  window.erase(std::unique(window.begin(), window.end()), window.end());
  EXPECT_EQ(window, (std::vector<std::size_t>{0, 1, 2, 3})) << v.message;
  // Through the models (no proved order) the answer is the same.
  EXPECT_TRUE(lin({put(0, a, 10, 20), put(1, b, 30, 40), get(2, b, 50, 60), get(2, a, 70, 80)}).is_illegal());
}

TEST(Linearizability, AnItemGotTwiceIsIllegal) {
  const auto a = tag(0, 0);
  const Verdict v = lin({put(0, a, 10, 20), get(1, a, 30, 40), get(2, a, 35, 45)});
  ASSERT_TRUE(v.is_illegal()) << v.message;
  EXPECT_EQ(v.clause, "Q-ORDER-2");
}

TEST(Linearizability, ALostItemInADrainedQueueIsIllegal) {
  const auto a = tag(0, 0), b = tag(0, 1);
  const std::vector<Op> ops{put(0, a, 10, 20), put(0, b, 30, 40), get(1, a, 50, 60)};
  EXPECT_TRUE(lin(ops).is_ok()) << "not drained: b may still be queued";
  LinearizabilityOptions drained;
  drained.drained = true;
  const Verdict v = lin(ops, drained);
  ASSERT_TRUE(v.is_illegal()) << v.message;
  EXPECT_EQ(v.clause, "Q-ORDER-2");
  EXPECT_EQ(v.window, std::vector<std::size_t>{1}) << "the put of the item left";
}

TEST(Linearizability, ConcurrentOpsLegalInOnlyOneOrderAreOk) {
  // The puts overlap, so b may have gone in first; the gets then need exactly that order,
  // and the qsize of 1 between them pins the first get before it.
  const auto a = tag(0, 0), b = tag(1, 0);
  const Verdict v = lin({put(0, a, 10, 100), put(1, b, 20, 110), get(2, b, 120, 130), qsize(3, 1, 125, 140),
                         get(2, a, 150, 160)});
  EXPECT_TRUE(v.is_ok()) << v.message;
}

TEST(Linearizability, RealTimeOrderIsRespected) {
  // The same gets, but the puts do not overlap: a went in first.
  const auto a = tag(0, 0), b = tag(1, 0);
  const Verdict v = lin({put(0, a, 10, 15), put(1, b, 20, 110), get(2, b, 120, 130), get(2, a, 150, 160)});
  ASSERT_TRUE(v.is_illegal()) << v.message;
  // get_nowait raising Empty after a put returned: only CPython's racy get allows it.
  const std::vector<Op> racy{put(0, a, 10, 20), get_empty(1, 30, 40), get(1, a, 50, 60)};
  EXPECT_EQ(lin(racy).clause, "Q-SIZE-9");
  LinearizabilityOptions cpython;
  cpython.cpython_races = true;
  EXPECT_TRUE(lin(racy, cpython).is_ok());
}

TEST(Linearizability, AnInfoPutWhoseItemWasGotTookEffect) {
  const auto a = tag(0, 0);
  LinearizabilityOptions drained;
  drained.drained = true;
  EXPECT_TRUE(lin({pending(put(0, a, 10, 20)), get(1, a, 30, 40)}, drained).is_ok());
  // Its item cannot come before it was invoked.
  EXPECT_TRUE(lin({pending(put(0, a, 50, 60)), get(1, a, 30, 40)}).is_illegal());
  // An info put whose item nobody got may not have happened, even when drained.
  EXPECT_TRUE(lin({pending(put(0, a, 10, 20)), qsize(1, 0, 30, 40)}, drained).is_ok());
}

TEST(Linearizability, AnInfoGetMayHaveTakenOneItem) {
  const auto a = tag(0, 0), b = tag(0, 1), c = tag(0, 2);
  LinearizabilityOptions drained;
  drained.drained = true;
  // The info get took a (so b is next) ...
  EXPECT_TRUE(lin({put(0, a, 10, 20), put(0, b, 30, 40), pending(get(1, 0, 50, 60)), get(2, b, 70, 80)}, drained)
                  .is_ok());
  // ... or nothing (a then b, by another consumer).
  EXPECT_TRUE(lin({put(0, a, 10, 20), put(0, b, 30, 40), pending(get(1, 0, 50, 60)), get(2, a, 70, 80),
                   get(2, b, 90, 100)},
                  drained)
                  .is_ok());
  // But one info get takes one item, not two.
  EXPECT_TRUE(lin({put(0, a, 10, 20), put(0, b, 30, 40), put(0, c, 41, 42), pending(get(1, 0, 50, 60)),
                   get(2, c, 70, 80)})
                  .is_illegal());
}

TEST(Linearizability, AQsizeNoOrderExplainsIsIllegal) {
  const auto a = tag(0, 0);
  const Verdict v = lin({put(0, a, 10, 20), get(1, a, 30, 40), qsize(2, 2, 15, 35)});
  ASSERT_TRUE(v.is_illegal()) << v.message;
  EXPECT_EQ(v.clause, "Q-SIZE-2");
  EXPECT_TRUE(std::binary_search(v.window.begin(), v.window.end(), std::size_t{2})) << v.message;
  // qsize 1 there is fine.
  EXPECT_TRUE(lin({put(0, a, 10, 20), get(1, a, 30, 40), qsize(2, 1, 15, 35)}).is_ok());
}

TEST(Linearizability, JoinableCountsAndBoundedFull) {
  LinearizabilityOptions j;
  j.kind = LinearizableKind::joinable_queue;
  Op done = op(1, OpKind::task_done, 0, 30, 40);
  Op join = op(2, OpKind::join, 0, 45, 50);
  EXPECT_TRUE(lin({put(0, tag(0, 0), 10, 20), done, join}, j).is_ok());
  EXPECT_EQ(lin({put(0, tag(0, 0), 10, 20), join}, j).clause, "JQ-9");
  EXPECT_TRUE(lin({put(0, tag(0, 0), 10, 20), join}).is_unknown()) << "a plain Queue has no join()";
  LinearizabilityOptions bounded;
  bounded.maxsize = 1;
  Op full_put = put(1, tag(1, 0), 30, 40);
  full_put.timeout_ns = 0;
  full_put.outcome = Outcome::fail;
  full_put.error = ErrorKind::Full;
  EXPECT_TRUE(lin({put(0, tag(0, 0), 10, 20), full_put}, bounded).is_ok());
  EXPECT_EQ(lin({put(0, tag(0, 0), 10, 20), full_put}).clause, "Q-MAX-1") << "unbounded";
  bounded.maxsize = 2;
  EXPECT_EQ(lin({put(0, tag(0, 0), 10, 20), full_put}, bounded).clause, "Q-PUT-1") << "room for one more";
}

TEST(Linearizability, ABudgetOfOneStateIsUnknown) {
  const auto a = tag(0, 0);
  LinearizabilityOptions o;
  o.max_states = 1;
  const Verdict v = lin({put(0, a, 10, 20), get(1, a, 30, 40), qsize(1, 0, 50, 60)}, o);
  ASSERT_TRUE(v.is_unknown()) << v.message;
  EXPECT_NE(v.message.find("budget"), std::string::npos);
  History dropped;
  dropped.dropped = 2;
  EXPECT_TRUE(check_linearizable(dropped).is_unknown());
}

// Lowe's memo: n concurrent qsize() calls that change nothing are n! orders but only 2^n
// (set, state) pairs. Without the memo this runs out of its budget.
TEST(Linearizability, TheMemoKeepsWideConcurrencyTractable) {
  std::vector<Op> ops;
  for (std::uint32_t p = 0; p < 12; ++p) ops.push_back(qsize(p, 0, 10, 100));
  ops.push_back(qsize(20, 1, 200, 210));  // nothing was ever put: no order explains it
  LinearizabilityOptions o;
  o.max_states = 100'000;
  const Verdict v = lin(ops, o);
  EXPECT_TRUE(v.is_illegal()) << v.message;
}

TEST(Linearizability, ClassifiesWhatARejectedHistoryStillIs) {
  const auto a = tag(0, 0), b = tag(1, 0);
  const std::vector<LinearizabilityOptions> queue{LinearizabilityOptions{}};
  auto cls = [&](std::vector<Op> ops) {
    History h;
    h.ops = std::move(ops);
    return classify(h, queue);
  };
  EXPECT_EQ(cls({put(0, a, 10, 20), get(1, a, 30, 40)}).cls, HistoryClass::linearizable);
  // get_nowait raising Empty after the put returned: CPython's racy get allows it.
  const Classification weak = cls({put(0, a, 10, 20), get_empty(1, 30, 40), get(1, a, 50, 60)});
  EXPECT_EQ(weak.cls, HistoryClass::cpython_weak) << weak.message;
  // p0's item went in first in real time, one consumer got p1's first: only real time is
  // broken (the order put b, put a, get b, get a keeps every process's own order).
  const Classification sc = cls({put(0, a, 10, 20), put(1, b, 30, 40), get(2, b, 50, 60), get(2, a, 70, 80)});
  EXPECT_EQ(sc.cls, HistoryClass::sequential_only) << sc.message;
  // One item got twice: no interleaving explains it.
  const Classification bad = cls({put(0, a, 10, 20), get(1, a, 30, 40), get(2, a, 50, 60)});
  EXPECT_EQ(bad.cls, HistoryClass::illegal) << bad.message;
  // Program order counts: a process getting the item it puts only afterwards.
  EXPECT_EQ(cls({get(0, a, 10, 20), put(0, a, 30, 40)}).cls, HistoryClass::illegal);
  EXPECT_EQ(classify(History{}, {}).cls, HistoryClass::unknown);
}

// ---------------------------------------------------------------------------------------------
// The fixtures: the search against the rule-based checkers

using fixtures::Fixture;

std::vector<Fixture> queue_fixtures() {
  return fixtures::load_fixtures(
      [](const std::string& name) { return name.starts_with("queue-") || name.starts_with("joinable-"); });
}

LinearizabilityOptions options_of(const Fixture& f) {
  const nlohmann::json opts = f.options();
  LinearizabilityOptions o;
  o.object = opts.value("object", 0u);
  o.maxsize = opts.value("maxsize", std::int64_t{0});
  o.drained = opts.value("drained", false);
  o.cpython_races = opts.value("cpython_racy_get", false) || opts.value("cpython_racy_empty", false);
  if (opts.value("simple_queue", false)) o.kind = LinearizableKind::simple_queue;
  if (f.meta.at("checker") == "joinable") o.kind = LinearizableKind::joinable_queue;
  return o;
}

// Fixtures on which the two answers differ by design, with the reason.
const std::map<std::string, std::string>& expected_disagreements() {
  static const std::map<std::string, std::string> m{
      {"joinable-full-put-ok",
       "the joinable checker reads only the task count (no maxsize option); the whole model "
       "rejects a put raising Full on an unbounded queue (Q-MAX-1)"},
      {"queue-cross-producer-racy-ok",
       "judged as CPython: the models, races and all, are one sequential object; CPython's feeder "
       "threads let different producers' items overtake (check_queue's rule 9 is off with races)"},
      {"queue-budget-unknown", "the rule checker's size rule has a work budget of 0; the search decides"},
      {"queue-duplicate-puts-unknown", "the rule checker needs unique values; the search compares values and decides"},
      {"queue-timed-full-missed-bad",
       "Q-FULL-3 is a timing tolerance too (a free slot for longer than a tier during a timed put's wait)"},
      {"queue-timed-empty-missed-bad",
       "Q-EMPTY-3 is a timing tolerance (an item present longer than a tier during a timed wait); "
       "linearizability has no durations: the get may take effect before the item arrived"},
  };
  return m;
}

TEST(Linearizability, AgreesWithTheRuleCheckersOnTheFixtures) {
  std::size_t agree = 0, disagree = 0, unexpected = 0;
  std::string table = fmt::format("{:<40} {:>8} {:>8}  {}\n", "fixture", "rules", "search", "");
  for (const Fixture& f : queue_fixtures()) {
    const Verdict rules =
        check(f.checker(), f.history, f.options());
    const Verdict search = check_linearizable(f.history, options_of(f));
    const bool same = rules.status == search.status;
    const auto known = expected_disagreements().find(f.name);
    std::string note;
    if (same) {
      ++agree;
      if (rules.is_illegal() && rules.clause != search.clause)
        note = fmt::format("(clauses {} / {})", rules.clause, search.clause);
    } else {
      ++disagree;
      note = known != expected_disagreements().end() ? "expected: " + known->second : "UNEXPECTED";
      if (known == expected_disagreements().end()) ++unexpected;
    }
    table += fmt::format("{:<40} {:>8} {:>8}  {}\n", f.name, to_string(rules.status), to_string(search.status), note);
    if (known == expected_disagreements().end()) {
      EXPECT_EQ(to_string(search.status), to_string(rules.status)) << f.name << ": " << search.message;
    } else {
      EXPECT_FALSE(same) << f.name << " now agrees: drop it from expected_disagreements()";
    }
  }
  std::cout << table << fmt::format("agree {}, disagree {} (unexpected {})\n", agree, disagree, unexpected);
  EXPECT_GE(agree + disagree, 40u) << "the fixtures were not found";
}

// ---------------------------------------------------------------------------------------------
// Random legal histories: run the model sequentially, give op i the instant 100 i, then
// stretch each op's interval around its instant. The sequential run is a witness, so every
// such history is linearizable.

History random_legal(std::mt19937_64& rng, std::size_t n, std::int64_t maxsize) {
  spec::QueueState s = spec::QueueState::make(maxsize);
  History h;
  std::uint64_t seq = 0;
  std::uniform_int_distribution<int> pick(0, 5);
  std::uniform_int_distribution<std::int64_t> stretch(0, 250);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t t = 1000 + 100 * static_cast<std::int64_t>(i);
    Op o;
    o.process = static_cast<std::uint32_t>(i % 4);  // processes are not used by the search
    o.invoke_ns = t - stretch(rng);
    o.return_ns = t + stretch(rng);
    switch (pick(rng)) {
      case 0:
      case 1: {  // put_nowait
        o.kind = OpKind::put;
        o.value = tag(o.process, seq++);
        o.timeout_ns = 0;
        auto out = spec::step(s, spec::QueueOp::put(spec::Value::integer(o.value), false));
        const auto& a = out.allowed().front();
        if (a.result.raised()) {
          o.outcome = Outcome::fail;
          o.error = ErrorKind::Full;
        }
        s = a.next;
        break;
      }
      case 2:
      case 3: {  // get_nowait
        o.kind = OpKind::get;
        o.timeout_ns = 0;
        auto out = spec::step(s, spec::QueueOp::get(false));
        const auto& a = out.allowed().front();
        if (a.result.raised()) {
          o.outcome = Outcome::fail;
          o.error = ErrorKind::Empty;
        } else {
          o.value = static_cast<std::uint64_t>(a.result.value.as_int());
        }
        s = a.next;
        break;
      }
      case 4:
        o.kind = OpKind::qsize;
        o.value = static_cast<std::uint64_t>(s.qsize());
        break;
      default:
        o.kind = OpKind::empty;
        o.value = s.items.empty() ? 1 : 0;
        break;
    }
    h.ops.push_back(o);
  }
  return h;
}

TEST(Linearizability, RandomLegalHistoriesAreOkAndThroughput) {
  std::mt19937_64 rng(13);
  std::uniform_int_distribution<std::size_t> len(10, 30);
  constexpr int kHistories = 2000;
  std::vector<History> hs;
  std::vector<std::int64_t> maxsizes;
  for (int i = 0; i < kHistories; ++i) {
    maxsizes.push_back(i % 2 == 0 ? 0 : 3);
    hs.push_back(random_legal(rng, len(rng), maxsizes.back()));
  }
  std::size_t ops = 0;
  const auto start = std::chrono::steady_clock::now();
  for (std::size_t i = 0; i < hs.size(); ++i) {
    LinearizabilityOptions o;
    o.maxsize = maxsizes[i];
    const Verdict v = check_linearizable(hs[i], o);
    ops += hs[i].ops.size();
    ASSERT_TRUE(v.is_ok()) << describe(hs[i], v) << "\n" << to_jsonl(hs[i]);
  }
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("linearizability search: {} random legal histories of 10-30 ops ({} ops) in {:.3f} s: "
                           "{:.0f} histories/s\n",
                           kHistories, ops, secs, kHistories / secs);
}

// Every linearizable history is sequentially consistent: the program-order search accepts every
// random legal history (and it is a different search, so this checks it against the other).
TEST(Linearizability, RandomLegalHistoriesAreSequentiallyConsistent) {
  std::mt19937_64 rng(29);
  std::uniform_int_distribution<std::size_t> len(6, 20);
  LinearizabilityOptions sc;
  sc.real_time = false;
  for (int i = 0; i < 300; ++i) {
    const History h = random_legal(rng, len(rng), 0);
    const Verdict v = check_linearizable(h, sc);
    ASSERT_TRUE(v.is_ok()) << v.message << "\n" << to_jsonl(h);
  }
}

}  // namespace
