// Runs generated scenarios through the harness's fuzz library (scenario_check.hpp).
#include "scenario_check.hpp"

#include <rapidcheck.h>

#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "mpconform/backend.hpp"
#include "mpconform/fuzz.hpp"
#include "rc_glue.hpp"

namespace mpconform::props {

const std::string& selected_backend_spec() {
  static const std::string spec = backend_spec(std::nullopt);
  return spec;
}

Executor& selected_executor() {
  static std::unique_ptr<Executor> executor;
  if (!executor) {
    set_replay_env("MPCONFORM_BACKEND", selected_backend_spec());
    executor = make_executor(selected_backend_spec());  // std::invalid_argument: unknown name
  }
  return *executor;
}

namespace {

// What became of each seed of the current property: "" for a pass, else the failure message.
// RapidCheck evaluates a failing case again (to print the counterexample); a race need not
// repeat, so a seed is run for one property at most once and its first outcome is kept.
struct Outcomes {
  unsigned serial = 0;
  std::map<std::uint64_t, std::string> by_seed;
};

Outcomes& outcomes() {
  static Outcomes o;
  if (o.serial != property_serial()) o = Outcomes{property_serial(), {}};
  return o;
}

double shrink_seconds() {
  const char* v = std::getenv("MPCONFORM_SHRINK_SECONDS");
  if (v == nullptr || *v == '\0') return kShrinkSeconds;
  try {
    return std::stod(v);
  } catch (const std::exception&) {
    throw std::invalid_argument(std::string("MPCONFORM_SHRINK_SECONDS must be a number, not ") + v);
  }
}
}  // namespace

void check_seed(std::string_view property, std::uint64_t seed) {
  Outcomes& seen = outcomes();
  if (const auto it = seen.by_seed.find(seed); it != seen.by_seed.end()) {
    RC_TAG(std::string(it->second.empty() ? "pass" : "fail"));
    if (!it->second.empty()) RC_FAIL(it->second);
    return;
  }
  Executor* executor = nullptr;
  try {
    executor = &selected_executor();
  } catch (const std::exception& e) {
    note_failure();
    RC_FAIL(std::string("cannot make the backend: ") + e.what());
  }
  const Scenario scenario = generate(property, seed);
  RunOptions run;
  run.keep_history_when_passing = false;
  const int n = attempts();
  ScenarioResult result;
  int tries = 0;
  while (tries < n) {
    ++tries;
    result = run_scenario(*executor, scenario, run);
    if (is_failure(result.verdict)) break;
  }
  RC_TAG(std::string(to_string(result.verdict)));
  if (result.verdict == ScenarioVerdict::unknown)
    RC_LOG() << "unknown (" << result.clause << "): " << result.message << "\n";
  if (!is_failure(result.verdict)) {
    seen.by_seed[seed] = "";
    return;
  }

  note_failure();
  FailureReport f;
  f.scenario = scenario;
  f.result = result;
  FuzzOptions o;
  o.run = run;
  o.shrink_seconds = shrink_seconds();
  shrink_failure(*executor, f, o);
  const Scenario& smallest = f.shrunk ? *f.shrunk : scenario;
  std::string why = "backend " + selected_backend_spec() + ": " + std::string(to_string(result.verdict));
  if (!result.clause.empty()) why += " " + result.clause;
  why += " (run " + std::to_string(tries) + " of at most " + std::to_string(n) + ")\n";
  why += result.message + "\n";
  why += "scenario: " + describe(scenario) + "\n";
  if (f.shrunk)
    why += "shrunk in " + std::to_string(f.shrink_runs) + " runs to: " + describe(*f.shrunk) + " (" +
           std::string(to_string(f.shrunk_result.verdict)) + " " + f.shrunk_result.clause + ")\n";
  why += "scenario JSON (save it to FILE; `mpconform run --backend " + selected_backend_spec() +
         " --scenario-file FILE` replays it): " + to_json(smallest).dump() + "\n";
  why += "or: " + replay_command(selected_backend_spec(), property, seed, GenLimits{}, "");
  seen.by_seed[seed] = why;
  RC_FAIL(why);
}

}  // namespace mpconform::props
