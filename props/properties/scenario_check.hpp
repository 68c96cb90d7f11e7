#pragma once
// props/properties/scenario_check.hpp: one case of a property inside a RapidCheck test: a seed
// drawn by RapidCheck, the scenario drawn from it by the harness's own generator, run and
// shrunk by the harness's fuzz library (mpconform/fuzz.hpp): one generator, one rerun policy,
// one shrinker for the command line and for these tests.
//
// The implementation is chosen at run time: MPCONFORM_BACKEND when set and non-empty
// ("reference", "mutant:<name>", a plugin path, or "python:MODULE"), else the reference. Its
// executor is made once per test process; its spec is added to every replay command.
#include <cstdint>
#include <string>
#include <string_view>

#include "mpconform/executor.hpp"

namespace mpconform::props {

/// The backend spec of this run: backend_spec(nullopt), i.e. $MPCONFORM_BACKEND or "reference".
const std::string& selected_backend_spec();

/// The executor of this run. Throws std::invalid_argument when MPCONFORM_BACKEND names nothing.
Executor& selected_executor();

/// Runs the scenario of `property` drawn from `seed` as one case:
///   - runs it attempts() times at most (rc_glue.hpp), stopping at the first failure;
///   - fail, crash, hang or error: shrinks it with the fuzz library (bounded by
///     MPCONFORM_SHRINK_SECONDS, default 10 s), then RC_FAIL with the backend, the verdict and
///     clause, the message, the shrunk scenario as JSON and the `mpconform run` replay command;
///   - unknown is not a failure: counted by RC_TAG, with the reason in the RapidCheck log.
void check_seed(std::string_view property, std::uint64_t seed);

}  // namespace mpconform::props
