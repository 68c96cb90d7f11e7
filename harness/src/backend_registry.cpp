// Backend selection: built-in names, mutants, and plugins loaded with dlopen.
#include <dlfcn.h>

#include <cstdlib>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "mpconform/backend.hpp"
#include "mpconform/forwarding_backend.hpp"
#include "mutants.hpp"

namespace mpconform {
namespace {

// A plugin's backend keeps its library loaded: the vtables live in it. The handle is never
// dlclose'd (forked children may still hold objects made by it, and unloading a library with
// thread-local or static state is a known source of crashes); one dlopen per path per process.
class PluginBackend final : public ForwardingBackend {
 public:
  using ForwardingBackend::ForwardingBackend;
};

std::unique_ptr<Backend> load_plugin(const std::string& path) {
  // RTLD_LOCAL: the plugin's own copy of mpref (if it has one) does not interpose on ours.
  void* handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* err = dlerror();
    throw std::invalid_argument(
        fmt::format("cannot load backend plugin {}: {}", path, err ? err : "unknown error"));
  }
  void* sym = dlsym(handle, kBackendPluginSymbol);
  if (sym == nullptr)
    throw std::invalid_argument(fmt::format(
        "backend plugin {} has no entry point '{}' (use MPCONFORM_EXPORT_BACKEND)", path,
        kBackendPluginSymbol));
  using Entry = const BackendPlugin* (*)();
  const BackendPlugin* plugin = reinterpret_cast<Entry>(sym)();
  if (plugin == nullptr)
    throw std::invalid_argument(fmt::format("backend plugin {}: entry point returned null", path));
  if (plugin->abi_version != kBackendAbiVersion)
    throw std::invalid_argument(fmt::format(
        "backend plugin {} was built for backend ABI {}, this harness speaks ABI {}; rebuild it "
        "against this harness's mpconform/backend.hpp",
        path, plugin->abi_version, kBackendAbiVersion));
  if (plugin->create == nullptr)
    throw std::invalid_argument(fmt::format("backend plugin {}: no create function", path));
  std::unique_ptr<Backend> inner(plugin->create());
  if (!inner)
    throw std::invalid_argument(fmt::format("backend plugin {}: create() returned null", path));
  return std::make_unique<PluginBackend>(
      fmt::format("plugin:{}", plugin->name ? plugin->name : path), std::move(inner));
}

bool looks_like_path(std::string_view spec) {
  return spec.find('/') != std::string_view::npos ||
         (spec.size() > 3 && spec.substr(spec.size() - 3) == ".so") ||
         spec.find(".so.") != std::string_view::npos;
}

}  // namespace

std::vector<BackendInfo> builtin_backends() {
  std::vector<BackendInfo> out;
  out.push_back({"reference", "mpref, the reference implementation (the default)", false, "", ""});
  for (BackendInfo& m : engine::mutant_infos()) {
    m.name = "mutant:" + m.name;
    out.push_back(std::move(m));
  }
  return out;
}

std::unique_ptr<Backend> make_backend(std::string_view spec) {
  if (spec.empty() || spec == "reference" || spec == "mpref") return make_reference_backend();
  if (spec.starts_with("mutant:")) {
    const std::string_view name = spec.substr(7);
    if (auto m = engine::make_mutant(name, make_reference_backend())) return m;
    throw std::invalid_argument(
        fmt::format("unknown mutant '{}' (see `mpconform backends`)", name));
  }
  if (spec.starts_with("plugin:")) return load_plugin(std::string(spec.substr(7)));
  if (looks_like_path(spec)) return load_plugin(std::string(spec));
  throw std::invalid_argument(fmt::format(
      "unknown backend '{}' (expected reference, mutant:<name> or a path to a plugin .so; see "
      "`mpconform backends`)",
      spec));
}

std::string backend_spec(const std::optional<std::string>& cli) {
  if (cli) return *cli;
  const char* env = std::getenv("MPCONFORM_BACKEND");
  if (env != nullptr && *env != '\0') return env;
  return "reference";
}

}  // namespace mpconform
