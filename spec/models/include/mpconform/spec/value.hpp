#pragma once
// Python values as plain data: what an operation takes as an argument or returns.
//
// The models compare what an implementation returned with what CPython 3.11 would return, so a
// value keeps its Python type: `True` and `1` are different values here (Python says they are
// equal, but `empty()` returning 1 instead of True is a conformance bug), and `b'a'` differs
// from `'a'`.
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace mpconform::spec {

// A Python int. 128 bits hold every value the models need: all C integer widths (including
// unsigned 64-bit, up to 2**64 - 1) and out-of-range inputs such as 2**64 + 5 that ctypes
// wraps. Larger Python ints are outside the models.
__extension__ typedef __int128 PyInt;

// Decimal text of a PyInt ("-170141183460469231731687303715884105728" for the minimum).
std::string py_int_repr(PyInt v);

// Python's repr of a float: shortest round-trip digits, with ".0" for integral values
// ("0.5", "5.0", "1e+16", "inf", "nan").
std::string py_float_repr(double v);

// The value of `None`.
struct NoneType {
  friend bool operator==(NoneType, NoneType) { return true; }
};

// A Python `bytes` object (a byte string, any byte values).
struct Bytes {
  std::string data;
  friend bool operator==(const Bytes&, const Bytes&) = default;
};

// A Python `str` (UTF-8 text).
struct Str {
  std::string text;
  friend bool operator==(const Str&, const Str&) = default;
};

// One Python value: None, bool, int, float, bytes, str, or a list of values.
// Equality is by Python type and value; there is no cross-type numeric equality (True != 1,
// 1 != 1.0). Floats compare with ==, so a NaN never equals anything.
class Value {
 public:
  using List = std::vector<Value>;

  Value() = default;  // None
  static Value none() { return Value(); }
  static Value boolean(bool b) { return Value(Repr(std::in_place_type<bool>, b)); }
  static Value integer(PyInt i) { return Value(Repr(std::in_place_type<PyInt>, i)); }
  static Value floating(double d) { return Value(Repr(std::in_place_type<double>, d)); }
  static Value bytes(std::string data) {
    return Value(Repr(std::in_place_type<Bytes>, Bytes{std::move(data)}));
  }
  static Value str(std::string text) {
    return Value(Repr(std::in_place_type<Str>, Str{std::move(text)}));
  }
  static Value list(List items) { return Value(Repr(std::in_place_type<List>, std::move(items))); }

  bool is_none() const { return std::holds_alternative<NoneType>(v_); }
  bool is_bool() const { return std::holds_alternative<bool>(v_); }
  bool is_int() const { return std::holds_alternative<PyInt>(v_); }
  bool is_float() const { return std::holds_alternative<double>(v_); }
  bool is_bytes() const { return std::holds_alternative<Bytes>(v_); }
  bool is_str() const { return std::holds_alternative<Str>(v_); }
  bool is_list() const { return std::holds_alternative<List>(v_); }

  // Accessors. Requires: the value holds that type (std::bad_variant_access otherwise).
  bool as_bool() const { return std::get<bool>(v_); }
  PyInt as_int() const { return std::get<PyInt>(v_); }
  double as_float() const { return std::get<double>(v_); }
  const std::string& as_bytes() const { return std::get<Bytes>(v_).data; }
  const std::string& as_str() const { return std::get<Str>(v_).text; }
  const List& as_list() const { return std::get<List>(v_); }

  // Python's repr: None, True, 3, 0.5, b'a\x00', 'x', [1, 2].
  std::string repr() const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  using Repr = std::variant<NoneType, bool, PyInt, double, Bytes, Str, List>;
  explicit Value(Repr r) : v_(std::move(r)) {}
  Repr v_;
};

// Short spellings for building histories and tests: py::none(), py::integer(3), ...
namespace py {
inline Value none() { return Value::none(); }
inline Value boolean(bool b) { return Value::boolean(b); }
inline Value integer(PyInt i) { return Value::integer(i); }
inline Value floating(double d) { return Value::floating(d); }
inline Value bytes(std::string data) { return Value::bytes(std::move(data)); }
inline Value str(std::string text) { return Value::str(std::move(text)); }
inline Value list(Value::List items) { return Value::list(std::move(items)); }
// A list of Python ints, e.g. the result of a numeric Array slice.
Value int_list(const std::vector<PyInt>& items);
}  // namespace py

}  // namespace mpconform::spec
