// Plans as JSON (INTERPRETING.md, "Plans"), and their validation.
#include "mpconform/plan.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <set>
#include <stdexcept>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "mpconform/history.hpp"
#include "mpconform/scenario.hpp"
#include "mpconform/tiers.hpp"

namespace mpconform {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 8> kObjectNames{
    "queue", "joinable_queue", "simple_queue", "lock", "rlock", "pipe", "value", "ticket_file"};

constexpr std::array<std::string_view, 25> kOpNames{
    "sleep",   "put",     "get",      "qsize",     "empty",         "full",     "task_done",
    "join",    "acquire", "release",  "send",      "recv",          "poll",     "close",
    "read",    "consume", "drain",    "critical_section",           "increment", "buy",
    "recv_all", "start_children", "exit_handling", "observe", "timed_process_join"};
static_assert(kOpNames.size() == static_cast<std::size_t>(StepOp::timed_process_join) + 1);

// The fields each op reads (beyond "op"); the JSON of a step has exactly these (when they
// differ from the defaults), and a step with any other field is refused.
std::vector<std::string_view> fields_of(StepOp op) {
  switch (op) {
    case StepOp::sleep: return {"us"};
    case StepOp::put: return {"obj", "item", "block", "timeout", "delay_us", "retry_full"};
    case StepOp::get:
    case StepOp::acquire: return {"obj", "block", "timeout", "delay_us"};
    case StepOp::qsize:
    case StepOp::empty:
    case StepOp::full:
    case StepOp::task_done:
    case StepOp::release:
    case StepOp::read: return {"obj", "delay_us"};
    case StepOp::join: return {"obj", "timeout", "delay_us"};
    case StepOp::send: return {"obj", "end", "record", "item", "bytes", "delay_us"};
    case StepOp::recv: return {"obj", "end", "record", "bytes", "delay_us"};
    case StepOp::close: return {"obj", "end", "record", "delay_us"};
    case StepOp::poll: return {"obj", "end", "record", "timeout", "delay_us"};
    case StepOp::consume:
      return {"obj", "quota", "gets", "probes", "task_done", "task_pause_us"};
    case StepOp::drain: return {"obj", "limit"};
    case StepOp::critical_section:
      return {"obj", "block", "timeout", "delay_us", "depth", "hold_us", "release_unowned_first"};
    case StepOp::increment: return {"obj", "hold_us"};
    case StepOp::buy: return {"obj", "record", "store", "attempts", "hold_us", "delay_us"};
    case StepOp::recv_all: return {"obj", "end", "record", "polls", "limit", "until_quiet", "bytes"};
    case StepOp::start_children: return {"children"};
    case StepOp::exit_handling: return {"delay_us"};
    case StepOp::observe: return {"watch"};
    case StepOp::timed_process_join: return {"timeout", "delay_us"};
  }
  return {};
}

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw std::invalid_argument(fmt::format("plan: {}: {}", path, what));
}

json timeout_json(const std::optional<double>& t) { return t ? json(*t) : json(nullptr); }

std::string tag_text(std::uint64_t v) {
  return is_tag(v) ? fmt::format("{}:{}", tag_producer(v), tag_seq(v)) : std::to_string(v);
}

// ---- reading, with the path of every field in the error -------------------------------------

const json& member(const json& j, const std::string& path, const char* key) {
  if (!j.is_object()) bad(path, "must be an object");
  if (!j.contains(key)) bad(path, fmt::format("missing field '{}'", key));
  return j.at(key);
}

template <class T>
T number(const json& v, const std::string& path, T lo, T hi) {
  if (!v.is_number_integer()) bad(path, "must be an integer");
  const auto wide = v.get<long double>();
  if (wide < static_cast<long double>(lo) || wide > static_cast<long double>(hi))
    bad(path, fmt::format("is {}, expected {}..{}", v.dump(), lo, hi));
  return v.get<T>();
}

bool boolean(const json& v, const std::string& path) {
  if (!v.is_boolean()) bad(path, "must be true or false");
  return v.get<bool>();
}

std::optional<double> timeout_of(const json& v, const std::string& path) {
  if (v.is_null()) return std::nullopt;
  if (!v.is_number() || !std::isfinite(v.get<double>())) bad(path, "must be a number of seconds or null");
  const double t = v.get<double>();
  if (t > 60) bad(path, fmt::format("is {} s, at most 60", t));
  return t;
}

std::uint64_t item_of(const json& v, const std::string& path) {
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    const auto colon = s.find(':');
    try {
      if (colon != std::string::npos)
        return make_tag(static_cast<std::uint32_t>(std::stoul(s.substr(0, colon))), std::stoull(s.substr(colon + 1)));
    } catch (const std::exception&) {
    }
  }
  bad(path, "must be a tag \"P:S\" or a non-negative integer");
}

std::uint32_t u32(const json& v, const std::string& path, std::uint32_t hi = 10'000'000) {
  return number<std::uint32_t>(v, path, 0, hi);
}

CallSpec call_of(const json& j, const std::string& path) {
  CallSpec c;
  if (!j.is_object()) bad(path, "must be an object");
  for (const auto& [k, v] : j.items()) {
    const std::string p = path + "." + k;
    if (k == "block") c.block = boolean(v, p);
    else if (k == "timeout") c.timeout = timeout_of(v, p);
    else if (k == "delay_us") c.delay_us = u32(v, p, 1'000'000);
    else bad(p, "unknown field");
  }
  return c;
}

json call_json(const CallSpec& c) {
  json j = json::object();
  if (!c.block) j["block"] = false;
  j["timeout"] = timeout_json(c.timeout);
  if (c.delay_us != 0) j["delay_us"] = c.delay_us;
  return j;
}

Step step_of(const json& j, const std::string& path) {
  Step s;
  const json& op = member(j, path, "op");
  if (!op.is_string()) bad(path + ".op", "must be a string");
  const auto it = std::find(kOpNames.begin(), kOpNames.end(), op.get<std::string>());
  if (it == kOpNames.end()) bad(path + ".op", fmt::format("unknown op '{}'", op.get<std::string>()));
  s.op = static_cast<StepOp>(it - kOpNames.begin());
  const auto allowed = fields_of(s.op);
  for (const auto& [k, v] : j.items()) {
    if (k == "op") continue;
    const std::string p = path + "." + k;
    if (std::find(allowed.begin(), allowed.end(), k) == allowed.end())
      bad(p, fmt::format("not a field of '{}'", op.get<std::string>()));
    if (k == "obj") s.obj = u32(v, p, kMaxPlanObjects - 1);
    else if (k == "end") s.end = u32(v, p, 1);
    else if (k == "record") s.record = u32(v, p, 1u << 20);
    else if (k == "item") s.item = item_of(v, p);
    else if (k == "block") s.call.block = boolean(v, p);
    else if (k == "timeout") s.call.timeout = timeout_of(v, p);
    else if (k == "delay_us") s.call.delay_us = u32(v, p, 1'000'000);
    else if (k == "retry_full") s.retry_full = boolean(v, p);
    else if (k == "bytes") s.bytes = boolean(v, p);
    else if (k == "us") s.us = u32(v, p, 10'000'000);
    else if (k == "quota") s.quota = u32(v, p, 1u << 20);
    else if (k == "task_done") s.task_done = boolean(v, p);
    else if (k == "task_pause_us") s.task_pause_us = u32(v, p, 1'000'000);
    else if (k == "limit") s.limit = u32(v, p, 1u << 20);
    else if (k == "depth") s.depth = number<std::uint32_t>(v, p, 1, 64);
    else if (k == "hold_us") s.hold_us = u32(v, p, 1'000'000);
    else if (k == "release_unowned_first") s.release_unowned_first = boolean(v, p);
    else if (k == "store") s.store = u32(v, p, kMaxPlanObjects - 1);
    else if (k == "attempts") s.attempts = number<std::uint32_t>(v, p, 1, 1000);
    else if (k == "until_quiet") s.until_quiet = boolean(v, p);
    else if (k == "gets" || k == "probes" || k == "polls" || k == "children" || k == "watch") {
      if (!v.is_array()) bad(p, "must be an array");
      for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string q = fmt::format("{}[{}]", p, i);
        if (k == "gets") s.gets.push_back(call_of(v[i], q));
        else if (k == "polls") s.polls.push_back(timeout_of(v[i], q));
        else if (k == "watch") s.watch.push_back(u32(v[i], q, kMaxPlanProcesses - 1));
        else if (k == "probes") {
          if (!v[i].is_string()) bad(q, "must be a string");
          const std::string pr = v[i].get<std::string>();
          if (pr != "" && pr != "qsize" && pr != "empty" && pr != "full")
            bad(q, fmt::format("unknown probe '{}' (\"\", qsize, empty, full)", pr));
          s.probes.push_back(pr);
        } else {
          ChildSpec c;
          for (const auto& [ck, cv] : v[i].items()) {
            const std::string cp = q + "." + ck;
            if (ck == "process") c.process = u32(cv, cp, kMaxPlanProcesses - 1);
            else if (ck == "daemon") c.daemon = boolean(cv, cp);
            else if (ck == "run_us") c.run_us = u32(cv, cp, 1'000'000);
            else bad(cp, "unknown field");
          }
          s.children.push_back(c);
        }
      }
    }
  }
  return s;
}

json step_json(const Step& s) {
  json j{{"op", kOpNames[static_cast<std::size_t>(s.op)]}};
  const Step d;
  for (std::string_view f : fields_of(s.op)) {
    const std::string k(f);
    if (f == "obj") j[k] = s.obj;
    else if (f == "end") { if (s.end != d.end) j[k] = s.end; }
    else if (f == "record") { if (s.record) j[k] = *s.record; }
    else if (f == "item") j[k] = tag_text(s.item);
    else if (f == "block") { if (!s.call.block) j[k] = false; }
    else if (f == "timeout") j[k] = timeout_json(s.call.timeout);
    else if (f == "delay_us") { if (s.call.delay_us) j[k] = s.call.delay_us; }
    else if (f == "retry_full") { if (s.retry_full) j[k] = true; }
    else if (f == "bytes") { if (s.bytes) j[k] = true; }
    else if (f == "us") j[k] = s.us;
    else if (f == "quota") j[k] = s.quota;
    else if (f == "gets") {
      j[k] = json::array();
      for (const CallSpec& c : s.gets) j[k].push_back(call_json(c));
    } else if (f == "probes") { if (!s.probes.empty()) j[k] = s.probes; }
    else if (f == "task_done") { if (s.task_done) j[k] = true; }
    else if (f == "task_pause_us") { if (s.task_pause_us) j[k] = s.task_pause_us; }
    else if (f == "limit") j[k] = s.limit;
    else if (f == "depth") { if (s.depth != 1) j[k] = s.depth; }
    else if (f == "hold_us") { if (s.hold_us) j[k] = s.hold_us; }
    else if (f == "release_unowned_first") { if (s.release_unowned_first) j[k] = true; }
    else if (f == "store") j[k] = s.store;
    else if (f == "attempts") j[k] = s.attempts;
    else if (f == "polls") {
      if (!s.polls.empty()) {
        j[k] = json::array();
        for (const auto& t : s.polls) j[k].push_back(timeout_json(t));
      }
    } else if (f == "until_quiet") { if (s.until_quiet) j[k] = true; }
    else if (f == "children") {
      j[k] = json::array();
      for (const ChildSpec& c : s.children)
        j[k].push_back({{"process", c.process}, {"daemon", c.daemon}, {"run_us", c.run_us}});
    } else if (f == "watch") j[k] = s.watch;
  }
  return j;
}

}  // namespace

std::string_view to_string(ObjectType t) noexcept { return kObjectNames[static_cast<std::size_t>(t)]; }
std::string_view to_string(StepOp op) noexcept { return kOpNames[static_cast<std::size_t>(op)]; }

PlanTiming plan_timing() {
  PlanTiming t;
  const double s = seconds(tiers::short_);
  t.patience = 2 * s;
  t.daemon_life = 4 * s;
  t.observe = 6 * s;
  t.settle = seconds(tiers::clock);
  t.wait = seconds(tiers::long_);
  return t;
}

json to_json(const Plan& plan) {
  json j;
  j["timing"] = {{"patience", plan.timing.patience}, {"daemon_life", plan.timing.daemon_life},
                 {"observe", plan.timing.observe},   {"settle", plan.timing.settle},
                 {"wait", plan.timing.wait}};
  j["objects"] = json::array();
  for (const PlanObject& o : plan.objects) {
    json oj{{"type", to_string(o.type)}};
    switch (o.type) {
      case ObjectType::queue:
      case ObjectType::joinable_queue: oj["maxsize"] = o.maxsize; break;
      case ObjectType::pipe: oj["duplex"] = o.duplex; break;
      case ObjectType::value:
      case ObjectType::ticket_file: oj["initial"] = o.initial; break;
      default: break;
    }
    j["objects"].push_back(oj);
  }
  if (!plan.setup.empty()) {  // setup_process means nothing without setup steps
    j["setup_process"] = plan.setup_process;
    j["setup"] = json::array();
    for (const Step& s : plan.setup) j["setup"].push_back(step_json(s));
  }
  j["processes"] = json::array();
  for (const PlanProcess& p : plan.processes) {
    json pj{{"index", p.index}, {"role", p.role}, {"phase", p.phase}};
    if (!p.close_first.empty()) {
      pj["close_first"] = json::array();
      for (const auto& [o, e] : p.close_first) pj["close_first"].push_back({o, e});
    }
    pj["steps"] = json::array();
    for (const Step& s : p.steps) pj["steps"].push_back(step_json(s));
    j["processes"].push_back(pj);
  }
  return j;
}

Plan plan_from_json(const json& j) {
  Plan plan;
  if (!j.is_object()) bad("plan", "must be a JSON object");
  for (const auto& [k, v] : j.items())
    if (k != "timing" && k != "objects" && k != "setup" && k != "setup_process" && k != "processes" &&
        k != "schedule")  // the schedule is how to run the plan: schedule_from_plan_json
      bad(k, "unknown field");
  if (j.contains("timing")) {
    const json& t = j.at("timing");
    if (!t.is_object()) bad("timing", "must be an object");
    for (const auto& [k, v] : t.items()) {
      const std::string p = "timing." + k;
      if (!v.is_number() || !(v.get<double>() >= 0) || v.get<double>() > 600) bad(p, "must be 0..600 seconds");
      const double x = v.get<double>();
      if (k == "patience") plan.timing.patience = x;
      else if (k == "daemon_life") plan.timing.daemon_life = x;
      else if (k == "observe") plan.timing.observe = x;
      else if (k == "settle") plan.timing.settle = x;
      else if (k == "wait") plan.timing.wait = x;
      else bad(p, "unknown field");
    }
  }
  const json& objects = member(j, "plan", "objects");
  if (!objects.is_array()) bad("objects", "must be an array");
  for (std::size_t i = 0; i < objects.size(); ++i) {
    const std::string path = fmt::format("objects[{}]", i);
    const json& o = objects[i];
    const json& type = member(o, path, "type");
    const auto it = type.is_string() ? std::find(kObjectNames.begin(), kObjectNames.end(), type.get<std::string>())
                                     : kObjectNames.end();
    if (it == kObjectNames.end()) bad(path + ".type", fmt::format("unknown object type {}", type.dump()));
    PlanObject po;
    po.type = static_cast<ObjectType>(it - kObjectNames.begin());
    for (const auto& [k, v] : o.items()) {
      const std::string p = path + "." + k;
      if (k == "type") continue;
      if (k == "maxsize") po.maxsize = number<std::int64_t>(v, p, -1, 1 << 20);
      else if (k == "duplex") po.duplex = boolean(v, p);
      else if (k == "initial") po.initial = number<std::uint64_t>(v, p, 0, std::uint64_t{1} << 62);
      else bad(p, "unknown field");
    }
    plan.objects.push_back(po);
  }
  if (j.contains("setup_process")) plan.setup_process = u32(j.at("setup_process"), "setup_process", kMaxPlanProcesses - 1);
  if (j.contains("setup")) {
    const json& setup = j.at("setup");
    if (!setup.is_array()) bad("setup", "must be an array");
    for (std::size_t i = 0; i < setup.size(); ++i) plan.setup.push_back(step_of(setup[i], fmt::format("setup[{}]", i)));
  }
  const json& procs = member(j, "plan", "processes");
  if (!procs.is_array()) bad("processes", "must be an array");
  for (std::size_t i = 0; i < procs.size(); ++i) {
    const std::string path = fmt::format("processes[{}]", i);
    const json& pj = procs[i];
    PlanProcess p;
    p.index = u32(member(pj, path, "index"), path + ".index", kMaxPlanProcesses - 1);
    for (const auto& [k, v] : pj.items()) {
      const std::string f = path + "." + k;
      if (k == "index") continue;
      if (k == "role") {
        if (!v.is_string()) bad(f, "must be a string");
        p.role = v.get<std::string>();
      } else if (k == "phase") {
        p.phase = number<int>(v, f, 0, 8);
      } else if (k == "close_first") {
        if (!v.is_array()) bad(f, "must be an array of [obj, end]");
        for (std::size_t c = 0; c < v.size(); ++c) {
          const std::string q = fmt::format("{}[{}]", f, c);
          if (!v[c].is_array() || v[c].size() != 2) bad(q, "must be [obj, end]");
          p.close_first.emplace_back(u32(v[c][0], q, kMaxPlanObjects - 1), u32(v[c][1], q, 1));
        }
      } else if (k == "steps") {
        if (!v.is_array()) bad(f, "must be an array");
        if (v.size() > kMaxPlanSteps) bad(f, fmt::format("{} steps, at most {}", v.size(), kMaxPlanSteps));
        for (std::size_t s = 0; s < v.size(); ++s) p.steps.push_back(step_of(v[s], fmt::format("{}[{}]", f, s)));
      } else {
        bad(f, "unknown field");
      }
    }
    plan.processes.push_back(std::move(p));
  }
  validate_plan(plan);
  return plan;
}

nlohmann::json schedule_json(const Schedule& s) {
  json j{{"mode", to_string(s.mode)}};
  if (s.mode == ScheduleMode::pct) {
    j["priorities"] = s.priorities;
    j["change_points"] = s.change_points;
  }
  if (s.mode == ScheduleMode::overlap) {
    j["iterations"] = s.iterations;
    j["seconds"] = s.seconds;
    j["max_offset_ns"] = s.max_offset_ns;
    j["offset_seed"] = s.offset_seed;
  }
  return j;
}

std::string overlap_unsupported(const Plan& plan) {
  if (!plan.setup.empty()) return "setup: the executor's setup steps (run once, before any process)";
  for (std::size_t i = 0; i < plan.processes.size(); ++i) {
    const PlanProcess& p = plan.processes[i];
    if (!p.close_first.empty()) return fmt::format("processes[{}].close_first: closes a pipe end", i);
    for (std::size_t k = 0; k < p.steps.size(); ++k)
      switch (p.steps[k].op) {
        case StepOp::close:
        case StepOp::start_children:
        case StepOp::exit_handling:
        case StepOp::observe:
        case StepOp::timed_process_join:
          return fmt::format("processes[{}].steps[{}]: {}", i, k, to_string(p.steps[k].op));
        default: break;
      }
  }
  return {};
}

Schedule schedule_from_plan_json(const nlohmann::json& plan) {
  if (!plan.is_object() || !plan.contains("schedule")) return {};
  return schedule_from_json(plan.at("schedule"));
}

Schedule schedule_from_json(const nlohmann::json& j) {
  Schedule s;
  bool depth_given = false;
  if (!j.is_object()) bad("schedule", "must be an object");
  for (const auto& [k, v] : j.items()) {
    const std::string p = "schedule." + k;
    if (k == "mode") {
      if (v != "pct" && v != "delays" && v != "overlap") bad(p, "must be \"delays\", \"pct\" or \"overlap\"");
      s.mode = schedule_mode_from_string(v.get<std::string>());
    } else if (k == "iterations") {
      s.iterations = number<std::uint64_t>(v, p, 1, 1'000'000);
    } else if (k == "seconds") {
      if (!v.is_number() || !(v.get<double>() > 0 && v.get<double>() <= 60)) bad(p, "must be a number of seconds in (0, 60]");
      s.seconds = v.get<double>();
    } else if (k == "max_offset_ns") {
      s.max_offset_ns = number<std::uint32_t>(v, p, 0, 1'000'000);
    } else if (k == "offset_seed") {
      s.offset_seed = number<std::uint64_t>(v, p, 0, UINT64_MAX);
    } else if (k == "depth") {
      s.depth = number<std::uint32_t>(v, p, 1, 4);
      depth_given = true;
    } else if (k == "calls") {
      s.calls = number<std::uint64_t>(v, p, 0, std::uint64_t{1} << 40);
    } else if (k == "cpu") {
      // Where the Python executor pins the processes (the harness writes it); the C++ executor
      // always uses pct_cpu().
      (void)number<std::uint32_t>(v, p, 0, 8191);
    } else if (k == "priorities" || k == "change_points") {
      if (!v.is_array()) bad(p, "must be an array");
      for (std::size_t i = 0; i < v.size(); ++i) {
        const std::string q = fmt::format("{}[{}]", p, i);
        if (k == "priorities") s.priorities.push_back(number<std::uint32_t>(v[i], q, 1, 98));
        else s.change_points.push_back(number<std::uint64_t>(v[i], q, 1, std::uint64_t{1} << 40));
      }
    } else {
      bad(p, "unknown field");
    }
  }
  if (!depth_given) s.depth = static_cast<std::uint32_t>(s.change_points.size() + 1);
  if (s.mode == ScheduleMode::overlap) {
    if (s.iterations == 0) s.iterations = 1000;
    if (s.seconds == 0) s.seconds = 1.0;
  }
  return s;
}

void validate_plan(const Plan& plan) {
  if (plan.objects.size() > kMaxPlanObjects)
    bad("objects", fmt::format("{} objects, at most {}", plan.objects.size(), kMaxPlanObjects));
  if (plan.processes.empty()) bad("processes", "no process");
  if (plan.processes.size() > kMaxPlanProcesses)
    bad("processes", fmt::format("{} processes, at most {}", plan.processes.size(), kMaxPlanProcesses));
  std::set<std::uint32_t> indices;
  auto type_of = [&](std::uint32_t obj, const std::string& path) {
    if (obj >= plan.objects.size()) bad(path + ".obj", fmt::format("object {} does not exist", obj));
    return plan.objects[obj].type;
  };
  auto check_step = [&](const Step& s, const std::string& path) {
    using T = ObjectType;
    auto need = [&](std::uint32_t obj, std::initializer_list<T> types, const char* field = "obj") {
      const T t = type_of(obj, path);
      if (std::find(types.begin(), types.end(), t) == types.end())
        bad(fmt::format("{}.{}", path, field), fmt::format("'{}' does not apply to a {}", to_string(s.op), to_string(t)));
    };
    const auto queues = {T::queue, T::joinable_queue, T::simple_queue};
    switch (s.op) {
      case StepOp::sleep:
      case StepOp::exit_handling:
      case StepOp::timed_process_join: break;
      case StepOp::put:
      case StepOp::get:
      case StepOp::empty:
      case StepOp::consume:
      case StepOp::drain: need(s.obj, queues); break;
      case StepOp::qsize:
      case StepOp::full: need(s.obj, {T::queue, T::joinable_queue}); break;
      case StepOp::task_done:
      case StepOp::join: need(s.obj, {T::joinable_queue}); break;
      case StepOp::acquire:
      case StepOp::release:
      case StepOp::critical_section: need(s.obj, {T::lock, T::rlock}); break;
      case StepOp::send:
      case StepOp::recv:
      case StepOp::poll:
      case StepOp::close:
      case StepOp::recv_all: need(s.obj, {T::pipe}); break;
      case StepOp::read: need(s.obj, {T::value, T::ticket_file}); break;
      case StepOp::increment: need(s.obj, {T::value}); break;
      case StepOp::buy:
        need(s.obj, {T::lock, T::rlock, T::value});
        need(s.store, {T::value, T::ticket_file}, "store");
        if (plan.objects[s.obj].type == T::value && s.obj != s.store)
          bad(path + ".obj", "a value's own lock is named by obj == store");
        break;
      case StepOp::start_children:
        for (const ChildSpec& c : s.children) {
          if (!indices.insert(c.process).second)
            bad(path + ".children", fmt::format("process {} is used twice", c.process));
        }
        break;
      case StepOp::observe: break;
    }
    if (s.op == StepOp::consume) {
      if (s.gets.empty() || s.gets.size() > 64) bad(path + ".gets", "1..64 entries");
      if (s.probes.size() > 64) bad(path + ".probes", "at most 64 entries");
      if (s.task_done && plan.objects[s.obj].type != T::joinable_queue)
        bad(path + ".task_done", "only on a joinable_queue");
    }
  };
  for (std::size_t i = 0; i < plan.setup.size(); ++i) {
    const Step& s = plan.setup[i];
    const std::string path = fmt::format("setup[{}]", i);
    check_step(s, path);
    const bool nowait = (s.op == StepOp::put || s.op == StepOp::get || s.op == StepOp::acquire) && !s.call.block;
    if (!nowait && s.op != StepOp::qsize && s.op != StepOp::empty && s.op != StepOp::full && s.op != StepOp::read)
      bad(path, "a setup step must not wait (put/get/acquire with block false, or a probe)");
  }
  for (std::size_t i = 0; i < plan.processes.size(); ++i) {
    const PlanProcess& p = plan.processes[i];
    const std::string path = fmt::format("processes[{}]", i);
    if (!indices.insert(p.index).second) bad(path + ".index", fmt::format("process {} is used twice", p.index));
    for (const auto& [o, e] : p.close_first)
      if (type_of(o, path + ".close_first") != ObjectType::pipe) bad(path + ".close_first", "only pipe ends");
    for (std::size_t s = 0; s < p.steps.size(); ++s) check_step(p.steps[s], fmt::format("{}.steps[{}]", path, s));
  }
  if (!plan.setup.empty() && indices.count(plan.setup_process))
    bad("setup_process", fmt::format("process {} is also a plan process", plan.setup_process));
  if (indices.size() > kMaxPlanProcesses) bad("processes", "more than 32 processes including children");
}

}  // namespace mpconform
