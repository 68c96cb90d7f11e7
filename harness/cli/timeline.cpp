// Failure timelines: what the report and the page draw of a failing history.
#include "timeline.hpp"

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "embedded.hpp"
#include "mpconform/checkers.hpp"
#include "mpconform/property.hpp"

namespace mpconform::cli {
namespace {

// The searches' budget when classifying a failure (states per search, three searches per
// object): a shrunk history takes a few; an unshrunk one of thousands of ops may say unknown.
constexpr std::uint64_t kClassifyBudget = 200'000;

struct Catalogue {
  std::vector<nlohmann::json> clauses;
  std::map<std::string, std::size_t, std::less<>> by_id;
};

const Catalogue& catalogue() {
  static const Catalogue cat = [] {
    Catalogue c;
    for (const EmbeddedFile& f : kClauseFiles) {
      const nlohmann::json doc = nlohmann::json::parse(f.text);
      for (const nlohmann::json& clause : doc.at("clauses")) {
        nlohmann::json e{{"id", clause.at("id")}, {"concept", f.name}};
        for (const char* key : {"api", "kind", "behaviour"}) e[key] = clause.value(key, "");
        c.by_id.emplace(e["id"].get<std::string>(), c.clauses.size());
        c.clauses.push_back(std::move(e));
      }
    }
    return c;
  }();
  return cat;
}

// The process roles the executor reported, in process order.
std::vector<std::pair<std::uint32_t, std::string>> roles_of(const ScenarioResult& r) {
  std::vector<std::pair<std::uint32_t, std::string>> roles;
  for (const ProcessReport& p : r.processes) roles.emplace_back(p.process, p.role);
  return roles;
}

// [{"process", "role"}, ...], as the page and the history files write the lanes.
nlohmann::json roles_json(const Timeline& t) {
  nlohmann::json roles = nlohmann::json::array();
  for (const auto& [process, role] : t.roles) roles.push_back({{"process", process}, {"role", role}});
  return roles;
}

// The verdict's window and prefix filled in from `check`.
void judge(Timeline& t, const std::function<Verdict(const History&)>& check) {
  const Verdict v = check(t.history);
  t.verdict = v.is_illegal() ? "fail" : std::string(to_string(v.status));
  t.clause = v.clause;
  t.message = v.message;
  t.window = v.window;
  if (v.is_illegal()) t.prefix = longest_accepted_prefix(t.history, check);
}

[[noreturn]] void bad(const std::filesystem::path& path, std::size_t line, const std::string& what) {
  throw std::invalid_argument(fmt::format("{} line {}: {}", path.string(), line, what));
}

}  // namespace

const std::vector<nlohmann::json>& clause_catalogue() { return catalogue().clauses; }

const nlohmann::json& clause_entry(std::string_view id) {
  static const nlohmann::json none;
  const Catalogue& c = catalogue();
  const auto it = c.by_id.find(id);
  return it == c.by_id.end() ? none : c.clauses[it->second];
}

Timeline timeline_of(const FailureReport& f, std::string_view property, const std::string& backend) {
  // The shrunk run is smaller and failed the same way; its history is the one to draw.
  const bool use_shrunk = f.shrunk && !f.shrunk_result.history.ops.empty();
  const Scenario& s = use_shrunk ? *f.shrunk : f.scenario;
  const ScenarioResult& r = use_shrunk ? f.shrunk_result : f.result;
  Timeline t;
  t.title = fmt::format("{} on {}, scenario seed {}{}", property, backend, s.seed, use_shrunk ? " (shrunk)" : "");
  t.verdict = std::string(to_string(r.verdict));
  t.clause = r.clause;
  t.message = r.message;
  t.window = r.window;
  t.history = r.history;
  t.roles = roles_of(r);
  t.replay = f.replay;
  t.property = std::string(property);
  t.backend = backend;
  t.scenario = s;
  t.profile = r.profile;
  if (r.verdict == ScenarioVerdict::fail) {
    const Property& p = property_named(property);
    t.prefix = longest_accepted_prefix(t.history, p.checker(s.params, r.profile));
    std::vector<LinearizabilityOptions> objects = p.models(s.params, t.history);
    for (LinearizabilityOptions& o : objects) o.max_states = kClassifyBudget;
    if (!objects.empty()) t.classification = classify(t.history, objects);
  }
  return t;
}

nlohmann::json to_json(const Timeline& t) {
  nlohmann::json ops = nlohmann::json::array();
  for (const Op& op : t.history.ops) {
    nlohmann::json j = mpconform::to_json(op);
    j["text"] = describe(op);
    ops.push_back(std::move(j));
  }
  const nlohmann::json& entry = clause_entry(t.clause);
  nlohmann::json j{{"title", t.title},
                   {"verdict", t.verdict},
                   {"clause", t.clause},
                   {"clause_text", entry.is_null() ? "" : entry.value("behaviour", "")},
                   {"message", t.message},
                   {"window", t.window},
                   {"accepted_prefix", nullptr},
                   {"processes", roles_json(t)},
                   {"ops", ops},
                   {"replay", t.replay}};
  if (t.prefix) j["accepted_prefix"] = {{"until_ns", t.prefix->until_ns}, {"ops", t.prefix->ops}};
  if (t.classification)
    j["class"] = {{"class", to_string(t.classification->cls)}, {"message", t.classification->message}};
  return j;
}

std::string to_history_file(const Timeline& t) {
  const nlohmann::json meta{{"meta",
                             {{"property", t.property},
                              {"backend", t.backend},
                              {"scenario", to_json(t.scenario.value())},
                              {"profile", to_string(t.profile)},
                              {"verdict", t.verdict},
                              {"clause", t.clause},
                              {"message", t.message},
                              {"window", t.window},
                              {"processes", roles_json(t)},
                              {"replay", t.replay}}}};
  return meta.dump() + "\n" + to_jsonl(t.history);
}

Timeline timeline_from_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(fmt::format("{}: cannot read the file", path.string()));
  Timeline t;
  t.title = path.filename().string();
  nlohmann::json meta = nlohmann::json::object();
  std::string line;
  for (std::size_t n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception&) {
      bad(path, n, "not a JSON object (a history has one operation per line)");
    }
    if (j.is_object() && j.contains("meta")) {
      if (!j["meta"].is_object()) bad(path, n, "field meta: must be an object");
      meta.update(j["meta"]);
      continue;
    }
    try {
      t.history.ops.push_back(op_from_json(j));
    } catch (const std::invalid_argument& e) {
      std::string what = e.what();
      // op_from_json says "unknown op 'x'" or "missing field 'x'": name the field when it can.
      if (what.rfind("unknown op", 0) == 0) what = "field op: " + what;
      bad(path, n, what);
    }
  }
  if (t.history.ops.empty()) throw std::invalid_argument(fmt::format("{}: no operations", path.string()));
  try {
    if (auto it = meta.find("processes"); it != meta.end() && it->is_array())
      for (const nlohmann::json& p : *it) t.roles.emplace_back(p.value("process", 0u), p.value("role", ""));
    if (auto it = meta.find("replay"); it != meta.end() && it->is_string()) t.replay = *it;
    if (meta.contains("property") && meta.contains("scenario")) {
      const Scenario s = scenario_from_json(meta["scenario"]);
      const Profile profile = profile_from_string(meta.value("profile", "reference"));
      t.title = fmt::format("{} on {}, scenario seed {}", s.property, meta.value("backend", "?"), s.seed);
      judge(t, property_named(s.property).checker(s.params, profile));
    } else if (meta.contains("checker")) {
      const std::string name = meta["checker"].is_string() ? meta["checker"].get<std::string>() : "";
      const nlohmann::json options = meta.value("options", nlohmann::json::object());
      (void)check(name, History{}, options);  // an unknown checker or option fails here, not in the search
      t.title = fmt::format("{} (checker {})", path.filename().string(), name);
      judge(t, [&](const History& h) { return check(name, h, options); });
    } else {
      t.verdict = "unknown";
      t.message = "no checker: the file has no meta line naming a property and scenario (mpconform run "
                  "--history-dir writes one) or a checker";
    }
    // Verdicts that are not the checker's (a hang, a crash) stay as the run recorded them.
    if (meta.contains("verdict") && meta["verdict"].is_string() && meta["verdict"] != "fail") {
      t.verdict = meta["verdict"];
      t.message = meta.value("message", t.message);
      t.clause = meta.value("clause", "");
      t.window = meta.value("window", std::vector<std::size_t>{});
      t.prefix.reset();
    }
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: field meta: {}", path.string(), e.what()));
  } catch (const nlohmann::json::exception& e) {  // a meta field of the wrong type
    throw std::invalid_argument(fmt::format("{}: field meta: {}", path.string(), e.what()));
  }
  for (std::size_t i : t.window)
    if (i >= t.history.ops.size())
      throw std::invalid_argument(fmt::format("{}: field meta.window: op {} of {} operations", path.string(), i,
                                              t.history.ops.size()));
  return t;
}

}  // namespace mpconform::cli
