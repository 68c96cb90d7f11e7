// The Value / Array register model on hand-written histories.
#include <gtest/gtest.h>

#include <stdexcept>

#include "clause.hpp"
#include "mpconform/spec/sharedctypes.hpp"
#include "replay.hpp"

namespace mpconform::spec {
namespace {

using namespace testing;
using Op = RegisterOp;
using RSteps = std::vector<Step<RegisterOp>>;

const PyError kInvalidIndex = errors::index_error("invalid index");
const PyError kSameSize = errors::value_error("Can only assign sequence of same size");
const PyError kCharExpected =
    errors::type_error("one character bytes, bytearray or integer expected");

Result list(std::vector<PyInt> xs) { return ret(py::int_list(xs)); }

TEST(RegisterModel, ValueReadsWhatWasWrittenAndStartsAtZero) {
  MPC_CLAUSE("V-INIT-1", "V-INIT-3");
  const auto r = replay(RegisterState::value('i'), RSteps{
      {Op::get_value(), integer(0)},
      {Op::set_value(py::integer(5)), none()},
      {Op::get_value(), integer(5)},
      {Op::set_value(py::boolean(true)), none()},  // bools are ints
      {Op::get_value(), integer(1)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  EXPECT_EQ(RegisterState::value('d').cells.front(), py::floating(0.0));
  EXPECT_EQ(RegisterState::value('c').cells.front(), py::bytes(std::string(1, '\0')));
}

TEST(RegisterModel, IntegersWrapSilentlyToTheCWidth) {
  MPC_CLAUSE("V-INIT-2");
  const PyInt two = 2;
  auto pow2 = [&](int n) { return PyInt(1) << n; };
  EXPECT_EQ(RegisterState::value('b', py::integer(300)).cells.front(), py::integer(44));
  EXPECT_EQ(RegisterState::value('B', py::integer(-1)).cells.front(), py::integer(255));
  EXPECT_EQ(RegisterState::value('i', py::integer(pow2(40))).cells.front(), py::integer(0));
  EXPECT_EQ(RegisterState::value('i', py::integer(pow2(64))).cells.front(), py::integer(0));
  EXPECT_EQ(RegisterState::value('h', py::integer(32768)).cells.front(), py::integer(-32768));
  EXPECT_EQ(RegisterState::value('H', py::integer(-1)).cells.front(), py::integer(65535));
  EXPECT_EQ(RegisterState::value('I', py::integer(-1)).cells.front(), py::integer(4294967295));
  EXPECT_EQ(RegisterState::value('Q', py::integer(-1)).cells.front(),
            py::integer(pow2(64) - 1));  // beyond int64: PyInt holds it
  EXPECT_EQ(RegisterState::value('q', py::integer(pow2(63))).cells.front(),
            py::integer(-pow2(63)));
  EXPECT_EQ(RegisterState::value('l', py::integer(pow2(64) + 5)).cells.front(), py::integer(5));
  const auto r = replay(RegisterState::value('i'), RSteps{
      {Op::set_value(py::integer(pow2(33) + 7)), none()},
      {Op::get_value(), integer(7)},
      {Op::set_value(py::integer(300000000000)), none()},
      {Op::get_value(), integer(-647710720)},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  EXPECT_EQ(wrap_to_typecode('B', two * 128), 0);
}

TEST(RegisterModel, FloatCellsRoundToFloat32) {
  MPC_CLAUSE("V-INIT-7");
  const auto r = replay(RegisterState::value('f'), RSteps{
      {Op::set_value(py::floating(0.1)), none()},
      {Op::get_value(), ret(py::floating(0.10000000149011612))},
      {Op::set_value(py::integer(5)), none()},
      {Op::get_value(), ret(py::floating(5.0))},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  EXPECT_EQ(RegisterState::value('d', py::floating(0.1)).cells.front(), py::floating(0.1));
}

TEST(RegisterModel, CharCellsTakeOneByteOrASmallInt) {
  MPC_CLAUSE("V-INIT-5");
  const auto r = replay(RegisterState::value('c'), RSteps{
      {Op::set_value(py::integer(65)), none()},
      {Op::get_value(), ret(py::bytes("A"))},
      {Op::set_value(py::bytes("z")), none()},
      {Op::get_value(), ret(py::bytes("z"))},
      {Op::set_value(py::integer(300)), raises(kCharExpected)},
      {Op::set_value(py::bytes("AB")), raises(kCharExpected)},
      {Op::set_value(py::str("A")), raises(kCharExpected)},
      {Op::get_value(), ret(py::bytes("z"))},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(RegisterModel, ArrayIndexingCountsFromTheEndAndChecksRange) {
  MPC_CLAUSE("A-CTOR-1", "A-CTOR-2", "A-IDX-1", "A-IDX-2", "A-IDX-3", "A-RAW-2");
  const auto r = replay(RegisterState::array('i', 5), RSteps{
      {Op::len(), integer(5)},
      {Op::set_item(0, py::integer(10)), none()},
      {Op::set_item(-1, py::integer(50)), none()},
      {Op::get_item(4), integer(50)},
      {Op::get_item(-5), integer(10)},
      {Op::get_item(5), raises(kInvalidIndex)},
      {Op::get_item(-6), raises(kInvalidIndex)},
      {Op::set_item(5, py::integer(1)), raises(kInvalidIndex)},
      {Op::get_slice({}), list({10, 0, 0, 0, 50})},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  EXPECT_EQ(RegisterState::array('i', 0).cells.size(), 0u);
}

TEST(RegisterModel, SlicesFollowPythonRules) {
  MPC_CLAUSE("A-CTOR-3", "A-SL-1", "A-SL-2", "A-SL-3", "A-SL-4", "A-SL-5");
  const RegisterState s = RegisterState::array('i', py::int_list({1, 2, 3, 4, 5}).as_list());
  const auto r = replay(s, RSteps{
      {Op::get_slice({1, 3, {}}), list({2, 3})},
      {Op::get_slice({{}, {}, -1}), list({5, 4, 3, 2, 1})},
      {Op::get_slice({10, 20, {}}), list({})},
      {Op::get_slice({-2, {}, {}}), list({4, 5})},
      {Op::get_slice({{}, {}, 2}), list({1, 3, 5})},
      {Op::get_slice({4, 0, -2}), list({5, 3})},
      {Op::get_slice({{}, {}, 0}), raises(errors::value_error("slice step cannot be zero"))},
      {Op::set_slice({0, 2, {}}, py::int_list({7, 8})), none()},
      {Op::set_slice({{}, {}, 2}, py::int_list({0, 0, 0})), none()},
      {Op::get_slice({}), list({0, 8, 0, 4, 0})},
      {Op::set_slice({0, 2, {}}, py::int_list({1})), raises(kSameSize)},
      {Op::set_slice({0, 2, {}}, py::int_list({1, 2, 3})), raises(kSameSize)},
      {Op::set_slice({0, 2, {}}, py::bytes("\x01\x02")), none()},  // bytes give ints
      {Op::set_slice({3, 4, {}}, py::list({py::integer((PyInt(1) << 40) + 1)})), none()},
      {Op::get_slice({}), list({1, 2, 0, 1, 0})},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
}

TEST(RegisterModel, CharArraySlicesAreBytesAndBadElementsStopPartWay) {
  MPC_CLAUSE("A-SL-1");
  const auto r = replay(RegisterState::array('c', 3), RSteps{
      {Op::get_slice({}), ret(py::bytes(std::string(3, '\0')))},
      {Op::set_slice({0, 2, {}}, py::list({py::integer(65), py::integer(300)})),
       raises(kCharExpected)},
      {Op::get_slice({}), ret(py::bytes(std::string("A\0\0", 3)))},  // 'A' stayed written
      {Op::set_item(2, py::bytes("z")), none()},
      {Op::get_item(2), ret(py::bytes("z"))},
  });
  ASSERT_FALSE(r.rejected_at) << r.transcript;
  EXPECT_EQ(r.state.to_string(), R"(Array('c', b'A\x00z'))");
}

TEST(RegisterModel, ConstructorErrorsAndPreconditions) {
  MPC_CLAUSE("A-CTOR-4");
  EXPECT_EQ(array_ctor_error(-1), errors::value_error("Array length must be >= 0, not -1"));
  EXPECT_EQ(array_ctor_error(0), std::nullopt);
  EXPECT_THROW(RegisterState::array('i', -1), std::invalid_argument);
  EXPECT_THROW(RegisterState::value('x'), std::invalid_argument);
  EXPECT_THROW(RegisterState::value('u'), std::invalid_argument);
  EXPECT_THROW(RegisterState::value('c', py::integer(300)), std::invalid_argument);
  EXPECT_TRUE(is_register_typecode('Q'));
  EXPECT_FALSE(is_register_typecode('\0'));
}

TEST(RegisterModel, OpsOfTheWrongShapeOrTypeAreIllegal) {
  const RegisterState v = RegisterState::value('i');
  const RegisterState arr = RegisterState::array('i', 2);
  EXPECT_TRUE(step(v, Op::get_item(0)).is_illegal());
  EXPECT_TRUE(step(v, Op::len()).is_illegal());
  EXPECT_TRUE(step(arr, Op::get_value()).is_illegal());
  EXPECT_TRUE(step(v, Op::set_value(py::floating(1.5))).is_illegal());  // a Python TypeError
  EXPECT_TRUE(step(arr, Op::set_slice({}, py::integer(3))).is_illegal());
}

TEST(RegisterModel, RejectsImpossibleHistories) {
  MPC_CLAUSE("V-INIT-2", "A-SL-3");
  // A lost write.
  auto r = replay(RegisterState::value('i'), RSteps{{Op::set_value(py::integer(1)), none()},
                                                    {Op::get_value(), integer(0)}});
  EXPECT_EQ(r.rejected_at, 1u) << r.transcript;
  // Overflow reported instead of wrapping.
  r = replay(RegisterState::value('b'),
             RSteps{{Op::set_value(py::integer(300)), raises(errors::overflow_error("x"))}});
  EXPECT_EQ(r.rejected_at, 0u) << r.transcript;
  // An unwrapped read.
  r = replay(RegisterState::value('b'), RSteps{{Op::set_value(py::integer(300)), none()},
                                               {Op::get_value(), integer(300)}});
  EXPECT_EQ(r.rejected_at, 1u) << r.transcript;
  // A short slice assignment accepted.
  r = replay(RegisterState::array('i', 3),
             RSteps{{Op::set_slice({}, py::int_list({1, 2})), none()}});
  EXPECT_EQ(r.rejected_at, 0u) << r.transcript;
}

TEST(RegisterModel, CounterexamplesReadLikePrograms) {
  EXPECT_EQ(Op::set_value(py::integer(5)).to_string(), "v.value = 5");
  EXPECT_EQ(Op::get_item(-1).to_string(), "a[-1]");
  EXPECT_EQ(Op::set_slice({1, 3, {}}, py::int_list({7, 8})).to_string(), "a[1:3] = [7, 8]");
  EXPECT_EQ(Op::get_slice({{}, {}, -1}).to_string(), "a[::-1]");
  EXPECT_EQ(Op::get_slice({}).to_string(), "a[:]");
  EXPECT_EQ(RegisterState::value('i', py::integer(5)).to_string(), "Value('i', 5)");
  EXPECT_EQ(RegisterState::array('d', 2).to_string(), "Array('d', [0.0, 0.0])");
}

}  // namespace
}  // namespace mpconform::spec
