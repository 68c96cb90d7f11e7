// The runner: forks a scenario's processes into one process group, watches them, kills and
// reaps everything, and checks the history.
#include "mpconform/runner.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "mpconform/tiers.hpp"
#include "programs.hpp"

namespace mpconform {
namespace {

using engine::Board;
using engine::Plan;
using engine::ProcSpec;

double since(std::int64_t t0) { return static_cast<double>(monotonic_ns() - t0) / 1e9; }

// The board: one anonymous shared mapping per scenario (gone with the last process using it).
class BoardMapping {
 public:
  BoardMapping() {
    void* p = ::mmap(nullptr, sizeof(Board), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error(fmt::format("mmap: {}", std::strerror(errno)));
    board_ = new (p) Board{};
  }
  ~BoardMapping() { ::munmap(board_, sizeof(Board)); }
  BoardMapping(const BoardMapping&) = delete;
  BoardMapping& operator=(const BoardMapping&) = delete;
  Board& operator*() const noexcept { return *board_; }
  Board* get() const noexcept { return board_; }

 private:
  Board* board_ = nullptr;
};

void note(Board& board, std::uint32_t index, const std::string& text) {
  if (index >= engine::kBoardProcs) return;
  const std::size_t n = std::min(text.size(), engine::kNoteSize - 1);
  std::memcpy(board.notes[index], text.data(), n);
  board.notes[index][n] = '\0';
}

// Dies with the runner (so nothing outlives a killed harness), then checks that the runner did
// not die during fork (the signal would have been missed).
void die_with_parent(pid_t parent) {
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != parent) ::_exit(137);
}

// The first process of a scenario: the leader of its process group. It only waits to be killed,
// so the group (and its id) exists until the runner kills it, whatever the others do.
pid_t fork_keeper(pid_t runner) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
  if (pid == 0) {
    ::setpgid(0, 0);
    die_with_parent(runner);
    for (;;) ::pause();
  }
  ::setpgid(pid, pid);  // also in the parent: no race with the children joining the group
  return pid;
}

[[noreturn]] void child_main(Backend& backend, const ProcSpec& spec, pid_t pgid, pid_t runner,
                             Board& board, const Recorder& recorder) {
  ::setpgid(0, pgid);
  die_with_parent(runner);
  int code = 0;
  try {
    backend.after_fork_in_child();
    if (spec.before_gate) spec.before_gate();
    if (!engine::wait_while_equal(board.gate, 0, engine::stall_s())) ::_exit(engine::kExitNoGate);
    const ProcessLog log = recorder.log(spec.index);
    code = spec.body(log);
  } catch (const std::exception& e) {
    note(board, spec.index, e.what());
    code = engine::kExitUnexpected;
  } catch (...) {
    note(board, spec.index, "an exception that is not a std::exception");
    code = engine::kExitUnexpected;
  }
  // _exit: no atexit handlers, no static destructors, no flush of buffers inherited from the
  // harness (which would print its output twice).
  ::_exit(code);
}

std::string read_small_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

char proc_state(pid_t pid) {
  const std::string stat = read_small_file(fmt::format("/proc/{}/stat", pid));
  const std::size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() ? stat[close + 2] : '?';
}

int decode_status(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return -WTERMSIG(status);
  return -1000;
}

std::string status_text(int s) {
  return s >= 0 ? fmt::format("exit code {}", s) : fmt::format("killed by signal {} ({})", -s, strsignal(-s));
}

struct Child {
  std::size_t report;  // index into result.processes
  int pidfd = -1;
  bool done = false;
};

class GroupRun {
 public:
  GroupRun(Backend& backend, Board& board, const Recorder& recorder, ScenarioResult& result)
      : backend_(backend), board_(board), recorder_(recorder), result_(result), runner_(::getpid()) {}

  ~GroupRun() { finish(); }

  void start_keeper() { pgid_ = fork_keeper(runner_); }

  // Forks one process of the plan; it waits at the gate (phase 0) or starts at once.
  void fork_one(const ProcSpec& spec) {
    const pid_t pid = ::fork();
    if (pid < 0) throw std::runtime_error(fmt::format("fork: {}", std::strerror(errno)));
    if (pid == 0) child_main(backend_, spec, pgid_, runner_, board_, recorder_);
    ::setpgid(pid, pgid_);
    if (spec.index < engine::kBoardProcs) board_.pids[spec.index].store(pid);
    ProcessReport r;
    r.process = spec.index;
    r.pid = pid;
    r.role = spec.role;
    result_.processes.push_back(r);
    Child c;
    c.report = result_.processes.size() - 1;
    c.pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
    children_[pid] = c;
  }

  // Waits for every forked process to end. Returns false on a hang (time bound or stall).
  bool wait_all(std::int64_t hard_deadline, std::int64_t stall_ns) {
    std::uint64_t claimed = recorder_.claimed();
    std::int64_t last_progress = monotonic_ns();
    for (;;) {
      reap();
      std::vector<pollfd> fds;
      for (auto& [pid, c] : children_)
        if (!c.done && c.pidfd >= 0) fds.push_back({c.pidfd, POLLIN, 0});
      if (live() == 0) return true;
      const std::int64_t now = monotonic_ns();
      const std::uint64_t now_claimed = recorder_.claimed();
      if (now_claimed != claimed) {
        claimed = now_claimed;
        last_progress = now;
      }
      if (now > hard_deadline || now - last_progress > stall_ns) {
        stalled_for_ = now - last_progress;
        return false;
      }
      ::poll(fds.data(), fds.size(), 20);
    }
  }

  std::size_t live() const {
    std::size_t n = 0;
    for (const auto& [pid, c] : children_) n += c.done ? 0 : 1;
    return n;
  }

  // Fills the hang report of every live process (and of grandchildren whose pid is known).
  std::string hang_report(const Plan& plan) {
    const History h = recorder_.read();
    std::string text;
    auto describe_process = [&](std::uint32_t index, pid_t pid, const std::string& role,
                                ProcessReport* rep) {
      std::string pending = "no call in flight";
      for (const Op& op : h.ops)
        if (op.process == index && !op.completed()) pending = "in " + describe(op);
      const std::string wchan = read_small_file(fmt::format("/proc/{}/wchan", pid));
      const char state = proc_state(pid);
      if (rep != nullptr) {
        rep->hung = true;
        rep->pending = pending;
        rep->wchan = wchan;
        rep->state = state;
      }
      text += fmt::format("\n  p{} {} (pid {}): {}; state {}, wchan {}", index, role, pid, pending, state,
                          wchan.empty() ? "-" : wchan);
    };
    for (auto& [pid, c] : children_)
      if (!c.done) {
        ProcessReport& r = result_.processes[c.report];
        describe_process(r.process, pid, r.role, &r);
      }
    // Processes the scenario started itself (e.g. the daemon property's children).
    for (std::uint32_t i = 0; i < engine::kBoardProcs; ++i) {
      const pid_t pid = board_.pids[i].load();
      if (pid <= 0 || children_.count(pid) != 0) continue;
      if (::kill(pid, 0) != 0 || proc_state(pid) == 'Z') continue;
      bool known = false;
      for (const ProcSpec& s : plan.procs) known = known || s.index == i;
      if (!known) describe_process(i, pid, "child", nullptr);
    }
    return text;
  }

  // Kills the whole group and reaps everything in it (bounded). Idempotent.
  void finish() {
    if (pgid_ <= 0) return;
    ::kill(-pgid_, SIGKILL);
    // The keeper only pauses, so it dies at once: wait for it without polling.
    int status = 0;
    while (::waitpid(pgid_, &status, 0) < 0 && errno == EINTR) {
    }
    const std::int64_t give_up = monotonic_ns() + 5'000'000'000;
    for (;;) {
      if (reap()) break;
      if (monotonic_ns() > give_up) {
        leaked_ = true;
        break;
      }
      engine::sleep_us(200);
    }
    for (auto& [pid, c] : children_)
      if (c.pidfd >= 0) {
        ::close(c.pidfd);
        c.pidfd = -1;
      }
    pgid_ = -1;
  }

  bool leaked() const { return leaked_; }
  std::int64_t stalled_for() const { return stalled_for_; }

 private:
  // Reaps whatever has ended in the group (direct children and orphans reparented to us).
  // Returns true when the group has no child of ours left.
  bool reap() {
    for (;;) {
      int status = 0;
      const pid_t pid = ::waitpid(-pgid_, &status, WNOHANG);
      if (pid == 0) return false;
      if (pid < 0) return errno == ECHILD;
      auto it = children_.find(pid);
      if (it != children_.end()) {
        it->second.done = true;
        result_.processes[it->second.report].status = decode_status(status);
        if (it->second.pidfd >= 0) {
          ::close(it->second.pidfd);
          it->second.pidfd = -1;
        }
      }
    }
  }

  Backend& backend_;
  Board& board_;
  const Recorder& recorder_;
  ScenarioResult& result_;
  pid_t runner_;
  pid_t pgid_ = -1;
  std::map<pid_t, Child> children_;
  bool leaked_ = false;
  std::int64_t stalled_for_ = 0;
};

ScenarioVerdict from_status(Status s) {
  switch (s) {
    case Status::ok: return ScenarioVerdict::pass;
    case Status::illegal: return ScenarioVerdict::fail;
    case Status::unknown: return ScenarioVerdict::unknown;
  }
  return ScenarioVerdict::error;
}

}  // namespace

std::string_view to_string(ScenarioVerdict v) noexcept {
  switch (v) {
    case ScenarioVerdict::pass: return "pass";
    case ScenarioVerdict::fail: return "fail";
    case ScenarioVerdict::hang: return "hang";
    case ScenarioVerdict::unknown: return "unknown";
    case ScenarioVerdict::error: return "error";
  }
  return "?";
}

void become_subreaper() {
  static const bool done = [] {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    return true;
  }();
  (void)done;
}

ScenarioResult check_history(const Scenario& scenario, const History& history) {
  ScenarioResult r;
  const Verdict v = engine::check_scenario(scenario, history);
  r.verdict = from_status(v.status);
  r.clause = v.clause;
  r.window = v.window;
  r.message = v.status == Status::ok ? v.message : describe(history, v);
  return r;
}

ScenarioResult run_scenario(Backend& backend, const Scenario& scenario, const RunOptions& options) {
  validate(scenario);
  become_subreaper();
  // Children must not inherit unflushed output (a child that flushes would print it again).
  std::fflush(nullptr);
  std::cout.flush();
  std::cerr.flush();

  ScenarioResult result;
  const std::int64_t t0 = monotonic_ns();
  Recorder recorder(options.capacity);
  BoardMapping board;
  GroupRun run(backend, *board, recorder, result);
  Plan plan;
  try {
    // The keeper first: it must not inherit the scenario's objects (a pipe end it held would
    // keep EOF from ever coming).
    run.start_keeper();
    plan = engine::make_plan(backend, scenario, recorder, *board);
  } catch (const std::exception& e) {
    run.finish();
    result.verdict = ScenarioVerdict::error;
    result.message = fmt::format("creating the scenario's objects failed: {}", e.what());
    result.total_s = since(t0);
    return result;
  }

  const double bound = options.time_bound_s.value_or(seconds(tiers::watchdog));
  const std::int64_t stall = static_cast<std::int64_t>(engine::stall_s() * 1e9);
  bool hung = false;
  std::string hang_text;
  std::int64_t gate_open = t0;
  {
    try {
      int max_phase = 0;
      for (const ProcSpec& s : plan.procs) max_phase = std::max(max_phase, s.phase);
      const std::int64_t hard_deadline = t0 + static_cast<std::int64_t>(bound * 1e9);
      for (int phase = 0; phase <= max_phase && !hung; ++phase) {
        for (const ProcSpec& s : plan.procs)
          if (s.phase == phase) run.fork_one(s);
        if (phase == 0) {
          if (plan.after_fork_in_parent) plan.after_fork_in_parent();
          gate_open = monotonic_ns();
          result.setup_s = static_cast<double>(gate_open - t0) / 1e9;
          (*board).gate.store(1, std::memory_order_release);
          engine::wake_all((*board).gate);
        }
        if (!run.wait_all(hard_deadline, stall)) {
          hung = true;
          hang_text = run.hang_report(plan);
          hang_text = fmt::format("{} (no new call for {:.2f} s, bound {:.1f} s); killed the scenario:{}",
                                  monotonic_ns() > hard_deadline ? "time bound passed" : "no progress",
                                  static_cast<double>(run.stalled_for()) / 1e9, bound, hang_text);
        }
      }
    } catch (const std::exception& e) {
      result.verdict = ScenarioVerdict::error;
      result.message = fmt::format("running the scenario failed: {}", e.what());
    }
    run.finish();
    if (run.leaked()) {
      result.verdict = ScenarioVerdict::error;
      result.message += " a process of the scenario could not be reaped within 5 s";
    }
  }
  result.run_s = since(gate_open);
  if (plan.cleanup) plan.cleanup();
  plan.objects.reset();
  if (result.verdict == ScenarioVerdict::error && !result.message.empty()) {
    result.history = recorder.read();
    result.total_s = since(t0);
    return result;
  }

  const std::int64_t tc = monotonic_ns();
  History history = recorder.read();
  ScenarioResult checked = check_history(scenario, history);
  result.check_s = since(tc);

  // What the processes themselves reported: a crash or an unexpected error is a failure.
  std::string crashes;
  for (const ProcessReport& p : result.processes) {
    if (p.hung || !p.status || *p.status == 0) continue;
    const char* why = p.process < engine::kBoardProcs ? (*board).notes[p.process] : "";
    crashes += fmt::format("\n  p{} {} (pid {}) ended with {}{}{}", p.process, p.role, p.pid,
                           status_text(*p.status), *why ? ": " : "", why);
  }

  if (checked.verdict == ScenarioVerdict::fail) {
    result.verdict = ScenarioVerdict::fail;
    result.clause = checked.clause;
    result.window = checked.window;
    result.message = checked.message;
    if (hung) result.message += "\nthe scenario also hung: " + hang_text;
    if (!crashes.empty()) result.message += "\nprocesses that failed:" + crashes;
  } else if (hung) {
    result.verdict = ScenarioVerdict::hang;
    result.message = "hang: " + hang_text;
  } else if (!crashes.empty()) {
    result.verdict = ScenarioVerdict::fail;
    result.message = "a process of the scenario failed:" + crashes;
  } else {
    result.verdict = checked.verdict;
    result.clause = checked.clause;
    result.message = checked.message;
  }
  if (result.verdict != ScenarioVerdict::pass || options.keep_history_when_passing)
    result.history = std::move(history);
  result.total_s = since(t0);
  return result;
}

std::vector<std::string> property_clauses(Property p) {
  switch (p) {
    case Property::queue: return {"Q-ORDER-2", "Q-GET-1", "Q-SIZE-2", "Q-SIZE-9", "Q-PUT-1", "SQ-10"};
    case Property::lock: return {"L-ACQ-2", "L-ACQ-6", "L-ACQ-9", "RL-ACQ-2", "RL-REL-1"};
    case Property::tickets: return {"L-EXCL-1"};
    case Property::joinable: return {"JQ-9", "JQ-11", "JQ-2"};
    case Property::timeouts: return {"Q-EMPTY-3", "Q-FULL-3", "L-ACQ-6", "C-POLL-2", "P-JOIN-5"};
    case Property::daemon: return {"X-EXIT-1", "X-EXIT-8"};
    case Property::pipe: return {"C-SEND-12", "C-EOF-2", "C-EOF-5"};
    case Property::value: return {"V-ATOM-3"};
  }
  return {};
}

}  // namespace mpconform
