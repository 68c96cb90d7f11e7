// `mpconform merge` (merge.hpp).
#include "merge.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "report.hpp"

namespace mpconform::cli {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& file, const std::string& field, const std::string& why) {
  throw MergeError(fmt::format("{}: {}: {}", file, field, why));
}

const json& need(const json& j, const std::string& file, const char* key, json::value_t type) {
  if (!j.contains(key)) bad(file, key, "missing");
  const json& v = j.at(key);
  const bool ok = type == json::value_t::number_unsigned ? v.is_number_unsigned()
                  : type == json::value_t::number_float  ? v.is_number()
                                                         : v.type() == type;
  if (!ok) bad(file, key, fmt::format("has the wrong type ({})", v.type_name()));
  return v;
}

json load(const std::string& file) {
  json j;
  try {
    j = read_json_file(file);
  } catch (const std::invalid_argument& e) {
    throw MergeError(e.what());
  }
  if (!j.is_object()) bad(file, "(top)", "not a JSON object");
  if (!j.contains("format") || j.at("format") != kReportFormat)
    bad(file, "format", fmt::format("not a {} report (this one says {})", kReportFormat,
                                    j.contains("format") ? j.at("format").dump() : "nothing"));
  for (const char* k : {"backend", "backend_spec", "profile", "mode", "budget"}) need(j, file, k, json::value_t::string);
  need(j, file, "seed", json::value_t::number_unsigned);
  const json& shard = need(j, file, "shard", json::value_t::object);
  need(shard, file + ": shard", "index", json::value_t::number_unsigned);
  need(shard, file + ": shard", "count", json::value_t::number_unsigned);
  const json& props = need(j, file, "properties", json::value_t::array);
  for (std::size_t i = 0; i < props.size(); ++i) {
    const std::string where = fmt::format("{}: properties[{}]", file, i);
    need(props[i], where, "property", json::value_t::string);
    for (const char* k : {"scenarios", "processes", "unknown"}) need(props[i], where, k, json::value_t::number_unsigned);
    need(props[i], where, "seconds", json::value_t::number_float);
    if (props[i].contains("first_failure")) need(props[i].at("first_failure"), where + ".first_failure", "seed",
                                                 json::value_t::number_unsigned);
  }
  return j;
}

}  // namespace

Merged merge_reports(const std::vector<std::string>& files) {
  if (files.empty()) throw MergeError("no report files given");
  std::vector<json> reports;
  for (const std::string& f : files) reports.push_back(load(f));
  const json& first = reports.front();
  const std::uint64_t count = first.at("shard").at("count").get<std::uint64_t>();
  std::set<std::uint64_t> seen;
  for (std::size_t r = 0; r < reports.size(); ++r) {
    const json& j = reports[r];
    for (const char* k : {"backend_spec", "profile", "mode", "budget", "seed"})
      if (j.at(k) != first.at(k))
        bad(files[r], k, fmt::format("{} differs from {}'s {} (not shards of one run)", j.at(k).dump(), files[0],
                                     first.at(k).dump()));
    if (j.at("shard").at("count") != count)
      bad(files[r], "shard.count", fmt::format("{} differs from {}'s {}", j.at("shard").at("count").dump(), files[0], count));
    const std::uint64_t index = j.at("shard").at("index").get<std::uint64_t>();
    if (index < 1 || index > count) bad(files[r], "shard.index", fmt::format("{} is not in 1..{}", index, count));
    if (!seen.insert(index).second) bad(files[r], "shard.index", fmt::format("shard {} is given twice", index));
  }
  Merged m;
  for (std::uint64_t i = 1; i <= count; ++i)
    if (!seen.count(i)) m.missing.push_back(static_cast<std::uint32_t>(i));

  // Per property, in the order of the first report.
  std::vector<std::string> order;
  std::map<std::string, json> merged;
  for (const json& j : reports)
    for (const json& p : j.at("properties")) {
      const std::string name = p.at("property").get<std::string>();
      auto it = merged.find(name);
      if (it == merged.end()) {
        order.push_back(name);
        json q = p;
        q.erase("first_failure");
        q.erase("scenarios_per_second");
        merged[name] = q;
        it = merged.find(name);
      } else {
        json& q = it->second;
        for (const char* k : {"scenarios", "processes", "unknown"})
          q[k] = q.at(k).get<std::uint64_t>() + p.at(k).get<std::uint64_t>();
        q["seconds"] = q.at("seconds").get<double>() + p.at("seconds").get<double>();
        if (p.contains("pct") && q.contains("pct")) {
          json& a = q["pct"];
          const json& b = p.at("pct");
          a["max_processes"] = std::max(a.value("max_processes", 0u), b.value("max_processes", 0u));
          a["max_calls"] = std::max(a.value("max_calls", std::uint64_t{0}), b.value("max_calls", std::uint64_t{0}));
          a["miss_probability"] = a.value("miss_probability", 1.0) * b.value("miss_probability", 1.0);
        }
      }
      if (p.contains("first_failure")) {
        json& q = it->second;
        const std::uint64_t seed = p.at("first_failure").at("seed").get<std::uint64_t>();
        if (!q.contains("first_failure") || seed < q.at("first_failure").at("seed").get<std::uint64_t>())
          q["first_failure"] = p.at("first_failure");
      }
    }
  json props = json::array();
  bool passed = m.missing.empty();
  std::uint64_t scenarios = 0;
  for (const std::string& name : order) {
    json& q = merged[name];
    if (q.contains("first_failure")) {
      q["verdict"] = q.at("first_failure").at("result").value("verdict", std::string("fail"));
      passed = false;
    } else {
      q["verdict"] = q.at("unknown").get<std::uint64_t>() > 0 ? "unknown" : "pass";
    }
    scenarios += q.at("scenarios").get<std::uint64_t>();
    props.push_back(q);
  }
  json out = first;
  out["shard"] = {{"index", 0}, {"count", count}, {"merged", std::vector<std::uint64_t>(seen.begin(), seen.end())}};
  out["complete"] = m.missing.empty();
  out["scenarios"] = scenarios;
  out["passed"] = passed;
  out["properties"] = props;
  out.erase("scenarios_per_second");
  double seconds = 0;
  for (const json& j : reports) seconds += j.value("seconds", 0.0);
  out["seconds"] = seconds;
  m.report = out;
  return m;
}

std::string merged_text(const Merged& m) {
  const json& r = m.report;
  std::string t = fmt::format("mpconform merge: backend {}, profile {}, mode {}, seed {}, {}, {} of {} shards\n",
                              r.at("backend").get<std::string>(), r.at("profile").get<std::string>(),
                              r.at("mode").get<std::string>(), r.at("seed").get<std::uint64_t>(),
                              r.at("budget").get<std::string>(), r.at("shard").at("merged").size(),
                              r.at("shard").at("count").get<std::uint64_t>());
  t += fmt::format("{:<9} {:>9}  {:<8} {:<20} {}\n", "property", "scenarios", "verdict", "failure seed", "clause");
  for (const json& p : r.at("properties")) {
    const bool failed = p.contains("first_failure");
    t += fmt::format("{:<9} {:>9}  {:<8} {:<20} {}\n", p.at("property").get<std::string>(),
                     p.at("scenarios").get<std::uint64_t>(), p.at("verdict").get<std::string>(),
                     failed ? std::to_string(p.at("first_failure").at("seed").get<std::uint64_t>()) : "-",
                     failed ? p.at("first_failure").at("result").value("clause", std::string()) : "");
  }
  for (const json& p : r.at("properties"))
    if (p.contains("first_failure"))
      t += fmt::format("\n{}: {}\n  replay: {}\n", p.at("property").get<std::string>(),
                       p.at("first_failure").at("result").value("message", std::string()),
                       p.at("first_failure").value("replay", std::string()));
  if (!m.missing.empty()) {
    std::string list;
    for (std::uint32_t i : m.missing) list += fmt::format("{}{}", list.empty() ? "" : ", ", i);
    t += fmt::format("incomplete: shard(s) {} of {} missing\n", list, r.at("shard").at("count").get<std::uint64_t>());
  }
  return t;
}

std::string merged_junit(const json& r) {
  const std::string cls = "mpconform." + r.at("backend").get<std::string>();
  std::size_t failures = 0;
  for (const json& p : r.at("properties")) failures += p.contains("first_failure") ? 1u : 0u;
  std::string x = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n";
  x += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n", xml_escape(cls),
                   r.at("properties").size(), failures, r.value("seconds", 0.0));
  for (const json& p : r.at("properties")) {
    std::optional<std::string> message;
    std::string details;
    if (p.contains("first_failure")) {
      const json& f = p.at("first_failure");
      message = fmt::format("{} {} (seed {})", f.at("result").value("verdict", std::string()),
                            f.at("result").value("clause", std::string()), f.at("seed").get<std::uint64_t>());
      details = f.at("result").value("message", std::string()) + "\nreplay: " + f.value("replay", std::string());
    }
    x += testcase_xml(cls, p.at("property").get<std::string>(), p.value("seconds", 0.0), message, details);
  }
  return x + "  </testsuite>\n</testsuites>\n";
}

}  // namespace mpconform::cli
