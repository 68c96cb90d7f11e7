// mpconform: runs the property suite against a backend (the reference, a mutant, or a plugin).
//
//   mpconform run [--backend NAME] [--property P ...] [--scenarios N | --seconds S] [--seed N]
//                 [--json FILE] [--junit FILE] [--scenario-file FILE] [--no-shrink]
//   mpconform backends
//   mpconform tiers [--json]
//   mpconform mutants [--seconds-per-mutant S] [--seed N] [--json FILE] [--junit FILE]
//
// Exit codes: 0 every property passed (or every mutant was caught), 1 a property failed (a
// mutant survived), 2 a bad command line (one line on stderr saying why).
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mpconform/backend.hpp"
#include "mpconform/history.hpp"
#include "mpconform/runner.hpp"
#include "mpconform/scenario.hpp"
#include "mpconform/tiers.hpp"
#include "report.hpp"

namespace {

using namespace mpconform;
using namespace mpconform::cli;

// A command-line error: exit code 2, one line.
struct Usage : std::runtime_error {
  using std::runtime_error::runtime_error;
};

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

bool failed(ScenarioVerdict v) {
  return v == ScenarioVerdict::fail || v == ScenarioVerdict::hang || v == ScenarioVerdict::error;
}

struct Budget {
  std::optional<std::uint64_t> scenarios;  // per property
  std::optional<double> seconds;           // per property
};

// Runs `s` up to `tries` times; returns the first failing result, if any.
std::optional<ScenarioResult> fails_within(Backend& b, const Scenario& s, int tries, const RunOptions& o) {
  for (int i = 0; i < tries; ++i) {
    ScenarioResult r = run_scenario(b, s, o);
    if (failed(r.verdict)) return r;
  }
  return std::nullopt;
}

// Re-runs a failure and shrinks it: smaller variants are tried (each a few times, since a race
// may not repeat) and kept while they still fail.
void confirm_and_shrink(Backend& b, const Scenario& s, const RunOptions& o, bool confirm,
                        bool shrink, PropertyReport& rep) {
  const int kReruns = confirm ? 3 : 0;
  int repeats = 0;
  for (int i = 0; i < kReruns; ++i) repeats += failed(run_scenario(b, s, o).verdict) ? 1 : 0;
  rep.failure->reruns = kReruns;
  rep.failure->reruns_failed = repeats;
  if (!shrink) return;
  Scenario current = s;
  int budget = 24;  // scenario runs spent on shrinking
  const double stop = now_s() + 20.0;
  for (bool improved = true; improved && budget > 0 && now_s() < stop;) {
    improved = false;
    for (const Scenario& c : smaller(current)) {
      if (budget <= 0 || now_s() >= stop) break;
      const int tries = std::min(3, budget);
      budget -= tries;
      if (auto r = fails_within(b, c, tries, o)) {
        current = c;
        rep.failure->shrunk = c;
        rep.failure->shrunk_result = std::move(*r);
        improved = true;
        break;
      }
    }
  }
}

PropertyReport run_property(Backend& b, const std::string& backend_spec, Property p,
                            const Budget& budget, std::uint64_t base_seed, const GenLimits& limits,
                            const std::optional<Scenario>& fixed, const std::string& fixed_file,
                            bool confirm, bool shrink) {
  PropertyReport rep;
  rep.property = p;
  rep.clauses = property_clauses(p);
  RunOptions o;
  o.keep_history_when_passing = false;
  const double t0 = now_s();
  for (std::uint64_t k = 0;; ++k) {
    if (budget.scenarios && k >= *budget.scenarios) break;
    if (!budget.scenarios && budget.seconds && k > 0 && now_s() - t0 >= *budget.seconds) break;
    const Scenario s = fixed ? *fixed : generate(p, base_seed + k, limits);
    ScenarioResult r = run_scenario(b, s, o);
    ++rep.scenarios;
    rep.processes += process_count(s);
    rep.scenario_seconds += r.total_s;
    if (r.verdict == ScenarioVerdict::unknown) {
      ++rep.unknown;
      if (rep.unknown_example.empty()) rep.unknown_example = r.message;
    }
    if (failed(r.verdict)) {
      rep.failure = FailureReport{};
      rep.failure->scenario = s;
      rep.failure->result = std::move(r);
      rep.failure->time_to_catch_s = now_s() - t0;
      rep.failure->replay = replay_command(backend_spec, p, s.seed, limits, fixed_file);
      confirm_and_shrink(b, s, o, confirm, shrink && !fixed, rep);
      break;
    }
  }
  rep.seconds = now_s() - t0;
  return rep;
}

std::vector<Property> parse_properties(const std::vector<std::string>& names) {
  std::vector<Property> out;
  for (const std::string& n : names) {
    if (n == "all") {
      out.assign(all_properties().begin(), all_properties().end());
      continue;
    }
    const auto p = property_from_string(n);
    if (!p) {
      std::string known;
      for (Property q : all_properties()) known += fmt::format("{}{}", known.empty() ? "" : ", ", to_string(q));
      throw Usage(fmt::format("unknown property '{}' (known: {})", n, known));
    }
    if (std::find(out.begin(), out.end(), *p) == out.end()) out.push_back(*p);
  }
  if (out.empty()) out.assign(all_properties().begin(), all_properties().end());
  return out;
}

std::unique_ptr<Backend> open_backend(const std::string& spec) {
  try {
    return make_backend(spec);
  } catch (const std::invalid_argument& e) {
    throw Usage(e.what());
  }
}

std::uint64_t random_seed() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 20) ^ rd();
}

/// Creates the parent folders of an output file; a path that cannot be written is a usage
/// error, found before any scenario runs rather than after the whole suite.
void prepare_output(const std::string& path, bool is_dir = false) {
  if (path.empty()) return;
  const std::filesystem::path p(path);
  const std::filesystem::path dir = is_dir ? p : p.parent_path();
  std::error_code ec;
  if (!dir.empty()) std::filesystem::create_directories(dir, ec);
  if (ec) throw Usage(fmt::format("cannot create folder {}: {}", dir.string(), ec.message()));
  if (!is_dir) {
    std::ofstream probe(path, std::ios::app);
    if (!probe) throw Usage(fmt::format("cannot write {}", path));
  }
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) throw std::runtime_error(fmt::format("cannot write {}", path));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"mpconform: conformance and fuzzing harness for multiprocessing-style primitives"};
  app.require_subcommand(1);

  // run
  CLI::App* run = app.add_subcommand("run", "run the property suite against a backend");
  std::optional<std::string> backend_opt;
  std::vector<std::string> properties;
  std::optional<std::int64_t> scenarios;
  std::optional<double> seconds_opt;
  std::optional<std::uint64_t> seed_opt;
  std::string json_path, junit_path, scenario_file;
  bool no_shrink = false;
  GenLimits limits;
  run->add_option("--backend", backend_opt,
                  "reference (default; or $MPCONFORM_BACKEND), mutant:<name>, or a plugin .so path");
  run->add_option("--property", properties, "a property to run (repeatable; default: all)");
  auto* sc = run->add_option("--scenarios", scenarios, "scenarios per property (default 20)");
  auto* se = run->add_option("--seconds", seconds_opt, "seconds per property instead of a count");
  sc->excludes(se);
  run->add_option("--seed", seed_opt, "seed of the first scenario (scenario k uses seed + k)");
  run->add_option("--json", json_path, "write a JSON report");
  run->add_option("--junit", junit_path, "write a JUnit XML report");
  run->add_option("--scenario-file", scenario_file,
                  "replay one scenario saved as JSON (--scenarios N repeats it N times)");
  run->add_flag("--no-shrink", no_shrink, "do not shrink a failing scenario");
  std::string history_dir;
  run->add_option("--history-dir", history_dir,
                  "write the history of each failing scenario there (<property>-seed<S>.jsonl)");
  run->add_option("--max-processes", limits.max_processes, "generator: processes of each kind (1-8)");
  run->add_option("--max-items", limits.max_items, "generator: items per producer (1-64)");
  run->add_option("--max-delay-us", limits.max_delay_us, "generator: injected delays (us)");

  CLI::App* backends = app.add_subcommand("backends", "list the built-in backends and mutants");

  CLI::App* tiers_cmd =
      app.add_subcommand("tiers", "print the time tiers (harness/tiers.json) at the current time scale");
  bool tiers_as_json = false;
  tiers_cmd->add_flag("--json", tiers_as_json, "print them as JSON");

  CLI::App* mutants = app.add_subcommand("mutants", "run every mutant; fail if one survives");
  double per_mutant = 30.0;
  std::optional<std::uint64_t> mseed;
  std::string mjson, mjunit;
  mutants->add_option("--seconds-per-mutant", per_mutant, "give up on a mutant after this long");
  mutants->add_option("--seed", mseed, "seed of the first scenario");
  mutants->add_option("--json", mjson, "write a JSON report");
  mutants->add_option("--junit", mjunit, "write a JUnit XML report");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    std::cerr << "mpconform: " << what << " (see --help)\n";
    return 2;
  }

  try {
    (void)time_scale();  // a malformed MPCONFORM_TIME_SCALE is a usage error
  } catch (const std::invalid_argument& e) {
    std::cerr << "mpconform: " << e.what() << "\n";  // names the variable
    return 2;
  }

  try {
    for (const std::string* out : {&json_path, &junit_path, &mjson, &mjunit}) prepare_output(*out);
    prepare_output(history_dir, true);
    if (backends->parsed()) {
      print_backends(std::cout, builtin_backends());
      return 0;
    }
    if (tiers_cmd->parsed()) {
      if (tiers_as_json)
        std::cout << tiers_json().dump(2) << "\n";
      else
        print_tiers(std::cout);
      return 0;
    }

    if (mutants->parsed()) {
      if (!(per_mutant > 0)) throw Usage("--seconds-per-mutant must be > 0");
      const std::uint64_t seed = mseed.value_or(random_seed());
      std::vector<MutantReport> reports;
      std::cout << fmt::format("mpconform mutants: seed {}, at most {:.0f} s per mutant\n", seed, per_mutant);
      std::cout.flush();
      for (const BackendInfo& info : builtin_backends()) {
        if (!info.mutant) continue;
        auto b = open_backend(info.name);
        const Property p = *property_from_string(info.caught_by);
        Budget budget;
        budget.seconds = per_mutant;
        PropertyReport r = run_property(*b, info.name, p, budget, seed, GenLimits{}, std::nullopt, "",
                                        /*confirm=*/false, /*shrink=*/false);
        MutantReport m{info, std::move(r)};
        print_mutant_line(std::cout, m);
        std::cout.flush();
        reports.push_back(std::move(m));
      }
      print_mutant_summary(std::cout, reports);
      if (!mjson.empty()) write_file(mjson, mutants_json(reports, seed).dump(2) + "\n");
      if (!mjunit.empty()) write_file(mjunit, mutants_junit(reports));
      for (const MutantReport& m : reports)
        if (!m.report.failure) return 1;
      return 0;
    }

    // run
    if (scenarios && *scenarios <= 0) throw Usage(fmt::format("--scenarios must be >= 1, not {}", *scenarios));
    if (seconds_opt && !(*seconds_opt > 0)) throw Usage(fmt::format("--seconds must be > 0, not {}", *seconds_opt));
    if (limits.max_processes < 1 || limits.max_processes > 8) throw Usage("--max-processes must be 1..8");
    if (limits.max_items < 1 || limits.max_items > 64) throw Usage("--max-items must be 1..64");
    if (limits.max_delay_us > 100000) throw Usage("--max-delay-us must be <= 100000");
    std::vector<Property> props = parse_properties(properties);
    std::optional<Scenario> fixed;
    if (!scenario_file.empty()) {
      std::ifstream in(scenario_file);
      if (!in) throw Usage(fmt::format("cannot read scenario file {}", scenario_file));
      try {
        fixed = scenario_from_json(nlohmann::json::parse(in));
      } catch (const std::exception& e) {
        std::string what = e.what();
        std::replace(what.begin(), what.end(), '\n', ' ');
        throw Usage(fmt::format("bad scenario file {}: {}", scenario_file, what));
      }
      props = {fixed->property()};
    }
    const std::string spec = backend_spec(backend_opt);
    auto b = open_backend(spec);
    Budget budget;
    if (seconds_opt)
      budget.seconds = *seconds_opt;
    else  // a scenario file runs once unless asked to repeat it (a race may need several runs)
      budget.scenarios = static_cast<std::uint64_t>(scenarios.value_or(fixed ? 1 : 20));
    const std::uint64_t seed = fixed ? fixed->seed : seed_opt.value_or(random_seed());

    SuiteReport suite;
    suite.backend = b->name();
    suite.backend_spec = spec;
    suite.seed = seed;
    suite.budget = budget.scenarios ? fmt::format("{} scenarios per property", *budget.scenarios)
                                    : fmt::format("{:.1f} s per property", *budget.seconds);
    print_suite_header(std::cout, suite);
    std::cout.flush();
    const double t0 = now_s();
    for (Property p : props) {
      suite.properties.push_back(run_property(*b, spec, p, budget, seed, limits, fixed, scenario_file, true, !no_shrink));
      print_property_line(std::cout, suite.properties.back());
      std::cout.flush();
    }
    suite.seconds = now_s() - t0;
    print_suite_footer(std::cout, suite);
    if (!history_dir.empty())
      for (const PropertyReport& r : suite.properties)
        if (r.failure) {
          const std::string path = fmt::format("{}/{}-seed{}.jsonl", history_dir, to_string(r.property),
                                               r.failure->scenario.seed);
          save_history(path, r.failure->result.history);
          std::cout << "history: " << path << "\n";
        }
    if (!json_path.empty()) write_file(json_path, suite_json(suite).dump(2) + "\n");
    if (!junit_path.empty()) write_file(junit_path, suite_junit(suite));
    for (const PropertyReport& r : suite.properties)
      if (r.failure) return 1;
    return 0;
  } catch (const Usage& e) {
    std::cerr << "mpconform: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mpconform: internal error: " << e.what() << "\n";
    return 3;
  }
}
