#pragma once
// props/properties/generators.hpp: RapidCheck generators of the harness's scenarios
// (mpconform/scenario.hpp), one per scenario type, bounded by GenLimits.
//
// Every random choice of a run is drawn here, in the test process, before the runner forks
// anything: no generator is ever used in a forked child. The generated scenario is the whole
// case, so RapidCheck shrinks it (fewer processes, fewer items, zero delays, simpler
// block/timeout arguments) and prints it as a counterexample: describe() and the JSON that
// `mpconform run --scenario-file` replays (see showValue at the end).
//
// Ranges stay inside validate()'s (scenario.hpp), mostly narrower so a case is quick:
//   processes of each kind 1..limits.max_processes (<= 8; joinable 1..4, daemon 1..4 children,
//   pipe 1..3 writers), items per producer 1..limits.max_items, delays 0..limits.max_delay_us
//   (half of them 0), positive timeouts up to limits.max_timeout_s.
#include <rapidcheck.h>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "mpconform/scenario.hpp"

namespace mpconform::props::gen {

using rc::Gen;

/// RapidCheck's nominal size. Every generator here draws at this size whatever the case's size:
/// RapidCheck grows the size from 0 over a run, and rc::gen::inRange scales its range by it, so
/// a property of a few dozen cases would spend most of them on near-minimal scenarios. Small
/// scenarios come from shrinking instead.
inline constexpr int kFullSize = 100;

/// `g` drawn at kFullSize.
template <class T>
Gen<T> full(Gen<T> g) {
  return rc::gen::resize(kFullSize, std::move(g));
}

/// A vector of min..max elements of `g` (each drawn at kFullSize); shrinks by dropping and
/// shrinking elements.
template <class T>
Gen<std::vector<T>> vectorOf(std::size_t min, std::size_t max, Gen<T> g) {
  // The container's length is uniform in 0..size, hence the resize to max.
  return rc::gen::suchThat(
      rc::gen::resize(static_cast<int>(max),
                      rc::gen::container<std::vector<T>>(full(std::move(g)))),
      [min, max](const std::vector<T>& v) { return v.size() >= min && v.size() <= max; });
}

/// Exactly n elements of `g`.
template <class T>
Gen<std::vector<T>> vectorOfN(std::size_t n, Gen<T> g) {
  return rc::gen::container<std::vector<T>>(n, full(std::move(g)));
}

/// An injected delay in microseconds: 0 half of the time, else 0..max_us.
inline Gen<std::uint32_t> delayUs(std::uint32_t max_us) {
  return rc::gen::weightedOneOf<std::uint32_t>(
      {{1, rc::gen::just<std::uint32_t>(0)}, {1, rc::gen::inRange<std::uint32_t>(0, max_us + 1)}});
}

/// Seconds in [lo_us, hi_us] microseconds (as a double), shrinking towards lo_us.
inline Gen<double> secondsUs(std::uint32_t lo_us, std::uint32_t hi_us) {
  return rc::gen::map(rc::gen::inRange<std::uint32_t>(lo_us, hi_us + 1),
                      [](std::uint32_t us) { return static_cast<double>(us) / 1e6; });
}

inline std::uint32_t max_timeout_us(const GenLimits& l) {
  return std::max<std::uint32_t>(1000, static_cast<std::uint32_t>(l.max_timeout_s * 1e6));
}

/// The block/timeout arguments of a call that may wait, in the mix programs use: block=False
/// (sometimes with an ignored timeout), timeout None (when `allow_forever`), 0, negative, or a
/// positive timeout up to l.max_timeout_s; plus an injected delay before the call.
inline Gen<CallArgs> callArgs(const GenLimits& l, bool allow_forever) {
  const std::uint32_t tmax = max_timeout_us(l);
  auto nonblocking = rc::gen::just(CallArgs{false, std::nullopt, 0});
  auto nonblocking_ignored = rc::gen::map(secondsUs(1000, tmax), [](double t) {
    return CallArgs{false, t, 0};
  });
  auto forever = rc::gen::just(CallArgs{true, std::nullopt, 0});
  auto zero = rc::gen::just(CallArgs{true, 0.0, 0});
  auto negative = rc::gen::map(secondsUs(1000, 1'000'000), [](double t) {
    return CallArgs{true, -t, 0};
  });
  auto positive = rc::gen::map(secondsUs(1000, tmax), [](double t) {
    return CallArgs{true, t, 0};
  });
  Gen<CallArgs> shape =
      allow_forever
          ? rc::gen::weightedOneOf<CallArgs>({{10, forever}, {10, nonblocking},
                                              {5, nonblocking_ignored}, {5, zero},
                                              {5, negative}, {65, positive}})
          : rc::gen::weightedOneOf<CallArgs>({{10, nonblocking}, {5, nonblocking_ignored},
                                              {5, zero}, {5, negative}, {75, positive}});
  return rc::gen::apply(
      [](CallArgs c, std::uint32_t delay) {
        c.delay_us = delay;
        return c;
      },
      shape, delayUs(l.max_delay_us));
}

/// A producer putting 1..l.max_items items.
inline Gen<Producer> producer(const GenLimits& l) {
  return rc::gen::map(vectorOf(1, std::clamp<std::uint32_t>(l.max_items, 1, 64), callArgs(l, true)),
                      [](std::vector<CallArgs> puts) {
                        Producer p;
                        p.puts = std::move(puts);
                        return p;
                      });
}

/// Gives consumer i a quota in proportion to weights[i], the quotas adding up to `total`.
template <class C>
void share_quotas(std::vector<C>& consumers, const std::vector<std::uint32_t>& weights,
                  std::uint64_t total) {
  std::uint64_t sum = 0;
  for (std::uint32_t w : weights) sum += w;
  std::uint64_t given = 0;
  for (std::size_t i = 0; i < consumers.size(); ++i) {
    consumers[i].quota = static_cast<std::uint32_t>(total * weights[i] / sum);
    given += consumers[i].quota;
  }
  for (std::size_t i = 0; given < total; i = (i + 1) % consumers.size(), ++given)
    ++consumers[i].quota;
}

inline std::uint64_t total_puts(const std::vector<Producer>& ps) {
  std::uint64_t n = 0;
  for (const Producer& p : ps) n += p.puts.size();
  return n;
}

inline Gen<std::uint32_t> quotaWeight() { return rc::gen::inRange<std::uint32_t>(1, 5); }

inline Gen<Probe> probe() {
  return rc::gen::weightedElement<Probe>(
      {{7, Probe::none}, {1, Probe::qsize}, {1, Probe::empty}, {1, Probe::full}});
}

/// A bounded queue's maxsize (1..8) or unbounded (0), 2:3.
inline Gen<std::int64_t> maxsize() {
  return rc::gen::weightedOneOf<std::int64_t>(
      {{2, rc::gen::just<std::int64_t>(0)}, {3, rc::gen::inRange<std::int64_t>(1, 9)}});
}

/// queue: producers and consumers of a Queue (maxsize drawn) or a SimpleQueue (unbounded).
inline Gen<QueueScenario> queueScenario(QueueType type, const GenLimits& l = {}) {
  const std::size_t procs = std::clamp<std::uint32_t>(l.max_processes, 1, 8);
  using Get = std::pair<CallArgs, Probe>;
  using ConsumerDraw = std::pair<std::vector<Get>, std::uint32_t>;  // gets, quota weight
  auto consumer = rc::gen::pair(vectorOf(1, 8, rc::gen::pair(callArgs(l, true), probe())),
                                quotaWeight());
  return full(rc::gen::apply(
      [type](std::int64_t max, std::vector<Producer> producers, std::vector<ConsumerDraw> draws) {
        QueueScenario s;
        s.type = type;
        s.maxsize = type == QueueType::simple_queue ? 0 : max;
        s.producers = std::move(producers);
        std::vector<std::uint32_t> weights;
        for (auto& [gets, weight] : draws) {
          Consumer c;
          for (const auto& [args, pr] : gets) {
            c.gets.push_back(args);
            c.probes.push_back(pr);
          }
          s.consumers.push_back(std::move(c));
          weights.push_back(weight);
        }
        share_quotas(s.consumers, weights, total_puts(s.producers));
        return s;
      },
      maxsize(), vectorOf(1, procs, producer(l)), vectorOf(1, procs, consumer)));
}

/// lock: 1..8 workers of 1..8 attempts on a Lock or an RLock.
inline Gen<LockScenario> lockScenario(LockType type, const GenLimits& l = {}) {
  const bool rlock = type == LockType::rlock;
  auto attempt = rc::gen::apply(
      [](CallArgs acquire, std::uint32_t hold, std::uint32_t depth, bool unowned) {
        LockAttempt a;
        a.acquire = acquire;
        a.hold_us = hold;
        a.depth = depth;
        a.release_unowned_first = unowned;
        return a;
      },
      callArgs(l, true), delayUs(l.max_delay_us),
      rlock ? rc::gen::inRange<std::uint32_t>(1, 4) : rc::gen::just<std::uint32_t>(1),
      rlock ? rc::gen::weightedElement<bool>({{4, false}, {1, true}}) : rc::gen::just(false));
  return full(rc::gen::map(
      vectorOf(1, std::clamp<std::uint32_t>(l.max_processes, 1, 8),
               vectorOf(1, std::clamp<std::uint32_t>(l.max_items, 1, 8), attempt)),
      [type](std::vector<std::vector<LockAttempt>> workers) {
        LockScenario s;
        s.type = type;
        s.workers = std::move(workers);
        return s;
      }));
}

/// tickets: 0..10 tickets, 1..8 buyers, on a file or a shared Value.
inline Gen<TicketScenario> ticketScenario(TicketStore store, const GenLimits& l = {}) {
  auto buyer = rc::gen::apply(
      [](std::uint32_t start, std::uint32_t pause, std::uint32_t attempts) {
        Buyer b;
        b.start_delay_us = start;
        b.pause_us = pause;
        b.attempts = attempts;
        return b;
      },
      delayUs(l.max_delay_us),
      rc::gen::weightedOneOf<std::uint32_t>(
          {{3, rc::gen::just<std::uint32_t>(0)},
           {7, rc::gen::inRange<std::uint32_t>(0, l.max_delay_us + 1)}}),
      rc::gen::inRange<std::uint32_t>(1, 4));
  return full(rc::gen::apply(
      [store](std::uint32_t tickets, std::vector<Buyer> buyers) {
        TicketScenario s;
        s.store = store;
        s.tickets = tickets;
        s.buyers = std::move(buyers);
        return s;
      },
      rc::gen::inRange<std::uint32_t>(0, 11),
      vectorOf(1, std::clamp<std::uint32_t>(l.max_processes, 1, 8), buyer)));
}

/// joinable: 1..4 producers, 1..4 consumers (get, pause, task_done), 1..2 joiners, 0..2 extra
/// task_done calls.
inline Gen<JoinableScenario> joinableScenario(const GenLimits& l = {}) {
  const std::size_t procs = std::clamp<std::uint32_t>(l.max_processes, 1, 4);
  using ConsumerDraw = std::pair<JoinableConsumer, std::uint32_t>;
  auto consumer = rc::gen::apply(
      [](std::vector<CallArgs> gets, std::uint32_t pause, std::uint32_t weight) {
        JoinableConsumer c;
        c.gets = std::move(gets);
        c.task_pause_us = pause;
        return ConsumerDraw{std::move(c), weight};
      },
      vectorOf(1, 8, callArgs(l, true)), delayUs(l.max_delay_us), quotaWeight());
  return full(rc::gen::apply(
      [](std::int64_t max, std::vector<Producer> producers, std::vector<ConsumerDraw> draws,
         std::vector<std::uint32_t> joiners, std::uint32_t extra) {
        JoinableScenario s;
        s.maxsize = max;
        s.producers = std::move(producers);
        std::vector<std::uint32_t> weights;
        for (auto& [c, w] : draws) {
          s.consumers.push_back(std::move(c));
          weights.push_back(w);
        }
        share_quotas(s.consumers, weights, total_puts(s.producers));
        s.joiners = std::move(joiners);
        s.extra_task_done = extra;
        return s;
      },
      maxsize(), vectorOf(1, procs, producer(l)), vectorOf(1, procs, consumer),
      vectorOf(1, 2, delayUs(l.max_delay_us * 4)), rc::gen::inRange<std::uint32_t>(0, 3)));
}

inline bool may_skip_wait(TimedOp op) {
  return op == TimedOp::queue_get || op == TimedOp::queue_put || op == TimedOp::lock_acquire ||
         op == TimedOp::rlock_acquire;
}

/// One call made where it must time out; block=False only where the API has it, never
/// timeout None.
inline Gen<TimedCall> timedCall(const GenLimits& l) {
  const std::uint32_t tmax = max_timeout_us(l);
  auto op = rc::gen::element(TimedOp::queue_get, TimedOp::queue_put, TimedOp::simple_get,
                             TimedOp::lock_acquire, TimedOp::rlock_acquire,
                             TimedOp::joinable_join, TimedOp::pipe_poll, TimedOp::process_join);
  return rc::gen::mapcat(op, [l, tmax](TimedOp o) {
    auto zero = rc::gen::just(CallArgs{true, 0.0, 0});
    auto negative = rc::gen::map(secondsUs(1000, 1'000'000), [](double t) {
      return CallArgs{true, -t, 0};
    });
    auto positive = rc::gen::map(secondsUs(1000, tmax), [](double t) {
      return CallArgs{true, t, 0};
    });
    Gen<CallArgs> shape =
        may_skip_wait(o)
            ? rc::gen::weightedOneOf<CallArgs>(
                  {{15, rc::gen::just(CallArgs{false, std::nullopt, 0})},
                   {15, zero}, {10, negative}, {60, positive}})
            : rc::gen::weightedOneOf<CallArgs>({{15, zero}, {10, negative}, {75, positive}});
    return rc::gen::apply(
        [o](CallArgs c, std::uint32_t delay) {
          c.delay_us = delay;
          return TimedCall{o, c};
        },
        shape, delayUs(l.max_delay_us));
  });
}

/// timeouts: 1..8 workers of 1..4 timed calls; the full queue's maxsize 1..4.
inline Gen<TimeoutScenario> timeoutScenario(const GenLimits& l = {}) {
  return full(rc::gen::apply(
      [](std::int64_t full, std::vector<std::vector<TimedCall>> workers) {
        TimeoutScenario s;
        s.full_maxsize = full;
        s.workers = std::move(workers);
        return s;
      },
      rc::gen::inRange<std::int64_t>(1, 5),
      vectorOf(1, std::clamp<std::uint32_t>(l.max_processes, 1, 8), vectorOf(1, 4, timedCall(l)))));
}

/// daemon: 1..4 children, each daemonic or working 0..20 ms; the parent exits after 0..10 ms.
inline Gen<DaemonScenario> daemonScenario(const GenLimits& l = {}) {
  auto child = rc::gen::mapcat(rc::gen::arbitrary<bool>(), [](bool daemon) {
    return rc::gen::map(daemon ? rc::gen::just<std::uint32_t>(0)
                               : rc::gen::inRange<std::uint32_t>(0, 20'001),
                        [daemon](std::uint32_t run) { return DaemonChild{daemon, run}; });
  });
  return full(rc::gen::apply(
      [](std::vector<DaemonChild> children, std::uint32_t delay) {
        DaemonScenario s;
        s.children = std::move(children);
        s.parent_delay_us = delay;
        return s;
      },
      vectorOf(1, std::clamp<std::uint32_t>(l.max_processes, 1, 4), child),
      rc::gen::inRange<std::uint32_t>(0, 10'001)));
}

/// pipe: simplex with 1..3 writers, or duplex with 2; 1..16 messages each; 0..4 polls.
inline Gen<PipeScenario> pipeScenario(const GenLimits& l = {}) {
  auto writer = rc::gen::map(
      vectorOf(1, std::clamp<std::uint32_t>(l.max_items, 1, 32), delayUs(l.max_delay_us)),
      [](std::vector<std::uint32_t> d) { return PipeWriter{std::move(d)}; });
  auto poll = rc::gen::weightedOneOf<CallArgs>(
      {{3, rc::gen::just(CallArgs{true, 0.0, 0})},
       {1, rc::gen::just(CallArgs{true, std::nullopt, 0})},
       {6, rc::gen::map(secondsUs(1000, max_timeout_us(l)),
                        [](double t) { return CallArgs{true, t, 0}; })}});
  const std::size_t simplex_writers = std::clamp<std::uint32_t>(l.max_processes, 1, 3);
  return full(rc::gen::mapcat(rc::gen::weightedElement<bool>({{3, false}, {2, true}}),
                         [=](bool duplex) {
                           return rc::gen::apply(
                               [duplex](std::vector<PipeWriter> w, std::vector<CallArgs> p) {
                                 PipeScenario s;
                                 s.duplex = duplex;
                                 s.writers = std::move(w);
                                 s.polls = std::move(p);
                                 return s;
                               },
                               duplex ? vectorOfN(2, writer) : vectorOf(1, simplex_writers, writer),
                               vectorOf(0, 4, poll));
                         }));
}

/// value: 1..8 workers of 1..16 locked increments, each with a pause between read and write.
inline Gen<ValueScenario> valueScenario(const GenLimits& l = {}) {
  auto think = rc::gen::weightedOneOf<std::uint32_t>(
      {{1, rc::gen::just<std::uint32_t>(0)},
       {1, rc::gen::inRange<std::uint32_t>(0, l.max_delay_us / 2 + 1)}});
  return full(rc::gen::apply(
      [](std::uint64_t initial, std::vector<std::vector<std::uint32_t>> workers) {
        ValueScenario s;
        s.initial = initial;
        s.workers = std::move(workers);
        return s;
      },
      rc::gen::inRange<std::uint64_t>(0, 1001),
      vectorOf(1, std::clamp<std::uint32_t>(l.max_processes, 1, 8),
               vectorOf(1, std::clamp<std::uint32_t>(l.max_items, 1, 32), think))));
}

}  // namespace mpconform::props::gen

namespace mpconform {

/// The scenario types of ScenarioBody.
template <class T>
concept ScenarioBodyType =
    std::same_as<T, QueueScenario> || std::same_as<T, LockScenario> ||
    std::same_as<T, TicketScenario> || std::same_as<T, JoinableScenario> ||
    std::same_as<T, TimeoutScenario> || std::same_as<T, DaemonScenario> ||
    std::same_as<T, PipeScenario> || std::same_as<T, ValueScenario>;

/// How RapidCheck prints a scenario in a counterexample (found by ADL): one line of
/// describe(), then the JSON document that `mpconform run --scenario-file` replays.
template <ScenarioBodyType Body>
void showValue(const Body& body, std::ostream& os) {
  const Scenario s{0, body};
  os << describe(s) << "\n" << to_json(s).dump();
}

}  // namespace mpconform
