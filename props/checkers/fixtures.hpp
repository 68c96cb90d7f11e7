#pragma once
// The checkers' hand-made histories (histories/<checker>-<what>-{ok,bad,unknown}.jsonl, their
// first line a meta header) and a builder of ops, for the tests of this folder.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mpconform/history.hpp"

namespace mpconform::fixtures {

struct Fixture {
  std::string name;  // the file's stem: "queue-lost-bad"
  History history;
  nlohmann::json meta;  // the header's "meta": checker, options, clause, window, about

  [[nodiscard]] std::string checker() const { return meta.at("checker").get<std::string>(); }
  [[nodiscard]] nlohmann::json options() const { return meta.value("options", nlohmann::json::object()); }
};

/// The fixture `name` (the file's stem).
inline Fixture load_fixture(const std::string& name) {
  const std::filesystem::path path = std::filesystem::path(MPCONFORM_CHECKER_HISTORIES) / (name + ".jsonl");
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  return Fixture{name, load_history(path), nlohmann::json::parse(first).at("meta")};
}

/// The names of every fixture whose name `keep` accepts (all by default), sorted.
inline std::vector<std::string> fixture_names(const std::function<bool(const std::string&)>& keep = {}) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(MPCONFORM_CHECKER_HISTORIES)) {
    const std::string stem = entry.path().stem().string();
    if (entry.path().extension() == ".jsonl" && (!keep || keep(stem))) names.push_back(stem);
  }
  std::sort(names.begin(), names.end());
  return names;
}

/// Every fixture whose name `keep` accepts, sorted by name.
inline std::vector<Fixture> load_fixtures(const std::function<bool(const std::string&)>& keep = {}) {
  std::vector<Fixture> out;
  for (const std::string& name : fixture_names(keep)) out.push_back(load_fixture(name));
  return out;
}

/// A completed op (outcome ok) of `process`; adjust the other fields on the copy.
inline Op make_op(std::uint32_t process, OpKind kind, std::uint64_t value, std::int64_t invoke, std::int64_t ret) {
  Op o;
  o.process = process;
  o.kind = kind;
  o.value = value;
  o.invoke_ns = invoke;
  o.return_ns = ret;
  return o;
}

}  // namespace mpconform::fixtures
