#include "mpconform/spec/value.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <stdexcept>
#include <system_error>

namespace mpconform::spec {

std::string py_int_repr(PyInt v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  // Work on the magnitude as unsigned so the minimum value does not overflow on negation.
  __extension__ typedef unsigned __int128 U128;
  U128 mag = negative ? U128(0) - static_cast<U128>(v) : static_cast<U128>(v);
  std::string digits;
  while (mag != 0) {
    digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(mag % 10)));
    mag /= 10;
  }
  return negative ? "-" + digits : digits;
}

std::string py_float_repr(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  std::array<char, 64> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  std::string out(buf.data(), res.ptr);
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

namespace {

std::string quote(const std::string& s, bool is_bytes) {
  // Python prefers single quotes unless the text holds a single quote and no double quote.
  const bool use_double = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char q = use_double ? '"' : '\'';
  std::string out = is_bytes ? "b" : "";
  out += q;
  static constexpr const char* kHex = "0123456789abcdef";
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == q || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7f || (is_bytes && c >= 0x80)) {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    } else {
      out += ch;  // str: UTF-8 passes through, as Python prints printable text
    }
  }
  out += q;
  return out;
}

}  // namespace

std::string Value::repr() const {
  switch (type_) {
    case Type::none:
      return "None";
    case Type::boolean:
      return b_ ? "True" : "False";
    case Type::integer:
      return py_int_repr(i_);
    case Type::floating:
      return py_float_repr(d_);
    case Type::bytes:
      return quote(s_, true);
    case Type::str:
      return quote(s_, false);
    case Type::list: {
      std::string out = "[";
      for (std::size_t k = 0; k < list_.size(); ++k) {
        if (k != 0) out += ", ";
        out += list_[k].repr();
      }
      return out + "]";
    }
  }
  return "?";
}

const Value& Value::expect(Type t) const {
  if (type_ != t) throw std::logic_error("Value " + repr() + " does not hold the type asked for");
  return *this;
}

bool operator==(const Value& a, const Value& b) {
  if (a.type_ != b.type_) return false;
  switch (a.type_) {
    case Value::Type::none:
      return true;
    case Value::Type::boolean:
      return a.b_ == b.b_;
    case Value::Type::integer:
      return a.i_ == b.i_;
    case Value::Type::floating:
      return a.d_ == b.d_;
    case Value::Type::bytes:
    case Value::Type::str:
      return a.s_ == b.s_;
    case Value::Type::list:
      return a.list_ == b.list_;
  }
  return false;
}

Value py::int_list(const std::vector<PyInt>& items) {
  Value::List out;
  out.reserve(items.size());
  for (const PyInt i : items) out.push_back(Value::integer(i));
  return Value::list(std::move(out));
}

}  // namespace mpconform::spec
