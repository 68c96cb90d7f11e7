// Temporary files and folders of a run (temp.hpp).
#include "temp.hpp"

#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace mpconform::detail {
namespace fs = std::filesystem;

namespace {
std::string temp_root() {
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}
}  // namespace

std::string temp_prefix() { return fmt::format("{}/mpconform-{}-", temp_root(), ::getpid()); }

TempDir::TempDir(const std::string& what) {
  std::string templ = temp_prefix() + what + "-XXXXXX";
  if (::mkdtemp(templ.data()) == nullptr)
    throw std::runtime_error(fmt::format("mkdtemp {}: {}", templ, std::strerror(errno)));
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

int make_temp_file(const std::string& what, std::string& path) {
  std::string templ = temp_prefix() + what + "-XXXXXX";
  const int fd = ::mkstemp(templ.data());
  if (fd < 0) throw std::runtime_error(fmt::format("mkstemp {}: {}", templ, std::strerror(errno)));
  path = templ;
  return fd;
}

void sweep_stale_temp() noexcept {
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(temp_root(), ec)) {
    const std::string name = e.path().filename().string();
    if (!name.starts_with("mpconform-")) continue;
    const std::size_t dash = name.find('-', 10);
    if (dash == std::string::npos) continue;
    int pid = 0;
    try {
      pid = std::stoi(name.substr(10, dash - 10));
    } catch (const std::exception&) {
      continue;
    }
    if (pid <= 0 || ::kill(pid, 0) == 0 || errno == EPERM) continue;  // its harness still runs
    std::error_code rm;
    fs::remove_all(e.path(), rm);
  }
}

}  // namespace mpconform::detail
