// Verdicts: construction, combination, rendering.
#include "mpconform/verdict.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mpconform {

Verdict Verdict::ok(std::string message) {
  Verdict v;
  v.status = Status::ok;
  v.message = std::move(message);
  return v;
}

Verdict Verdict::illegal(std::string clause, std::vector<std::size_t> window, std::string message) {
  std::sort(window.begin(), window.end());
  window.erase(std::unique(window.begin(), window.end()), window.end());
  Verdict v;
  v.status = Status::illegal;
  v.clause = std::move(clause);
  v.window = std::move(window);
  v.message = std::move(message);
  return v;
}

Verdict Verdict::unknown(std::string clause, std::string message) {
  Verdict v;
  v.status = Status::unknown;
  v.clause = std::move(clause);
  v.message = std::move(message);
  return v;
}

std::string_view to_string(Status status) noexcept {
  switch (status) {
    case Status::ok: return "ok";
    case Status::illegal: return "illegal";
    case Status::unknown: return "unknown";
  }
  return "?";
}

Verdict first_failure(std::vector<Verdict> verdicts) {
  for (auto& v : verdicts)
    if (v.is_illegal()) return std::move(v);
  for (auto& v : verdicts)
    if (v.is_unknown()) return std::move(v);
  std::string notes;
  for (const auto& v : verdicts) {
    if (v.message.empty()) continue;
    if (!notes.empty()) notes += "; ";
    notes += v.message;
  }
  return Verdict::ok(std::move(notes));
}

nlohmann::json to_json(const Verdict& verdict) {
  nlohmann::json j;
  j["status"] = to_string(verdict.status);
  j["clause"] = verdict.clause;
  j["window"] = verdict.window;
  j["message"] = verdict.message;
  return j;
}

std::string describe(const History& history, const Verdict& verdict) {
  std::string out = fmt::format("{}", to_string(verdict.status));
  if (!verdict.clause.empty()) out += fmt::format(" {}", verdict.clause);
  if (!verdict.message.empty()) out += fmt::format(": {}", verdict.message);
  out += '\n';
  for (std::size_t i : verdict.window) {
    if (i < history.ops.size()) out += fmt::format("  #{:<6} {}\n", i, describe(history.ops[i]));
  }
  return out;
}

}  // namespace mpconform
