#pragma once
// Failure timelines: a history drawn as lanes of operations with the checker's window marked
// (the `timeline` objects of the JSON report and of the dashboard page; `mpconform timeline`).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mpconform/fuzz.hpp"
#include "mpconform/history.hpp"
#include "mpconform/prefix.hpp"

namespace mpconform::cli {

struct Timeline {
  std::string title;
  std::string verdict;  // "fail", "crash", "hang", "error", "pass", "unknown"
  std::string clause;   // "" when none
  std::string message;
  std::vector<std::size_t> window;  // indices into history.ops
  std::optional<AcceptedPrefix> prefix;
  History history;
  std::vector<std::pair<std::uint32_t, std::string>> roles;  // process index, role
  std::string replay;
};

/// The timeline of a property's first failure: the shrunk scenario's run where shrinking kept
/// one (it is smaller), else the failing run; the accepted prefix by the property's checker
/// when the verdict is the checker's (fail).
Timeline timeline_of(const FailureReport& failure, std::string_view property, const std::string& backend);

/// {"title", "verdict", "clause", "clause_text", "message", "window", "accepted_prefix",
///  "processes", "ops" (each with "text"), "replay"}: design of the page, section "Timeline".
nlohmann::json to_json(const Timeline& t);

/// The clause catalogue entry {"id", "concept", "api", "kind", "behaviour"}; null if unknown.
const nlohmann::json& clause_entry(std::string_view id);
/// Every clause of the catalogue, by concept (file) then file order.
const std::vector<nlohmann::json>& clause_catalogue();

/// The first lines of a history file written with --history-dir: one meta line that says
/// how to judge it again (property, scenario, profile, roles, replay).
nlohmann::json history_meta(const FailureReport& failure, std::string_view property, const std::string& backend,
                            const Timeline& t);

/// A history file (JSON Lines) judged again: its meta line names a property and scenario
/// (`mpconform run --history-dir`) or a checker and options (the checkers' test fixtures);
/// without either it is drawn without a verdict. Throws std::invalid_argument "FILE line N:
/// field F: ..." for a file that is not such a history.
Timeline timeline_from_file(const std::filesystem::path& path);

}  // namespace mpconform::cli
