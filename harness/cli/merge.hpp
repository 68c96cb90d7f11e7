#pragma once
// `mpconform merge`: combines the JSON reports of the shards of one run (`mpconform run --shard
// i/N`, same backend, seed, budget and mode) into one report with the verdicts a single run
// would have given: per property the scenarios add up, and the failure is the one of the
// smallest scenario index (a single run stops at its first failure, and every scenario before
// it passed in whichever shard ran it).
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace mpconform::cli {

/// A report file that cannot be merged: one line naming the file and the field.
struct MergeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct Merged {
  nlohmann::json report;             // the merged report (same format, "shard": {"merged": [...]})
  std::vector<std::uint32_t> missing;  // shards (1-based) of the run that no file provided
};

/// Throws MergeError for an unreadable file, another format, reports of different runs, or the
/// same shard twice.
Merged merge_reports(const std::vector<std::string>& files);

/// The console table of a merged report.
std::string merged_text(const Merged& m);
/// JUnit XML of a merged report: one testcase per property.
std::string merged_junit(const nlohmann::json& report);

}  // namespace mpconform::cli
