#pragma once
// Internal: temporary files and folders of a run. Every name starts with
// $TMPDIR/mpconform-<pid of the harness>-, so that what a SIGKILLed harness left behind is
// recognised and removed by the next harness (sweep_stale_temp) instead of piling up.
#include <filesystem>
#include <string>

namespace mpconform::detail {

/// The prefix of this process's temporary names: "$TMPDIR/mpconform-<pid>-" (/tmp by default).
std::string temp_prefix();

/// A new empty folder (mkdtemp), removed with everything in it on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& what);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
};

/// A new file (mkstemp) opened read-write; returns its descriptor and sets `path`.
/// Throws std::runtime_error when it cannot be created.
int make_temp_file(const std::string& what, std::string& path);

/// Removes the temporary files and folders of harnesses that are no longer running.
void sweep_stale_temp() noexcept;

}  // namespace mpconform::detail
