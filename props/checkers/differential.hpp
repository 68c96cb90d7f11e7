#pragma once
// Differential testing of the rule-based checkers against the exact search
// (mpconform/linearizability.hpp): what every differential test of this folder shares.
//
// A test generates small random histories (legal ones from running a model, some mutated),
// asks a checker and the search, and tallies the answers. A disagreement (one says ok, the
// other illegal) is saved as a fixture-format file and fails the test. The number of
// histories is the ctest default unless MPCONFORM_DIFF_HISTORIES says otherwise (the
// benchmark, ci/bench-differential, runs 100,000 per checker).
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mpconform/history.hpp"
#include "mpconform/verdict.hpp"

namespace mpconform::differential {

/// How many histories a differential test runs: MPCONFORM_DIFF_HISTORIES when set (a positive
/// integer), else `ctest_default`.
inline std::uint64_t histories(std::uint64_t ctest_default) {
  const char* env = std::getenv("MPCONFORM_DIFF_HISTORIES");
  if (env == nullptr || *env == '\0') return ctest_default;
  const std::uint64_t n = std::strtoull(env, nullptr, 10);
  return n > 0 ? n : ctest_default;
}

/// The answers of a checker and of the search over a run.
struct Tally {
  std::uint64_t histories = 0;
  std::uint64_t both_ok = 0, both_illegal = 0;
  std::uint64_t unknown = 0;         // either side said unknown (not compared)
  std::uint64_t disagreements = 0;   // one ok, the other illegal
  std::uint64_t excused = 0;         // differences the test allows by design (counted apart)

  /// Counts one history; true when the two verdicts disagree.
  bool add(const Verdict& checker, const Verdict& search) {
    ++histories;
    if (checker.is_unknown() || search.is_unknown()) {
      ++unknown;
      return false;
    }
    if (checker.is_ok() && search.is_ok()) ++both_ok;
    else if (checker.is_illegal() && search.is_illegal()) ++both_illegal;
    else {
      ++disagreements;
      return true;
    }
    return false;
  }

  /// One line: "differential queue: 3000 histories, 2100 ok, 800 illegal, 100 unknown,
  /// 0 disagreements, 12 excused, 25000 histories/s".
  void print(std::string_view name, double seconds) const {
    std::cout << fmt::format(
                     "differential {}: {} histories, {} ok, {} illegal, {} unknown, {} disagreements, {} excused, "
                     "{:.0f} histories/s\n",
                     name, histories, both_ok, both_illegal, unknown, disagreements, excused,
                     seconds > 0 ? static_cast<double>(histories) / seconds : 0.0)
              << std::flush;
  }
};

/// Writes the history as a fixture (props/checkers/histories format: a meta line, then the
/// ops) named after `name` and the search's answer, under MPCONFORM_DIFF_SAVE (or the test's
/// temporary folder); returns its path. The meta says what each side answered, so turning it
/// into a fixture is a matter of moving the file and writing its `about`, `clause`, `window`.
inline std::filesystem::path save_disagreement(std::string_view name, const History& history,
                                               std::string_view checker, const nlohmann::json& checker_options,
                                               const Verdict& checker_verdict, const Verdict& search_verdict) {
  const char* env = std::getenv("MPCONFORM_DIFF_SAVE");
  const std::filesystem::path dir = env != nullptr && *env != '\0' ? std::filesystem::path(env)
                                                                   : std::filesystem::path(testing::TempDir());
  std::filesystem::create_directories(dir);
  static int serial = 0;
  const std::string suffix = search_verdict.is_ok() ? "ok" : "bad";
  const std::filesystem::path path = dir / fmt::format("{}-diff-{}-{}.jsonl", name, ++serial, suffix);
  nlohmann::json meta{{"checker", checker},
                      {"options", checker_options},
                      {"about", fmt::format("differential: {} said {}, the search said {}", checker,
                                            to_string(checker_verdict.status), to_string(search_verdict.status))},
                      {"checker_verdict", to_json(checker_verdict)},
                      {"search_verdict", to_json(search_verdict)}};
  if (search_verdict.is_illegal()) {
    meta["clause"] = search_verdict.clause;
    meta["window"] = search_verdict.window;
  }
  std::ofstream out(path);
  out << nlohmann::json{{"meta", meta}}.dump() << '\n' << to_jsonl(history);
  return path;
}

/// Gives each op an interval around its linearization time, so that the history stays legal:
/// `ops` come with invoke_ns == return_ns == their linearization time, in increasing order of
/// it (at least 2 apart). Each process stays sequential: an op is invoked after the process's
/// previous op returned and returns before the process's next op takes effect. An op with
/// return_ns == kNever keeps it (a process killed mid-call: it must be its process's last op).
inline void assign_intervals(std::vector<Op>& ops, std::mt19937_64& rng) {
  std::map<std::uint32_t, std::vector<std::size_t>> by_process;
  for (std::size_t i = 0; i < ops.size(); ++i) by_process[ops[i].process].push_back(i);
  for (auto& [process, idx] : by_process) {
    std::int64_t prev_return = 0;  // the process's previous op returned at this time
    for (std::size_t k = 0; k < idx.size(); ++k) {
      Op& op = ops[idx[k]];
      const std::int64_t t = op.invoke_ns;
      const std::int64_t next_t = k + 1 < idx.size() ? ops[idx[k + 1]].invoke_ns : t + 40;
      op.invoke_ns = std::uniform_int_distribution<std::int64_t>(std::min(prev_return + 1, t), t)(rng);
      if (op.return_ns != kNever)
        op.return_ns = std::uniform_int_distribution<std::int64_t>(t, std::max(t, next_t - 1))(rng);
      prev_return = op.return_ns;
    }
  }
}

}  // namespace mpconform::differential
