#pragma once
// What the build embeds in `mpconform` (harness/cli/embed.cmake): the dashboard page template
// (harness/cli/page/page.html) and the clause catalogue (spec/clauses/*.json).
#include <string_view>
#include <vector>

namespace mpconform::cli {

struct EmbeddedFile {
  std::string_view name;  // the file's stem: "queues"
  std::string_view text;
};

/// The page; its data goes where the text `/*MPCONFORM_DATA*/null` stands.
extern const std::string_view kPageTemplate;
/// spec/clauses/<concept>.json, sorted by name.
extern const std::vector<EmbeddedFile> kClauseFiles;

}  // namespace mpconform::cli
