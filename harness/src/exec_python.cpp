// The Python executor's harness side: runs harness/python/mpconform_exec.py on a plan inside
// the run's process group, watches it, and merges its JSON Lines into a History.
#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "detail/group.hpp"
#include "detail/temp.hpp"
#include "mpconform/executor.hpp"
#include "mpconform/tiers.hpp"

#ifndef MPCONFORM_SOURCE_DIR
#error "MPCONFORM_SOURCE_DIR must be defined by the build"
#endif
#ifndef MPCONFORM_BINARY_DIR
#error "MPCONFORM_BINARY_DIR must be defined by the build"
#endif

namespace mpconform {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v != nullptr && *v != '\0' ? std::string(v) : fallback;
}

std::uint64_t value_of(const json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    const auto colon = s.find(':');
    if (colon == std::string::npos) throw std::invalid_argument("value: not a tag");
    return make_tag(static_cast<std::uint32_t>(std::stoul(s.substr(0, colon))), std::stoull(s.substr(colon + 1)));
  }
  if (v.is_number_integer()) return static_cast<std::uint64_t>(v.get<std::int64_t>());
  if (v.is_number_unsigned()) return v.get<std::uint64_t>();
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  throw std::invalid_argument("value: not an integer or tag");
}

// What one process's file says.
struct ProcessFile {
  std::uint32_t process = 0;
  pid_t pid = 0;
  std::vector<Op> ops;  // in call order; info with kNever until completed
  std::string note;
};

// Reads p<index>.jsonl. A torn last line (the process was killed mid-write) is ignored.
ProcessFile read_process_file(const fs::path& path) {
  ProcessFile f;
  std::ifstream in(path);
  std::string line;
  std::map<std::uint64_t, std::size_t> by_call;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j;
    try {
      j = json::parse(line);
    } catch (const json::exception&) {
      continue;
    }
    if (j.contains("pid")) {
      f.process = j.value("process", 0u);
      f.pid = j.value("pid", 0);
    } else if (j.contains("note")) {
      f.note = j.at("note").is_string() ? j.at("note").get<std::string>() : j.at("note").dump();
    } else if (j.contains("i")) {
      Op op;
      op.process = f.process;
      op.pid = f.pid;
      op.kind = op_kind_from_string(j.at("op").get<std::string>());
      op.object = j.value("obj", 0u);
      if (j.contains("value") && !j.at("value").is_null()) op.value = value_of(j.at("value"));
      op.aux = j.value("aux", std::uint64_t{0});
      const json& t = j.contains("timeout") ? j.at("timeout") : json(nullptr);
      op.timeout_ns = t.is_null() ? kNoTimeout : static_cast<std::int64_t>(t.get<double>() * 1e9);
      op.invoke_ns = j.at("t").get<std::int64_t>();
      op.outcome = Outcome::info;
      op.return_ns = kNever;
      by_call[j.at("i").get<std::uint64_t>()] = f.ops.size();
      f.ops.push_back(op);
    } else if (j.contains("c")) {
      const auto it = by_call.find(j.at("c").get<std::uint64_t>());
      if (it == by_call.end()) continue;
      Op& op = f.ops[it->second];
      op.outcome = outcome_from_string(j.at("outcome").get<std::string>());
      if (j.contains("error") && !j.at("error").is_null()) op.error = error_kind_from_string(j.at("error").get<std::string>());
      if (j.contains("value") && !j.at("value").is_null()) op.value = value_of(j.at("value"));
      op.return_ns = j.at("t").get<std::int64_t>();
    }
  }
  return f;
}

std::uint64_t bytes_in(const fs::path& dir) {
  std::uint64_t n = 0;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) n += e.file_size(ec);
  return n;
}

// The last non-empty line (of a traceback: the exception itself).
std::string last_line(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  const auto nl = text.rfind('\n');
  return nl == std::string::npos ? text : text.substr(nl + 1);
}

class PythonExecutor final : public Executor {
 public:
  explicit PythonExecutor(std::string module) : module_(std::move(module)), setup_(python_setup()) {}
  std::string name() const override { return "python:" + module_; }
  Profile default_profile() const override { return Profile::cpython; }

  Execution execute(const Plan& plan, const ExecOptions& options) override {
    Execution out;
    const std::int64_t t0 = monotonic_ns();
    const detail::TempDir dir("run");
    {
      json doc = to_json(plan);
      if (options.schedule.mode != ScheduleMode::delays) doc["schedule"] = schedule_json(options.schedule);
      if (options.schedule.mode == ScheduleMode::pct) doc["schedule"]["cpu"] = pct_cpu();
      std::ofstream(dir.path() / "plan.json") << doc.dump() << "\n";
    }
    detail::Group group(out);
    group.start();
    const std::string pythonpath = join_path(setup_.path, env_or("PYTHONPATH", ""));
    const std::string plan_file = (dir.path() / "plan.json").string();
    const std::string out_dir = dir.path().string();
    const std::string err_file = (dir.path() / "stderr.txt").string();
    // The executor itself is not a plan process: it is listed as the "executor" (index past the
    // plan's) and never enters the history.
    group.fork_child(kMaxPlanProcesses, "executor", [&] {
      ::setenv("PYTHONPATH", pythonpath.c_str(), 1);
      ::setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
      std::FILE* err = std::freopen(err_file.c_str(), "w", stderr);
      (void)err;
      std::FILE* devnull = std::freopen("/dev/null", "w", stdout);
      (void)devnull;
      const char* argv[] = {setup_.python.c_str(), setup_.script.c_str(), "--module", module_.c_str(), "--plan",
                            plan_file.c_str(),      "--out",               out_dir.c_str(), nullptr};
      ::execv(argv[0], const_cast<char* const*>(argv));
      std::fprintf(stderr, "cannot run %s: %s\n", argv[0], std::strerror(errno));
      ::_exit(127);
    });
    const double bound = options.time_bound_s.value_or(seconds(tiers::watchdog));
    const std::int64_t deadline = t0 + static_cast<std::int64_t>(bound * 1e9);
    // Python's own start (interpreter, module import) is not progress of the plan: allow the
    // long tier for it on top of the stall bound.
    const std::int64_t stall = 2 * nanoseconds(tiers::long_);
    const bool finished = group.wait_all(deadline, stall, [&] { return bytes_in(dir.path()); });

    // Read what was written before killing anything (a hang report needs the pending calls).
    std::map<std::uint32_t, ProcessFile> files;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir.path(), ec)) {
      const std::string name = e.path().filename().string();
      if (name.size() > 7 && name[0] == 'p' && name.ends_with(".jsonl")) {
        ProcessFile f = read_process_file(e.path());
        files[f.process] = std::move(f);
      }
    }
    std::map<std::uint32_t, int> exits;
    bool done = false;
    {
      std::ifstream in(dir.path() / "exec.jsonl");
      std::string line;
      while (std::getline(in, line)) {
        try {
          const json j = json::parse(line);
          if (j.contains("done")) done = true;
          if (j.contains("iterations")) out.iteration_starts = j.at("iterations").get<std::vector<std::int64_t>>();
          if (j.contains("exitcode") && !j.at("exitcode").is_null())
            exits[j.at("process").get<std::uint32_t>()] = j.at("exitcode").get<int>();
        } catch (const std::exception&) {
        }
      }
    }
    std::map<std::uint32_t, std::string> roles;
    for (const PlanProcess& p : plan.processes) roles[p.index] = p.role;
    for (auto& [index, f] : files) {
      if (index == plan.setup_process && !roles.count(index)) continue;
      ProcessReport r;
      r.process = index;
      r.pid = f.pid;
      r.role = roles.count(index) ? roles[index] : "child";
      r.note = f.note;
      if (exits.count(index)) r.status = exits[index];
      for (const Op& op : f.ops)
        if (!op.completed()) r.pending = describe(op);
      if (!finished && !r.status && f.pid > 0 && ::kill(f.pid, 0) == 0 && detail::proc_state(f.pid) != 'Z') {
        r.pending = r.pending.empty() ? "no call in flight" : "in " + r.pending;
        r.hung = true;
      }
      out.processes.push_back(r);
    }
    std::vector<ProcessReport*> hung;
    for (ProcessReport& r : out.processes)
      if (r.hung) hung.push_back(&r);
    group.describe_hung(hung);
    ProcessReport& executor = out.processes.front();  // the executor, listed by fork_child
    if (!finished) {
      out.hung = true;
      out.hang = fmt::format("{} (no new call for {:.2f} s, bound {:.1f} s); killed the run:",
                             monotonic_ns() > deadline ? "time bound passed" : "no progress",
                             static_cast<double>(group.stalled_for()) / 1e9, bound);
      for (const ProcessReport& r : out.processes)
        if (r.hung) out.hang += "\n  " + detail::describe_hung_line(r);
      out.hang = detail::starvation_of(out.processes) + out.hang;
    }
    if (!group.finish()) out.error += " a process of the run could not be reaped within 5 s";
    out.run_s = static_cast<double>(monotonic_ns() - t0) / 1e9;

    // The executor's own failure: it could not import the module, or crashed.
    const fs::path error_file = dir.path() / "error.json";
    if (fs::exists(error_file)) {
      try {
        std::ifstream in(error_file);
        const json j = json::parse(in);
        out.error = fmt::format("python:{}: {}", module_, j.value("message", std::string("cannot run")));
      } catch (const std::exception&) {
        out.error = fmt::format("python:{}: cannot run (unreadable error.json)", module_);
      }
    } else if (finished && (!done || (executor.status && *executor.status != 0))) {
      const std::string err = last_line(detail::read_small_file(err_file));
      out.error = fmt::format("the Python executor for {} {}{}{}", module_,
                              executor.status ? detail::status_text(*executor.status) : "ended with no status",
                              err.empty() ? "" : ": ", err);
    }
    out.processes.erase(out.processes.begin());  // the executor is not a process of the plan

    History& h = out.history;
    for (auto& [index, f] : files)
      for (Op& op : f.ops) h.ops.push_back(op);
    std::stable_sort(h.ops.begin(), h.ops.end(), [](const Op& a, const Op& b) { return a.invoke_ns < b.invoke_ns; });
    return out;
  }

 private:
  static std::string join_path(const std::vector<std::string>& mine, const std::string& user) {
    std::string p;
    for (const std::string& d : mine) p += (p.empty() ? "" : ":") + d;
    if (!user.empty()) p += (p.empty() ? "" : ":") + user;
    return p;
  }

  std::string module_;
  PythonSetup setup_;
};

}  // namespace

PythonSetup python_setup() {
  PythonSetup s;
  s.python = env_or("MPCONFORM_PYTHON", "/usr/bin/python3");
  s.script = env_or("MPCONFORM_EXEC_SCRIPT", std::string(MPCONFORM_SOURCE_DIR) + "/harness/python/mpconform_exec.py");
  const std::string build = env_or("MPCONFORM_BUILD_DIR", MPCONFORM_BINARY_DIR);
  s.path = {build + "/impl/python", std::string(MPCONFORM_SOURCE_DIR) + "/props/pymutants"};
  return s;
}

std::unique_ptr<Executor> make_executor(std::string_view spec) {
  detail::sweep_stale_temp();
  if (spec.starts_with("python:")) {
    const std::string module(spec.substr(7));
    const bool ok = !module.empty() && std::all_of(module.begin(), module.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.';
    });
    if (!ok) throw std::invalid_argument(fmt::format("backend '{}': not a Python module name", spec));
    const PythonSetup s = python_setup();
    if (::access(s.python.c_str(), X_OK) != 0)
      throw std::invalid_argument(fmt::format("backend '{}': no Python interpreter at {}", spec, s.python));
    if (::access(s.script.c_str(), R_OK) != 0)
      throw std::invalid_argument(fmt::format("backend '{}': the Python executor {} is missing", spec, s.script));
    return std::make_unique<PythonExecutor>(module);
  }
  return make_cpp_executor(make_backend(spec));
}

}  // namespace mpconform
