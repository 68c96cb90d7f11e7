// The built-in reference backend (mpconform/reference_backend.hpp).
#include <memory>

#include "mpconform/backend.hpp"
#include "mpconform/reference_backend.hpp"

namespace mpconform {

std::unique_ptr<Backend> make_reference_backend() {
  return std::make_unique<reference::ReferenceBackend>();
}

}  // namespace mpconform
