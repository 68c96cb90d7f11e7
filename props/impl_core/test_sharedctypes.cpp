// mpref::Value, Array, RawValue, RawArray against spec/clauses/sharedctypes.json (V-*, A-*).
// Tests without a clause marker check behaviours the clause file lists for the Python surface
// only (typecodes, wrap-around, slices); mpref's C++ API has them too, so they are checked here
// against the same CPython facts, and say which clause they mirror.
#include <climits>
#include <cstdint>
#include <memory>
#include <mutex>
#include <numeric>
#include <type_traits>
#include <vector>

#include <gtest/gtest.h>

#include "clause.hpp"
#include "mpref/sharedctypes.hpp"
#include "support.hpp"

namespace {

using core_test::Child;
using core_test::Stopwatch;
using core_test::Tier;
using mpref::Array;
using mpref::RawArray;
using mpref::RawValue;
using mpref::Semaphore;
using mpref::Value;
using V = std::vector<int>;

// Runs `procs` children that each call `body` `per` times, all released together; returns
// whether all of them exited cleanly.
template <class F>
bool run_together(int procs, int per, F body) {
  Semaphore gate(0);
  std::vector<std::unique_ptr<Child>> kids;
  for (int p = 0; p < procs; ++p)
    kids.push_back(std::make_unique<Child>([&] {
      if (!gate.acquire(true, Tier::bound())) return 1;
      for (int i = 0; i < per; ++i) body();
      return 0;
    }));
  for (int p = 0; p < procs; ++p) gate.release();
  bool ok = true;
  for (auto& k : kids) ok = k->wait(Tier::bound() * 3).ok() && ok;
  return ok;
}

// A child that holds `lock` for `hold_s` seconds, signalling `held` once it has it and running
// `before_release` just before it lets go.
template <class L, class F>
std::unique_ptr<Child> hold_in_child(const L& lock, const Semaphore& held, double hold_s,
                                     F before_release) {
  return std::make_unique<Child>([&lock, &held, hold_s, before_release] {
    if (!lock.acquire(true, Tier::bound())) return 1;
    held.release();
    usleep(static_cast<useconds_t>(hold_s * 1e6));
    before_release();
    lock.release();
    return 0;
  });
}

// ---- typecodes (mirrors V-TC-1 / V-TC-3, python-only clauses) -----------------------------

TEST(Typecode, EachCTypeMapsToItsCode) {
  static_assert(mpref::typecode_of<char>() == 'c');
  static_assert(mpref::typecode_of<wchar_t>() == 'u');
  static_assert(mpref::typecode_of<signed char>() == 'b');
  static_assert(mpref::typecode_of<unsigned char>() == 'B');
  static_assert(mpref::typecode_of<short>() == 'h');
  static_assert(mpref::typecode_of<unsigned short>() == 'H');
  static_assert(mpref::typecode_of<int>() == 'i');
  static_assert(mpref::typecode_of<unsigned int>() == 'I');
  static_assert(mpref::typecode_of<long>() == 'l');
  static_assert(mpref::typecode_of<unsigned long>() == 'L');
  static_assert(mpref::typecode_of<long long>() == 'q');
  static_assert(mpref::typecode_of<unsigned long long>() == 'Q');
  static_assert(mpref::typecode_of<float>() == 'f');
  static_assert(mpref::typecode_of<double>() == 'd');
  static_assert(!mpref::HasTypecode<bool> && !mpref::HasTypecode<long double>);
  static_assert(Value<int>::typecode == 'i' && RawArray<double>::typecode == 'd');
  // ctypes sizes on x86-64 Linux.
  EXPECT_EQ(mpref::typecode_size("c"), 1U);
  EXPECT_EQ(mpref::typecode_size("u"), 4U);
  EXPECT_EQ(mpref::typecode_size("h"), 2U);
  EXPECT_EQ(mpref::typecode_size("i"), 4U);
  EXPECT_EQ(mpref::typecode_size("l"), 8U);
  EXPECT_EQ(mpref::typecode_size("q"), 8U);
  EXPECT_EQ(mpref::typecode_size("f"), 4U);
  EXPECT_EQ(mpref::typecode_size("d"), 8U);
}

TEST(Typecode, UnknownCodesHaveNoSize) {
  for (const char* tc : {"x", "ii", "", "?", "int"}) {
    try {
      (void)mpref::typecode_size(tc);
      ADD_FAILURE() << "no exception for '" << tc << "'";
    } catch (const mpref::TypeError& e) {
      EXPECT_STREQ(e.what(), "this type has no size");
      EXPECT_EQ(e.python_type(), "TypeError");
    }
  }
}

// ---- Value ----------------------------------------------------------------------------------

TEST(Value, MemoryIsZeroFilled) {
  MPC_CLAUSE("V-INIT-1");
  EXPECT_EQ(Value<int>().value(), 0);
  EXPECT_EQ(Value<double>().value(), 0.0);
  EXPECT_EQ(Value<char>().value(), '\0');
  EXPECT_EQ(RawValue<unsigned long long>().value(), 0U);
}

TEST(Value, StartsWithTheGivenValue) {
  MPC_CLAUSE("V-INIT-3");
  EXPECT_EQ(Value<int>(5).value(), 5);
  EXPECT_EQ(Value<double>(2.5).value(), 2.5);
  EXPECT_EQ(RawValue<int>(3).value(), 3);
}

TEST(Value, IntegersWrapAsTheCTypeDoes) {
  // Mirrors V-INIT-2 / V-INIT-7 (python-only): the conversion to T wraps, 'f' is float32.
  EXPECT_EQ(Value<signed char>(static_cast<signed char>(300)).value(), 44);
  EXPECT_EQ(Value<unsigned char>(static_cast<unsigned char>(-1)).value(), 255);
  EXPECT_EQ(Value<int>(static_cast<int>(std::int64_t{1} << 40)).value(), 0);
  Value<int> v;
  v.set_value(static_cast<int>((std::int64_t{1} << 33) + 7));
  EXPECT_EQ(v.value(), 7);
  EXPECT_EQ(static_cast<double>(Value<float>(0.1f).value()), 0.10000000149011612);
}

TEST(Value, EachValueGetsItsOwnRLock) {
  MPC_CLAUSE("V-LOCK-1");
  Value<int> a, b;
  static_assert(std::is_same_v<decltype(a.get_lock()), mpref::RLock&>);
  EXPECT_FALSE(a.get_lock() == b.get_lock());
  ASSERT_TRUE(a.get_lock().acquire());
  EXPECT_TRUE(a.get_lock().acquire());  // recursive
  EXPECT_TRUE(b.get_lock().acquire(false));  // not shared with a
  b.get_lock().release();
  a.get_lock().release();
  a.get_lock().release();
  EXPECT_FALSE(a.get_lock().locked());
}

TEST(Value, AGivenLockIsUsedAsIs) {
  // Mirrors V-LOCK-4 / V-WRAP-2 (python-only): get_lock() is that very lock; get_obj() is the
  // unsynchronised object over the same memory.
  mpref::Lock lock;
  Value<int, mpref::Lock> v(3, lock);
  EXPECT_TRUE(v.get_lock() == lock);
  RawValue<int> raw = v.get_obj();
  raw.set_value(9);
  EXPECT_EQ(v.value(), 9);
  EXPECT_TRUE(raw == v.get_obj());
  Value<int, Semaphore> with_sem(1, Semaphore(1));  // anything with acquire/release
  EXPECT_EQ(with_sem.value(), 1);
}

TEST(Value, EveryReadAndWriteTakesTheLock) {
  MPC_CLAUSE("V-WRAP-1");
  Value<int> v(1);
  Semaphore held(0);
  auto child = hold_in_child(v.get_lock(), held, 0.3, [&] { v.get_obj().set_value(7); });
  ASSERT_TRUE(held.acquire(true, Tier::bound()));
  Stopwatch sw;
  EXPECT_EQ(v.value(), 7);  // waited for the release, which came after the write
  EXPECT_GE(sw.elapsed(), 0.2);
  auto r = child->wait(Tier::bound());
  EXPECT_TRUE(r.ok()) << r.describe();

  auto writer = hold_in_child(v.get_lock(), held, 0.3, [&] { v.get_obj().set_value(8); });
  ASSERT_TRUE(held.acquire(true, Tier::bound()));
  sw = Stopwatch();
  v.set_value(9);  // must wait, so it lands after the child's 8
  EXPECT_GE(sw.elapsed(), 0.2);
  EXPECT_EQ(v.value(), 9);
  r = writer->wait(Tier::bound());
  EXPECT_TRUE(r.ok()) << r.describe();
}

TEST(Value, AcquireReleaseAndWithAreTheLocks) {
  MPC_CLAUSE("V-WRAP-3");
  Value<int> v;
  EXPECT_TRUE(v.acquire());
  EXPECT_TRUE(v.get_lock().is_mine());
  v.release();
  EXPECT_FALSE(v.get_lock().locked());
  {
    std::lock_guard<const Value<int>> g(v);
    EXPECT_TRUE(v.get_lock().locked());
    v.set_value(v.value() + 1);  // RLock: nested access is fine
  }
  EXPECT_FALSE(v.get_lock().locked());
  {
    mpref::Guard<Value<int>> g(v);
    EXPECT_TRUE(v.get_lock().is_mine());
  }
  EXPECT_FALSE(v.get_lock().locked());
  EXPECT_EQ(v.value(), 1);
}

TEST(Value, UnlockedIncrementIsNotAtomic) {
  // Racy: 4 x 20 000 unlocked read-then-write increments end with at most 80 000.
  MPC_CLAUSE("V-ATOM-1");
  Value<int> v;
  ASSERT_TRUE(run_together(4, 20000, [&] { v.set_value(v.value() + 1); }));
  EXPECT_LE(v.value(), 80000);
  EXPECT_GE(v.value(), 20000);  // at least one process's worth, whatever the interleaving
}

TEST(Value, IncrementUnderGetLockIsAtomic) {
  MPC_CLAUSE("V-ATOM-3");
  Value<int> v;
  ASSERT_TRUE(run_together(4, 20000, [&] {
    std::lock_guard<mpref::RLock> g(v.get_lock());
    v.set_value(v.value() + 1);
  }));
  EXPECT_EQ(v.value(), 80000);
}

TEST(Value, NonRecursiveLockSelfDeadlocksUnderGetLock) {
  MPC_CLAUSE("V-ATOM-2");
  Value<int, mpref::Lock> v(0, mpref::Lock());
  Child child([&] {
    std::lock_guard<mpref::Lock> g(v.get_lock());
    v.set_value(v.value() + 1);  // value() waits for the lock this very process holds
    return 0;
  });
  auto r = child.wait(0.5);
  EXPECT_TRUE(r.timed_out) << "the child finished: " << r.describe();
  EXPECT_EQ(v.get_obj().value(), 0);
}

TEST(Value, ChildWritesAreVisibleInTheParent) {
  MPC_CLAUSE("V-PICKLE-3");
  Value<int> v;
  RawValue<double> rv;
  Array<int> a(3);
  RawArray<long> ra(2);
  Child child([&] {
    v.set_value(11);
    rv.set_value(1.5);
    a.set(1, 22);
    ra.set(-1, 33);
    return 0;
  });
  auto r = child.wait(Tier::bound());
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(v.value(), 11);
  EXPECT_EQ(rv.value(), 1.5);
  EXPECT_EQ(a.to_vector(), (V{0, 22, 0}));
  EXPECT_EQ(ra.to_vector(), (std::vector<long>{0, 33}));
}

// ---- Array ----------------------------------------------------------------------------------

TEST(Array, LengthGivesAZeroFilledArray) {
  MPC_CLAUSE("A-CTOR-1");
  Array<int> a(5);
  EXPECT_EQ(a.size(), 5);
  EXPECT_EQ(a.to_vector(), V(5, 0));
  Array<double> d(3);
  EXPECT_EQ(d.to_vector(), std::vector<double>(3, 0.0));
}

TEST(Array, LengthZeroIsAllowed) {
  MPC_CLAUSE("A-CTOR-2");
  Array<int> a(0);
  EXPECT_EQ(a.size(), 0);
  EXPECT_TRUE(a.to_vector().empty());
  EXPECT_TRUE(a.get_slice(std::nullopt, std::nullopt).empty());
}

TEST(Array, NegativeLengthRaisesValueError) {
  // Mirrors A-CTOR-4 (python-only), with CPython's message.
  try {
    Array<int> a(-1);
    FAIL() << "no exception";
  } catch (const mpref::ValueError& e) {
    EXPECT_STREQ(e.what(), "Array length must be >= 0, not -1");
  }
  EXPECT_THROW(RawArray<char>(-7), mpref::ValueError);
}

TEST(Array, ASequenceGivesItsLengthAndValues) {
  MPC_CLAUSE("A-CTOR-3");
  Array<int> a{1, 2, 3};
  EXPECT_EQ(a.size(), 3);
  EXPECT_EQ(a.to_vector(), (V{1, 2, 3}));
  V range(10);
  std::iota(range.begin(), range.end(), 0);  // Array('i', range(10))
  Array<int> b{std::span<const int>(range)};
  EXPECT_EQ(b.size(), 10);
  EXPECT_EQ(b.to_vector(), range);
  RawArray<double> c{0.5, 1.5};
  EXPECT_EQ(c.to_vector(), (std::vector<double>{0.5, 1.5}));
}

TEST(Array, NegativeIndicesCountFromTheEnd) {
  MPC_CLAUSE("A-IDX-1");
  Array<int> a{10, 11, 12, 13, 14};
  EXPECT_EQ(a.get(-1), 14);
  EXPECT_EQ(a.get(-5), 10);
  a.set(-2, 99);
  EXPECT_EQ(a.get(3), 99);
}

TEST(Array, ReadingOutOfRangeRaisesIndexError) {
  MPC_CLAUSE("A-IDX-2");
  Array<int> a(5);
  for (std::ptrdiff_t i : {std::ptrdiff_t{5}, std::ptrdiff_t{-6}, PTRDIFF_MAX, PTRDIFF_MIN}) {
    try {
      (void)a.get(i);
      ADD_FAILURE() << "no exception for index " << i;
    } catch (const mpref::IndexError& e) {
      EXPECT_STREQ(e.what(), "invalid index");
    }
  }
  EXPECT_FALSE(a.get_lock().locked());  // the lock was released on the way out
}

TEST(Array, WritingOutOfRangeRaisesIndexErrorAndChangesNothing) {
  MPC_CLAUSE("A-IDX-3");
  Array<int> a{1, 2, 3, 4, 5};
  try {
    a.set(5, 1);
    FAIL() << "no exception";
  } catch (const mpref::IndexError& e) {
    EXPECT_STREQ(e.what(), "invalid index");
  }
  EXPECT_THROW(a.set(-6, 1), mpref::IndexError);
  EXPECT_EQ(a.to_vector(), (V{1, 2, 3, 4, 5}));
}

TEST(Array, SlicesStepReverseAndClamp) {
  // Mirrors A-SL-2 (python-only).
  Array<int> a{0, 1, 2, 3, 4};
  EXPECT_EQ(a.get_slice(1, 3), (V{1, 2}));
  EXPECT_EQ(a.get_slice(std::nullopt, std::nullopt, -1), (V{4, 3, 2, 1, 0}));
  EXPECT_EQ(a.get_slice(std::nullopt, std::nullopt, 2), (V{0, 2, 4}));
  EXPECT_EQ(a.get_slice(-2, std::nullopt), (V{3, 4}));
  EXPECT_EQ(a.get_slice(10, 20), V{});
  EXPECT_EQ(a.get_slice(-100, 100), (V{0, 1, 2, 3, 4}));
  EXPECT_EQ(a.get_slice(3, 0, -1), (V{3, 2, 1}));
  EXPECT_EQ(a.get_slice(std::nullopt, std::nullopt, PTRDIFF_MIN), (V{4}));
  try {
    (void)a.get_slice(0, 5, 0);
    FAIL() << "no exception";
  } catch (const mpref::ValueError& e) {
    EXPECT_STREQ(e.what(), "slice step cannot be zero");
  }
}

TEST(Array, SliceAssignmentNeedsTheSameLength) {
  // Mirrors A-SL-3 / A-SL-4 / A-SL-5 (python-only).
  Array<int> a{0, 1, 2, 3, 4};
  try {
    a.set_slice(0, 2, V{1, 2, 3});
    FAIL() << "no exception";
  } catch (const mpref::ValueError& e) {
    EXPECT_STREQ(e.what(), "Can only assign sequence of same size");
  }
  EXPECT_EQ(a.to_vector(), (V{0, 1, 2, 3, 4}));
  a.set_slice(std::nullopt, std::nullopt, 2, V{7, 7, 7});  // a[::2] = [7, 7, 7]
  EXPECT_EQ(a.to_vector(), (V{7, 1, 7, 3, 7}));
  a.set_slice(1, 3, V{8, 9});
  EXPECT_EQ(a.to_vector(), (V{7, 8, 9, 3, 7}));
  a.set_slice(std::nullopt, std::nullopt, -1, V{1, 2, 3, 4, 5});
  EXPECT_EQ(a.to_vector(), (V{5, 4, 3, 2, 1}));
  a.set_slice(10, 20, V{});  // empty clamped slice, empty sequence
  EXPECT_THROW(a.set_slice(std::nullopt, std::nullopt, 2, V{1, 2}), mpref::ValueError);
  a.set(0, static_cast<int>((std::int64_t{1} << 40) + 1));  // element overflow wraps
  EXPECT_EQ(a.get(0), 1);
}

TEST(Array, EveryItemAndSliceAccessTakesTheLock) {
  MPC_CLAUSE("A-LOCK-4");
  Array<int> a(4);
  Semaphore held(0);
  // Reads: each must wait for the child's release, after its write.
  auto child = hold_in_child(a.get_lock(), held, 0.25, [&] { a.get_obj().set(0, 5); });
  ASSERT_TRUE(held.acquire(true, Tier::bound()));
  Stopwatch sw;
  EXPECT_EQ(a.get(0), 5);
  EXPECT_GE(sw.elapsed(), 0.15);
  EXPECT_TRUE(child->wait(Tier::bound()).ok());

  child = hold_in_child(a.get_lock(), held, 0.25, [&] { a.get_obj().set(1, 6); });
  ASSERT_TRUE(held.acquire(true, Tier::bound()));
  sw = Stopwatch();
  EXPECT_EQ(a.get_slice(0, 2), (V{5, 6}));
  EXPECT_GE(sw.elapsed(), 0.15);
  EXPECT_TRUE(child->wait(Tier::bound()).ok());

  // Writes: each must land after the child's own write.
  child = hold_in_child(a.get_lock(), held, 0.25, [&] { a.get_obj().set(2, 1); });
  ASSERT_TRUE(held.acquire(true, Tier::bound()));
  sw = Stopwatch();
  a.set(2, 2);
  EXPECT_GE(sw.elapsed(), 0.15);
  EXPECT_TRUE(child->wait(Tier::bound()).ok());

  child = hold_in_child(a.get_lock(), held, 0.25, [&] { a.get_obj().set(3, 1); });
  ASSERT_TRUE(held.acquire(true, Tier::bound()));
  sw = Stopwatch();
  a.set_slice(3, 4, V{2});
  EXPECT_GE(sw.elapsed(), 0.15);
  EXPECT_TRUE(child->wait(Tier::bound()).ok());
  EXPECT_EQ(a.to_vector(), (V{5, 6, 2, 2}));
}

TEST(RawArray, FollowsTheSameIndexingAndSlicingRules) {
  MPC_CLAUSE("A-RAW-2");
  RawArray<int> a{1, 2, 3};
  EXPECT_EQ(a.get(-1), 3);
  EXPECT_THROW((void)a.get(3), mpref::IndexError);
  try {
    a.set(-4, 0);
    FAIL() << "no exception";
  } catch (const mpref::IndexError& e) {
    EXPECT_STREQ(e.what(), "invalid index");
  }
  EXPECT_EQ(a.get_slice(std::nullopt, std::nullopt, -1), (V{3, 2, 1}));
  EXPECT_EQ(a.get_slice(5, 9), V{});
  EXPECT_THROW(a.set_slice(0, 1, V{1, 2}), mpref::ValueError);
  EXPECT_EQ(RawArray<char>(5).to_vector(), std::vector<char>(5, '\0'));
}

TEST(Array, GetObjIsTheSameMemoryWithoutTheLock) {
  // Mirrors A-LOCK-1 / A-LOCK-2 (python-only).
  Array<int> a(3);
  static_assert(std::is_same_v<decltype(a.get_lock()), mpref::RLock&>);
  RawArray<int> raw = a.get_obj();
  std::lock_guard<mpref::RLock> g(a.get_lock());
  raw.set(0, 4);  // no lock needed (and none taken) through the raw object
  EXPECT_EQ(a.get(0), 4);  // RLock: reentrant for the holder
  EXPECT_EQ(raw.data()[0], 4);
}

}  // namespace
