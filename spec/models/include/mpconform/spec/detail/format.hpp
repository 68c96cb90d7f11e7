#pragma once
// Internal: spelling calls and states the way a Python program would, so that a counterexample
// reads like one.
#include <optional>
#include <string>
#include <vector>

#include "mpconform/spec/value.hpp"

namespace mpconform::spec::detail {

inline std::string py_bool(bool b) { return b ? "True" : "False"; }

// "None" or the float repr.
inline std::string py_optional_float(const std::optional<double>& t) {
  return t ? py_float_repr(*t) : "None";
}

// Python call syntax: call("q.put", {"1", "block=False"}) -> "q.put(1, block=False)".
inline std::string call(const std::string& callee, const std::vector<std::string>& args) {
  std::string out = callee + "(";
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i != 0) out += ", ";
    out += args[i];
  }
  return out + ")";
}

// The arguments of (block=True, timeout=None), leaving out the defaults.
inline std::vector<std::string> block_timeout_args(bool block, const std::optional<double>& t) {
  std::vector<std::string> args;
  if (!block) args.push_back("block=False");
  if (t) args.push_back("timeout=" + py_float_repr(*t));
  return args;
}

}  // namespace mpconform::spec::detail
