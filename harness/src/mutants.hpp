#pragma once
// Internal: the built-in mutants (deliberately broken backends), each a decorator over another
// backend (the reference) that breaks one behaviour.
#include <memory>
#include <string_view>
#include <vector>

#include "mpconform/backend.hpp"

namespace mpconform::engine {

/// Every mutant: name (without "mutant:"), description, the property that must catch it.
std::vector<BackendInfo> mutant_infos();

/// The mutant `name` (without the "mutant:" prefix) over `base`; nullptr for an unknown name.
std::unique_ptr<Backend> make_mutant(std::string_view name, std::unique_ptr<Backend> base);

}  // namespace mpconform::engine
