// Expectation files: reading, checking, judging a property's result.
#include "expectations.hpp"

#include <fstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mpconform/property.hpp"
#include "report.hpp"
#include "timeline.hpp"

namespace mpconform::cli {
namespace {

[[noreturn]] void bad(const std::filesystem::path& file, const std::string& field, const std::string& what) {
  throw std::invalid_argument(fmt::format("{}: field {}: {}", file.string(), field, what));
}

std::string string_field(const std::filesystem::path& file, const nlohmann::json& j, const std::string& at,
                         const char* key, bool required) {
  const std::string field = at.empty() ? std::string(key) : at + "." + key;
  const auto it = j.find(key);
  if (it == j.end()) {
    if (required) bad(file, field, "missing");
    return "";
  }
  const std::string* text = it->get_ptr<const std::string*>();
  if (text == nullptr || (required && text->empty())) bad(file, field, "must be a non-empty string");
  return *text;
}

// One section ("clauses", ...): name -> {"reason", "link"[, "clause"]}; `known` says whether a
// name may be listed (empty: it may not, with the reason).
template <class Known>
void read_section(const std::filesystem::path& file, const nlohmann::json& doc, const char* section, bool with_clause,
                  Known known, std::map<std::string, Expectation, std::less<>>& out) {
  if (!doc.contains(section)) return;
  const nlohmann::json& s = doc[section];
  if (!s.is_object()) bad(file, section, "must be an object");
  for (const auto& [name, entry] : s.items()) {
    const std::string at = fmt::format("{}.\"{}\"", section, name);
    if (std::string why = known(name); !why.empty()) bad(file, at, why);
    if (!entry.is_object()) bad(file, at, "must be an object with a reason");
    for (const auto& [key, value] : entry.items())
      if (key != "reason" && key != "link" && key != "flaky" && !(with_clause && key == "clause"))
        bad(file, at + "." + key, "unknown key");
    Expectation e;
    e.reason = string_field(file, entry, at, "reason", true);
    e.link = string_field(file, entry, at, "link", false);
    if (const auto f = entry.find("flaky"); f != entry.end()) {
      if (!f->is_boolean()) bad(file, at + ".flaky", "must be true or false");
      e.flaky = f->template get<bool>();
    }
    if (with_clause) {
      e.clause = string_field(file, entry, at, "clause", false);
      if (!e.clause.empty() && clause_entry(e.clause).is_null())
        bad(file, at + ".clause", fmt::format("unknown clause '{}'", e.clause));
    }
    out.emplace(name, std::move(e));
  }
}

}  // namespace

Expectations load_expectations(const std::filesystem::path& file) {
  const nlohmann::json doc = read_json_file(file);
  if (!doc.is_object()) throw std::invalid_argument(fmt::format("{}: not a JSON object", file.string()));
  for (const auto& [key, value] : doc.items())
    if (key != "format" && key != "implementation" && key != "about" && key != "clauses" && key != "properties" &&
        key != "cpython_tests")
      bad(file, key, "unknown key");
  const auto f = doc.find("format");
  const std::string format = f != doc.end() && f->is_string() ? f->get<std::string>() : "";
  if (format != kExpectationsFormat)
    bad(file, "format", fmt::format("'{}' is not {}", format, kExpectationsFormat));
  Expectations e;
  e.file = file;
  e.implementation = string_field(file, doc, "", "implementation", true);
  read_section(file, doc, "clauses", false,
               [](const std::string& id) { return clause_entry(id).is_null() ? "unknown clause" : ""; }, e.clauses);
  read_section(file, doc, "properties", true,
               [](const std::string& p) { return find_property(p) ? "" : "unknown property"; }, e.properties);
  read_section(file, doc, "cpython_tests", false, [](const std::string&) { return ""; }, e.cpython_tests);
  return e;
}

std::string judge(const Expectations& e, const PropertyReport& r) {
  const auto it = e.properties.find(r.property);
  const std::string verdict = r.verdict();
  if (it == e.properties.end()) return r.failure ? "new failure" : "";
  if (!r.failure) return verdict == "pass" && !it->second.flaky ? "unexpected pass" : "";
  if (!it->second.clause.empty() && r.failure->result.clause != it->second.clause) return "new failure";
  return "expected failure";
}

std::string expectation_line(const Expectations& e, const PropertyReport& r) {
  const std::string j = judge(e, r);
  const auto it = e.properties.find(r.property);
  if (j == "expected failure") return fmt::format("{}: expected failure ({})", r.property, it->second.reason);
  if (j == "unexpected pass")
    return fmt::format("{}: passed but {} expects it to fail; remove properties.\"{}\"", r.property, e.file.string(),
                       r.property);
  if (j == "new failure" && it != e.properties.end())
    return fmt::format("{}: failed on {} but {} expects a failure on {}", r.property,
                       r.failure->result.clause.empty() ? to_string(r.failure->result.verdict)
                                                        : std::string_view(r.failure->result.clause),
                       e.file.string(), it->second.clause);
  if (j == "new failure") return fmt::format("{}: new failure (not in {})", r.property, e.file.string());
  return "";
}

}  // namespace mpconform::cli
