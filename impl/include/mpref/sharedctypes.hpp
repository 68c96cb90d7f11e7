#pragma once
// mpref/sharedctypes.hpp: Value, Array, RawValue, RawArray (CPython's
// Lib/multiprocessing/sharedctypes.py), as templates over the C type instead of typecodes.
//
// Every object is a cheap copyable handle to memory in an anonymous shared mapping: copies, and
// the copies a forked child inherits, see the same memory (V-PICKLE-1: sharing is by
// inheritance). Memory is zero-filled (V-INIT-1). Element access is a relaxed atomic load or
// store (std::atomic_ref), so a read never tears and racing processes are not undefined
// behaviour; anything longer (`v += 1`) needs the lock, exactly as in CPython (V-ATOM-1).
//
// Typecodes (V-TC-1): CPython names the C type by a one-character code; here the type is the
// template argument and typecode_of<T>() gives the code back:
//   'c' char          'b' signed char     'B' unsigned char
//   'h' short         'H' unsigned short  'i' int           'I' unsigned int
//   'l' long          'L' unsigned long   'q' long long     'Q' unsigned long long
//   'f' float         'd' double          'u' wchar_t (4 bytes on Linux, like c_wchar)
// On LP64 CPython maps 'q'/'Q' to c_long/c_ulong (same size); C++ keeps long and long long
// distinct. Other arithmetic types (bool, char8_t, char16_t, char32_t) are accepted by the
// templates, as CPython accepts any ctypes type, but have no typecode.
//
// Integer wrap-around follows the C type (V-INIT-2): converting an out-of-range value to T is
// the caller's conversion and wraps modulo 2^N for unsigned and (C++20) signed types alike.
#include <atomic>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "mpref/detail/shared_memory.hpp"
#include "mpref/detail/slice.hpp"
#include "mpref/errors.hpp"
#include "mpref/synchronize.hpp"

namespace mpref {

// ---- typecodes ----------------------------------------------------------------------------

/// The typecode of C type T, or '\0' when it has none.
template <class T> inline constexpr char typecode_v = '\0';
template <> inline constexpr char typecode_v<char> = 'c';
template <> inline constexpr char typecode_v<wchar_t> = 'u';
template <> inline constexpr char typecode_v<signed char> = 'b';
template <> inline constexpr char typecode_v<unsigned char> = 'B';
template <> inline constexpr char typecode_v<short> = 'h';
template <> inline constexpr char typecode_v<unsigned short> = 'H';
template <> inline constexpr char typecode_v<int> = 'i';
template <> inline constexpr char typecode_v<unsigned int> = 'I';
template <> inline constexpr char typecode_v<long> = 'l';
template <> inline constexpr char typecode_v<unsigned long> = 'L';
template <> inline constexpr char typecode_v<long long> = 'q';
template <> inline constexpr char typecode_v<unsigned long long> = 'Q';
template <> inline constexpr char typecode_v<float> = 'f';
template <> inline constexpr char typecode_v<double> = 'd';

/// The C types with a typecode (the table above).
template <class T>
concept HasTypecode = typecode_v<T> != '\0';

/// typecode_of<int>() == 'i'. Only for types in the table (a compile error otherwise).
template <HasTypecode T>
constexpr char typecode_of() noexcept {
  return typecode_v<T>;
}

/// Checks a runtime typecode string as sharedctypes does (`typecode_to_type.get(tc, tc)` then
/// ctypes.sizeof). Returns: the size in bytes of the C type it names (e.g. 4 for "i").
/// Throws: TypeError("this type has no size") for anything but one of the 14 one-character
///   codes above ("x", "ii", "" ...), V-TC-1.
std::size_t typecode_size(std::string_view typecode);

/// The element types Value and Array accept: arithmetic types whose atomic access is lock-free
/// (every type in the table; not long double).
template <class T>
concept SharedScalar = std::is_arithmetic_v<T> && std::atomic_ref<T>::is_always_lock_free;

/// What Value and Array accept as `lock`: anything with CPython's acquire/release (V-LOCK-1),
/// e.g. RLock (the default), Lock, Semaphore. Must be a handle that stays valid when copied.
template <class L>
concept SyncLock = std::copy_constructible<L> && requires(L& l) {
  { l.acquire() } -> std::convertible_to<bool>;
  { l.acquire(true, std::optional<double>(1.0)) } -> std::convertible_to<bool>;
  l.release();
};

// ---- RawValue -----------------------------------------------------------------------------

/// sharedctypes.RawValue: one T in shared memory, with no lock (V-RAW-1).
template <SharedScalar T>
class RawValue {
 public:
  static constexpr char typecode = typecode_v<T>;

  /// Effects: a zero-filled T in a new shared mapping (V-INIT-1).
  RawValue() : obj_(detail::Shared<T>::make()) {}
  /// Effects: a T in a new shared mapping, set to `initial`.
  explicit RawValue(T initial) : obj_(detail::Shared<T>::make(initial)) {}

  /// The value, read once (never torn). No lock.
  [[nodiscard]] T value() const noexcept {
    return std::atomic_ref<T>(*obj_).load(std::memory_order_relaxed);
  }
  /// Writes the value once. No lock.
  void set_value(T v) const noexcept {
    std::atomic_ref<T>(*obj_).store(v, std::memory_order_relaxed);
  }
  /// The object in shared memory, for code that does its own synchronisation.
  [[nodiscard]] T* data() const noexcept { return obj_.get(); }

  /// Same shared object.
  friend bool operator==(const RawValue& a, const RawValue& b) noexcept {
    return a.obj_.get() == b.obj_.get();
  }

 private:
  detail::Shared<T> obj_;
};

// ---- Value --------------------------------------------------------------------------------

/// sharedctypes.Value / Synchronized: a RawValue plus a lock (V-LOCK-1, V-WRAP-1).
/// L is the lock type: RLock by default (a new one per Value), or any SyncLock given at
/// construction, which is then used as-is (get_lock() == it). For no lock use RawValue.
template <SharedScalar T, SyncLock L = RLock>
class Value {
 public:
  static constexpr char typecode = typecode_v<T>;

  /// Effects: a zero-filled T and a new L (default-constructed).
  Value() requires std::default_initializable<L> : obj_(), lock_() {}
  /// Effects: a T set to `initial` and a new L.
  explicit Value(T initial) requires std::default_initializable<L> : obj_(initial), lock_() {}
  /// Effects: a T set to `initial`, guarded by `lock` (shared, not copied: handles).
  Value(T initial, L lock) : obj_(initial), lock_(std::move(lock)) {}

  /// Reads the value under the lock: acquire, read, release (V-WRAP-1). Each call takes the
  /// lock on its own, so `v.set_value(v.value() + 1)` is NOT atomic (V-ATOM-1); hold
  /// get_lock() around both for that. With a non-recursive lock (Lock), calling this while
  /// holding get_lock() self-deadlocks, as in CPython (V-ATOM-2).
  /// Throws: whatever L::acquire throws (OwnerDiedError with a robust lock: the lock stays held).
  [[nodiscard]] T value() const {
    lock_.acquire();
    T v = obj_.value();
    lock_.release();
    return v;
  }
  /// Writes the value under the lock (the same rules as value()).
  void set_value(T v) const {
    lock_.acquire();
    obj_.set_value(v);
    lock_.release();
  }

  /// The lock itself (the very one given at construction, if any).
  [[nodiscard]] L& get_lock() const noexcept { return lock_; }
  /// The unsynchronised object: a RawValue handle to the same memory.
  [[nodiscard]] RawValue<T> get_obj() const noexcept { return obj_; }

  /// The lock's own acquire/release (V-WRAP-1), and lock()/unlock()/try_lock() so that
  /// std::lock_guard<const Value<...>> and mpref::Guard mirror `with v:`.
  bool acquire(bool block = true, std::optional<double> timeout = std::nullopt) const {
    return lock_.acquire(block, timeout);
  }
  void release() const { lock_.release(); }
  void lock() const { lock_.acquire(); }
  void unlock() const { lock_.release(); }
  bool try_lock() const { return lock_.acquire(false); }

 private:
  RawValue<T> obj_;
  mutable L lock_;
};

// ---- RawArray -----------------------------------------------------------------------------

namespace detail {
/// What precedes the elements of an array in its mapping.
struct alignas(16) ArrayHeader {
  std::size_t length;
};
}  // namespace detail

/// sharedctypes.RawArray: a fixed-length array of T in shared memory, with no lock (A-RAW-1).
/// Indexing and slicing follow ctypes arrays: negative indices count from the end, slices clamp.
template <SharedScalar T>
class RawArray {
 public:
  static constexpr char typecode = typecode_v<T>;

  /// Effects: `length` zero-filled elements (0 is allowed). Note: as with std::vector,
  /// RawArray<int>(5) has five zeros while RawArray<int>{5} has one element, 5.
  /// Throws: ValueError("Array length must be >= 0, not <length>") when length < 0 (A-CTOR-1);
  ///   std::bad_alloc when the byte size does not fit in the address space.
  explicit RawArray(std::ptrdiff_t length) : RawArray(checked_length(length), nullptr) {}
  /// Effects: a copy of `init` (Array(tc, sequence)).
  explicit RawArray(std::span<const T> init) : RawArray(init.size(), init.data()) {}
  RawArray(std::initializer_list<T> init) : RawArray(init.size(), std::data(init)) {}

  /// len(a).
  [[nodiscard]] std::ptrdiff_t size() const noexcept {
    return static_cast<std::ptrdiff_t>(mem_->length);
  }

  /// a[i]. Requires nothing: i < 0 counts from the end.
  /// Throws: IndexError("invalid index") unless -size() <= i < size() (A-IDX-1).
  [[nodiscard]] T get(std::ptrdiff_t i) const { return load(detail::resolve_index(size(), i)); }
  /// a[i] = v; the same index rules.
  void set(std::ptrdiff_t i, T v) const { store(detail::resolve_index(size(), i), v); }

  /// a[start:stop:step] as a vector (nullopt = omitted). Out-of-range bounds clamp
  /// (a[10:20] is empty), negative steps walk backwards (a[::-1]) (A-SL-1).
  /// Throws: ValueError("slice step cannot be zero").
  [[nodiscard]] std::vector<T> get_slice(std::optional<std::ptrdiff_t> start,
                                         std::optional<std::ptrdiff_t> stop,
                                         std::ptrdiff_t step = 1) const {
    const detail::SliceRange r = detail::resolve_slice(size(), start, stop, step);
    std::vector<T> out;
    out.reserve(static_cast<std::size_t>(r.count));
    for (std::ptrdiff_t k = 0, i = r.start; k < r.count; ++k, i += r.step)
      out.push_back(load(static_cast<std::size_t>(i)));
    return out;
  }
  /// a[start:stop:step] = values. Extended slices too.
  /// Throws: ValueError("Can only assign sequence of same size") when values.size() differs
  ///   from the slice's length (nothing is written); ValueError("slice step cannot be zero").
  void set_slice(std::optional<std::ptrdiff_t> start, std::optional<std::ptrdiff_t> stop,
                 std::ptrdiff_t step, std::span<const T> values) const {
    const detail::SliceRange r = detail::resolve_slice(size(), start, stop, step);
    if (static_cast<std::size_t>(r.count) != values.size())
      throw ValueError("Can only assign sequence of same size");
    std::ptrdiff_t i = r.start;
    for (const T& v : values) {
      store(static_cast<std::size_t>(i), v);
      i += r.step;
    }
  }
  /// a[start:stop] = values.
  void set_slice(std::optional<std::ptrdiff_t> start, std::optional<std::ptrdiff_t> stop,
                 std::span<const T> values) const {
    set_slice(start, stop, 1, values);
  }
  /// a[:].
  [[nodiscard]] std::vector<T> to_vector() const { return get_slice(std::nullopt, std::nullopt); }

  /// The elements in shared memory, for code that does its own synchronisation.
  [[nodiscard]] T* data() const noexcept { return reinterpret_cast<T*>(mem_.extra()); }

  friend bool operator==(const RawArray& a, const RawArray& b) noexcept {
    return a.mem_.get() == b.mem_.get();
  }

 private:
  static std::size_t checked_length(std::ptrdiff_t length) {
    if (length < 0)
      throw ValueError("Array length must be >= 0, not " + std::to_string(length));
    return static_cast<std::size_t>(length);
  }
  RawArray(std::size_t length, const T* init) : mem_(make(length)) {
    mem_->length = length;
    if (init != nullptr)
      for (std::size_t i = 0; i < length; ++i) store(i, init[i]);
  }
  static detail::Shared<detail::ArrayHeader> make(std::size_t length) {
    constexpr auto max_bytes = static_cast<std::size_t>(std::numeric_limits<std::ptrdiff_t>::max());
    if (length > (max_bytes - sizeof(detail::ArrayHeader)) / sizeof(T))
      throw std::bad_alloc();
    return detail::Shared<detail::ArrayHeader>::make_with_extra(length * sizeof(T));
  }
  T load(std::size_t i) const noexcept {
    return std::atomic_ref<T>(data()[i]).load(std::memory_order_relaxed);
  }
  void store(std::size_t i, T v) const noexcept {
    std::atomic_ref<T>(data()[i]).store(v, std::memory_order_relaxed);
  }
  detail::Shared<detail::ArrayHeader> mem_;
};

// ---- Array --------------------------------------------------------------------------------

/// sharedctypes.Array / SynchronizedArray: a RawArray plus a lock (A-LOCK-1). Each element or
/// slice access takes the lock on its own; hold get_lock() around a read-modify-write.
/// size() takes no lock (the length never changes).
template <SharedScalar T, SyncLock L = RLock>
class Array {
 public:
  static constexpr char typecode = typecode_v<T>;

  /// Effects: `length` zero-filled elements and a new L.
  /// Throws: ValueError("Array length must be >= 0, not <length>") when length < 0.
  explicit Array(std::ptrdiff_t length) requires std::default_initializable<L>
      : obj_(length), lock_() {}
  Array(std::ptrdiff_t length, L lock) : obj_(length), lock_(std::move(lock)) {}
  /// Effects: a copy of `init` and a new L.
  explicit Array(std::span<const T> init) requires std::default_initializable<L>
      : obj_(init), lock_() {}
  Array(std::initializer_list<T> init) requires std::default_initializable<L>
      : obj_(init), lock_() {}
  Array(std::span<const T> init, L lock) : obj_(init), lock_(std::move(lock)) {}

  [[nodiscard]] std::ptrdiff_t size() const noexcept { return obj_.size(); }

  /// As RawArray's, each under the lock.
  [[nodiscard]] T get(std::ptrdiff_t i) const {
    Held h(lock_);
    return obj_.get(i);
  }
  void set(std::ptrdiff_t i, T v) const {
    Held h(lock_);
    obj_.set(i, v);
  }
  [[nodiscard]] std::vector<T> get_slice(std::optional<std::ptrdiff_t> start,
                                         std::optional<std::ptrdiff_t> stop,
                                         std::ptrdiff_t step = 1) const {
    Held h(lock_);
    return obj_.get_slice(start, stop, step);
  }
  void set_slice(std::optional<std::ptrdiff_t> start, std::optional<std::ptrdiff_t> stop,
                 std::ptrdiff_t step, std::span<const T> values) const {
    Held h(lock_);
    obj_.set_slice(start, stop, step, values);
  }
  void set_slice(std::optional<std::ptrdiff_t> start, std::optional<std::ptrdiff_t> stop,
                 std::span<const T> values) const {
    set_slice(start, stop, 1, values);
  }
  [[nodiscard]] std::vector<T> to_vector() const { return get_slice(std::nullopt, std::nullopt); }

  [[nodiscard]] L& get_lock() const noexcept { return lock_; }
  /// The unsynchronised array: a RawArray handle to the same memory.
  [[nodiscard]] RawArray<T> get_obj() const noexcept { return obj_; }

  bool acquire(bool block = true, std::optional<double> timeout = std::nullopt) const {
    return lock_.acquire(block, timeout);
  }
  void release() const { lock_.release(); }
  void lock() const { lock_.acquire(); }
  void unlock() const { lock_.release(); }
  bool try_lock() const { return lock_.acquire(false); }

 private:
  // Holds the lock for one access; releases it on the way out of an IndexError too.
  struct Held {
    explicit Held(L& l) : l_(l) { l_.acquire(); }
    ~Held() { l_.release(); }
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;
    L& l_;
  };
  RawArray<T> obj_;
  mutable L lock_;
};

}  // namespace mpref
