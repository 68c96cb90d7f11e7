#pragma once
// props/properties/scenario_check.hpp: runs one generated scenario against the backend chosen at
// run time, inside a RapidCheck property.
//
// The backend is the harness registry's (mpconform/backend.hpp): MPCONFORM_BACKEND when set and
// non-empty ("reference", "mutant:<name>", or a plugin path), else the reference. It is made
// once per test process and serves every property; its spec is added to every replay command.
#include <string>

#include "mpconform/backend.hpp"
#include "mpconform/scenario.hpp"

namespace mpconform::props {

/// The backend spec of this run: backend_spec(nullopt), i.e. $MPCONFORM_BACKEND or "reference".
const std::string& selected_backend_spec();

/// The backend of this run. Throws std::invalid_argument (once per call) when
/// MPCONFORM_BACKEND names no backend.
Backend& selected_backend();

/// Runs `body` as one case of the current property:
///   - runs it attempts() times at most (rc_glue.hpp), stopping at the first failure;
///   - verdict fail, hang or error: note_failure(), then RC_FAIL with the backend, the broken
///     clause, the checker's window of events (or what each process was doing), and the
///     scenario as JSON;
///   - verdict unknown is not a failure: it is counted by RC_TAG (the distribution printed at
///     the end), with the checker's reason in the RapidCheck log;
///   - once the shrinking budget is spent, returns without running (candidate accepted).
void check_scenario(const ScenarioBody& body);

}  // namespace mpconform::props
