// Scenarios: names, validation, generation from a seed, shrinking candidates, JSON.
#include "mpconform/scenario.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace mpconform {
namespace {

constexpr std::array<Property, 8> kProperties{Property::queue,    Property::lock,
                                              Property::tickets,  Property::joinable,
                                              Property::timeouts, Property::daemon,
                                              Property::pipe,     Property::value};
constexpr std::array<std::string_view, 8> kPropertyNames{"queue",    "lock",   "tickets", "joinable",
                                                         "timeouts", "daemon", "pipe",    "value"};

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

[[noreturn]] void bad(const std::string& what) { throw std::invalid_argument(what); }

void check_range(std::size_t n, std::size_t lo, std::size_t hi, std::string_view field) {
  if (n < lo || n > hi) bad(fmt::format("scenario: {} is {}, expected {}..{}", field, n, lo, hi));
}

void check_call(const CallArgs& c, std::string_view field) {
  if (c.timeout && !std::isfinite(*c.timeout))
    bad(fmt::format("scenario: {}.timeout is not finite", field));
  if (c.timeout && *c.timeout > 10.0) bad(fmt::format("scenario: {}.timeout exceeds 10 s", field));
  if (c.delay_us > 1'000'000) bad(fmt::format("scenario: {}.delay_us exceeds 1 s", field));
}

void check_delay(std::uint32_t us, std::string_view field) {
  if (us > 1'000'000) bad(fmt::format("scenario: {} exceeds 1 s", field));
}

std::uint64_t total_items(const std::vector<Producer>& ps) {
  std::uint64_t n = 0;
  for (const Producer& p : ps) n += p.puts.size();
  return n;
}

template <class C>
void check_quotas(const std::vector<C>& cs, std::uint64_t items, std::string_view what) {
  std::uint64_t q = 0;
  for (const C& c : cs) q += c.quota;
  if (q != items)
    bad(fmt::format("scenario: {} quotas add up to {}, but {} items are put", what, q, items));
}

// Spreads `total` over the consumers' quotas in proportion to the old ones.
template <class C>
void rebalance(std::vector<C>& cs, std::uint64_t total) {
  std::uint64_t old = 0;
  for (const C& c : cs) old += c.quota;
  std::uint64_t given = 0;
  for (C& c : cs) {
    c.quota = old == 0 ? 0 : static_cast<std::uint32_t>(c.quota * total / old);
    given += c.quota;
  }
  for (std::size_t i = 0; given < total; i = (i + 1) % cs.size(), ++given) ++cs[i].quota;
}

// ---- generation -----------------------------------------------------------------------------

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : g_(seed) {}
  std::uint32_t u(std::uint32_t lo, std::uint32_t hi) {
    return std::uniform_int_distribution<std::uint32_t>(lo, hi)(g_);
  }
  double real(double lo, double hi) { return std::uniform_real_distribution<double>(lo, hi)(g_); }
  bool chance(double p) { return std::bernoulli_distribution(p)(g_); }
  std::uint32_t delay(std::uint32_t max_us) { return chance(0.5) ? 0 : u(0, max_us); }

 private:
  std::mt19937_64 g_;
};

// Arguments of a call that may block: the mix of Python spellings a program uses.
CallArgs blocking_call(Rng& r, const GenLimits& l, bool allow_forever) {
  CallArgs c;
  c.delay_us = r.delay(l.max_delay_us);
  const std::uint32_t pick = r.u(0, 99);
  if (pick < 15) {
    c.block = false;
    if (r.chance(0.3)) c.timeout = r.real(0.001, l.max_timeout_s);  // ignored by block=False
  } else if (pick < 25 && allow_forever) {
    c.timeout = std::nullopt;
  } else if (pick < 30) {
    c.timeout = 0.0;
  } else if (pick < 35) {
    c.timeout = -0.01;
  } else {
    c.timeout = r.real(0.001, l.max_timeout_s);
  }
  return c;
}

std::vector<Producer> gen_producers(Rng& r, const GenLimits& l, std::uint32_t count) {
  std::vector<Producer> ps(count);
  for (Producer& p : ps) {
    p.puts.resize(r.u(1, std::min<std::uint32_t>(l.max_items, 64)));
    for (CallArgs& c : p.puts) c = blocking_call(r, l, true);
  }
  return ps;
}

template <class C>
void assign_quotas(Rng& r, std::vector<C>& cs, std::uint64_t items) {
  for (std::uint64_t i = 0; i < items; ++i)
    ++cs[r.u(0, static_cast<std::uint32_t>(cs.size() - 1))].quota;
}

QueueScenario gen_queue(Rng& r, const GenLimits& l) {
  QueueScenario s;
  s.type = r.chance(0.2) ? QueueType::simple_queue : QueueType::queue;
  s.maxsize = (s.type == QueueType::simple_queue || r.chance(0.4)) ? 0 : r.u(1, 8);
  s.producers = gen_producers(r, l, r.u(1, l.max_processes));
  s.consumers.resize(r.u(1, l.max_processes));
  for (Consumer& c : s.consumers) {
    const std::uint32_t n = r.u(1, 8);
    for (std::uint32_t i = 0; i < n; ++i) {
      c.gets.push_back(blocking_call(r, l, true));
      c.probes.push_back(r.chance(0.7) ? Probe::none : static_cast<Probe>(r.u(1, 3)));
    }
  }
  assign_quotas(r, s.consumers, total_items(s.producers));
  return s;
}

LockScenario gen_lock(Rng& r, const GenLimits& l) {
  LockScenario s;
  s.type = r.chance(0.5) ? LockType::rlock : LockType::lock;
  s.workers.resize(r.u(1, l.max_processes));
  for (auto& w : s.workers) {
    w.resize(r.u(1, std::min<std::uint32_t>(l.max_items, 16)));
    for (LockAttempt& a : w) {
      a.acquire = blocking_call(r, l, true);
      a.hold_us = r.delay(l.max_delay_us);
      if (s.type == LockType::rlock) {
        a.depth = r.u(1, 3);
        a.release_unowned_first = r.chance(0.2);
      }
    }
  }
  return s;
}

TicketScenario gen_tickets(Rng& r, const GenLimits& l) {
  TicketScenario s;
  s.store = r.chance(0.5) ? TicketStore::file : TicketStore::value;
  s.tickets = r.u(0, 10);
  s.buyers.resize(r.u(1, l.max_processes));
  for (Buyer& b : s.buyers) {
    b.start_delay_us = r.delay(l.max_delay_us);
    b.pause_us = r.chance(0.3) ? 0 : r.u(0, l.max_delay_us);
    b.attempts = r.u(1, 3);
  }
  return s;
}

JoinableScenario gen_joinable(Rng& r, const GenLimits& l) {
  JoinableScenario s;
  s.maxsize = r.chance(0.5) ? 0 : r.u(1, 8);
  s.producers = gen_producers(r, l, r.u(1, std::min<std::uint32_t>(4, l.max_processes)));
  s.consumers.resize(r.u(1, std::min<std::uint32_t>(4, l.max_processes)));
  for (JoinableConsumer& c : s.consumers) {
    const std::uint32_t n = r.u(1, 8);
    for (std::uint32_t i = 0; i < n; ++i) c.gets.push_back(blocking_call(r, l, true));
    c.task_pause_us = r.delay(l.max_delay_us);
  }
  assign_quotas(r, s.consumers, total_items(s.producers));
  s.joiners.resize(r.u(1, 2));
  for (std::uint32_t& j : s.joiners) j = r.delay(l.max_delay_us * 4);
  s.extra_task_done = r.u(0, 2);
  return s;
}

TimeoutScenario gen_timeouts(Rng& r, const GenLimits& l) {
  TimeoutScenario s;
  s.full_maxsize = r.u(1, 4);
  s.workers.resize(r.u(1, l.max_processes));
  for (auto& w : s.workers) {
    w.resize(r.u(1, 4));
    for (TimedCall& t : w) {
      t.op = static_cast<TimedOp>(r.u(0, 7));
      t.call.delay_us = r.delay(l.max_delay_us);
      const std::uint32_t pick = r.u(0, 99);
      const bool may_nonblock = t.op == TimedOp::queue_get || t.op == TimedOp::queue_put ||
                                t.op == TimedOp::lock_acquire || t.op == TimedOp::rlock_acquire;
      if (pick < 15 && may_nonblock) {
        t.call.block = false;
      } else if (pick < 30) {
        t.call.timeout = 0.0;
      } else if (pick < 40) {
        t.call.timeout = -r.real(0.001, 1.0);
      } else {
        t.call.timeout = r.real(0.001, std::max(0.002, l.max_timeout_s * 2));
      }
    }
  }
  return s;
}

DaemonScenario gen_daemon(Rng& r, const GenLimits& l) {
  DaemonScenario s;
  s.children.resize(r.u(1, std::min<std::uint32_t>(4, l.max_processes)));
  for (DaemonChild& c : s.children) {
    c.daemon = r.chance(0.5);
    c.run_us = c.daemon ? 0 : r.u(0, 20000);
  }
  s.parent_delay_us = r.u(0, 10000);
  return s;
}

PipeScenario gen_pipe(Rng& r, const GenLimits& l) {
  PipeScenario s;
  s.duplex = r.chance(0.4);
  s.writers.resize(s.duplex ? 2 : r.u(1, std::min<std::uint32_t>(3, l.max_processes)));
  for (PipeWriter& w : s.writers) {
    w.delays_us.resize(r.u(1, std::min<std::uint32_t>(l.max_items, 32)));
    for (std::uint32_t& d : w.delays_us) d = r.delay(l.max_delay_us);
  }
  s.polls.resize(r.u(0, 4));
  for (CallArgs& c : s.polls) {
    const std::uint32_t pick = r.u(0, 9);
    c.timeout = pick < 3 ? std::optional<double>(0.0)
                : pick < 4 ? std::nullopt
                           : std::optional<double>(r.real(0.001, l.max_timeout_s));
  }
  return s;
}

ValueScenario gen_value(Rng& r, const GenLimits& l) {
  ValueScenario s;
  s.initial = r.u(0, 1000);
  s.workers.resize(r.u(1, l.max_processes));
  for (auto& w : s.workers) {
    w.resize(r.u(1, std::min<std::uint32_t>(l.max_items, 32)));
    for (std::uint32_t& d : w) d = r.chance(0.5) ? 0 : r.u(0, l.max_delay_us / 2);
  }
  return s;
}

// ---- JSON -----------------------------------------------------------------------------------

using nlohmann::json;

json call_json(const CallArgs& c) {
  return json{{"block", c.block},
              {"timeout", c.timeout ? json(*c.timeout) : json(nullptr)},
              {"delay_us", c.delay_us}};
}

const json& field(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name)) bad(fmt::format("scenario JSON: missing field '{}'", name));
  return j.at(name);
}

template <class T>
T get_as(const json& j, const char* name) {
  try {
    return field(j, name).get<T>();
  } catch (const json::exception& e) {
    bad(fmt::format("scenario JSON: field '{}': {}", name, e.what()));
  }
}

CallArgs call_from(const json& j) {
  CallArgs c;
  c.block = get_as<bool>(j, "block");
  const json& t = field(j, "timeout");
  if (!t.is_null()) {
    if (!t.is_number()) bad("scenario JSON: field 'timeout' must be a number or null");
    c.timeout = t.get<double>();
  }
  c.delay_us = get_as<std::uint32_t>(j, "delay_us");
  return c;
}

template <class T, class F>
std::vector<T> list_from(const json& j, const char* name, F&& f) {
  const json& a = field(j, name);
  if (!a.is_array()) bad(fmt::format("scenario JSON: field '{}' must be an array", name));
  std::vector<T> out;
  for (const json& e : a) out.push_back(f(e));
  return out;
}

json calls_json(const std::vector<CallArgs>& cs) {
  json a = json::array();
  for (const CallArgs& c : cs) a.push_back(call_json(c));
  return a;
}

json producers_json(const std::vector<Producer>& ps) {
  json a = json::array();
  for (const Producer& p : ps) a.push_back(json{{"puts", calls_json(p.puts)}});
  return a;
}

std::vector<Producer> producers_from(const json& j) {
  return list_from<Producer>(j, "producers", [](const json& e) {
    return Producer{list_from<CallArgs>(e, "puts", call_from)};
  });
}

constexpr std::array<std::string_view, 4> kProbeNames{"none", "qsize", "empty", "full"};
constexpr std::array<std::string_view, 8> kTimedNames{"queue_get",     "queue_put",    "simple_get",
                                                      "lock_acquire",  "rlock_acquire", "joinable_join",
                                                      "pipe_poll",     "process_join"};

template <std::size_t N>
std::uint8_t enum_from(const json& j, const std::array<std::string_view, N>& names,
                       const char* what) {
  if (!j.is_string()) bad(fmt::format("scenario JSON: {} must be a string", what));
  const std::string s = j.get<std::string>();
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == s) return static_cast<std::uint8_t>(i);
  bad(fmt::format("scenario JSON: unknown {} '{}'", what, s));
}

json body_json(const ScenarioBody& body) {
  return std::visit(
      Overloaded{
          [](const QueueScenario& s) {
            json cs = json::array();
            for (const Consumer& c : s.consumers) {
              json probes = json::array();
              for (Probe p : c.probes) probes.push_back(kProbeNames[static_cast<std::size_t>(p)]);
              cs.push_back(json{{"quota", c.quota}, {"gets", calls_json(c.gets)}, {"probes", probes}});
            }
            return json{{"type", s.type == QueueType::queue ? "queue" : "simple_queue"},
                        {"maxsize", s.maxsize},
                        {"producers", producers_json(s.producers)},
                        {"consumers", cs}};
          },
          [](const LockScenario& s) {
            json ws = json::array();
            for (const auto& w : s.workers) {
              json as = json::array();
              for (const LockAttempt& a : w)
                as.push_back(json{{"acquire", call_json(a.acquire)},
                                  {"hold_us", a.hold_us},
                                  {"depth", a.depth},
                                  {"release_unowned_first", a.release_unowned_first}});
              ws.push_back(as);
            }
            return json{{"type", s.type == LockType::lock ? "lock" : "rlock"}, {"workers", ws}};
          },
          [](const TicketScenario& s) {
            json bs = json::array();
            for (const Buyer& b : s.buyers)
              bs.push_back(json{{"start_delay_us", b.start_delay_us},
                                {"pause_us", b.pause_us},
                                {"attempts", b.attempts}});
            return json{{"store", s.store == TicketStore::file ? "file" : "value"},
                        {"tickets", s.tickets},
                        {"buyers", bs}};
          },
          [](const JoinableScenario& s) {
            json cs = json::array();
            for (const JoinableConsumer& c : s.consumers)
              cs.push_back(json{{"quota", c.quota},
                                {"gets", calls_json(c.gets)},
                                {"task_pause_us", c.task_pause_us}});
            return json{{"maxsize", s.maxsize},
                        {"producers", producers_json(s.producers)},
                        {"consumers", cs},
                        {"joiners", s.joiners},
                        {"extra_task_done", s.extra_task_done}};
          },
          [](const TimeoutScenario& s) {
            json ws = json::array();
            for (const auto& w : s.workers) {
              json ts = json::array();
              for (const TimedCall& t : w)
                ts.push_back(json{{"op", kTimedNames[static_cast<std::size_t>(t.op)]},
                                  {"call", call_json(t.call)}});
              ws.push_back(ts);
            }
            return json{{"full_maxsize", s.full_maxsize}, {"workers", ws}};
          },
          [](const DaemonScenario& s) {
            json cs = json::array();
            for (const DaemonChild& c : s.children)
              cs.push_back(json{{"daemon", c.daemon}, {"run_us", c.run_us}});
            return json{{"children", cs}, {"parent_delay_us", s.parent_delay_us}};
          },
          [](const PipeScenario& s) {
            json ws = json::array();
            for (const PipeWriter& w : s.writers) ws.push_back(json{{"delays_us", w.delays_us}});
            return json{{"duplex", s.duplex}, {"writers", ws}, {"polls", calls_json(s.polls)}};
          },
          [](const ValueScenario& s) {
            return json{{"initial", s.initial}, {"workers", s.workers}};
          },
      },
      body);
}

ScenarioBody body_from(Property p, const json& j) {
  switch (p) {
    case Property::queue: {
      QueueScenario s;
      s.type = enum_from(field(j, "type"), std::array<std::string_view, 2>{"queue", "simple_queue"},
                         "queue type") == 0
                   ? QueueType::queue
                   : QueueType::simple_queue;
      s.maxsize = get_as<std::int64_t>(j, "maxsize");
      s.producers = producers_from(j);
      s.consumers = list_from<Consumer>(j, "consumers", [](const json& e) {
        Consumer c;
        c.quota = get_as<std::uint32_t>(e, "quota");
        c.gets = list_from<CallArgs>(e, "gets", call_from);
        c.probes = list_from<Probe>(e, "probes", [](const json& e2) {
          return static_cast<Probe>(enum_from(e2, kProbeNames, "probe"));
        });
        return c;
      });
      return s;
    }
    case Property::lock: {
      LockScenario s;
      s.type = enum_from(field(j, "type"), std::array<std::string_view, 2>{"lock", "rlock"},
                         "lock type") == 0
                   ? LockType::lock
                   : LockType::rlock;
      const json& ws = field(j, "workers");
      if (!ws.is_array()) bad("scenario JSON: 'workers' must be an array");
      for (const json& w : ws) {
        if (!w.is_array()) bad("scenario JSON: each worker must be an array");
        std::vector<LockAttempt> as;
        for (const json& a : w) {
          LockAttempt x;
          x.acquire = call_from(field(a, "acquire"));
          x.hold_us = get_as<std::uint32_t>(a, "hold_us");
          x.depth = get_as<std::uint32_t>(a, "depth");
          x.release_unowned_first = get_as<bool>(a, "release_unowned_first");
          as.push_back(x);
        }
        s.workers.push_back(std::move(as));
      }
      return s;
    }
    case Property::tickets: {
      TicketScenario s;
      s.store = enum_from(field(j, "store"), std::array<std::string_view, 2>{"file", "value"},
                          "ticket store") == 0
                    ? TicketStore::file
                    : TicketStore::value;
      s.tickets = get_as<std::uint32_t>(j, "tickets");
      s.buyers = list_from<Buyer>(j, "buyers", [](const json& e) {
        return Buyer{get_as<std::uint32_t>(e, "start_delay_us"), get_as<std::uint32_t>(e, "pause_us"),
                     get_as<std::uint32_t>(e, "attempts")};
      });
      return s;
    }
    case Property::joinable: {
      JoinableScenario s;
      s.maxsize = get_as<std::int64_t>(j, "maxsize");
      s.producers = producers_from(j);
      s.consumers = list_from<JoinableConsumer>(j, "consumers", [](const json& e) {
        JoinableConsumer c;
        c.quota = get_as<std::uint32_t>(e, "quota");
        c.gets = list_from<CallArgs>(e, "gets", call_from);
        c.task_pause_us = get_as<std::uint32_t>(e, "task_pause_us");
        return c;
      });
      s.joiners = get_as<std::vector<std::uint32_t>>(j, "joiners");
      s.extra_task_done = get_as<std::uint32_t>(j, "extra_task_done");
      return s;
    }
    case Property::timeouts: {
      TimeoutScenario s;
      s.full_maxsize = get_as<std::int64_t>(j, "full_maxsize");
      const json& ws = field(j, "workers");
      if (!ws.is_array()) bad("scenario JSON: 'workers' must be an array");
      for (const json& w : ws) {
        if (!w.is_array()) bad("scenario JSON: each worker must be an array");
        std::vector<TimedCall> ts;
        for (const json& t : w)
          ts.push_back(TimedCall{static_cast<TimedOp>(enum_from(field(t, "op"), kTimedNames, "timed op")),
                                 call_from(field(t, "call"))});
        s.workers.push_back(std::move(ts));
      }
      return s;
    }
    case Property::daemon: {
      DaemonScenario s;
      s.children = list_from<DaemonChild>(j, "children", [](const json& e) {
        return DaemonChild{get_as<bool>(e, "daemon"), get_as<std::uint32_t>(e, "run_us")};
      });
      s.parent_delay_us = get_as<std::uint32_t>(j, "parent_delay_us");
      return s;
    }
    case Property::pipe: {
      PipeScenario s;
      s.duplex = get_as<bool>(j, "duplex");
      s.writers = list_from<PipeWriter>(j, "writers", [](const json& e) {
        return PipeWriter{get_as<std::vector<std::uint32_t>>(e, "delays_us")};
      });
      s.polls = list_from<CallArgs>(j, "polls", call_from);
      return s;
    }
    case Property::value: {
      ValueScenario s;
      s.initial = get_as<std::uint64_t>(j, "initial");
      s.workers = get_as<std::vector<std::vector<std::uint32_t>>>(j, "workers");
      return s;
    }
  }
  bad("scenario JSON: unknown property");
}

// ---- shrinking helpers ----------------------------------------------------------------------

void zero_delays(CallArgs& c) { c.delay_us = 0; }

template <class S>
void push_if_changed(std::vector<Scenario>& out, const Scenario& base, S&& body) {
  Scenario c{base.seed, ScenarioBody(std::forward<S>(body))};
  if (!(c == base)) out.push_back(std::move(c));
}

}  // namespace

std::span<const Property> all_properties() noexcept { return kProperties; }

std::string_view to_string(Property p) noexcept {
  return kPropertyNames[static_cast<std::size_t>(p)];
}

std::optional<Property> property_from_string(std::string_view name) noexcept {
  for (std::size_t i = 0; i < kPropertyNames.size(); ++i)
    if (kPropertyNames[i] == name) return kProperties[i];
  return std::nullopt;
}

Property Scenario::property() const noexcept { return static_cast<Property>(body.index()); }

void validate(const Scenario& scenario) {
  std::visit(
      Overloaded{
          [](const QueueScenario& s) {
            check_range(s.producers.size(), 1, 8, "producers");
            check_range(s.consumers.size(), 1, 8, "consumers");
            if (s.maxsize > 16) bad("scenario: maxsize exceeds 16");
            if (s.type == QueueType::simple_queue && s.maxsize > 0)
              bad("scenario: a SimpleQueue has no maxsize");
            for (const Producer& p : s.producers) {
              check_range(p.puts.size(), 1, 64, "producer puts");
              for (const CallArgs& c : p.puts) check_call(c, "put");
            }
            for (const Consumer& c : s.consumers) {
              check_range(c.gets.size(), 1, 16, "consumer gets");
              if (c.probes.size() != c.gets.size())
                bad("scenario: consumer probes and gets differ in size");
              for (const CallArgs& g : c.gets) check_call(g, "get");
            }
            check_quotas(s.consumers, total_items(s.producers), "consumer");
          },
          [](const LockScenario& s) {
            check_range(s.workers.size(), 1, 8, "lock workers");
            for (const auto& w : s.workers) {
              check_range(w.size(), 1, 16, "lock attempts");
              for (const LockAttempt& a : w) {
                check_call(a.acquire, "acquire");
                check_delay(a.hold_us, "hold_us");
                check_range(a.depth, 1, s.type == LockType::rlock ? 3 : 1, "depth");
                if (a.release_unowned_first && s.type != LockType::rlock)
                  bad("scenario: release_unowned_first is for RLock only");
              }
            }
          },
          [](const TicketScenario& s) {
            check_range(s.buyers.size(), 1, 8, "buyers");
            check_range(s.tickets, 0, 16, "tickets");
            for (const Buyer& b : s.buyers) {
              check_range(b.attempts, 1, 3, "attempts");
              check_delay(b.start_delay_us, "start_delay_us");
              check_delay(b.pause_us, "pause_us");
            }
          },
          [](const JoinableScenario& s) {
            check_range(s.producers.size(), 1, 4, "producers");
            check_range(s.consumers.size(), 1, 4, "consumers");
            check_range(s.joiners.size(), 1, 2, "joiners");
            check_range(s.extra_task_done, 0, 2, "extra_task_done");
            if (s.maxsize > 16) bad("scenario: maxsize exceeds 16");
            for (const Producer& p : s.producers) {
              check_range(p.puts.size(), 1, 64, "producer puts");
              for (const CallArgs& c : p.puts) check_call(c, "put");
            }
            for (const JoinableConsumer& c : s.consumers) {
              check_range(c.gets.size(), 1, 16, "consumer gets");
              for (const CallArgs& g : c.gets) check_call(g, "get");
              check_delay(c.task_pause_us, "task_pause_us");
            }
            for (std::uint32_t d : s.joiners) check_delay(d, "joiner delay");
            check_quotas(s.consumers, total_items(s.producers), "consumer");
          },
          [](const TimeoutScenario& s) {
            check_range(static_cast<std::size_t>(std::max<std::int64_t>(s.full_maxsize, 0)), 1, 4,
                        "full_maxsize");
            check_range(s.workers.size(), 1, 8, "timeout workers");
            for (const auto& w : s.workers) {
              check_range(w.size(), 1, 8, "timed calls");
              for (const TimedCall& t : w) {
                check_call(t.call, "timed call");
                if (static_cast<std::uint8_t>(t.op) > 7) bad("scenario: unknown timed op");
                if (!t.call.timeout && t.call.block)
                  bad("scenario: a timed call needs a timeout (or block=false)");
                if (t.call.timeout && *t.call.timeout > 0.2) bad("scenario: a timed call's timeout exceeds 0.2 s");
                if (!t.call.block && t.op != TimedOp::queue_get && t.op != TimedOp::queue_put &&
                    t.op != TimedOp::lock_acquire && t.op != TimedOp::rlock_acquire)
                  bad("scenario: block=false only for get/put/acquire");
              }
            }
          },
          [](const DaemonScenario& s) {
            check_range(s.children.size(), 1, 4, "children");
            for (const DaemonChild& c : s.children) check_range(c.run_us, 0, 50000, "run_us");
            check_range(s.parent_delay_us, 0, 20000, "parent_delay_us");
          },
          [](const PipeScenario& s) {
            if (s.duplex)
              check_range(s.writers.size(), 2, 2, "duplex writers");
            else
              check_range(s.writers.size(), 1, 3, "simplex writers");
            for (const PipeWriter& w : s.writers) {
              check_range(w.delays_us.size(), 1, 32, "messages");
              for (std::uint32_t d : w.delays_us) check_delay(d, "message delay");
            }
            check_range(s.polls.size(), 0, 16, "polls");
            for (const CallArgs& c : s.polls) check_call(c, "poll");
          },
          [](const ValueScenario& s) {
            check_range(s.workers.size(), 1, 8, "value workers");
            for (const auto& w : s.workers) {
              check_range(w.size(), 1, 32, "increments");
              for (std::uint32_t d : w) check_delay(d, "think time");
            }
            if (s.initial > (std::uint64_t{1} << 40)) bad("scenario: initial value too large");
          },
      },
      scenario.body);
}

std::uint32_t process_count(const Scenario& scenario) noexcept {
  auto n = [](std::size_t v) { return static_cast<std::uint32_t>(v); };
  return std::visit(
      Overloaded{
          [&](const QueueScenario& s) { return n(s.producers.size() + s.consumers.size() + 1); },
          [&](const LockScenario& s) { return n(s.workers.size()); },
          [&](const TicketScenario& s) { return n(s.buyers.size() + 1); },
          [&](const JoinableScenario& s) {
            return n(s.producers.size() + s.consumers.size() + s.joiners.size() + 1);
          },
          [&](const TimeoutScenario& s) {
            std::size_t children = 0;
            for (const auto& w : s.workers)
              for (const TimedCall& t : w) children += t.op == TimedOp::process_join ? 1 : 0;
            return n(s.workers.size() + children);
          },
          [&](const DaemonScenario& s) { return n(2 + s.children.size()); },
          [&](const PipeScenario& s) { return n(s.duplex ? 2 : s.writers.size() + 1); },
          [&](const ValueScenario& s) { return n(s.workers.size() + 1); },
      },
      scenario.body);
}

std::string describe(const Scenario& scenario) {
  return std::visit(
      Overloaded{
          [](const QueueScenario& s) {
            return fmt::format("{}: {} producers, {} items, {} consumers, maxsize {}",
                               s.type == QueueType::queue ? "Queue" : "SimpleQueue",
                               s.producers.size(), total_items(s.producers), s.consumers.size(),
                               s.maxsize);
          },
          [](const LockScenario& s) {
            std::size_t a = 0;
            for (const auto& w : s.workers) a += w.size();
            return fmt::format("{}: {} workers, {} attempts",
                               s.type == LockType::lock ? "Lock" : "RLock", s.workers.size(), a);
          },
          [](const TicketScenario& s) {
            return fmt::format("tickets on a {}: {} tickets, {} buyers",
                               s.store == TicketStore::file ? "file" : "shared Value", s.tickets,
                               s.buyers.size());
          },
          [](const JoinableScenario& s) {
            return fmt::format(
                "JoinableQueue: {} producers, {} items, {} consumers, {} joiners, maxsize {}, "
                "{} extra task_done",
                s.producers.size(), total_items(s.producers), s.consumers.size(), s.joiners.size(),
                s.maxsize, s.extra_task_done);
          },
          [](const TimeoutScenario& s) {
            std::size_t a = 0;
            for (const auto& w : s.workers) a += w.size();
            return fmt::format("timeouts: {} workers, {} timed calls", s.workers.size(), a);
          },
          [](const DaemonScenario& s) {
            std::size_t d = 0;
            for (const DaemonChild& c : s.children) d += c.daemon ? 1 : 0;
            return fmt::format("daemon: {} children ({} daemonic)", s.children.size(), d);
          },
          [](const PipeScenario& s) {
            std::size_t m = 0;
            for (const PipeWriter& w : s.writers) m += w.delays_us.size();
            return fmt::format("{} Pipe: {} writers, {} messages", s.duplex ? "duplex" : "simplex",
                               s.writers.size(), m);
          },
          [](const ValueScenario& s) {
            std::size_t m = 0;
            for (const auto& w : s.workers) m += w.size();
            return fmt::format("Value: {} workers, {} increments", s.workers.size(), m);
          },
      },
      scenario.body);
}

Scenario generate(Property p, std::uint64_t seed, const GenLimits& limits) {
  GenLimits l = limits;
  l.max_processes = std::clamp<std::uint32_t>(l.max_processes, 1, 8);
  l.max_items = std::clamp<std::uint32_t>(l.max_items, 1, 64);
  l.max_delay_us = std::min<std::uint32_t>(l.max_delay_us, 100000);
  l.max_timeout_s = std::clamp(l.max_timeout_s, 0.002, 0.1);
  // Mix the property into the seed so that one seed gives unrelated streams per property.
  Rng r(seed ^ (0x9e3779b97f4a7c15ULL * (static_cast<std::uint64_t>(p) + 1)));
  Scenario s;
  s.seed = seed;
  switch (p) {
    case Property::queue: s.body = gen_queue(r, l); break;
    case Property::lock: s.body = gen_lock(r, l); break;
    case Property::tickets: s.body = gen_tickets(r, l); break;
    case Property::joinable: s.body = gen_joinable(r, l); break;
    case Property::timeouts: s.body = gen_timeouts(r, l); break;
    case Property::daemon: s.body = gen_daemon(r, l); break;
    case Property::pipe: s.body = gen_pipe(r, l); break;
    case Property::value: s.body = gen_value(r, l); break;
  }
  return s;
}

std::vector<Scenario> smaller(const Scenario& base) {
  std::vector<Scenario> out;
  std::visit(
      Overloaded{
          [&](const QueueScenario& s) {
            if (s.producers.size() > 1) {
              QueueScenario c = s;
              c.producers.pop_back();
              rebalance(c.consumers, total_items(c.producers));
              push_if_changed(out, base, std::move(c));
            }
            if (s.consumers.size() > 1) {
              QueueScenario c = s;
              const std::uint32_t q = c.consumers.back().quota;
              c.consumers.pop_back();
              c.consumers.front().quota += q;
              push_if_changed(out, base, std::move(c));
            }
            {
              QueueScenario c = s;
              for (Producer& p : c.producers) p.puts.resize((p.puts.size() + 1) / 2);
              rebalance(c.consumers, total_items(c.producers));
              push_if_changed(out, base, std::move(c));
            }
            {
              QueueScenario c = s;
              for (Producer& p : c.producers) std::for_each(p.puts.begin(), p.puts.end(), zero_delays);
              for (Consumer& k : c.consumers) std::for_each(k.gets.begin(), k.gets.end(), zero_delays);
              push_if_changed(out, base, std::move(c));
            }
          },
          [&](const LockScenario& s) {
            if (s.workers.size() > 1) {
              LockScenario c = s;
              c.workers.pop_back();
              push_if_changed(out, base, std::move(c));
            }
            {
              LockScenario c = s;
              for (auto& w : c.workers) w.resize((w.size() + 1) / 2);
              push_if_changed(out, base, std::move(c));
            }
          },
          [&](const TicketScenario& s) {
            if (s.buyers.size() > 1) {
              TicketScenario c = s;
              c.buyers.pop_back();
              push_if_changed(out, base, std::move(c));
            }
            if (s.tickets > 0) {
              TicketScenario c = s;
              c.tickets /= 2;
              push_if_changed(out, base, std::move(c));
            }
          },
          [&](const JoinableScenario& s) {
            if (s.producers.size() > 1) {
              JoinableScenario c = s;
              c.producers.pop_back();
              rebalance(c.consumers, total_items(c.producers));
              push_if_changed(out, base, std::move(c));
            }
            if (s.consumers.size() > 1) {
              JoinableScenario c = s;
              const std::uint32_t q = c.consumers.back().quota;
              c.consumers.pop_back();
              c.consumers.front().quota += q;
              push_if_changed(out, base, std::move(c));
            }
            {
              JoinableScenario c = s;
              for (Producer& p : c.producers) p.puts.resize((p.puts.size() + 1) / 2);
              rebalance(c.consumers, total_items(c.producers));
              push_if_changed(out, base, std::move(c));
            }
          },
          [&](const TimeoutScenario& s) {
            if (s.workers.size() > 1) {
              TimeoutScenario c = s;
              c.workers.pop_back();
              push_if_changed(out, base, std::move(c));
            }
            {
              TimeoutScenario c = s;
              for (auto& w : c.workers) w.resize((w.size() + 1) / 2);
              push_if_changed(out, base, std::move(c));
            }
          },
          [&](const DaemonScenario& s) {
            if (s.children.size() > 1) {
              // Keep one child of each kind as long as possible: drop from the back.
              DaemonScenario c = s;
              c.children.pop_back();
              push_if_changed(out, base, std::move(c));
            }
          },
          [&](const PipeScenario& s) {
            if (!s.duplex && s.writers.size() > 1) {
              PipeScenario c = s;
              c.writers.pop_back();
              push_if_changed(out, base, std::move(c));
            }
            {
              PipeScenario c = s;
              for (PipeWriter& w : c.writers) w.delays_us.resize((w.delays_us.size() + 1) / 2);
              push_if_changed(out, base, std::move(c));
            }
          },
          [&](const ValueScenario& s) {
            if (s.workers.size() > 1) {
              ValueScenario c = s;
              c.workers.pop_back();
              push_if_changed(out, base, std::move(c));
            }
            {
              ValueScenario c = s;
              for (auto& w : c.workers) w.resize((w.size() + 1) / 2);
              push_if_changed(out, base, std::move(c));
            }
          },
      },
      base.body);
  return out;
}

nlohmann::json to_json(const Scenario& s) {
  return json{{"property", to_string(s.property())}, {"seed", s.seed}, {"scenario", body_json(s.body)}};
}

Scenario scenario_from_json(const nlohmann::json& j) {
  const json& p = field(j, "property");
  if (!p.is_string()) bad("scenario JSON: 'property' must be a string");
  const auto prop = property_from_string(p.get<std::string>());
  if (!prop) bad(fmt::format("scenario JSON: unknown property '{}'", p.get<std::string>()));
  Scenario s;
  s.seed = get_as<std::uint64_t>(j, "seed");
  s.body = body_from(*prop, field(j, "scenario"));
  validate(s);
  return s;
}

}  // namespace mpconform
