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

// One Python value: None, bool, int, float, bytes, str, or a list of values.
// Equality is by Python type and value; there is no cross-type numeric equality (True != 1,
// 1 != 1.0). Floats compare with ==, so a NaN never equals anything.
//
// A plain tagged struct rather than a std::variant: GCC 12's flow analysis reports bogus
// "may be used uninitialized" on moves of a variant holding strings and vectors under the
// sanitizer build (-Werror), in every file that moves a Value. Here every member is always
// initialised.
class Value {
 public:
  using List = std::vector<Value>;
  enum class Type { none, boolean, integer, floating, bytes, str, list };

  Value() = default;  // None
  static Value none() { return Value(); }
  static Value boolean(bool b) {
    Value v(Type::boolean);
    v.b_ = b;
    return v;
  }
  static Value integer(PyInt i) {
    Value v(Type::integer);
    v.i_ = i;
    return v;
  }
  static Value floating(double d) {
    Value v(Type::floating);
    v.d_ = d;
    return v;
  }
  static Value bytes(std::string data) {
    Value v(Type::bytes);
    v.s_ = std::move(data);
    return v;
  }
  static Value str(std::string text) {
    Value v(Type::str);
    v.s_ = std::move(text);
    return v;
  }
  static Value list(List items) {
    Value v(Type::list);
    v.list_ = std::move(items);
    return v;
  }

  Type type() const { return type_; }
  bool is_none() const { return type_ == Type::none; }
  bool is_bool() const { return type_ == Type::boolean; }
  bool is_int() const { return type_ == Type::integer; }
  bool is_float() const { return type_ == Type::floating; }
  bool is_bytes() const { return type_ == Type::bytes; }
  bool is_str() const { return type_ == Type::str; }
  bool is_list() const { return type_ == Type::list; }

  // Accessors. Requires: the value holds that type; throws std::logic_error otherwise.
  bool as_bool() const { return expect(Type::boolean).b_; }
  PyInt as_int() const { return expect(Type::integer).i_; }
  double as_float() const { return expect(Type::floating).d_; }
  const std::string& as_bytes() const { return expect(Type::bytes).s_; }
  const std::string& as_str() const { return expect(Type::str).s_; }
  const List& as_list() const { return expect(Type::list).list_; }

  // Python's repr: None, True, 3, 0.5, b'a\x00', 'x', [1, 2].
  std::string repr() const;

  friend bool operator==(const Value& a, const Value& b);

 private:
  explicit Value(Type t) : type_(t) {}
  const Value& expect(Type t) const;

  Type type_ = Type::none;
  bool b_ = false;
  PyInt i_ = 0;
  double d_ = 0.0;
  std::string s_;  // bytes or str
  List list_;
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
