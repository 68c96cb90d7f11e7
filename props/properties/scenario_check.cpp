// Runs generated scenarios through the harness runner (scenario_check.hpp).
#include "scenario_check.hpp"

#include <rapidcheck.h>

#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <nlohmann/json.hpp>

#include "mpconform/runner.hpp"
#include "rc_glue.hpp"

namespace mpconform::props {
namespace {

bool failed(ScenarioVerdict v) {
  return v == ScenarioVerdict::fail || v == ScenarioVerdict::hang || v == ScenarioVerdict::error;
}

}  // namespace

const std::string& selected_backend_spec() {
  static const std::string spec = backend_spec(std::nullopt);
  return spec;
}

Backend& selected_backend() {
  static std::unique_ptr<Backend> backend;
  if (!backend) {
    set_replay_env("MPCONFORM_BACKEND", selected_backend_spec());
    backend = make_backend(selected_backend_spec());  // std::invalid_argument: unknown name
  }
  return *backend;
}

// What became of each scenario of the current property while it shrinks: "" for a pass, else
// the failure message. RapidCheck evaluates a case again (e.g. the final counterexample, to
// print it); a race need not repeat, so a scenario is run for one property at most once.
struct Outcomes {
  unsigned serial = 0;
  std::map<std::string, std::string> by_json;
};

Outcomes& outcomes() {
  static Outcomes o;
  if (o.serial != property_serial()) o = Outcomes{property_serial(), {}};
  return o;
}

void check_scenario(const ScenarioBody& body) {
  const Scenario scenario{0, body};
  const std::string json = to_json(scenario).dump();
  Outcomes& seen = outcomes();
  if (const auto it = seen.by_json.find(json); it != seen.by_json.end()) {
    RC_TAG(std::string(it->second.empty() ? "pass" : "fail"));
    if (!it->second.empty()) RC_FAIL(it->second);
    return;
  }
  if (shrink_spent()) {
    RC_TAG("not run: shrinking budget spent");
    return;
  }
  Backend* backend = nullptr;
  try {
    backend = &selected_backend();
  } catch (const std::exception& e) {
    note_failure();
    RC_FAIL(std::string("cannot make the backend: ") + e.what());
  }

  RunOptions options;
  options.keep_history_when_passing = false;
  const int n = attempts();
  ScenarioResult result;
  int run = 0;
  while (run < n) {
    ++run;
    result = run_scenario(*backend, scenario, options);
    if (failed(result.verdict)) break;
  }

  RC_TAG(std::string(to_string(result.verdict)));
  if (result.verdict == ScenarioVerdict::unknown)
    RC_LOG() << "unknown (" << result.clause << "): " << result.message << "\n";
  if (!failed(result.verdict)) {
    if (shrinking()) seen.by_json[json] = "";
    return;
  }

  note_failure();
  std::string why = "backend " + selected_backend_spec() + ": " +
                    std::string(to_string(result.verdict));
  if (!result.clause.empty()) why += " " + result.clause;
  why += " (run " + std::to_string(run) + " of at most " + std::to_string(n) + ")\n";
  why += result.message + "\n";
  why += "scenario: " + describe(scenario) + "\n";
  why += "scenario JSON (save it to FILE; `mpconform run --backend " + selected_backend_spec() +
         " --scenario-file FILE` replays it): " + json;
  seen.by_json[json] = why;
  RC_FAIL(why);
}

}  // namespace mpconform::props
