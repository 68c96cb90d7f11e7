// `mpconform report` and `mpconform timeline`: the page's data, and the page.
#include "page.hpp"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>

#include "embedded.hpp"
#include "report.hpp"

namespace mpconform::cli {
namespace {

constexpr const char* kOracle = "multiprocessing";
constexpr std::string_view kPlaceholder = "/*MPCONFORM_DATA*/null";

std::string now_utc() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

[[noreturn]] void bad(const std::filesystem::path& file, const std::string& field, const std::string& what) {
  throw std::invalid_argument(fmt::format("{}: field {}: {}", file.string(), field, what));
}

// doc[key] as a T, or a one-line error naming the file and field.
template <class T>
T need(const std::filesystem::path& file, const nlohmann::json& doc, const std::string& path, const char* key) {
  const std::string field = path.empty() ? key : path + "." + key;
  if (!doc.is_object() || !doc.contains(key)) bad(file, field, "missing");
  try {
    return doc.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    bad(file, field, fmt::format("has the wrong type ({})", doc.at(key).type_name()));
  }
}

class Builder {
 public:
  Builder() {
    data_ = {{"format", kPageFormat},
             {"title", "mpconform: conformance dashboard"},
             {"generated", now_utc()},
             {"sources", nlohmann::json::array()},
             {"oracle", kOracle},
             {"implementations", nlohmann::json::array()},
             {"concepts", nlohmann::json::array()},
             {"clauses", nlohmann::json::array()},
             {"cells", nlohmann::json::object()},
             {"engine", nlohmann::json::array()},
             {"timelines", nlohmann::json::array()},
             {"cpython_tests", nlohmann::json::array()}};
  }

  // Reads one file; false (and a note) when `lenient` and it is not an mpconform report.
  bool add(const std::filesystem::path& file, bool lenient, std::vector<std::string>& notes) {
    if (file.extension() == ".jsonl") {
      add_timeline(timeline_from_file(file), "");
      data_["sources"].push_back(file.string());
      return true;
    }
    nlohmann::json doc;
    try {
      doc = read_json_file(file);
    } catch (const std::invalid_argument& e) {
      if (lenient) return skip(file, e.what(), notes);
      throw;
    }
    const std::string format = doc.is_object() && doc.contains("format") && doc["format"].is_string()
                                   ? doc["format"].get<std::string>() : "";
    if (format == kReportFormat) {
      add_engine(file, doc);
    } else if (format == kConformanceFormat) {
      add_conformance(file, doc);
    } else if (format == kCpythonTestsFormat) {
      add_cpython_tests(file, doc);
    } else if (lenient && format.rfind("mpconform-", 0) != 0) {
      return skip(file, "not an mpconform report", notes);
    } else if (format.empty()) {
      bad(file, "format", fmt::format("missing: not a report this command reads ({}, {}, {})", kReportFormat,
                                      kConformanceFormat, kCpythonTestsFormat));
    } else {
      bad(file, "format", fmt::format("'{}' is not a version this mpconform reads ({}, {}, {})", format,
                                      kReportFormat, kConformanceFormat, kCpythonTestsFormat));
    }
    data_["sources"].push_back(file.string());
    return true;
  }

  nlohmann::json finish() {
    // The oracle first, then the implementations with clause results, then engine-only ones (C++
    // backends), each in the order the reports named them.
    const auto rank = [](const nlohmann::json& i) {
      if (i["oracle"] == true) return 0;
      const auto& kinds = i["kinds"];
      return std::find(kinds.begin(), kinds.end(), "conformance") != kinds.end() ? 1 : 2;
    };
    std::stable_sort(impls_.begin(), impls_.end(),
                     [&](const nlohmann::json& a, const nlohmann::json& b) { return rank(a) < rank(b); });
    data_["implementations"] = impls_;
    std::vector<std::string> concepts;
    for (const nlohmann::json& c : clause_catalogue()) {
      const std::string name = c["concept"];
      if (std::find(concepts.begin(), concepts.end(), name) == concepts.end()) concepts.push_back(name);
      data_["clauses"].push_back(c);
    }
    data_["concepts"] = concepts;
    return std::move(data_);
  }

  void add_timeline(const Timeline& t, const std::string& implementation, const std::string& property = "") {
    nlohmann::json j = to_json(t);
    j["implementation"] = implementation;
    j["property"] = property;
    data_["timelines"].push_back(std::move(j));
  }

 private:
  static bool skip(const std::filesystem::path& file, const char* why, std::vector<std::string>& notes) {
    notes.push_back(fmt::format("skipped {}: {}", file.string(), why));
    return false;
  }

  nlohmann::json& impl(const std::string& name, const char* kind, const nlohmann::json& version = nullptr) {
    auto it = std::find_if(impls_.begin(), impls_.end(), [&](const nlohmann::json& i) { return i["name"] == name; });
    if (it == impls_.end()) {
      impls_.push_back({{"name", name}, {"oracle", name == kOracle}, {"version", nullptr},
                        {"kinds", nlohmann::json::array()}});
      it = impls_.end() - 1;
    }
    if (!version.is_null()) (*it)["version"] = version;
    auto& kinds = (*it)["kinds"];
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) kinds.push_back(kind);
    return *it;
  }

  void add_conformance(const std::filesystem::path& file, const nlohmann::json& doc) {
    const auto impls = need<std::vector<std::string>>(file, doc, "", "implementations");
    const nlohmann::json versions = doc.value("versions", nlohmann::json::object());
    for (const std::string& i : impls) impl(i, "conformance", versions.value(i, nlohmann::json()));
    const auto clauses = need<nlohmann::json>(file, doc, "", "clauses");
    if (!clauses.is_array()) bad(file, "clauses", "must be an array");
    for (std::size_t k = 0; k < clauses.size(); ++k) {
      const std::string at = fmt::format("clauses[{}]", k);
      const std::string id = need<std::string>(file, clauses[k], at, "id");
      const auto results = need<nlohmann::json>(file, clauses[k], at, "results");
      if (!results.is_object()) bad(file, at + ".results", "must be an object");
      for (const auto& [name, r] : results.items()) {
        const std::string status = need<std::string>(file, r, fmt::format("{}.results.{}", at, name), "status");
        static const std::vector<std::string> known{"pass", "fail", "skip", "xfail", "xpass", "not run"};
        if (std::find(known.begin(), known.end(), status) == known.end())
          bad(file, fmt::format("{}.results.{}.status", at, name), fmt::format("unknown status '{}'", status));
        if (status == "not run") continue;
        nlohmann::json cell{{"status", status}};
        for (const char* key : {"tests", "expected", "stats"})
          if (r.contains(key) && !r[key].is_null()) cell[key] = r[key];
        if (const auto& first = r.value("first", nlohmann::json()); first.is_object())
          for (const char* key : {"test", "oracle", "impl", "note"})
            if (first.contains(key) && !first[key].is_null())
              cell[key] = first[key].is_string() ? first[key].get<std::string>() : first[key].dump();
        data_["cells"][id][name] = std::move(cell);
      }
    }
  }

  void add_engine(const std::filesystem::path& file, const nlohmann::json& doc) {
    const std::string backend = need<std::string>(file, doc, "", "backend");
    const std::string name = implementation_of(backend);
    impl(name, "engine");
    nlohmann::json suite{{"implementation", name},
                         {"backend", backend},
                         {"profile", doc.value("profile", "")},
                         {"mode", doc.value("mode", "")},
                         {"seed", doc.value("seed", std::uint64_t{0})},
                         {"budget", doc.value("budget", "")},
                         {"passed", doc.value("passed", false)},
                         {"properties", nlohmann::json::array()}};
    if (doc.contains("expectations")) suite["expectations"] = doc["expectations"];
    const auto props = need<nlohmann::json>(file, doc, "", "properties");
    if (!props.is_array()) bad(file, "properties", "must be an array");
    for (std::size_t k = 0; k < props.size(); ++k) {
      const std::string at = fmt::format("properties[{}]", k);
      const nlohmann::json& p = props[k];
      nlohmann::json row{{"property", need<std::string>(file, p, at, "property")},
                         {"verdict", need<std::string>(file, p, at, "verdict")},
                         {"scenarios", p.value("scenarios", std::uint64_t{0})},
                         {"clauses", p.value("clauses", nlohmann::json::array())}};
      for (const char* key : {"expected", "expectation", "not_applicable", "mode"})
        if (p.contains(key)) row[key] = p[key];
      if (const auto& f = p.value("first_failure", nlohmann::json()); f.is_object()) {
        const nlohmann::json& r = f.value("result", nlohmann::json::object());
        row["clause"] = r.value("clause", "");
        row["message"] = r.value("message", "");
        row["seed"] = f.value("seed", std::uint64_t{0});
        row["replay"] = f.value("replay", "");
        if (f.contains("timeline")) {
          row["timeline"] = data_["timelines"].size();
          nlohmann::json t = f["timeline"];
          t["implementation"] = name;
          t["property"] = row["property"];
          data_["timelines"].push_back(std::move(t));
        }
        mark_engine_failure(name, row);
      } else {
        mark_engine_checked(name, row);
      }
      suite["properties"].push_back(std::move(row));
    }
    data_["engine"].push_back(std::move(suite));
  }

  // An engine failure naming a clause fails that clause's cell (or is its expected failure).
  void mark_engine_failure(const std::string& name, const nlohmann::json& row) {
    const std::string clause = row.value("clause", "");
    if (clause.empty()) return;
    nlohmann::json& cell = data_["cells"][clause][name];
    nlohmann::json engine{{"property", row["property"]}, {"verdict", row["verdict"]}};
    if (row.contains("timeline")) engine["timeline"] = row["timeline"];
    if (row.contains("expectation")) engine["expectation"] = row["expectation"];
    cell["engine"] = engine;
    const std::string status = cell.value("status", "");
    const bool expected = row.value("expectation", "") == "expected failure";
    if (status.empty() || status == "pass" || status == "skip") {
      cell["status"] = expected ? "xfail" : "fail";
      if (expected && row.contains("expected")) cell["expected"] = row["expected"];
    }
  }

  // A property that passed (or is not applicable) checked its clauses: a clause with no other
  // result gets the engine's.
  void mark_engine_checked(const std::string& name, const nlohmann::json& row) {
    const std::string verdict = row["verdict"];
    if (verdict != "pass" && verdict != "n/a") return;
    for (const nlohmann::json& c : row["clauses"]) {
      nlohmann::json& cell = data_["cells"][c.get<std::string>()][name];
      if (cell.contains("status")) continue;
      cell["status"] = verdict;
      cell["engine"] = {{"property", row["property"]}, {"verdict", verdict}};
      cell["note"] = verdict == "pass"
                         ? fmt::format("no violation in {} scenarios of the engine's {} property",
                                       row["scenarios"].get<std::uint64_t>(), row["property"].get<std::string>())
                         : fmt::format("the engine's {} property is not applicable: {}",
                                       row["property"].get<std::string>(), row.value("not_applicable", ""));
    }
  }

  void add_cpython_tests(const std::filesystem::path& file, const nlohmann::json& doc) {
    const std::string name = need<std::string>(file, doc, "", "implementation");
    const auto tests = need<nlohmann::json>(file, doc, "", "tests");
    if (!tests.is_array()) bad(file, "tests", "must be an array");
    for (std::size_t k = 0; k < tests.size(); ++k) {
      const std::string at = fmt::format("tests[{}]", k);
      (void)need<std::string>(file, tests[k], at, "id");
      (void)need<std::string>(file, tests[k], at, "status");
    }
    impl(name, "cpython_tests");
    data_["cpython_tests"].push_back(doc);
  }

  nlohmann::json data_;
  std::vector<nlohmann::json> impls_;
};

}  // namespace

nlohmann::json page_data(const std::vector<std::filesystem::path>& inputs, std::vector<std::string>& notes) {
  Builder b;
  for (const std::filesystem::path& input : inputs) {
    std::error_code ec;
    if (!std::filesystem::is_directory(input, ec)) {
      if (!std::filesystem::exists(input, ec))
        throw std::invalid_argument(fmt::format("{}: no such file or folder", input.string()));
      b.add(input, false, notes);
      continue;
    }
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(input))
      if (e.is_regular_file() && (e.path().extension() == ".json" || e.path().extension() == ".jsonl"))
        files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) b.add(f, true, notes);
  }
  return b.finish();
}

nlohmann::json timeline_page_data(const Timeline& t, const std::filesystem::path& source) {
  // Only the timeline: a page without clauses or implementations shows nothing else.
  Builder b;
  b.add_timeline(t, "");
  const nlohmann::json all = b.finish();
  return {{"format", kPageFormat},
          {"title", "mpconform timeline: " + t.title},
          {"generated", all["generated"]},
          {"sources", {source.string()}},
          {"timelines", all["timelines"]}};
}

std::string render_page(const nlohmann::json& data) {
  // Every '<' as \u003c: no text in the data can end the script element ("</script>") or put
  // the HTML parser in a state where its end tag does not count ("<!--<script>").
  const std::string json = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string safe;
  safe.reserve(json.size());
  for (char c : json) {
    if (c == '<')
      safe += "\\u003c";
    else
      safe += c;
  }
  std::string page(kPageTemplate);
  const std::size_t at = page.find(kPlaceholder);
  if (at == std::string::npos) throw std::logic_error("the page template has no data placeholder");
  return page.replace(at, kPlaceholder.size(), safe);
}

}  // namespace mpconform::cli
