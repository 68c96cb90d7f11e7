#include "mpconform/spec/outcome.hpp"

namespace mpconform::spec {

bool Result::admits(const Result& observed) const {
  if (kind != observed.kind) return false;
  switch (kind) {
    case Kind::returned:
      return value == observed.value;
    case Kind::raised:
      return error.matches(observed.error);
    case Kind::blocks:
      return true;
  }
  return false;
}

std::string Result::to_string() const {
  switch (kind) {
    case Kind::returned:
      return value.repr();
    case Kind::raised:
      return "raises " + error.repr();
    case Kind::blocks:
      return "blocks";
  }
  return "?";
}

}  // namespace mpconform::spec
