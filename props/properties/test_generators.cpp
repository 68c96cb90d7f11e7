// The generators of generators.hpp stay inside the ranges validate() accepts and GenLimits
// asks for (no fork: these cases only draw scenarios).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "generators.hpp"

namespace mpconform::props {
namespace {

template <class Body>
void valid(const Body& body) {
  const Scenario s{0, body};
  try {
    validate(s);
  } catch (const std::invalid_argument& e) {
    RC_FAIL(std::string("invalid scenario: ") + e.what());
  }
  RC_ASSERT(process_count(s) >= 1u);
}

RC_GTEST_PROP(properties_generators, QueueScenariosAreValid, ()) {
  const QueueType type = *rc::gen::element(QueueType::queue, QueueType::simple_queue);
  const QueueScenario s = *gen::queueScenario(type);
  valid(s);
  RC_ASSERT(s.type == type);
  std::uint64_t puts = 0, quotas = 0;
  for (const Producer& p : s.producers) puts += p.puts.size();
  for (const Consumer& c : s.consumers) quotas += c.quota;
  RC_ASSERT(puts == quotas);
  if (type == QueueType::simple_queue) RC_ASSERT(s.maxsize == 0);
}

RC_GTEST_PROP(properties_generators, LockScenariosAreValid, ()) {
  const LockType type = *rc::gen::element(LockType::lock, LockType::rlock);
  const LockScenario s = *gen::lockScenario(type);
  valid(s);
  RC_ASSERT(s.type == type);
}

RC_GTEST_PROP(properties_generators, OtherScenariosAreValid, ()) {
  valid(*gen::ticketScenario(*rc::gen::element(TicketStore::file, TicketStore::value)));
  valid(*gen::joinableScenario());
  valid(*gen::timeoutScenario());
  valid(*gen::daemonScenario());
  valid(*gen::pipeScenario());
  valid(*gen::valueScenario());
}

// Smaller limits give smaller scenarios (and the same ranges otherwise).
RC_GTEST_PROP(properties_generators, LimitsAreHonoured, ()) {
  GenLimits l;
  l.max_processes = *rc::gen::inRange<std::uint32_t>(1, 9);
  l.max_items = *rc::gen::inRange<std::uint32_t>(1, 17);
  l.max_delay_us = *rc::gen::inRange<std::uint32_t>(0, 1000);
  const QueueScenario q = *gen::queueScenario(QueueType::queue, l);
  valid(q);
  RC_ASSERT(q.producers.size() <= l.max_processes);
  RC_ASSERT(q.consumers.size() <= l.max_processes);
  for (const Producer& p : q.producers) {
    RC_ASSERT(p.puts.size() <= l.max_items);
    for (const CallArgs& c : p.puts) RC_ASSERT(c.delay_us <= l.max_delay_us);
  }
  const ValueScenario v = *gen::valueScenario(l);
  valid(v);
  RC_ASSERT(v.workers.size() <= l.max_processes);
}

}  // namespace
}  // namespace mpconform::props
