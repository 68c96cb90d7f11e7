// State-machine tests of mpref's Value and Array (typecode 'i', i.e. int) against the register
// model of spec/models/sharedctypes.hpp. Plus the proof that the test can fail: a Value that
// loses every second write must be refuted.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "clause.hpp"
#include "mpref/sharedctypes.hpp"
#include "rc_glue.hpp"
#include "state_support.hpp"

namespace mpconform::props::state {
namespace {

using spec::RegisterOp;
using spec::RegisterState;

// `g`'s value, or nullopt one time in four.
template <class T>
rc::Gen<std::optional<T>> optional_of(rc::Gen<T> g) {
  return rc::gen::weightedOneOf<std::optional<T>>(
      {{1, rc::gen::just(std::optional<T>())},
       {3, rc::gen::map(std::move(g), [](T v) { return std::optional<T>(v); })}});
}

rc::Gen<int> ints() {
  return rc::gen::weightedOneOf<int>({{4, rc::gen::inRange(-3, 10)},
                                      {1, rc::gen::element(INT32_MIN, INT32_MAX, -1, 0)}});
}

// ---- Value ------------------------------------------------------------------------------------

// A Value('i'); broken when `lose_every` = n > 0: every n-th write is dropped.
struct ValueSut {
  ValueSut(int initial, int lose) : v(initial), lose_every(lose) {}
  mpref::Value<int> v;
  int lose_every;
  int writes = 0;
};

struct GetValue : ModelCommand<RegisterState, RegisterOp, ValueSut> {
  RegisterOp op() const override { return RegisterOp::get_value(); }
  Result call(ValueSut& s) const override { return observe([&] { return py(s.v.value()); }); }
};

struct SetValue : ModelCommand<RegisterState, RegisterOp, ValueSut> {
  int x = *ints();
  RegisterOp op() const override { return RegisterOp::set_value(py(x)); }
  Result call(ValueSut& s) const override {
    return observe([&] {
      if (!(s.lose_every > 0 && ++s.writes % s.lose_every == 0)) s.v.set_value(x);
      return spec::Value();
    });
  }
};

auto value_commands() { return rc::state::gen::execOneOfWithArgs<GetValue, SetValue>(); }

MPC_RC_GTEST_PROP(state, Value, 200, ()) {
  MPC_CLAUSE("V-INIT-1", "V-INIT-3");
  const std::optional<int> initial = *optional_of(ints());
  ValueSut sut(initial.value_or(0), 0);
  const RegisterState model =
      initial ? RegisterState::value('i', py(*initial)) : RegisterState::value('i');
  check_commands(model, sut, value_commands());
}

// ---- Array ------------------------------------------------------------------------------------

using Array = mpref::Array<int>;

std::int64_t length_of(const RegisterState& s) { return static_cast<std::int64_t>(s.cells.size()); }

rc::Gen<std::int64_t> index_for(const RegisterState& s) {
  const std::int64_t n = length_of(s);
  return rc::gen::inRange<std::int64_t>(-n - 2, n + 2);
}

rc::Gen<spec::Slice> slice_for(const RegisterState& s) {
  const std::int64_t n = length_of(s);
  auto bound = optional_of(rc::gen::inRange<std::int64_t>(-n - 2, n + 3));
  auto stride = rc::gen::weightedOneOf<std::optional<std::int64_t>>(
      {{4, rc::gen::just(std::optional<std::int64_t>())},
       {4, rc::gen::map(rc::gen::element<std::int64_t>(1, 2, -1, -2, 3),
                        [](std::int64_t k) { return std::optional<std::int64_t>(k); })},
       {1, rc::gen::just(std::optional<std::int64_t>(0))}});
  return rc::gen::apply(
      [](std::optional<std::int64_t> a, std::optional<std::int64_t> b,
         std::optional<std::int64_t> k) { return spec::Slice{a, b, k}; },
      bound, bound, stride);
}

struct GetItem : ModelCommand<RegisterState, RegisterOp, Array> {
  explicit GetItem(const RegisterState& s) : i(*index_for(s)) {}
  std::int64_t i;
  RegisterOp op() const override { return RegisterOp::get_item(i); }
  Result call(Array& a) const override { return observe([&] { return py(a.get(i)); }); }
};

struct SetItem : ModelCommand<RegisterState, RegisterOp, Array> {
  explicit SetItem(const RegisterState& s) : i(*index_for(s)) {}
  std::int64_t i;
  int x = *ints();
  RegisterOp op() const override { return RegisterOp::set_item(i, py(x)); }
  Result call(Array& a) const override {
    return observe([&] {
      a.set(i, x);
      return spec::Value();
    });
  }
};

struct GetSlice : ModelCommand<RegisterState, RegisterOp, Array> {
  explicit GetSlice(const RegisterState& s) : slice(*slice_for(s)) {}
  spec::Slice slice;
  RegisterOp op() const override { return RegisterOp::get_slice(slice); }
  Result call(Array& a) const override {
    return observe(
        [&] { return py(a.get_slice(slice.start, slice.stop, slice.step.value_or(1))); });
  }
};

struct SetSlice : ModelCommand<RegisterState, RegisterOp, Array> {
  explicit SetSlice(const RegisterState& s) : slice(*slice_for(s)) {
    // As many values as the slice selects, or one more or one fewer (ValueError).
    std::size_t n = 0;
    const auto selected = step(s, RegisterOp::get_slice(slice));
    if (!selected.is_illegal() && selected.allowed().front().result.returned() &&
        selected.allowed().front().result.value.is_list())
      n = selected.allowed().front().result.value.as_list().size();
    const int delta = *rc::gen::weightedElement<int>({{6, 0}, {1, 1}, {1, -1}});
    const std::size_t count =
        delta < 0 && n == 0 ? 1 : static_cast<std::size_t>(static_cast<std::int64_t>(n) + delta);
    values = *rc::gen::container<std::vector<int>>(count, ints());
  }
  spec::Slice slice;
  std::vector<int> values;
  RegisterOp op() const override { return RegisterOp::set_slice(slice, py(values)); }
  Result call(Array& a) const override {
    return observe([&] {
      a.set_slice(slice.start, slice.stop, slice.step.value_or(1), values);
      return spec::Value();
    });
  }
};

struct Len : ModelCommand<RegisterState, RegisterOp, Array> {
  RegisterOp op() const override { return RegisterOp::len(); }
  Result call(Array& a) const override { return observe([&] { return py(a.size()); }); }
};

MPC_RC_GTEST_PROP(state, Array, 200, ()) {
  MPC_CLAUSE("A-CTOR-1", "A-CTOR-2", "A-CTOR-3", "A-IDX-1", "A-IDX-2", "A-IDX-3");
  const bool from_list = *rc::gen::arbitrary<bool>();
  std::vector<int> init;
  std::int64_t length = 0;
  if (from_list) {
    init = *rc::gen::resize(5, rc::gen::container<std::vector<int>>(ints()));
    length = static_cast<std::int64_t>(init.size());
  } else {
    length = *rc::gen::inRange<std::int64_t>(0, 6);
  }
  Array a = from_list ? Array(std::span<const int>(init)) : Array(length);
  const RegisterState model =
      from_list ? RegisterState::array('i', py(init).as_list()) : RegisterState::array('i', length);
  check_commands(model, a,
                 rc::state::gen::execOneOfWithArgs<GetItem, SetItem, GetSlice, SetSlice, Len>());
}

// ---- the test can fail ------------------------------------------------------------------------

TEST(state_catches, ValueThatLosesWrites) {
  EXPECT_FALSE(rc::check("a Value that loses every second write", [] {
    ValueSut sut(0, 2);
    rc::state::check(RegisterState::value('i'), sut, value_commands());
  }));
}

}  // namespace
}  // namespace mpconform::props::state
