#pragma once
// Sequential model of multiprocessing.Value and Array as registers (CPython 3.11,
// Lib/multiprocessing/sharedctypes.py over ctypes).
//
// A register holds cells of one C type, named by its typecode:
//   'c' char (reads as bytes of length 1), 'b'/'B' 8-bit, 'h'/'H' 16-bit, 'i'/'I' 32-bit,
//   'l'/'L' and 'q'/'Q' 64-bit (LP64), signed lower case / unsigned upper case,
//   'f' float (float32: 0.1 reads 0.10000000149011612), 'd' double.
// Integer stores wrap silently to the C width, with no error (V-INIT-2, A-SL-5):
//   Value('b', 300) -> 44, Value('B', -1) -> 255, Value('i', 2**40) -> 0.
// Each read and each write is one step; `v.value += 1` is a get and a set, two steps, which is
// why it is not atomic (V-ATOM-1).
//
// Not modelled: 'u' (wchar), Structures, Array('c').value/.raw, the lock wrapper (get_lock),
// and Python type errors other than 'c''s: a store whose Python type ctypes would reject
// (a float into an int cell, a str anywhere) is illegal in the model.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "mpconform/spec/outcome.hpp"
#include "mpconform/spec/value.hpp"

namespace mpconform::spec {

// True for the typecodes the model supports: "cbBhHiIlLqQfd".
bool is_register_typecode(char typecode);

struct RegisterState {
  // Value(typecode) (zero: 0, 0.0 or b'\x00') or Value(typecode, init), init stored with the
  // C conversion (wrapping). Requires: a supported typecode and an init the model can store
  // (as RegisterOp::set_value); throws std::invalid_argument otherwise.
  static RegisterState value(char typecode, std::optional<Value> init = std::nullopt);
  // Array(typecode, length), zero-filled. Requires: length >= 0 (CPython raises, see
  // array_ctor_error); throws std::invalid_argument otherwise.
  static RegisterState array(char typecode, std::int64_t length);
  // Array(typecode, initializer): one cell per element, each stored as by set_item.
  // Requires: every element storable without error; throws std::invalid_argument otherwise.
  static RegisterState array(char typecode, const Value::List& initializer);

  char typecode = 'i';
  bool is_array = false;
  // Each cell as Python reads it back: int (wrapped), float, or bytes of length 1 for 'c'.
  std::vector<Value> cells;

  // "Value('i', 5)", "Array('i', [1, 2, 3])", "Array('c', b'ab')".
  std::string to_string() const;
  friend bool operator==(const RegisterState&, const RegisterState&) = default;
};

// ValueError('Array length must be >= 0, not -1') for a negative length (A-CTOR-1), else none.
std::optional<PyError> array_ctor_error(std::int64_t length);

// A Python slice start:stop:step; nullopt parts are omitted (None).
struct Slice {
  std::optional<std::int64_t> start;
  std::optional<std::int64_t> stop;
  std::optional<std::int64_t> step;

  // "1:3", "::-1", ":".
  std::string to_string() const;
  friend bool operator==(const Slice&, const Slice&) = default;
};

struct RegisterOp {
  enum class Kind {
    get_value,  // v.value          (Value only)
    set_value,  // v.value = x      (Value only)
    get_item,   // a[i]             (Array only)
    set_item,   // a[i] = x
    get_slice,  // a[s]
    set_slice,  // a[s] = xs        (xs: a list, or bytes whose elements are ints)
    len,        // len(a)
  };
  Kind kind = Kind::get_value;
  std::int64_t index = 0;
  Slice slice;
  Value operand;  // set_value, set_item: the value; set_slice: the sequence

  static RegisterOp get_value();
  static RegisterOp set_value(Value x);
  static RegisterOp get_item(std::int64_t index);
  static RegisterOp set_item(std::int64_t index, Value x);
  static RegisterOp get_slice(Slice s);
  static RegisterOp set_slice(Slice s, Value xs);
  static RegisterOp len();

  // "v.value", "v.value = 5", "a[-1]", "a[1:3] = [7, 8]", "len(a)".
  std::string to_string() const;
  friend bool operator==(const RegisterOp&, const RegisterOp&) = default;
};

// step(state, op):
//  - get_value -> the cell; set_value(x) -> None, cell = x converted (wrapped).
//  - get_item(i) / set_item(i, x): negative i counts from the end; i outside [-n, n) ->
//    IndexError('invalid index') (A-IDX-1..3), nothing written.
//  - get_slice(s) -> a list of the selected cells for numeric typecodes, bytes for 'c'
//    (A-SL-1); out-of-range bounds are clamped; step 0 -> ValueError('slice step cannot be
//    zero').
//  - set_slice(s, xs): len(xs) != slice length -> ValueError('Can only assign sequence of same
//    size'), nothing written; else element by element in slice order. A conversion error
//    part way leaves the earlier elements written (as ctypes does).
//  - len -> the number of cells (0 is allowed).
//  - conversion for 'c': bytes of length 1, or an int (or bool) in 0..255; anything else ->
//    TypeError('one character bytes, bytearray or integer expected').
// Illegal: item/slice/len ops on a Value, value ops on an Array, stores of a Python type the
// model does not convert (see above), set_slice of something other than a list or bytes.
Outcome<RegisterState> step(const RegisterState& state, const RegisterOp& op);

struct RegisterModel {
  using State = RegisterState;
  using Op = RegisterOp;
  static Outcome<State> step(const State& s, const Op& op) { return spec::step(s, op); }
};

// The integer a C integer cell of `typecode` holds after storing `v` (wrapping modulo
// 2**width, then signed for lower-case codes). Requires: an integer typecode.
PyInt wrap_to_typecode(char typecode, PyInt v);

}  // namespace mpconform::spec
