#pragma once
// mpconform/checkers.hpp: every checker, and a facade that runs one by name with JSON options.
//
// A checker is a pure function `Verdict check_x(const History&, const XCheckOptions&)`; the
// rules each one applies are documented in its header under mpconform/checkers/.
#include <span>
#include <string_view>

#include <nlohmann/json_fwd.hpp>

#include "mpconform/checkers/daemon.hpp"
#include "mpconform/checkers/joinable.hpp"
#include "mpconform/checkers/lock.hpp"
#include "mpconform/checkers/pipe.hpp"
#include "mpconform/checkers/queue.hpp"
#include "mpconform/checkers/tickets.hpp"
#include "mpconform/checkers/timeouts.hpp"
#include "mpconform/checkers/value.hpp"
#include "mpconform/history.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform {

/// "queue", "lock", "tickets", "joinable", "timeouts", "daemon", "pipe", "value".
std::span<const std::string_view> checker_names() noexcept;

/// Every clause id a checker can name in a verdict (tests check they exist in spec/clauses).
std::span<const std::string_view> checker_clauses() noexcept;
/// The clause ids checker `name` can name in a verdict; a property's list is derived from the
/// lists of the checkers it runs. Tests check each is produced by a -bad fixture and that no
/// fixture produces another. Throws std::invalid_argument for an unknown checker.
std::span<const std::string_view> checker_clauses(std::string_view name);

/// Runs checker `name` with options given as a JSON object whose keys are the option fields
/// (e.g. {"object": 1, "maxsize": 2, "drained": true}; tiers by name: {"late": "long"}).
/// Missing keys keep their defaults. Throws std::invalid_argument for an unknown checker, an
/// unknown key or a value of the wrong type.
Verdict check(std::string_view name, const History& history, const nlohmann::json& options);

}  // namespace mpconform
