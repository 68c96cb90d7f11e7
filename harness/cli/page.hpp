#pragma once
// `mpconform report` and `mpconform timeline`: one self-contained HTML page (the template
// harness/cli/page/page.html with its data embedded) from the JSON reports of any number of
// runs: the engine's (`mpconform run --json`, format mpconform-report/1), the pytest conformance
// suite's (reports/conformance.json, mpconform-conformance/1), CPython's own tests run on an
// implementation (mpconform-cpython-tests/1), and history files (JSON Lines, drawn as timelines).
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "timeline.hpp"

namespace mpconform::cli {

/// The report formats `report` reads (the `format` field of each file).
inline constexpr const char* kConformanceFormat = "mpconform-conformance/1";
inline constexpr const char* kCpythonTestsFormat = "mpconform-cpython-tests/1";
inline constexpr const char* kPageFormat = "mpconform-page/1";

/// The page's data (format mpconform-page/1) from `inputs`: files, or folders whose *.json and
/// *.jsonl files are read (a file there that is not an mpconform report is skipped, and said in
/// `notes`). Throws std::invalid_argument "FILE: field F: ..." for a named file that cannot be
/// read, is not a report, or is a report of another version.
nlohmann::json page_data(const std::vector<std::filesystem::path>& inputs, std::vector<std::string>& notes);

/// The data of a page that shows one timeline (`mpconform timeline`).
nlohmann::json timeline_page_data(const Timeline& t, const std::filesystem::path& source);

/// The HTML page: the template with `data` embedded (every '<' written as \u003c, so no text in
/// the data can end the script element that holds it).
std::string render_page(const nlohmann::json& data);

}  // namespace mpconform::cli
