#pragma once
// mpconform/verdict.hpp: what a checker answers (Porcupine style).
//
//   ok       the history is legal for the property (some explanation exists; for info ops,
//            one where each info op either happened or not);
//   illegal  no explanation exists: `clause` is the broken clause and `window` the smallest set
//            of operations that proves it on its own (indices into History::ops);
//   unknown  the checker cannot decide (the history is incomplete, values are not unique, an
//            info op makes the property undecidable, a search budget ran out). `clause` names
//            the clause at stake and `message` says why.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "mpconform/history.hpp"

namespace mpconform {

enum class Status { ok, illegal, unknown };

struct Verdict {
  Status status = Status::ok;
  std::string clause;                // empty for ok
  std::vector<std::size_t> window;   // ascending, no duplicates; empty for ok and unknown
  std::string message;               // one line for humans

  static Verdict ok(std::string message = {});
  /// Sorts and deduplicates `window`.
  static Verdict illegal(std::string clause, std::vector<std::size_t> window, std::string message);
  static Verdict unknown(std::string clause, std::string message);

  [[nodiscard]] bool is_ok() const noexcept { return status == Status::ok; }
  [[nodiscard]] bool is_illegal() const noexcept { return status == Status::illegal; }
  [[nodiscard]] bool is_unknown() const noexcept { return status == Status::unknown; }
};

std::string_view to_string(Status status) noexcept;

/// Combines the verdicts of several rules of one checker: the first illegal one wins; else the
/// first unknown one; else ok (with the messages of the ok verdicts, if any, joined by "; ").
Verdict first_failure(std::vector<Verdict> verdicts);

/// {"status":"illegal","clause":"Q-...","window":[3,7],"message":"..."}
nlohmann::json to_json(const Verdict& verdict);

/// Multi-line text for reports: "illegal Q-ORDER-1: <message>" then one describe(op) line per
/// window op, indented, prefixed with its index.
std::string describe(const History& history, const Verdict& verdict);

}  // namespace mpconform
