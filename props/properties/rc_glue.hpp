#pragma once
// props/properties/rc_glue.hpp: RapidCheck properties as GoogleTest tests, with a default number
// of cases per property, a replay command on failure, and re-runs while shrinking.
//
//   MPC_RC_GTEST_PROP(Suite, Name, cases, ()) { MPC_CLAUSE(...); ... }
//
// is RapidCheck's RC_GTEST_PROP(Suite, Name, ()) with three differences, which is why it exists
// (RC_GTEST_PROP reads its case count only from the global RC_PARAMS, and prints the reproduce
// string only at program exit, without the binary or the environment):
//   1. `cases` is the property's default max_success; RC_PARAMS="max_success=N" still wins, so
//      `RC_PARAMS="max_success=500" ./test_properties` runs a long campaign.
//   2. On failure the GoogleTest message ends with the seed and two exact commands: one that
//      replays the shrunk counterexample (RC_PARAMS="reproduce=..."), one that repeats the
//      whole search (RC_PARAMS="seed=..."), each with the test binary, --gtest_filter and every
//      MPCONFORM_* variable that was set (the backend always, see set_replay_env).
//   3. Races do not repeat on demand, so a body asks attempts() how many times to run its
//      scenario: 1 while searching, kFlakyAttempts once the property has failed (every shrink
//      candidate) and when reproducing; a candidate counts as failing if any attempt fails.
//      Shrinking is bounded (kShrinkSeconds, MPCONFORM_SHRINK_SECONDS): past it, shrink_spent()
//      is true and a body accepts new candidates without running them, so RapidCheck stops at
//      the smallest counterexample found so far.
// The rest is RapidCheck's: RC_ASSERT, RC_FAIL, RC_TAG, RC_PARAMS (seed, max_size, verbose_*).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <string>
#include <string_view>

namespace mpconform::props {

/// How many times a shrink candidate (or a reproduced case) is run before it counts as passing.
inline constexpr int kFlakyAttempts = 3;
/// Default wall-clock budget of one property's shrinking, in seconds.
inline constexpr double kShrinkSeconds = 10.0;

/// 1 while RapidCheck searches for a failure; kFlakyAttempts while it shrinks one or reproduces.
[[nodiscard]] int attempts();
/// True once the shrinking budget of the current property is spent.
[[nodiscard]] bool shrink_spent();
/// A body calls this when its case fails (before RC_FAIL): what follows are shrink candidates.
void note_failure();
/// True once the current property has failed (RapidCheck is shrinking).
[[nodiscard]] bool shrinking();
/// A number that changes with every property run, for bodies that cache per property (e.g.
/// the outcome of each scenario: RapidCheck evaluates the final counterexample again to
/// print it, and a race need not repeat).
[[nodiscard]] unsigned property_serial();

/// Adds NAME=value to every replay command this process prints (overrides the environment's
/// value, e.g. the backend actually used when MPCONFORM_BACKEND was unset).
void set_replay_env(std::string name, std::string value);

namespace detail {
/// Runs `property` as the current GoogleTest test (see the top of this header).
void check_gtest(const rc::detail::Property& property, int default_cases);
}  // namespace detail

}  // namespace mpconform::props

/// Defines RapidCheck property Suite.Name as a GoogleTest test with `cases` default cases.
#define MPC_RC_GTEST_PROP(Suite, Name, Cases, ArgList)                                   \
  void mpcRcProp_##Suite##_##Name ArgList;                                               \
  TEST(Suite, Name) {                                                                    \
    ::mpconform::props::detail::check_gtest(                                             \
        ::rc::detail::toProperty(&mpcRcProp_##Suite##_##Name), Cases);                   \
  }                                                                                      \
  void mpcRcProp_##Suite##_##Name ArgList
