#pragma once
// Internal: the built-in mutants (deliberately broken backends), each a decorator over another
// backend (the reference) that breaks one behaviour.
#include <memory>
#include <string_view>
#include <vector>

#include "mpconform/backend.hpp"

namespace mpconform::engine {

/// Every mutant: name (without "mutant:"), description, the property that must catch it, and
/// its kind of bug (BackendInfo::kind, which picks its mode in `mpconform mutants`):
///   "control"    broken whenever the call is made (or every n-th call, or under any
///                contention): the suite's controls;
///   "order"      broken only when calls of different processes come in one particular order
///                (a put landing while a get waits);
///   "atomicity"  broken only when two calls overlap inside a window of a few hundred ns between
///                a load and a store in shared memory.
std::vector<BackendInfo> mutant_infos();

/// The mutant `name` (without the "mutant:" prefix) over `base`; nullptr for an unknown name.
std::unique_ptr<Backend> make_mutant(std::string_view name, std::unique_ptr<Backend> base);

}  // namespace mpconform::engine
