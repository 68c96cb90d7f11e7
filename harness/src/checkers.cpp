// The checker facade: names, clause list, JSON options.
#include "mpconform/checkers.hpp"

#include <algorithm>
#include <array>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mpconform {
namespace {

constexpr std::array<std::string_view, 8> kNames{"queue", "lock", "tickets", "joinable",
                                                 "timeouts", "daemon", "pipe", "value"};

// The clauses each checker can name in a verdict, in the order of kNames (its header lists the
// rules; a test checks that every one is produced by a fixture and nothing else is).
constexpr std::string_view kQueue[] = {"Q-ORDER-2", "SQ-10",    "Q-FULL-7", "Q-GET-1",  "Q-SIZE-9",
                                       "Q-EMPTY-3", "Q-SIZE-2", "Q-MAX-3",  "Q-MAX-1",  "Q-SIZE-3",
                                       "Q-SIZE-7",  "Q-SIZE-6", "Q-PUT-1", "Q-FULL-3"};
constexpr std::string_view kLock[] = {"L-ACQ-1",  "L-ACQ-2",  "L-ACQ-3",  "L-ACQ-6",  "L-ACQ-9",
                                      "L-REL-3",  "RL-ACQ-1", "RL-ACQ-2", "RL-ACQ-3", "RL-REL-1"};
constexpr std::string_view kTickets[] = {"L-EXCL-1"};
constexpr std::string_view kJoinable[] = {"JQ-9", "JQ-11", "JQ-2"};
constexpr std::string_view kTimeouts[] = {"Q-FULL-3", "Q-FULL-1", "Q-EMPTY-3", "Q-EMPTY-1", "L-ACQ-6",
                                          "L-ACQ-2",  "C-POLL-2", "C-POLL-1",  "P-JOIN-5",  "P-JOIN-6"};
constexpr std::string_view kDaemon[] = {"X-EXIT-1", "X-EXIT-8", "X-EXIT-7", "P-EXIT-2", "P-EXIT-1"};
constexpr std::string_view kPipe[] = {"C-SEND-12", "C-EOF-5",   "C-EOF-2", "C-CLOSE-1",
                                     "C-CLOSE-4", "C-EPIPE-1", "C-EOF-1", "C-POLL-2"};
constexpr std::string_view kValue[] = {"V-ATOM-3"};
const std::array<std::span<const std::string_view>, 8> kClausesOf{kQueue,    kLock,   kTickets, kJoinable,
                                                                  kTimeouts, kDaemon, kPipe,    kValue};

const std::vector<std::string_view> kAllClauses = [] {
  std::vector<std::string_view> all;
  for (auto list : kClausesOf)
    for (std::string_view c : list)
      if (std::find(all.begin(), all.end(), c) == all.end()) all.push_back(c);
  return all;
}();

// Reads options from a JSON object, rejecting keys nobody asked for.
class Reader {
 public:
  explicit Reader(const nlohmann::json& j) : j_(j) {
    if (!j_.is_null() && !j_.is_object()) throw std::invalid_argument("checker options must be a JSON object");
  }
  template <class T>
  void get(const char* key, T& out) {
    used_.push_back(key);
    if (j_.is_null() || !j_.contains(key)) return;
    try {
      out = j_.at(key).get<T>();
    } catch (const nlohmann::json::exception& e) {
      throw std::invalid_argument(fmt::format("option '{}': {}", key, e.what()));
    }
  }
  void tier(const char* key, Tier& out) {
    std::string name;
    get(key, name);
    if (name.empty()) return;
    auto t = tier_by_name(name);
    if (!t) throw std::invalid_argument(fmt::format("option '{}': unknown tier '{}'", key, name));
    out = *t;
  }
  void done() const {
    if (j_.is_null()) return;
    for (const auto& [key, value] : j_.items()) {
      bool known = false;
      for (const auto& u : used_) known = known || u == key;
      if (!known) throw std::invalid_argument(fmt::format("unknown option '{}'", key));
    }
  }

 private:
  const nlohmann::json& j_;
  std::vector<std::string> used_;
};

}  // namespace

std::span<const std::string_view> checker_names() noexcept { return kNames; }
std::span<const std::string_view> checker_clauses() noexcept { return kAllClauses; }

std::span<const std::string_view> checker_clauses(std::string_view name) {
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (kNames[i] == name) return kClausesOf[i];
  throw std::invalid_argument(fmt::format("unknown checker '{}'", name));
}

Verdict check(std::string_view name, const History& history, const nlohmann::json& options) {
  Reader r(options);
  if (name == "queue") {
    QueueCheckOptions o;
    r.get("object", o.object);
    r.get("maxsize", o.maxsize);
    r.get("drained", o.drained);
    r.get("simple_queue", o.simple_queue);
    r.get("cpython_racy_get", o.cpython_racy_get);
    r.get("cpython_racy_empty", o.cpython_racy_empty);
    r.tier("notice", o.notice);
    r.get("max_work", o.max_work);
    r.get("joinable", o.joinable);
    r.get("exact", o.exact);
    r.get("max_states", o.max_states);
    r.done();
    return check_queue(history, o);
  }
  if (name == "lock") {
    LockCheckOptions o;
    r.get("object", o.object);
    r.get("reentrant", o.reentrant);
    r.tier("notice", o.notice);
    r.done();
    return check_lock(history, o);
  }
  if (name == "tickets") {
    TicketCheckOptions o;
    r.get("object", o.object);
    r.get("tickets", o.tickets);
    r.get("buyers", o.buyers);
    r.get("clause", o.clause);
    r.done();
    return check_tickets(history, o);
  }
  if (name == "joinable") {
    JoinableCheckOptions o;
    r.get("object", o.object);
    r.done();
    return check_joinable(history, o);
  }
  if (name == "timeouts") {
    TimeoutCheckOptions o;
    r.tier("early", o.early);
    r.tier("late", o.late);
    r.tier("late_now", o.late_now);
    r.done();
    return check_timeouts(history, o);
  }
  if (name == "daemon") {
    DaemonCheckOptions o;
    r.tier("grace", o.grace);
    r.get("pdeathsig", o.pdeathsig);
    r.done();
    return check_daemon(history, o);
  }
  if (name == "pipe") {
    PipeCheckOptions o;
    r.get("object", o.object);
    r.get("writers", o.writers);
    r.get("drained", o.drained);
    r.tier("notice", o.notice);
    r.done();
    return check_pipe(history, o);
  }
  if (name == "value") {
    ValueCheckOptions o;
    r.get("object", o.object);
    r.get("initial", o.initial);
    r.get("results_recorded", o.results_recorded);
    r.done();
    return check_value(history, o);
  }
  throw std::invalid_argument(fmt::format("unknown checker '{}'", name));
}

}  // namespace mpconform
