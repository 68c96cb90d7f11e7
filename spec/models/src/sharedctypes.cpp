#include "mpconform/spec/sharedctypes.hpp"

#include <stdexcept>
#include <string_view>

#include "mpconform/spec/error.hpp"

namespace mpconform::spec {

namespace {

using O = Outcome<RegisterState>;
__extension__ typedef unsigned __int128 U128;

constexpr std::string_view kTypecodes = "cbBhHiIlLqQfd";
constexpr const char* kCharExpected = "one character bytes, bytearray or integer expected";

int int_width(char tc) {
  switch (tc) {
    case 'b':
    case 'B':
      return 8;
    case 'h':
    case 'H':
      return 16;
    case 'i':
    case 'I':
      return 32;
    default:
      return 64;  // l L q Q on LP64
  }
}

bool is_int_code(char tc) { return tc != 'c' && tc != 'f' && tc != 'd'; }

// The result of converting a Python value for a cell: the stored value, a Python error, or
// "outside the model" (a type error whose message the model does not know).
struct Converted {
  std::optional<Value> stored;
  std::optional<PyError> error;
  std::string outside;  // non-empty: the op is illegal, with this reason
};

Converted convert(char tc, const Value& x) {
  if (tc == 'c') {
    if (x.is_bytes() && x.as_bytes().size() == 1) return {x, {}, {}};
    if (x.is_int() || x.is_bool()) {
      const PyInt i = x.is_bool() ? PyInt(x.as_bool()) : x.as_int();
      if (i >= 0 && i < 256) return {Value::bytes(std::string(1, static_cast<char>(i))), {}, {}};
    }
    return {{}, errors::type_error(kCharExpected), {}};
  }
  if (is_int_code(tc)) {
    if (x.is_bool()) return {Value::integer(x.as_bool() ? 1 : 0), {}, {}};
    if (x.is_int()) return {Value::integer(wrap_to_typecode(tc, x.as_int())), {}, {}};
    return {{},
            {},
            "storing " + x.repr() + " in a '" + std::string(1, tc) +
                "' cell is a Python type error the model does not cover"};
  }
  double d = 0.0;
  if (x.is_float()) {
    d = x.as_float();
  } else if (x.is_int()) {
    d = static_cast<double>(x.as_int());
  } else if (x.is_bool()) {
    d = x.as_bool() ? 1.0 : 0.0;
  } else {
    return {{},
            {},
            "storing " + x.repr() + " in a '" + std::string(1, tc) +
                "' cell is a Python type error the model does not cover"};
  }
  if (tc == 'f') d = static_cast<double>(static_cast<float>(d));  // a C float cell
  return {Value::floating(d), {}, {}};
}

Value zero_of(char tc) {
  if (tc == 'c') return Value::bytes(std::string(1, '\0'));
  if (tc == 'f' || tc == 'd') return Value::floating(0.0);
  return Value::integer(0);
}

void require_typecode(char tc) {
  if (!is_register_typecode(tc)) {
    throw std::invalid_argument(std::string("unsupported typecode '") + tc + "'");
  }
}

Value convert_or_throw(char tc, const Value& x) {
  Converted c = convert(tc, x);
  if (!c.stored) {
    throw std::invalid_argument("cannot store " + x.repr() + " in a '" + std::string(1, tc) +
                                "' register");
  }
  return *c.stored;
}

// Python's slice.indices(n) and slice length (PySlice_AdjustIndices).
struct Resolved {
  std::int64_t start;
  std::int64_t step;
  std::int64_t length;
};

Resolved resolve(const Slice& s, std::int64_t n) {
  const std::int64_t step = s.step.value_or(1);
  auto clamp = [&](std::optional<std::int64_t> v, std::int64_t dflt) {
    if (!v) return dflt;
    std::int64_t i = *v;
    if (i < 0) {
      i += n;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= n) {
      i = step < 0 ? n - 1 : n;
    }
    return i;
  };
  const std::int64_t start = clamp(s.start, step < 0 ? n - 1 : 0);
  const std::int64_t stop = clamp(s.stop, step < 0 ? -1 : n);
  std::int64_t length = 0;
  if (step < 0) {
    if (stop < start) length = (start - stop - 1) / (-step) + 1;
  } else if (start < stop) {
    length = (stop - start - 1) / step + 1;
  }
  return {start, step, length};
}

std::string typecode_name(char tc) { return std::string("'") + tc + "'"; }

O raises(PyError e, const RegisterState& unchanged) {
  return O::single(Result::raises(std::move(e)), unchanged);
}

// Index normalisation shared by get_item and set_item; nullopt when out of range.
std::optional<std::size_t> normalise(std::int64_t i, std::size_t n) {
  const auto len = static_cast<std::int64_t>(n);
  if (i < 0) i += len;
  if (i < 0 || i >= len) return std::nullopt;
  return static_cast<std::size_t>(i);
}

O step_slice(const RegisterState& s, const RegisterOp& op) {
  if (op.slice.step && *op.slice.step == 0) {
    return raises(errors::value_error("slice step cannot be zero"), s);
  }
  const Resolved r = resolve(op.slice, static_cast<std::int64_t>(s.cells.size()));
  auto cell_at = [&](std::int64_t k) { return static_cast<std::size_t>(r.start + k * r.step); };
  if (op.kind == RegisterOp::Kind::get_slice) {
    if (s.typecode == 'c') {
      std::string out;
      for (std::int64_t k = 0; k < r.length; ++k) out += s.cells[cell_at(k)].as_bytes();
      return O::single(Result::returns(Value::bytes(std::move(out))), s);
    }
    Value::List out;
    for (std::int64_t k = 0; k < r.length; ++k) out.push_back(s.cells[cell_at(k)]);
    return O::single(Result::returns(Value::list(std::move(out))), s);
  }
  // set_slice: the sequence's elements, bytes giving ints (as iterating bytes does).
  Value::List elems;
  if (op.operand.is_list()) {
    elems = op.operand.as_list();
  } else if (op.operand.is_bytes()) {
    for (const char ch : op.operand.as_bytes()) {
      elems.push_back(Value::integer(static_cast<unsigned char>(ch)));
    }
  } else {
    return O::illegal("slice assignment of " + op.operand.repr() +
                      " (not a list or bytes) is outside the model");
  }
  if (static_cast<std::int64_t>(elems.size()) != r.length) {
    return raises(errors::value_error(errors::kSameSize), s);
  }
  RegisterState next = s;
  for (std::int64_t k = 0; k < r.length; ++k) {
    Converted c = convert(s.typecode, elems[static_cast<std::size_t>(k)]);
    if (!c.outside.empty()) return O::illegal(c.outside);
    // ctypes stops at the first bad element, keeping what it already wrote.
    if (c.error) return O::single(Result::raises(*c.error), std::move(next));
    next.cells[cell_at(k)] = *c.stored;
  }
  return O::single(Result::returns(), std::move(next));
}

RegisterOp op_of(RegisterOp::Kind k) {
  RegisterOp op;
  op.kind = k;
  return op;
}

}  // namespace

bool is_register_typecode(char typecode) {
  return typecode != '\0' && kTypecodes.find(typecode) != std::string_view::npos;
}

PyInt wrap_to_typecode(char typecode, PyInt v) {
  const int bits = int_width(typecode);
  const U128 modulus = U128(1) << bits;
  const U128 m = static_cast<U128>(v) & (modulus - 1);  // two's complement: v mod 2**bits
  const bool is_signed = typecode >= 'a' && typecode <= 'z';
  if (is_signed && m >= (modulus >> 1)) return static_cast<PyInt>(m) - static_cast<PyInt>(modulus);
  return static_cast<PyInt>(m);
}

RegisterState RegisterState::value(char typecode, std::optional<Value> init) {
  require_typecode(typecode);
  RegisterState s;
  s.typecode = typecode;
  s.is_array = false;
  s.cells.push_back(init ? convert_or_throw(typecode, *init) : zero_of(typecode));
  return s;
}

RegisterState RegisterState::array(char typecode, std::int64_t length) {
  require_typecode(typecode);
  if (length < 0) throw std::invalid_argument("negative Array length (CPython: ValueError)");
  RegisterState s;
  s.typecode = typecode;
  s.is_array = true;
  const Value zero = zero_of(typecode);
  s.cells.reserve(static_cast<std::size_t>(length));
  for (std::int64_t k = 0; k < length; ++k) s.cells.push_back(zero);
  return s;
}

RegisterState RegisterState::array(char typecode, const Value::List& initializer) {
  require_typecode(typecode);
  RegisterState s;
  s.typecode = typecode;
  s.is_array = true;
  for (const Value& x : initializer) s.cells.push_back(convert_or_throw(typecode, x));
  return s;
}

std::optional<PyError> array_ctor_error(std::int64_t length) {
  if (length < 0) {
    return errors::value_error("Array length must be >= 0, not " + std::to_string(length));
  }
  return std::nullopt;
}

std::string RegisterState::to_string() const {
  if (!is_array) return "Value(" + typecode_name(typecode) + ", " + cells.front().repr() + ")";
  if (typecode == 'c') {
    std::string raw;
    for (const Value& c : cells) raw += c.as_bytes();
    return "Array('c', " + Value::bytes(raw).repr() + ")";
  }
  return "Array(" + typecode_name(typecode) + ", " + Value::list(cells).repr() + ")";
}

std::string Slice::to_string() const {
  std::string out;
  if (start) out += std::to_string(*start);
  out += ":";
  if (stop) out += std::to_string(*stop);
  if (step) out += ":" + std::to_string(*step);
  return out;
}

RegisterOp RegisterOp::get_value() { return op_of(Kind::get_value); }

RegisterOp RegisterOp::set_value(Value x) {
  RegisterOp op = op_of(Kind::set_value);
  op.operand = std::move(x);
  return op;
}

RegisterOp RegisterOp::get_item(std::int64_t index) {
  RegisterOp op = op_of(Kind::get_item);
  op.index = index;
  return op;
}

RegisterOp RegisterOp::set_item(std::int64_t index, Value x) {
  RegisterOp op = op_of(Kind::set_item);
  op.index = index;
  op.operand = std::move(x);
  return op;
}

RegisterOp RegisterOp::get_slice(Slice s) {
  RegisterOp op = op_of(Kind::get_slice);
  op.slice = s;
  return op;
}

RegisterOp RegisterOp::set_slice(Slice s, Value xs) {
  RegisterOp op = op_of(Kind::set_slice);
  op.slice = s;
  op.operand = std::move(xs);
  return op;
}

RegisterOp RegisterOp::len() { return op_of(Kind::len); }

std::string RegisterOp::to_string() const {
  switch (kind) {
    case Kind::get_value:
      return "v.value";
    case Kind::set_value:
      return "v.value = " + operand.repr();
    case Kind::get_item:
      return "a[" + std::to_string(index) + "]";
    case Kind::set_item:
      return "a[" + std::to_string(index) + "] = " + operand.repr();
    case Kind::get_slice:
      return "a[" + slice.to_string() + "]";
    case Kind::set_slice:
      return "a[" + slice.to_string() + "] = " + operand.repr();
    case Kind::len:
      return "len(a)";
  }
  return "a.?";
}

Outcome<RegisterState> step(const RegisterState& s, const RegisterOp& op) {
  const bool value_op =
      op.kind == RegisterOp::Kind::get_value || op.kind == RegisterOp::Kind::set_value;
  if (value_op && s.is_array)
    return O::illegal(op.to_string() + " on an Array (no .value in the model)");
  if (!value_op && !s.is_array) return O::illegal(op.to_string() + " on a Value (not a sequence)");
  switch (op.kind) {
    case RegisterOp::Kind::get_value:
      return O::single(Result::returns(s.cells.front()), s);
    case RegisterOp::Kind::len:
      return O::single(Result::returns(Value::integer(static_cast<PyInt>(s.cells.size()))), s);
    case RegisterOp::Kind::get_item: {
      const auto i = normalise(op.index, s.cells.size());
      if (!i) return raises(errors::index_error(errors::kInvalidIndex), s);
      return O::single(Result::returns(s.cells[*i]), s);
    }
    case RegisterOp::Kind::set_value:
    case RegisterOp::Kind::set_item: {
      std::size_t i = 0;
      if (op.kind == RegisterOp::Kind::set_item) {
        const auto n = normalise(op.index, s.cells.size());
        if (!n) return raises(errors::index_error(errors::kInvalidIndex), s);
        i = *n;
      }
      Converted c = convert(s.typecode, op.operand);
      if (!c.outside.empty()) return O::illegal(c.outside);
      if (c.error) return raises(*c.error, s);
      RegisterState next = s;
      next.cells[i] = *c.stored;
      return O::single(Result::returns(), std::move(next));
    }
    case RegisterOp::Kind::get_slice:
    case RegisterOp::Kind::set_slice:
      return step_slice(s, op);
  }
  return O::illegal("unknown register operation");
}

}  // namespace mpconform::spec
