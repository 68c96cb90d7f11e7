#include "mpconform/spec/error.hpp"

#include "mpconform/spec/value.hpp"

namespace mpconform::spec {

bool message_matches(const std::string& pattern, const std::string& text) {
  static const std::string kAddr = "0x\u2026";  // "0x…"
  static const std::string kPid = "<pid>";
  std::size_t p = 0;
  std::size_t t = 0;
  auto is_hex = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  };
  auto is_dec = [](char c) { return c >= '0' && c <= '9'; };
  while (p < pattern.size()) {
    if (pattern.compare(p, kAddr.size(), kAddr) == 0) {
      p += kAddr.size();
      // A pattern admits itself: the placeholder also matches the placeholder.
      if (text.compare(t, kAddr.size(), kAddr) == 0) {
        t += kAddr.size();
        continue;
      }
      if (text.compare(t, 2, "0x") != 0) return false;
      t += 2;
      const std::size_t start = t;
      while (t < text.size() && is_hex(text[t])) ++t;
      if (t == start) return false;
    } else if (pattern.compare(p, kPid.size(), kPid) == 0) {
      p += kPid.size();
      if (text.compare(t, kPid.size(), kPid) == 0) {
        t += kPid.size();
        continue;
      }
      const std::size_t start = t;
      while (t < text.size() && is_dec(text[t])) ++t;
      if (t == start) return false;
    } else {
      if (t >= text.size() || text[t] != pattern[p]) return false;
      ++p;
      ++t;
    }
  }
  return t == text.size();
}

bool PyError::matches(const PyError& observed) const {
  return type == observed.type && message_matches(message, observed.message);
}

std::string PyError::repr() const {
  if (message.empty()) return type + "()";
  return type + "(" + Value::str(message).repr() + ")";
}

}  // namespace mpconform::spec
