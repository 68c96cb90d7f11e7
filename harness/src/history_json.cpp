// Names of the history enums, JSON Lines serialisation, one-line descriptions.
#include <array>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mpconform/history.hpp"

namespace mpconform {
namespace {

constexpr std::array<std::pair<OpKind, std::string_view>, 26> kOpNames{{
    {OpKind::put, "put"},
    {OpKind::get, "get"},
    {OpKind::qsize, "qsize"},
    {OpKind::empty, "empty"},
    {OpKind::full, "full"},
    {OpKind::task_done, "task_done"},
    {OpKind::join, "join"},
    {OpKind::acquire, "acquire"},
    {OpKind::release, "release"},
    {OpKind::send, "send"},
    {OpKind::recv, "recv"},
    {OpKind::poll, "poll"},
    {OpKind::close, "close"},
    {OpKind::read, "read"},
    {OpKind::write, "write"},
    {OpKind::increment, "increment"},
    {OpKind::buy, "buy"},
    {OpKind::start, "start"},
    {OpKind::process_join, "process_join"},
    {OpKind::exit, "exit"},
    {OpKind::gone, "gone"},
    {OpKind::kill, "kill"},
    {OpKind::exitcode, "exitcode"},
    {OpKind::custom, "custom"},
    // aliases accepted on input only (never produced: the first spelling wins on output)
    {OpKind::process_join, "pjoin"},
    {OpKind::increment, "incr"},
}};

constexpr std::array<std::pair<Outcome, std::string_view>, 3> kOutcomeNames{{
    {Outcome::ok, "ok"},
    {Outcome::fail, "fail"},
    {Outcome::info, "info"},
}};

constexpr std::array<std::pair<ErrorKind, std::string_view>, 12> kErrorNames{{
    {ErrorKind::none, "none"},
    {ErrorKind::Empty, "Empty"},
    {ErrorKind::Full, "Full"},
    {ErrorKind::Timeout, "Timeout"},
    {ErrorKind::ValueError, "ValueError"},
    {ErrorKind::EOFError, "EOFError"},
    {ErrorKind::AssertionError, "AssertionError"},
    {ErrorKind::OSError, "OSError"},
    {ErrorKind::BrokenPipeError, "BrokenPipeError"},
    {ErrorKind::RuntimeError, "RuntimeError"},
    {ErrorKind::SoldOut, "SoldOut"},
    {ErrorKind::Other, "Other"},
}};

template <class E, std::size_t N>
std::string_view name_of(const std::array<std::pair<E, std::string_view>, N>& table, E e) noexcept {
  for (const auto& [k, name] : table)
    if (k == e) return name;
  return "?";
}

template <class E, std::size_t N>
E value_of(const std::array<std::pair<E, std::string_view>, N>& table, std::string_view name,
           const char* what) {
  for (const auto& [k, n] : table)
    if (n == name) return k;
  throw std::invalid_argument(fmt::format("unknown {} '{}'", what, name));
}

std::uint64_t parse_value(const nlohmann::json& v) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    return static_cast<std::uint64_t>(i);  // negative ints (qsize, read) round-trip as int64
  }
  if (v.is_string()) {
    const auto s = v.get<std::string>();
    const auto colon = s.find(':');
    if (colon == std::string::npos) throw std::invalid_argument("value string must be a tag 'P:S'");
    std::size_t used1 = 0;
    std::size_t used2 = 0;
    const auto p = std::stoul(s.substr(0, colon), &used1);
    const auto q = std::stoull(s.substr(colon + 1), &used2);
    if (used1 != colon || used2 != s.size() - colon - 1)
      throw std::invalid_argument("value string must be a tag 'P:S'");
    return make_tag(static_cast<std::uint32_t>(p), q);
  }
  throw std::invalid_argument("value must be an integer or a tag 'P:S'");
}

std::int64_t parse_time(const nlohmann::json& v, const char* field) {
  if (!v.is_number_integer()) throw std::invalid_argument(fmt::format("{} must be an integer (ns)", field));
  return v.get<std::int64_t>();
}

}  // namespace

std::string_view to_string(OpKind kind) noexcept { return name_of(kOpNames, kind); }
std::string_view to_string(Outcome outcome) noexcept { return name_of(kOutcomeNames, outcome); }
std::string_view to_string(ErrorKind error) noexcept { return name_of(kErrorNames, error); }
OpKind op_kind_from_string(std::string_view name) { return value_of(kOpNames, name, "op"); }
Outcome outcome_from_string(std::string_view name) { return value_of(kOutcomeNames, name, "outcome"); }
ErrorKind error_kind_from_string(std::string_view name) { return value_of(kErrorNames, name, "error"); }

nlohmann::json to_json(const Op& op) {
  nlohmann::json j;
  j["process"] = op.process;
  j["pid"] = op.pid;
  j["op"] = to_string(op.kind);
  j["obj"] = op.object;
  if (is_tag(op.value)) {
    j["value"] = fmt::format("{}:{}", tag_producer(op.value), tag_seq(op.value));
  } else if (static_cast<std::int64_t>(op.value) < 0) {
    j["value"] = static_cast<std::int64_t>(op.value);
  } else {
    j["value"] = op.value;
  }
  if (op.aux != 0) j["aux"] = op.aux;
  if (op.timeout_ns == kNoTimeout) {
    j["timeout"] = nullptr;
  } else {
    j["timeout"] = static_cast<double>(op.timeout_ns) / 1e9;
  }
  j["outcome"] = to_string(op.outcome);
  if (op.error != ErrorKind::none) j["error"] = to_string(op.error);
  j["invoke"] = op.invoke_ns;
  if (op.return_ns == kNever) {
    j["return"] = nullptr;
  } else {
    j["return"] = op.return_ns;
  }
  return j;
}

Op op_from_json(const nlohmann::json& j) {
  if (!j.is_object()) throw std::invalid_argument("an op must be a JSON object");
  const auto need = [&](const char* key) -> const nlohmann::json& {
    const auto it = j.find(key);
    if (it == j.end()) throw std::invalid_argument(fmt::format("missing field '{}'", key));
    return *it;
  };
  Op op;
  try {
    op.process = need("process").get<std::uint32_t>();
    op.kind = op_kind_from_string(need("op").get<std::string>());
    op.outcome = outcome_from_string(need("outcome").get<std::string>());
    op.invoke_ns = parse_time(need("invoke"), "invoke");
    if (auto it = j.find("pid"); it != j.end()) op.pid = it->get<std::int32_t>();
    if (auto it = j.find("obj"); it != j.end()) op.object = it->get<std::uint32_t>();
    if (auto it = j.find("value"); it != j.end()) op.value = parse_value(*it);
    if (auto it = j.find("aux"); it != j.end()) op.aux = parse_value(*it);
    if (auto it = j.find("timeout"); it != j.end() && !it->is_null()) {
      if (!it->is_number()) throw std::invalid_argument("timeout must be a number of seconds or null");
      const double t = it->get<double>();
      op.timeout_ns = t > 0 ? static_cast<std::int64_t>(std::llround(t * 1e9)) : 0;
    }
    if (auto it = j.find("error"); it != j.end() && !it->is_null())
      op.error = error_kind_from_string(it->get<std::string>());
    if (auto it = j.find("return"); it != j.end() && !it->is_null()) {
      op.return_ns = parse_time(*it, "return");
    } else {
      op.return_ns = kNever;
    }
  } catch (const nlohmann::json::exception& e) {
    throw std::invalid_argument(fmt::format("bad field type: {}", e.what()));
  }
  if (op.return_ns == kNever && op.outcome != Outcome::info)
    throw std::invalid_argument("only an info op may lack a return time");
  if (op.return_ns != kNever && op.return_ns < op.invoke_ns)
    throw std::invalid_argument("return before invoke");
  if (op.outcome == Outcome::fail && op.error == ErrorKind::none)
    throw std::invalid_argument("a fail op needs an error");
  return op;
}

std::string to_jsonl(const History& history) {
  std::string out;
  if (history.dropped != 0 || history.torn != 0) {
    nlohmann::json meta;
    meta["meta"] = {{"dropped", history.dropped}, {"torn", history.torn}};
    out += meta.dump();
    out += '\n';
  }
  for (const Op& op : history.ops) {
    out += to_json(op).dump();
    out += '\n';
  }
  return out;
}

History history_from_jsonl(std::string_view text) {
  History h;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    const std::size_t end = std::min(text.find('\n', pos), text.size());
    const std::string_view line = text.substr(pos, end - pos);
    ++line_no;
    pos = end + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      if (end == text.size()) break;
      continue;
    }
    try {
      const auto j = nlohmann::json::parse(line);
      if (j.is_object() && j.contains("meta")) {
        const auto& m = j["meta"];
        if (m.contains("dropped")) h.dropped = m["dropped"].get<std::uint64_t>();
        if (m.contains("torn")) h.torn = m["torn"].get<std::uint64_t>();
      } else {
        h.ops.push_back(op_from_json(j));
      }
    } catch (const std::exception& e) {
      throw std::invalid_argument(fmt::format("history line {}: {}", line_no, e.what()));
    }
    if (end == text.size()) break;
  }
  return h;
}

History load_history(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(fmt::format("cannot open {}", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  try {
    return history_from_jsonl(ss.str());
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(fmt::format("{}: {}", path.string(), e.what()));
  }
}

void save_history(const std::filesystem::path& path, const History& history) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) throw std::invalid_argument(fmt::format("cannot write {}", path.string()));
  out << to_jsonl(history);
  if (!out) throw std::invalid_argument(fmt::format("write failed: {}", path.string()));
}

std::string describe(const Op& op) {
  std::string value;
  if (is_tag(op.value)) {
    value = fmt::format("{}:{}", tag_producer(op.value), tag_seq(op.value));
  } else {
    value = fmt::format("{}", static_cast<std::int64_t>(op.value));
  }
  std::string outcome(to_string(op.outcome));
  if (op.error != ErrorKind::none) outcome += fmt::format(" {}", to_string(op.error));
  std::string timeout;
  if (op.timeout_ns != kNoTimeout) timeout = fmt::format(", timeout {:.3f}", static_cast<double>(op.timeout_ns) / 1e9);
  const std::string ret = op.return_ns == kNever
                              ? std::string("never")
                              : fmt::format("{:.6f}", static_cast<double>(op.return_ns) / 1e9);
  return fmt::format("p{} {}(obj {}, {}{}) {} [{:.6f} .. {}]", op.process, to_string(op.kind), op.object,
                     value, timeout, outcome, static_cast<double>(op.invoke_ns) / 1e9, ret);
}

}  // namespace mpconform
