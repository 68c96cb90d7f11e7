// mpconform: runs the property suite against a backend (the reference, a mutant, or a plugin).
//
//   mpconform run [--backend NAME] [--profile reference|cpython] [--property P ...]
//                 [--scenarios N | --seconds S] [--seed N] [--json FILE] [--junit FILE]
//                 [--scenario-file FILE] [--no-shrink] [--history-dir DIR] [--mode delays|pct|overlap]
//                 [--depth D] [--shard I/N] [--expectations FILE]
//   mpconform backends
//   mpconform properties
//   mpconform plan --property P --seed N | --scenario-file FILE [--scenario]  (plan as JSON)
//   mpconform tiers [--json]
//   mpconform merge SHARD.json ... [--json FILE] [--junit FILE]      (combine shards of one run)
//   mpconform exec [--backend NAME] --plan FILE [--history FILE]     (run one plan, print its history)
//   mpconform mutants [--python | --python-only] [--seconds-per-mutant S] [--seed N] [--json F]
//   mpconform report REPORT.json|HISTORY.jsonl|FOLDER ... [-o PAGE.html]   (the dashboard page)
//   mpconform timeline HISTORY.jsonl [-o PAGE.html]                  (one history as a timeline)
//   mpconform cpython-tests --module M [...]     (CPython's own tests on M; options: --help there)
//
// Exit codes: 0 every property passed (or every mutant was caught; with --expectations: exactly
// the expected properties failed), 1 a property failed (a mutant survived; a new failure or an
// unexpected pass), 2 a bad command line or input file (one line on stderr saying why).
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
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
#include "mpconform/executor.hpp"
#include "mpconform/fuzz.hpp"
#include "mpconform/property.hpp"
#include "mpconform/history.hpp"
#include "mpconform/runner.hpp"
#include "mpconform/scenario.hpp"
#include "mpconform/tiers.hpp"
#include "bench_bugs.hpp"
#include "expectations.hpp"
#include "merge.hpp"
#include "page.hpp"
#include "progress.hpp"
#include "report.hpp"
#include "timeline.hpp"

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


std::vector<std::string> parse_properties(const std::vector<std::string>& names) {
  std::vector<std::string> out;
  auto all = [&] {
    for (const Property* p : all_properties()) out.emplace_back(p->name());
  };
  for (const std::string& n : names) {
    if (n == "all") {
      out.clear();
      all();
      continue;
    }
    try {
      (void)property_named(n);
    } catch (const std::invalid_argument& e) {
      throw Usage(e.what());
    }
    if (std::find(out.begin(), out.end(), n) == out.end()) out.push_back(n);
  }
  if (out.empty()) all();
  return out;
}

// The Python mutants: props/pymutants/mpc_mutant_*.py, each naming the property that must
// catch it on a line `MPCONFORM_PROPERTY = "name"`.
std::vector<BackendInfo> python_mutants() {
  std::vector<BackendInfo> out;
  const PythonSetup py = python_setup();
  std::error_code ec;
  for (const std::string& dir : py.path)
    for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
      const std::string file = e.path().filename().string();
      if (!file.starts_with("mpc_mutant_") || !file.ends_with(".py")) continue;
      std::ifstream in(e.path());
      std::string line, doc;
      BackendInfo info;
      info.name = "python:" + file.substr(0, file.size() - 3);
      info.mutant = true;
      while (std::getline(in, line)) {
        if (doc.empty() && line.starts_with("\"\"\"Mutant: ")) doc = line.substr(11);
        const std::string key = "MPCONFORM_PROPERTY = \"";
        if (line.starts_with(key)) info.caught_by = line.substr(key.size(), line.find('"', key.size()) - key.size());
      }
      info.description = doc;
      if (!info.caught_by.empty()) out.push_back(info);
    }
  std::sort(out.begin(), out.end(), [](const BackendInfo& a, const BackendInfo& b) { return a.name < b.name; });
  return out;
}

std::unique_ptr<Executor> open_executor(const std::string& spec) {
  try {
    return make_executor(spec);
  } catch (const std::invalid_argument& e) {
    throw Usage(e.what());
  }
}

ScheduleMode parse_mode(const std::string& name) {
  try {
    return schedule_mode_from_string(name);
  } catch (const std::invalid_argument& e) {
    throw Usage(fmt::format("--mode: {}", e.what()));
  }
}

// `mode`, or delays (said in one line, once) when it is pct and SCHED_FIFO is not permitted.
ScheduleMode usable_mode(ScheduleMode mode) {
  if (mode != ScheduleMode::pct || pct_permitted()) return mode;
  static const bool said = [] {
    std::cout << "mpconform: SCHED_FIFO is not permitted here (needs root or CAP_SYS_NICE): falling back to "
                 "--mode delays\n";
    return true;
  }();
  (void)said;
  return ScheduleMode::delays;
}

Scenario read_scenario_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Usage(fmt::format("cannot read scenario file {}", path));
  try {
    return scenario_from_json(nlohmann::json::parse(in));
  } catch (const std::exception& e) {
    std::string what = e.what();
    std::replace(what.begin(), what.end(), '\n', ' ');
    throw Usage(fmt::format("bad scenario file {}: {}", path, what));
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
  std::optional<std::string> profile_opt;
  run->add_option("--backend", backend_opt,
                  "reference (default; or $MPCONFORM_BACKEND), mutant:<name>, a plugin .so path, or "
                  "python:MODULE (any module with the multiprocessing API)");
  run->add_option("--profile", profile_opt,
                  "legality to judge by: reference (exact where CPython is racy; default for C++ "
                  "backends) or cpython (default for python:MODULE)")
;
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
  std::string mode_name = "delays";
  std::uint32_t depth = 2;
  std::string shard_text;
  run->add_option("--shard", shard_text,
                  "i/N: run only part i of N of the scenarios (k % N == i - 1; same --seed and budget on "
                  "every shard; combine the JSON reports with `mpconform merge`)");
  run->add_option("--mode", mode_name,
                  "how interleavings are chosen: delays (random injected delays, the default), pct "
                  "(priorities on one CPU, SCHED_FIFO; needs root or CAP_SYS_NICE) or overlap (small "
                  "scenarios repeated many times, processes released together with microsecond offsets)");
  run->add_option("--depth", depth, "pct: the bug depth d to search for (1-4, default 2)")->check(CLI::Range(1, 4));
  std::string history_dir;
  run->add_option("--history-dir", history_dir,
                  "write the history of each failing scenario there (<property>-seed<S>.jsonl)");
  std::string expectations_path;
  run->add_option("--expectations", expectations_path,
                  "the failures expected of this backend (props/expectations/NAME.json): the run passes when "
                  "exactly those properties fail, and fails on a new failure or an unexpected pass");
  run->add_option("--max-processes", limits.max_processes, "generator: processes of each kind (1-8)")
      ->check(CLI::Range(1, 8));
  run->add_option("--max-items", limits.max_items, "generator: items per producer (1-64)")->check(CLI::Range(1, 64));
  run->add_option("--max-delay-us", limits.max_delay_us, "generator: injected delays (us, 0-100000)")
      ->check(CLI::Range(0, 100000));

  CLI::App* backends = app.add_subcommand("backends", "list the built-in backends and mutants");
  CLI::App* props_cmd = app.add_subcommand("properties", "list the properties and the clauses each checks");
  CLI::App* plan_cmd = app.add_subcommand("plan", "print the plan (executor protocol JSON) of a scenario");
  std::string plan_property, plan_file;
  std::uint64_t plan_seed = 0;
  plan_cmd->add_option("--property", plan_property, "the property");
  plan_cmd->add_option("--seed", plan_seed, "the scenario's seed");
  plan_cmd->add_option("--scenario-file", plan_file, "a scenario saved as JSON instead");
  bool plan_scenario_only = false;
  plan_cmd->add_flag("--scenario", plan_scenario_only, "print the scenario (a replay file) instead of its plan");

  CLI::App* tiers_cmd =
      app.add_subcommand("tiers", "print the time tiers (harness/tiers.json) at the current time scale");
  bool tiers_as_json = false;
  tiers_cmd->add_flag("--json", tiers_as_json, "print them as JSON");

  CLI::App* exec_cmd = app.add_subcommand("exec", "run one plan (executor protocol JSON) and write its history");
  std::optional<std::string> exec_backend;
  std::string exec_plan, exec_history;
  exec_cmd->add_option("--backend", exec_backend, "as for run");
  exec_cmd->add_option("--plan", exec_plan, "the plan file (see `mpconform plan`)")->required();
  exec_cmd->add_option("--history", exec_history, "write the history there as JSON Lines (default: stdout)");

  CLI::App* report_cmd = app.add_subcommand(
      "report", "the dashboard: one self-contained HTML page from reports (mpconform run --json, pytest's "
                "conformance.json, CPython's tests) and history files");
  std::vector<std::string> report_inputs;
  std::string report_out = "reports/dashboard.html";
  report_cmd->add_option("inputs", report_inputs, "report files, history files (.jsonl), or folders of them")
      ->required();
  report_cmd->add_option("-o,--output", report_out, "the page to write (default reports/dashboard.html)");
  CLI::App* timeline_cmd = app.add_subcommand(
      "timeline", "one history file (JSON Lines) as an HTML timeline, judged again by its checker");
  std::string timeline_in, timeline_out;
  timeline_cmd->add_option("history", timeline_in, "the history (mpconform run --history-dir, or a checker fixture)")
      ->required();
  timeline_cmd->add_option("-o,--output", timeline_out, "the page to write (default: the history's name, .html)");

  CLI::App* cpython_cmd = app.add_subcommand(
      "cpython-tests", "CPython's own multiprocessing tests (test._test_multiprocessing) on a module, each under a "
                       "timeout (harness/python/mpconform_cpython_tests.py; its options follow, see --module M --help)");
  cpython_cmd->prefix_command();  // everything after the subcommand goes to the script

  CLI::App* merge_cmd = app.add_subcommand("merge", "combine the JSON reports of the shards of one run");
  std::vector<std::string> merge_files;
  std::string merge_json, merge_junit;
  merge_cmd->add_option("reports", merge_files, "the shards' JSON reports (mpconform run --shard i/N --json F)")
      ->required();
  merge_cmd->add_option("--json", merge_json, "write the merged JSON report");
  merge_cmd->add_option("--junit", merge_junit, "write the merged JUnit XML report");

  CLI::App* mutants = app.add_subcommand("mutants", "run every mutant; fail if one survives");
  double per_mutant = 30.0;
  std::optional<std::uint64_t> mseed;
  std::string mjson, mjunit;
  mutants->add_option("--seconds-per-mutant", per_mutant, "give up on a mutant after this long");
  mutants->add_option("--seed", mseed, "seed of the first scenario");
  mutants->add_option("--json", mjson, "write a JSON report");
  mutants->add_option("--junit", mjunit, "write a JUnit XML report");
  bool with_python = false, only_python = false;
  mutants->add_flag("--python", with_python, "also the Python mutants (props/pymutants, as python:MODULE)");
  mutants->add_flag("--python-only", only_python, "only the Python mutants");
  std::string mmode_name;
  std::uint32_t mdepth = 2;
  mutants->add_option("--mode", mmode_name,
                      "delays, pct or overlap for every mutant (default: by its kind: order bugs pct, atomicity "
                      "bugs overlap, the others delays)");
  mutants->add_option("--depth", mdepth, "pct: the bug depth d (1-4)")->check(CLI::Range(1, 4));

  CLI::App* bench = app.add_subcommand(
      "bench-bugs", "the bug benchmark: every built-in mutant under every schedule mode; time to catch, replays");
  BenchOptions bo;
  std::string bjson;
  bench->add_option("--seconds", bo.seconds, "budget per mutant and mode (default 60)");
  bench->add_option("--seed", bo.seed, "seed of the first scenario (default 1)");
  bench->add_option("--replays", bo.replays, "re-runs of each failure (default 10)")->check(CLI::Range(0, 100));
  bench->add_option("--mutant", bo.mutants, "only this mutant (repeatable; default: all)");
  bench->add_option("--mode", bo.modes, "only this mode: delays, 'pct d=1'..'pct d=3', overlap (repeatable)");
  bench->add_option("--json", bjson, "write the cells as JSON");

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
    for (const std::string* out : {&json_path, &junit_path, &mjson, &mjunit, &bjson}) prepare_output(*out);
    prepare_output(history_dir, true);
    if (report_cmd->parsed() || timeline_cmd->parsed()) {
      nlohmann::json data;
      std::string out = report_out;
      try {
        if (report_cmd->parsed()) {
          std::vector<std::filesystem::path> inputs(report_inputs.begin(), report_inputs.end());
          std::vector<std::string> notes;
          data = page_data(inputs, notes);
          for (const std::string& n : notes) std::cerr << "mpconform report: " << n << "\n";
        } else {
          data = timeline_page_data(timeline_from_file(timeline_in), timeline_in);
          out = timeline_out.empty() ? std::filesystem::path(timeline_in).replace_extension(".html").string()
                                     : timeline_out;
        }
      } catch (const std::invalid_argument& e) {
        throw Usage(e.what());
      }
      prepare_output(out);
      write_file(out, render_page(data));
      if (report_cmd->parsed())
        std::cout << fmt::format("{}: {} implementations, {} failure timelines; open it in a browser\n", out,
                                 data["implementations"].size(), data["timelines"].size());
      else
        std::cout << fmt::format("{}: {} ({} operations, verdict {}); open it in a browser\n", out,
                                 data["timelines"][0]["title"].get<std::string>(),
                                 data["timelines"][0]["ops"].size(), data["timelines"][0]["verdict"].get<std::string>());
      return 0;
    }
    if (cpython_cmd->parsed()) {
      const PythonSetup py = python_setup();
      const std::string script =
          (std::filesystem::path(py.script).parent_path() / "mpconform_cpython_tests.py").string();
      std::vector<std::string> args{py.python, script};
      for (const std::string& a : cpython_cmd->remaining()) args.push_back(a);
      std::string path;  // mpref's module, as the Python executor finds it
      for (const std::string& p : py.path) path += (path.empty() ? "" : ":") + p;
      if (const char* old = std::getenv("PYTHONPATH"); old && *old) path += std::string(":") + old;
      setenv("PYTHONPATH", path.c_str(), 1);
      std::vector<char*> argv_c;
      for (std::string& a : args) argv_c.push_back(a.data());
      argv_c.push_back(nullptr);
      std::cout.flush();
      execv(py.python.c_str(), argv_c.data());
      throw Usage(fmt::format("cannot run {}: {}", py.python, std::strerror(errno)));
    }
    if (backends->parsed()) {
      std::vector<BackendInfo> all = builtin_backends();
      for (BackendInfo& m : python_mutants()) all.push_back(m);
      print_backends(std::cout, all);
      return 0;
    }
    if (props_cmd->parsed()) {
      for (const Property* p : all_properties()) {
        std::string clauses;
        for (std::string_view c : p->clauses()) clauses += fmt::format("{}{}", clauses.empty() ? "" : " ", c);
        std::cout << fmt::format("{:<9} {}\n          clauses: {}\n", p->name(), p->summary(), clauses);
      }
      return 0;
    }
    if (plan_cmd->parsed()) {
      Scenario s;
      if (!plan_file.empty()) {
        s = read_scenario_file(plan_file);
      } else {
        if (plan_property.empty()) throw Usage("plan: --property or --scenario-file is required");
        try {
          s = generate(plan_property, plan_seed);
        } catch (const std::invalid_argument& e) {
          throw Usage(e.what());
        }
      }
      if (plan_scenario_only)
        std::cout << to_json(s).dump() << "\n";
      else
        std::cout << to_json(property_named(s.property).plan(s.params)).dump(1) << "\n";
      return 0;
    }
    if (tiers_cmd->parsed()) {
      if (tiers_as_json)
        std::cout << tiers_json().dump(2) << "\n";
      else
        print_tiers(std::cout);
      return 0;
    }

    if (merge_cmd->parsed()) {
      prepare_output(merge_json);
      prepare_output(merge_junit);
      Merged m;
      try {
        m = merge_reports(merge_files);
      } catch (const MergeError& e) {
        throw Usage(e.what());
      }
      std::cout << merged_text(m);
      if (!merge_json.empty()) write_file(merge_json, m.report.dump(2) + "\n");
      if (!merge_junit.empty()) write_file(merge_junit, merged_junit(m.report));
      return m.report.at("passed").get<bool>() ? 0 : 1;
    }

    if (exec_cmd->parsed()) {
      Plan plan;
      ExecOptions eo;
      {
        std::ifstream in(exec_plan);
        if (!in) throw Usage(fmt::format("cannot read plan file {}", exec_plan));
        try {
          const nlohmann::json doc = nlohmann::json::parse(in);
          plan = plan_from_json(doc);
          eo.schedule = schedule_from_plan_json(doc);
          if (eo.schedule.mode == ScheduleMode::overlap)
            if (const std::string why = overlap_unsupported(plan); !why.empty())
              throw std::invalid_argument("schedule.mode: overlap cannot run this plan: " + why);
        } catch (const std::exception& e) {
          std::string what = e.what();
          std::replace(what.begin(), what.end(), '\n', ' ');
          throw Usage(fmt::format("bad plan file {}: {}", exec_plan, what));
        }
      }
      prepare_output(exec_history);
      auto executor = open_executor(backend_spec(exec_backend));
      if (eo.schedule.mode == ScheduleMode::pct && !pct_permitted())
        throw Usage("the plan's schedule is pct, and SCHED_FIFO is not permitted here (needs root or CAP_SYS_NICE)");
      const Execution e = executor->execute(plan, eo);
      std::string text = to_jsonl(e.history);
      // Overlap: where each iteration starts, as a meta line (history readers skip meta lines).
      if (!e.iteration_starts.empty()) text = nlohmann::json{{"meta", {{"iterations", e.iteration_starts}}}}.dump() + "\n" + text;
      if (exec_history.empty())
        std::cout << text;
      else
        write_file(exec_history, text);
      for (const ProcessReport& p : e.processes)
        if (p.status && *p.status != 0)
          std::cerr << fmt::format("p{} {} (pid {}) {}{}\n", p.process, p.role, p.pid,
                                   p.status && *p.status < 0 ? fmt::format("killed by signal {}", -*p.status)
                                                             : fmt::format("exited with code {}", *p.status),
                                   p.note.empty() ? "" : ": " + p.note);
      if (!e.error.empty()) std::cerr << "mpconform exec: " << e.error << "\n";
      if (e.hung) std::cerr << "mpconform exec: hang: " << e.hang << "\n";
      return e.error.empty() && !e.hung ? 0 : 1;
    }

    if (bench->parsed()) {
      if (!(bo.seconds > 0)) throw Usage("--seconds must be > 0");
      std::vector<BenchCell> cells;
      try {
        cells = bench_bugs(bo, std::cout);
      } catch (const std::invalid_argument& e) {
        throw Usage(e.what());
      }
      if (!bjson.empty()) write_file(bjson, bench_json(bo, cells).dump(2) + "\n");
      return 0;
    }

    if (mutants->parsed()) {
      if (!(per_mutant > 0)) throw Usage("--seconds-per-mutant must be > 0");
      const std::uint64_t seed = mseed.value_or(random_seed());
      std::vector<MutantReport> reports;
      std::cout << fmt::format("mpconform mutants: seed {}, at most {:.0f} s per mutant\n", seed, per_mutant);
      std::cout.flush();
      // The mode a mutant's kind of bug needs, unless the command line names one for all.
      auto mode_for = [&](const BackendInfo& info) {
        if (!mmode_name.empty()) return usable_mode(parse_mode(mmode_name));
        if (info.kind == "order") return usable_mode(ScheduleMode::pct);
        if (info.kind == "atomicity") return ScheduleMode::overlap;
        return ScheduleMode::delays;
      };
      if (!mmode_name.empty()) (void)parse_mode(mmode_name);
      std::vector<BackendInfo> list;
      if (!only_python)
        for (const BackendInfo& info : builtin_backends())
          if (info.mutant) list.push_back(info);
      if (with_python || only_python)
        for (const BackendInfo& info : python_mutants()) list.push_back(info);
      Progress progress;
      for (std::size_t k = 0; k < list.size(); ++k) {
        const BackendInfo& info = list[k];
        auto e = open_executor(info.name);
        FuzzOptions o;
        o.seconds = per_mutant;
        o.seed = seed;
        o.backend_spec = info.name;
        o.confirm_reruns = 0;
        o.shrink = false;
        o.mode = mode_for(info);
        o.depth = mdepth;
        o.on_scenario = [&](std::uint64_t, double seconds) {
          progress.update(fmt::format("mutant {}/{} {}", k + 1, list.size(), info.name),
                          (static_cast<double>(k) + std::min(1.0, seconds / per_mutant)) / static_cast<double>(list.size()));
        };
        PropertyReport r = fuzz_property(*e, info.caught_by, o);
        progress.clear();
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
    std::vector<std::string> props = parse_properties(properties);
    std::optional<Scenario> fixed;
    if (!scenario_file.empty()) {
      fixed = read_scenario_file(scenario_file);
      props = {fixed->property};
    }
    const std::string spec = backend_spec(backend_opt);
    auto executor = open_executor(spec);
    FuzzOptions o;
    if (seconds_opt)
      o.seconds = *seconds_opt;
    else  // a scenario file runs once unless asked to repeat it (a race may need several runs)
      o.scenarios = static_cast<std::uint64_t>(scenarios.value_or(fixed ? 1 : 20));
    o.seed = fixed ? fixed->seed : seed_opt.value_or(random_seed());
    o.limits = limits;
    o.fixed = fixed;
    o.fixed_file = scenario_file;
    o.backend_spec = spec;
    o.shrink = !no_shrink;
    o.mode = parse_mode(mode_name);
    o.depth = depth;
    if (fixed) {  // a scenario file carries its own schedule
      o.mode = fixed->schedule.mode;
      o.depth = fixed->schedule.depth;
    }
    if (!shard_text.empty()) {
      unsigned i = 0, n = 0;
      char extra = 0;
      if (std::sscanf(shard_text.c_str(), "%u/%u%c", &i, &n, &extra) != 2 || n < 1 || n > 100000 || i < 1 || i > n)
        throw Usage(fmt::format("--shard: '{}' is not i/N with 1 <= i <= N", shard_text));
      if (fixed) throw Usage("--shard and --scenario-file do not go together (a file is one scenario)");
      o.shard = i - 1;
      o.shards = n;
    }
    o.mode = usable_mode(o.mode);
    if (fixed && usable_mode(fixed->schedule.mode) != fixed->schedule.mode) {
      fixed->schedule = Schedule{};  // the file's PCT schedule cannot run here: replay it with delays
      o.fixed = fixed;
    }
    if (profile_opt) try {
        o.run.profile = profile_from_string(*profile_opt);
      } catch (const std::invalid_argument& e) {
        throw Usage(fmt::format("--profile: {}", e.what()));
      }
    const std::uint64_t seed = o.seed;
    std::optional<Expectations> expectations;
    if (!expectations_path.empty()) try {
        expectations = load_expectations(expectations_path);
      } catch (const std::invalid_argument& e) {
        throw Usage(e.what());
      }

    SuiteReport suite;
    suite.backend = executor->name();
    if (expectations) {
      const std::string impl = implementation_of(suite.backend);
      if (expectations->implementation != impl)
        throw Usage(fmt::format("{}: field implementation: '{}', but the backend is {}", expectations_path,
                                expectations->implementation, impl));
      suite.expectations = &*expectations;
    }
    suite.profile = o.run.profile.value_or(executor->default_profile());
    suite.mode = o.mode == ScheduleMode::pct ? fmt::format("pct d={}", o.depth) : std::string(to_string(o.mode));
    suite.shard = o.shard + 1;
    suite.shards = o.shards;
    suite.backend_spec = spec;
    suite.seed = seed;
    suite.budget = o.scenarios ? fmt::format("{} scenarios per property", *o.scenarios)
                               : fmt::format("{:.1f} s per property", *o.seconds);
    print_suite_header(std::cout, suite);
    if (o.shards > 1) std::cout << fmt::format("shard {} of {}: scenarios k with k % {} == {}\n", o.shard + 1, o.shards, o.shards, o.shard);
    std::cout.flush();
    const double t0 = now_s();
    Progress progress;
    for (std::size_t i = 0; i < props.size(); ++i) {
      // The share of the run done: properties finished, plus this one's share of its budget.
      o.on_scenario = [&](std::uint64_t done, double seconds) {
        const double part = o.seconds ? std::min(1.0, seconds / *o.seconds)
                                      : static_cast<double>(done * o.shards) / static_cast<double>(*o.scenarios);
        progress.update(fmt::format("{}/{} {}: {} scenarios", i + 1, props.size(), props[i], done),
                        (static_cast<double>(i) + std::min(1.0, part)) / static_cast<double>(props.size()));
      };
      suite.properties.push_back(fuzz_property(*executor, props[i], o));
      progress.clear();
      print_property_line(std::cout, suite.properties.back());
      std::cout.flush();
    }
    suite.seconds = now_s() - t0;
    print_suite_footer(std::cout, suite);
    suite.add_timelines();
    for (const auto& [property, t] : suite.timelines)
      if (t.classification)
        std::cout << "class of " << property << "'s failure: " << to_string(t.classification->cls) << " ("
                  << t.classification->message << ")\n";
    if (!history_dir.empty())
      for (const auto& [property, t] : suite.timelines) {
        const std::string path = fmt::format("{}/{}-seed{}.jsonl", history_dir, property, t.scenario->seed);
        write_file(path, to_history_file(t));
        std::cout << "history: " << path << " (draw it: mpconform timeline " << path << ")\n";
      }
    if (!json_path.empty()) write_file(json_path, suite_json(suite).dump(2) + "\n");
    if (!junit_path.empty()) write_file(junit_path, suite_junit(suite));
    return suite.passed() ? 0 : 1;
  } catch (const Usage& e) {
    std::cerr << "mpconform: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "mpconform: internal error: " << e.what() << "\n";
    return 3;
  }
}
