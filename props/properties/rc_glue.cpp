// RapidCheck + GoogleTest glue for properties whose cases fork racing processes (rc_glue.hpp).
#include "rc_glue.hpp"

#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <map>
#include <sstream>
#include <string>
#include <utility>

extern char** environ;

namespace mpconform::props {
namespace {

using Clock = std::chrono::steady_clock;

// The phase of the property that is running (one at a time: GoogleTest runs tests in turn).
struct Phase {
  bool failing = false;      // a case failed: RapidCheck is shrinking
  bool reproducing = false;  // RC_PARAMS="reproduce=..." names this property
  Clock::time_point started_at{};
  Clock::time_point failed_at{};
  double shrink_budget_s = kShrinkSeconds;
};
Phase g_phase;
unsigned g_serial = 0;

std::map<std::string, std::string>& replay_overrides() {
  static std::map<std::string, std::string> m;
  return m;
}

double shrink_budget_from_env() {
  const char* s = std::getenv("MPCONFORM_SHRINK_SECONDS");
  if (s == nullptr || *s == '\0') return kShrinkSeconds;
  char* end = nullptr;
  const double v = std::strtod(s, &end);
  return (end != s && *end == '\0' && v >= 0) ? v : kShrinkSeconds;
}

bool rc_params_mention(std::string_view key) {
  const char* s = std::getenv("RC_PARAMS");
  return s != nullptr && std::string_view(s).find(key) != std::string_view::npos;
}

// POSIX shell single quotes (a ' becomes '\'').
std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

// Every MPCONFORM_* variable of the environment, with the overrides applied.
std::string replay_env() {
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string_view kv(*e);
    if (kv.rfind("MPCONFORM_", 0) != 0) continue;
    const auto eq = kv.find('=');
    if (eq == std::string_view::npos) continue;
    vars[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  }
  for (const auto& [k, v] : replay_overrides()) vars[k] = v;
  std::string out;
  for (const auto& [k, v] : vars) out += k + "=" + shell_quote(v) + " ";
  return out;
}

std::string self_path() {
  char buf[4096];
  const ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n <= 0) return "./test_properties";
  return std::string(buf, static_cast<std::size_t>(n));
}

// Counts shrink candidates; prints nothing (the GoogleTest message says it all).
class CountingListener final : public rc::detail::TestListener {
 public:
  void onTestCaseFinished(const rc::detail::CaseDescription&) override {}
  void onShrinkTried(const rc::detail::CaseDescription&, bool accepted) override {
    ++tried;
    accepted_count += accepted ? 1 : 0;
  }
  void onTestFinished(const rc::detail::TestMetadata&, const rc::detail::TestResult&) override {}
  int tried = 0;
  int accepted_count = 0;
};

}  // namespace

int attempts() { return (g_phase.failing || g_phase.reproducing) ? kFlakyAttempts : 1; }

bool shrink_spent() {
  // A reproduction walks RapidCheck's shrink path; every step must really run.
  if (!g_phase.failing || g_phase.reproducing) return false;
  const double spent = std::chrono::duration<double>(Clock::now() - g_phase.failed_at).count();
  return spent > g_phase.shrink_budget_s;
}

void note_failure() {
  if (!g_phase.failing) {
    g_phase.failing = true;
    g_phase.failed_at = Clock::now();
  }
}

bool shrinking() { return g_phase.failing; }

unsigned property_serial() { return g_serial; }

void set_replay_env(std::string name, std::string value) {
  replay_overrides()[std::move(name)] = std::move(value);
}

namespace detail {

void check_gtest(const rc::detail::Property& property, int default_cases) {
  const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
  const std::string suite = info->test_suite_name();
  const std::string name = info->name();
  rc::detail::TestMetadata metadata;
  metadata.id = suite + "/" + name;
  metadata.description = name;

  const rc::detail::Configuration& config = rc::detail::configuration();
  rc::detail::TestParams params = config.testParams;
  if (!rc_params_mention("max_success")) params.maxSuccess = default_cases;

  g_phase = Phase{};
  ++g_serial;
  g_phase.reproducing = config.reproduce.count(metadata.id) > 0;
  g_phase.shrink_budget_s = shrink_budget_from_env();
  g_phase.started_at = Clock::now();

  CountingListener listener;
  const rc::detail::TestResult result =
      rc::detail::checkProperty(property, metadata, params, listener, config.reproduce);
  const bool shrink_cut = shrink_spent();
  const bool reproduced = g_phase.reproducing;
  const auto seconds = [](Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
  };
  const double to_failure = seconds(g_phase.started_at, g_phase.failed_at);
  const double shrinking_s = seconds(g_phase.failed_at, Clock::now());
  g_phase = Phase{};

  if (result.is<rc::detail::SuccessResult>()) {
    const auto& success = result.get<rc::detail::SuccessResult>();
    if (reproduced)
      std::cout << metadata.id << ": the reproduced case passed " << kFlakyAttempts
                << " times (a race need not repeat; try the search command)\n";
    if (!success.distribution.empty()) {
      rc::detail::printResultMessage(result, std::cout);
      std::cout << std::endl;
    }
    return;
  }

  std::ostringstream msg;
  rc::detail::printResultMessage(result, msg);
  msg << "\n";
  if (result.is<rc::detail::FailureResult>()) {
    const auto& failure = result.get<rc::detail::FailureResult>();
    rc::detail::Configuration only_reproduce;
    only_reproduce.reproduce[metadata.id] = failure.reproduce;
    // configToMinimalString also writes a seed=0 (the default's seed is random): keep only the
    // reproduce= key, the rest of RC_PARAMS does not matter to a reproduction.
    std::string reproduce;
    std::istringstream keys(rc::detail::configToMinimalString(only_reproduce));
    for (std::string key; keys >> key;)
      if (key.rfind("reproduce=", 0) == 0) reproduce = key;
    const std::string filter = " " + self_path() + " --gtest_filter=" + suite + "." + name;
    const std::string env = replay_env();
    msg << "seed: " << params.seed << " (";
    if (reproduced)
      msg << "reproduced from RC_PARAMS";
    else
      msg << failure.numSuccess << " cases passed, the next failed after "
          << std::fixed << std::setprecision(2) << to_failure << " s; then "
          << failure.reproduce.shrinkPath.size() << " shrinks accepted of " << listener.tried
          << " tried in " << shrinking_s << " s"
          << (shrink_cut ? ", shrinking budget spent" : "");
    msg << ")\n"
        << "replay: " << env << "RC_PARAMS=\"" << reproduce << "\"" << filter << "\n"
        << "search: " << env << "RC_PARAMS=\"seed=" << params.seed
        << " max_success=" << params.maxSuccess << "\"" << filter << "\n";
  }
  FAIL() << msg.str();
}

}  // namespace detail
}  // namespace mpconform::props
