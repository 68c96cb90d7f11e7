// The longest prefix a checker accepts (mpconform/prefix.hpp), on the hand-made fixtures:
// exact (no later cut is accepted), whole for legal histories, and cut_history's pending ops.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mpconform/checkers.hpp"
#include "mpconform/prefix.hpp"
#include "fixtures.hpp"

namespace {

using namespace mpconform;

using fixtures::Fixture;

// The fixtures whose name ends in `suffix` ("-ok", "-bad").
std::vector<Fixture> fixtures_ending(const char* suffix) {
  return fixtures::load_fixtures([&](const std::string& name) { return name.ends_with(suffix); });
}

Op op(std::uint32_t process, OpKind kind, std::uint64_t value, std::int64_t invoke, std::int64_t ret) {
  return fixtures::make_op(process, kind, value, invoke, ret);
}

TEST(CutHistory, DropsLaterOpsAndLeavesRunningOnesPending) {
  History h;
  h.ops = {op(0, OpKind::put, make_tag(0, 1), 10, 20), op(1, OpKind::get, make_tag(0, 1), 15, 40),
           op(0, OpKind::put, make_tag(0, 2), 30, 35)};
  const History cut = cut_history(h, 25);
  ASSERT_EQ(cut.ops.size(), 2u);
  EXPECT_EQ(cut.ops[0], h.ops[0]);  // completed before the cut: unchanged
  EXPECT_TRUE(cut.ops[1].info());   // running at the cut: pending, result unknown
  EXPECT_EQ(cut.ops[1].return_ns, kNever);
  EXPECT_EQ(cut.ops[1].value, 0u);
  // A pending put keeps its item (an argument, known at invoke).
  const History cut2 = cut_history(h, 33);
  ASSERT_EQ(cut2.ops.size(), 3u);
  EXPECT_TRUE(cut2.ops[2].info());
  EXPECT_EQ(cut2.ops[2].value, make_tag(0, 2));
}

// Every illegal fixture: the prefix found is accepted, and no later cut is (checked by trying
// every cut after it), so the timeline's line is where the history stops making sense.
TEST(LongestAcceptedPrefix, IsTheLastAcceptedCutOfEveryIllegalFixture) {
  const auto bad = fixtures_ending("-bad");
  ASSERT_GT(bad.size(), 20u);
  for (const Fixture& f : bad) {
    SCOPED_TRACE(f.name);
    const auto check = [&](const History& h) { return mpconform::check(f.checker(), h, f.options()); };
    ASSERT_TRUE(check(f.history).is_illegal());
    const auto p = longest_accepted_prefix(f.history, check);
    std::vector<std::int64_t> cuts;
    for (const Op& o : f.history.ops) {
      cuts.push_back(o.invoke_ns + 1);
      if (o.completed()) cuts.push_back(o.return_ns + 1);
    }
    std::sort(cuts.begin(), cuts.end());
    const std::int64_t from = p ? p->until_ns : std::numeric_limits<std::int64_t>::min();
    if (p) {
      EXPECT_FALSE(check(cut_history(f.history, p->until_ns)).is_illegal());
      EXPECT_EQ(p->ops, cut_history(f.history, p->until_ns).ops.size());
    }
    for (std::int64_t c : cuts) {
      if (c > from) {
        EXPECT_TRUE(check(cut_history(f.history, c)).is_illegal()) << "a later cut at " << c << " is accepted";
      }
    }
  }
}

// A legal history is accepted whole: its prefix holds every op.
TEST(LongestAcceptedPrefix, IsTheWholeOfEveryLegalFixture) {
  for (const Fixture& f : fixtures_ending("-ok")) {
    SCOPED_TRACE(f.name);
    const auto p = longest_accepted_prefix(
        f.history, [&](const History& h) { return mpconform::check(f.checker(), h, f.options()); });
    ASSERT_TRUE(p.has_value());
    EXPECT_EQ(p->ops, f.history.ops.size());
  }
}

// The search tries at most max_checks cuts from the end, and says nothing past them.
TEST(LongestAcceptedPrefix, GivesUpPastItsBudget) {
  int earlier = 0;
  for (const Fixture& f : fixtures_ending("-bad")) {
    SCOPED_TRACE(f.name);
    const auto check = [&](const History& h) { return mpconform::check(f.checker(), h, f.options()); };
    // The last cut is the whole history, which is rejected: one check finds nothing.
    EXPECT_FALSE(longest_accepted_prefix(f.history, check, 1).has_value());
    earlier += longest_accepted_prefix(f.history, check).has_value() ? 1 : 0;
  }
  EXPECT_GT(earlier, 0);
}

}  // namespace
