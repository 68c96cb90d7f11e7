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
#include "mpconform/linearizability.hpp"
#include "mpconform/prefix.hpp"

namespace mpconform::cli {

struct Timeline {
  std::string title;
  std::string verdict;  // "fail", "crash", "hang", "error", "pass", "unknown"
  std::string clause;   // "" when none
  std::string message;
  std::vector<std::size_t> window;  // indices into history.ops
  std::optional<AcceptedPrefix> prefix;
  // Where the failing history stands (classify() over the property's models): linearizable,
  // cpython-weak, sequentially consistent only, illegal; none when not a checker's failure or
  // the property has no searched objects.
  std::optional<Classification> classification;
  History history;
  std::vector<std::pair<std::uint32_t, std::string>> roles;  // process index, role
  std::string replay;
  // The run drawn (timeline_of only; a timeline read from a file has no scenario): what
  // to_history_file writes so that `mpconform timeline` can judge it again.
  std::string property;
  std::string backend;
  std::optional<Scenario> scenario;
  Profile profile = Profile::reference;
};

/// The timeline of a property's first failure: the shrunk scenario's run where shrinking kept
/// one (it is smaller), else the failing run; the accepted prefix by the property's checker
/// and the classification by its models when the verdict is the checker's (fail).
Timeline timeline_of(const FailureReport& failure, std::string_view property, const std::string& backend);

/// {"title", "verdict", "clause", "clause_text", "message", "window", "accepted_prefix",
///  "class" ({"class", "message"}, when classified), "processes", "ops" (each with "text"),
///  "replay"}: design of the page, section "Timeline".
nlohmann::json to_json(const Timeline& t);

/// The clause catalogue entry {"id", "concept", "api", "kind", "behaviour"}; null if unknown.
const nlohmann::json& clause_entry(std::string_view id);
/// Every clause of the catalogue, by concept (file) then file order.
const std::vector<nlohmann::json>& clause_catalogue();

/// The history file --history-dir writes: a meta line that says how to judge it again
/// (property, backend, scenario, profile, verdict, clause, message, window, roles, replay), then
/// the ops as JSON Lines. Requires: t.scenario (a timeline made by timeline_of).
std::string to_history_file(const Timeline& t);

/// A history file (JSON Lines) judged again: its meta line names a property and scenario
/// (`mpconform run --history-dir`) or a checker and options (the checkers' test fixtures);
/// without either it is drawn without a verdict. Throws std::invalid_argument "FILE line N:
/// field F: ..." for a file that is not such a history.
Timeline timeline_from_file(const std::filesystem::path& path);

}  // namespace mpconform::cli
