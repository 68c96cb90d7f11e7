// Console, JSON and JUnit XML reports of `mpconform`.
#include "report.hpp"

#include <algorithm>
#include <fstream>
#include <stdexcept>
#include <string>

#include <fmt/format.h>

#include "mpconform/tiers.hpp"
#include "timeline.hpp"

namespace mpconform::cli {
namespace {

std::string join(const std::vector<std::string>& v, const char* sep) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : sep) + s;
  return out;
}


double per_second(std::uint64_t n, double seconds) { return seconds > 0 ? static_cast<double>(n) / seconds : 0.0; }

double rate(const PropertyReport& r) {
  return r.scenario_seconds > 0 ? static_cast<double>(r.scenarios) / r.scenario_seconds : 0.0;
}

std::string failure_text(const PropertyReport& r) {
  const FailureReport& f = *r.failure;
  std::string t = fmt::format("{} {}: {} on scenario seed {} ({})\n", r.property,
                              to_string(f.result.verdict), f.result.clause.empty() ? "-" : f.result.clause,
                              f.scenario.seed, describe(f.scenario));
  t += "  " + f.result.message + "\n";
  if (f.reruns > 0) t += fmt::format("  failed again in {} of {} re-runs\n", f.reruns_failed, f.reruns);
  if (f.shrunk) {
    t += fmt::format("  shrunk in {} runs ({:.1f} s) to: {} ({}{}{})\n", f.shrink_runs, f.shrink_s,
                     describe(*f.shrunk), to_string(f.shrunk_result.verdict),
                     f.shrunk_result.clause.empty() ? "" : " ", f.shrunk_result.clause);
    t += "  shrunk scenario (save as a file, replay with --scenario-file): " + to_json(*f.shrunk).dump() + "\n";
  }
  t += "  replay: " + f.replay + "\n";
  return t;
}

nlohmann::json result_json(const ScenarioResult& r) {
  return {{"verdict", to_string(r.verdict)}, {"clause", r.clause},  {"message", r.message},
          {"window", r.window},             {"total_s", r.total_s}, {"run_s", r.run_s}};
}

nlohmann::json property_json(const PropertyReport& r, const SuiteReport& s) {
  nlohmann::json j{{"property", r.property},
                   {"profile", to_string(r.profile)},
                   {"clauses", r.clauses},
                   {"scenarios", r.scenarios},
                   {"processes", r.processes},
                   {"unknown", r.unknown},
                   {"verdict", r.verdict()},
                   {"seconds", r.seconds},
                   {"scenarios_per_second", rate(r)}};
  j["mode"] = to_string(r.mode);
  if (r.mode == ScheduleMode::pct)
    j["pct"] = {{"depth", r.depth},
                {"max_processes", r.pct_max_processes},
                {"max_calls", r.pct_max_calls},
                {"miss_probability", r.pct_miss}};
  if (r.mode == ScheduleMode::overlap)
    j["overlap"] = {{"iterations", r.iterations},
                    {"iterations_per_second", per_second(r.iterations, r.iteration_seconds)},
                    {"iterations_per_second_with_checks", per_second(r.iterations, r.scenario_seconds)},
                    {"skipped_scenarios", r.skipped}};
  if (!r.not_applicable.empty()) j["not_applicable"] = r.not_applicable;
  if (r.failure) {
    const FailureReport& f = *r.failure;
    nlohmann::json fj{{"seed", f.scenario.seed},
                      {"scenario", to_json(f.scenario)},
                      {"result", result_json(f.result)},
                      {"time_to_catch_s", f.time_to_catch_s},
                      {"replay", f.replay},
                      {"reruns", f.reruns},
                      {"reruns_failed", f.reruns_failed}};
    if (f.result.verdict != ScenarioVerdict::hang && !f.result.history.ops.empty() && f.result.window.size() < 64) {
      nlohmann::json w = nlohmann::json::array();
      for (std::size_t i : f.result.window)
        if (i < f.result.history.ops.size()) w.push_back(to_json(f.result.history.ops[i]));
      fj["window_ops"] = w;
    }
    if (f.result.verdict == ScenarioVerdict::crash || f.result.verdict == ScenarioVerdict::hang) {
      nlohmann::json ps = nlohmann::json::array();
      for (const ProcessReport& p : f.result.processes)
        ps.push_back({{"process", p.process}, {"pid", p.pid}, {"role", p.role},
                      {"status", p.status ? nlohmann::json(*p.status) : nlohmann::json(nullptr)},
                      {"hung", p.hung}, {"pending", p.pending}, {"note", p.note}});
      fj["processes"] = ps;
    }
    if (f.shrunk) {
      fj["shrink_runs"] = f.shrink_runs;
      fj["shrunk"] = to_json(*f.shrunk);
      fj["shrunk_result"] = result_json(f.shrunk_result);
    }
    if (auto t = s.timelines.find(r.property); t != s.timelines.end()) fj["timeline"] = to_json(t->second);
    j["first_failure"] = fj;
  }
  if (s.expectations) {
    if (auto it = s.expectations->properties.find(r.property); it != s.expectations->properties.end())
      j["expected"] = {{"reason", it->second.reason}, {"link", it->second.link}, {"clause", it->second.clause}};
    if (std::string e = judge(*s.expectations, r); !e.empty()) j["expectation"] = e;
  }
  return j;
}


}  // namespace

nlohmann::json read_json_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) throw std::invalid_argument(fmt::format("{}: cannot read the file", file.string()));
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(fmt::format("{}: not JSON ({})", file.string(), e.what()));
  }
}

std::string implementation_of(const std::string& backend) {
  for (std::string_view prefix : {"python:", "plugin:"})
    if (backend.starts_with(prefix)) return backend.substr(prefix.size());
  return backend;
}

std::string xml_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default:
        // XML 1.0 forbids most control characters; keep tabs and newlines.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r')
          out += '?';
        else
          out += c;
    }
  }
  return out;
}

std::string testcase_xml(const std::string& classname, const std::string& name, double seconds,
                         const std::optional<std::string>& failure_message, const std::string& details) {
  std::string x = fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\"", xml_escape(classname),
                              xml_escape(name), seconds);
  if (!failure_message) return x + "/>\n";
  return x + fmt::format(">\n      <failure message=\"{}\">{}</failure>\n    </testcase>\n",
                         xml_escape(*failure_message), xml_escape(details));
}

void print_backends(std::ostream& out, const std::vector<BackendInfo>& backends) {
  out << fmt::format("{:<41} {:<9} {:<9} {}\n", "backend", "caught by", "kind", "description");
  for (const BackendInfo& b : backends)
    out << fmt::format("{:<41} {:<9} {:<9} {}\n", b.name, b.mutant ? b.caught_by : "-", b.kind.empty() ? "-" : b.kind,
                       b.description);
  out << "plugins: --backend /path/to/libyours.so (see harness/INTERPRETING.md, \"Backends\")\n";
}

void print_tiers(std::ostream& out) {
  out << fmt::format("time scale {} ({})\n", time_scale(), tiers::scale_variable);
  out << fmt::format("{:<9} {:>8} {:>8}\n", "tier", "base s", "seconds");
  for (const Tier& t : all_tiers())
    out << fmt::format("{:<9} {:>8} {:>8}\n", t.name, t.base_seconds, seconds(t));
  out << "defined in harness/tiers.json (meanings there and in harness/INTERPRETING.md)\n";
}

nlohmann::json tiers_json() {
  nlohmann::json list = nlohmann::json::array();
  for (const Tier& t : all_tiers())
    list.push_back({{"name", t.name}, {"base_seconds", t.base_seconds}, {"seconds", seconds(t)}});
  return {{"scale_variable", tiers::scale_variable}, {"time_scale", time_scale()}, {"tiers", list}};
}

void print_suite_header(std::ostream& out, const SuiteReport& s) {
  out << fmt::format("mpconform run: backend {}, profile {}, mode {}, seed {}, {}, time scale {}\n", s.backend,
                     to_string(s.profile), s.mode, s.seed, s.budget, time_scale());
  out << fmt::format("{:<9} {:>9} {:>9} {:>7}  {:<8} {:<14} {}\n", "property", "scenarios", "procs/scn",
                     "scn/s", "verdict", "failure seed", "clauses");
}

void print_property_line(std::ostream& out, const PropertyReport& r) {
  const double per = r.scenarios ? static_cast<double>(r.processes) / static_cast<double>(r.scenarios) : 0.0;
  const std::string seed = r.failure ? fmt::format("{}", r.failure->scenario.seed) : "-";
  // The full list is in the JSON report and `mpconform properties`; the table stays one line.
  std::string clauses = r.failure && !r.failure->result.clause.empty()
                            ? r.failure->result.clause + " (failed)"
                            : fmt::format("{} clauses ({}{})", r.clauses.size(),
                                          join(std::vector<std::string>(r.clauses.begin(),
                                                                        r.clauses.begin() + std::min<std::ptrdiff_t>(3, static_cast<std::ptrdiff_t>(r.clauses.size()))),
                                               " "),
                                          r.clauses.size() > 3 ? " ..." : "");
  out << fmt::format("{:<9} {:>9} {:>9.1f} {:>7.1f}  {:<8} {:<14} {}\n", r.property, r.scenarios, per,
                     rate(r), r.verdict(), seed, clauses);
}

void print_suite_footer(std::ostream& out, const SuiteReport& s) {
  std::uint64_t scenarios = 0, processes = 0;
  double inside = 0;
  for (const PropertyReport& r : s.properties) {
    scenarios += r.scenarios;
    processes += r.processes;
    inside += r.scenario_seconds;
  }
  out << fmt::format("{} scenarios, {} processes forked, {:.1f} s ({:.1f} scenarios/s)\n", scenarios, processes,
                     s.seconds, inside > 0 ? static_cast<double>(scenarios) / inside : 0.0);
  for (const PropertyReport& r : s.properties)
    if (r.mode == ScheduleMode::pct && !r.failure)
      out << fmt::format("{}: PCT d={}, {} runs, n <= {} processes, k <= {} calls: a bug of depth <= {} that every "
                         "scenario can show was missed by all of them with probability <= {:.3g}\n",
                         r.property, r.depth, r.scenarios, r.pct_max_processes, r.pct_max_calls, r.depth, r.pct_miss);
  for (const PropertyReport& r : s.properties) {
    if (r.mode != ScheduleMode::overlap) continue;
    if (!r.not_applicable.empty())
      out << fmt::format("{}: overlap: not applicable, its scenarios cannot be repeated on the same objects ({})\n",
                         r.property, r.not_applicable);
    else
      out << fmt::format("{}: overlap: {} iterations in {} scenarios, {:.0f} released per second ({:.0f}/s with "
                         "forks and checks){}\n",
                         r.property, r.iterations, r.scenarios, per_second(r.iterations, r.iteration_seconds),
                         per_second(r.iterations, r.scenario_seconds), r.skipped ? fmt::format(", {} scenarios skipped (not repeatable)", r.skipped) : "");
  }
  if (s.expectations) {
    out << fmt::format("expectations ({}, {}):\n", s.expectations->file.string(), s.expectations->implementation);
    for (const PropertyReport& r : s.properties)
      if (std::string line = expectation_line(*s.expectations, r); !line.empty()) out << "  " << line << "\n";
    out << (s.passed() ? "  every failure was expected and every expected failure occurred\n"
                       : "  the run differs from the expectations (see above)\n");
  }
  for (const PropertyReport& r : s.properties) {
    if (r.failure) out << "\n" << failure_text(r);
    if (!r.failure && r.unknown > 0)
      out << fmt::format("\n{}: {} scenarios could not be decided, e.g.: {}\n", r.property, r.unknown,
                         r.unknown_example);
  }
}

void print_mutant_line(std::ostream& out, const MutantReport& m) {
  const PropertyReport& r = m.report;
  if (r.failure)
    out << fmt::format("{:<41} {:<9} {:<7} caught   {:>7.2f} s  {:>4} scenarios  {} {}\n", m.info.name,
                       r.property, to_string(r.mode), r.failure->time_to_catch_s, r.scenarios,
                       to_string(r.failure->result.verdict), r.failure->result.clause);
  else
    out << fmt::format("{:<41} {:<9} {:<7} SURVIVED {:>7.2f} s  {:>4} scenarios\n", m.info.name, r.property,
                       to_string(r.mode), r.seconds, r.scenarios);
}

void print_mutant_summary(std::ostream& out, const std::vector<MutantReport>& ms) {
  std::vector<double> times;
  std::size_t survived = 0;
  for (const MutantReport& m : ms) {
    if (m.report.failure)
      times.push_back(m.report.failure->time_to_catch_s);
    else
      ++survived;
  }
  std::sort(times.begin(), times.end());
  const double median = times.empty() ? 0.0
                        : times.size() % 2 ? times[times.size() / 2]
                                           : (times[times.size() / 2 - 1] + times[times.size() / 2]) / 2;
  out << fmt::format("{} mutants: {} caught, {} survived; time to catch: median {:.2f} s, max {:.2f} s\n",
                     ms.size(), ms.size() - survived, survived, median, times.empty() ? 0.0 : times.back());
  for (const MutantReport& m : ms)
    if (!m.report.failure)
      out << fmt::format("SURVIVED: {} ({}) was not caught by the {} property\n", m.info.name, m.info.description,
                         m.info.caught_by);
}

nlohmann::json suite_json(const SuiteReport& s) {
  nlohmann::json props = nlohmann::json::array();
  std::uint64_t scenarios = 0;
  double inside = 0;
  for (const PropertyReport& r : s.properties) {
    props.push_back(property_json(r, s));
    scenarios += r.scenarios;
    inside += r.scenario_seconds;
  }
  nlohmann::json j{{"format", kReportFormat},
          {"backend", s.backend},
          {"backend_spec", s.backend_spec},
          {"profile", to_string(s.profile)},
          {"mode", s.mode},
          {"shard", {{"index", s.shard}, {"count", s.shards}}},
          {"seed", s.seed},
          {"budget", s.budget},
          {"time_scale", time_scale()},
          {"seconds", s.seconds},
          {"scenarios", scenarios},
          {"scenarios_per_second", inside > 0 ? static_cast<double>(scenarios) / inside : 0.0},
          {"passed", s.passed()},
          {"properties", props}};
  if (s.expectations) j["expectations"] = s.expectations->file.string();
  return j;
}

void SuiteReport::add_timelines() {
  for (const PropertyReport& r : properties)
    // Nothing to draw when no call was recorded (the objects could not be created).
    if (r.failure && !r.failure->result.history.ops.empty())
      timelines.insert_or_assign(r.property, timeline_of(*r.failure, r.property, backend));
}

bool SuiteReport::passed() const {
  for (const PropertyReport& r : properties) {
    if (!expectations && r.failure) return false;
    if (expectations) {
      const std::string j = judge(*expectations, r);
      if (j == "new failure" || j == "unexpected pass") return false;
    }
  }
  return true;
}

std::string suite_junit(const SuiteReport& s) {
  std::size_t failures = 0;
  const auto judged = [&](const PropertyReport& r) { return s.expectations ? judge(*s.expectations, r) : std::string(); };
  std::size_t skipped = 0;
  for (const PropertyReport& r : s.properties) {
    const std::string j = judged(r);
    skipped += j == "expected failure" ? 1u : 0u;
    failures += (r.failure && j != "expected failure") || j == "unexpected pass" ? 1u : 0u;
  }
  const std::string cls = "mpconform." + s.backend;
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  x += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" time=\"{:.3f}\">\n",
                   xml_escape(cls), s.properties.size(), failures, skipped, s.seconds);
  for (const PropertyReport& r : s.properties) {
    const std::string j = judged(r);
    if (j == "expected failure") {  // JUnit has no xfail: a skip that says why
      x += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\">\n      <skipped message=\"{}\"/>\n"
                       "    </testcase>\n", xml_escape(cls), xml_escape(r.property), r.seconds,
                       xml_escape(expectation_line(*s.expectations, r)));
      continue;
    }
    if (j == "unexpected pass") {
      x += testcase_xml(cls, r.property, r.seconds, expectation_line(*s.expectations, r), "");
      continue;
    }
    std::optional<std::string> msg;
    if (r.failure)
      msg = fmt::format("{} {} (seed {})", to_string(r.failure->result.verdict), r.failure->result.clause,
                        r.failure->scenario.seed);
    x += testcase_xml(cls, std::string(r.property), r.seconds, msg, r.failure ? failure_text(r) : "");
  }
  return x + "  </testsuite>\n</testsuites>\n";
}

nlohmann::json mutants_json(const std::vector<MutantReport>& ms, std::uint64_t seed) {
  nlohmann::json a = nlohmann::json::array();
  for (const MutantReport& m : ms) {
    nlohmann::json j{{"mutant", m.info.name},
                     {"description", m.info.description},
                     {"property", m.info.caught_by},
                     {"kind", m.info.kind},
                     {"mode", to_string(m.report.mode)},
                     {"caught", m.report.failure.has_value()},
                     {"scenarios", m.report.scenarios}};
    if (m.report.failure) {
      j["time_to_catch_s"] = m.report.failure->time_to_catch_s;
      j["verdict"] = to_string(m.report.failure->result.verdict);
      j["clause"] = m.report.failure->result.clause;
      j["seed"] = m.report.failure->scenario.seed;
      j["replay"] = m.report.failure->replay;
    }
    a.push_back(j);
  }
  return {{"seed", seed}, {"mutants", a}};
}

std::string mutants_junit(const std::vector<MutantReport>& ms) {
  std::size_t failures = 0;
  for (const MutantReport& m : ms) failures += m.report.failure ? 0u : 1u;
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  x += fmt::format("  <testsuite name=\"mpconform.mutants\" tests=\"{}\" failures=\"{}\">\n", ms.size(), failures);
  for (const MutantReport& m : ms) {
    std::optional<std::string> msg;
    if (!m.report.failure) msg = fmt::format("mutant survived {} scenarios of {}", m.report.scenarios, m.info.caught_by);
    x += testcase_xml("mpconform.mutants", m.info.name,
                      m.report.failure ? m.report.failure->time_to_catch_s : m.report.seconds, msg,
                      m.info.description);
  }
  return x + "  </testsuite>\n</testsuites>\n";
}

}  // namespace mpconform::cli
