// Differential testing on recorded histories: scenarios of the queue, joinable, lock and pipe
// properties run for real (forked processes, the reference backend and CPython's
// multiprocessing), each history judged by the property's checkers and by the exact search over
// its objects' models (Property::models, classify()).
//  - The reference claims to be linearizable: every history must pass both, and the search
//    must find each object linearizable.
//  - CPython is judged by its racy profile: the property must pass; the search only classifies
//    (CPython's Queue is not linearizable: its feeder threads), and the counts are printed.
#include <gtest/gtest.h>

#include <cstdint>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "mpconform/executor.hpp"
#include "mpconform/linearizability.hpp"
#include "mpconform/property.hpp"
#include "mpconform/runner.hpp"
#include "mpconform/scenario.hpp"

namespace {

using namespace mpconform;

constexpr const char* kProperties[] = {"queue", "joinable", "lock", "pipe"};

struct Counts {
  std::map<std::string, int> classes;  // class of each searched history
  int histories = 0;
};

// Runs `scenarios` scenarios of each property on `backend`; returns the classes seen. Every
// history must pass its property; with `exact`, every object must also be linearizable.
Counts run(const std::string& backend, int scenarios, bool exact) {
  become_subreaper();
  std::unique_ptr<Executor> executor = make_executor(backend);  // throws when unavailable
  Counts counts;
  for (const char* property : kProperties) {
    for (int k = 0; k < scenarios; ++k) {
      const Scenario s = generate(property, 1000 + static_cast<std::uint64_t>(k));
      const ScenarioResult r = run_scenario(*executor, s, {});
      if (r.verdict == ScenarioVerdict::unknown) continue;  // nothing to compare (counted below)
      EXPECT_TRUE(r.passed()) << backend << " " << property << " seed " << s.seed << ": " << r.message;
      std::vector<LinearizabilityOptions> objects = property_named(property).models(s.params, r.history);
      for (LinearizabilityOptions& o : objects) o.max_states = 100'000;  // past it: unknown, counted
      if (objects.empty()) continue;  // a duplex pipe: no searched object
      const Classification c = classify(r.history, objects);
      ++counts.histories;
      ++counts.classes[std::string(to_string(c.cls))];
      if (exact) {
        EXPECT_EQ(c.cls, HistoryClass::linearizable)
            << backend << " " << property << " seed " << s.seed << ": " << c.message << "\n"
            << to_jsonl(r.history);
      }
    }
  }
  std::string line = fmt::format("recorded {}: {} histories searched:", backend, counts.histories);
  for (const auto& [cls, n] : counts.classes) line += fmt::format(" {} {}", cls, n);
  std::cout << line << "\n";
  return counts;
}

TEST(DifferentialRecorded, TheReferencesHistoriesPassAndAreLinearizable) {
  const Counts c = run("reference", 12, /*exact=*/true);
  EXPECT_GE(c.histories, 30);
}

TEST(DifferentialRecorded, CPythonsHistoriesPassAndAreClassified) {
  Counts c;
  try {
    c = run("python:multiprocessing", 3, /*exact=*/false);
  } catch (const std::exception& e) {
    GTEST_SKIP() << "no Python executor here: " << e.what();
  }
  EXPECT_GE(c.histories, 6);
  EXPECT_EQ(c.classes.count("illegal"), 0u) << "CPython's own histories are at least sequentially consistent";
}

}  // namespace
