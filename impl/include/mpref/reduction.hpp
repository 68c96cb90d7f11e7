#pragma once
// mpref/reduction.hpp: how typed values travel as byte messages through Queue, JoinableQueue,
// SimpleQueue and Connection. The analogue of CPython's pickling (multiprocessing/reduction.py):
// CPython pickles any object; mpref encodes the types that have a Codec.
//
// Provided codecs:
//   - every trivially copyable T (int, double, POD structs, std::array of those, ...): its object
//     representation, sizeof(T) bytes. Pointers are copied as numbers (meaningful only inside
//     the same forked address space);
//   - std::string: its characters (no terminator); an empty string is an empty message;
//   - std::vector<T> of trivially copyable T, among them mpref::Bytes = std::vector<std::byte>:
//     the elements back to back;
//   - std::optional<T> of an encodable T: one tag byte (0 = nullopt, 1 = value) then T's
//     encoding. std::nullopt is the natural stand-in for Python's `None` sentinel.
//
// Adding a codec: specialise mpref::Codec for your type in namespace mpref, with
//
//   template <> struct mpref::Codec<Point3> {
//     // Exact number of bytes encode() writes for v.
//     static std::size_t size(const Point3& v);
//     // Writes v's encoding into out; out.size() == size(v).
//     static void encode(const Point3& v, std::span<std::byte> out);
//     // Rebuilds the value from a message; throws mpref::ValueError when `in` is malformed.
//     static Point3 decode(std::span<const std::byte> in);
//     // Optional: when the encoding is already contiguous in v, the queue or connection copies
//     // from this view directly and never calls size()/encode().
//     // static std::span<const std::byte> view(const Point3& v);
//   };
//
// The encoding must not depend on the process (no heap pointers): the decoding process may be
// another one. A value that decode() rejects raises ValueError from get()/recv() after the
// message has been taken.
#include <concepts>
#include <cstddef>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mpref/errors.hpp"

namespace mpref {

/// A byte message as received from a queue or a connection.
using Bytes = std::vector<std::byte>;

/// The serialisation trait (see the file comment). Undefined for types without a codec.
template <class T>
struct Codec;

/// T can travel through a queue or a connection.
template <class T>
concept Encodable = requires(const T& v, std::span<std::byte> out, std::span<const std::byte> in) {
  { Codec<T>::size(v) } -> std::convertible_to<std::size_t>;
  Codec<T>::encode(v, out);
  { Codec<T>::decode(in) } -> std::same_as<T>;
};

namespace detail {
[[noreturn]] inline void bad_encoding(const char* what, std::size_t expected, std::size_t got) {
  throw ValueError(std::string("mpref.Codec<") + what + ">: expected " + std::to_string(expected) +
                   " bytes, got " + std::to_string(got));
}
}  // namespace detail

template <class T>
  requires std::is_trivially_copyable_v<T>
struct Codec<T> {
  static std::size_t size(const T&) noexcept { return sizeof(T); }
  static void encode(const T& v, std::span<std::byte> out) noexcept {
    std::memcpy(out.data(), &v, sizeof(T));
  }
  static T decode(std::span<const std::byte> in) {
    if (in.size() != sizeof(T)) detail::bad_encoding("trivially copyable", sizeof(T), in.size());
    T v;
    std::memcpy(&v, in.data(), sizeof(T));
    return v;
  }
  static std::span<const std::byte> view(const T& v) noexcept {
    return {reinterpret_cast<const std::byte*>(&v), sizeof(T)};
  }
};

template <>
struct Codec<std::string> {
  static std::size_t size(const std::string& v) noexcept { return v.size(); }
  static void encode(const std::string& v, std::span<std::byte> out) noexcept {
    if (!v.empty()) std::memcpy(out.data(), v.data(), v.size());
  }
  static std::string decode(std::span<const std::byte> in) {
    return std::string(reinterpret_cast<const char*>(in.data()), in.size());
  }
  static std::span<const std::byte> view(const std::string& v) noexcept {
    return {reinterpret_cast<const std::byte*>(v.data()), v.size()};
  }
};

template <class T>
  requires std::is_trivially_copyable_v<T>
struct Codec<std::vector<T>> {
  static std::size_t size(const std::vector<T>& v) noexcept { return v.size() * sizeof(T); }
  static void encode(const std::vector<T>& v, std::span<std::byte> out) noexcept {
    if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
  }
  static std::vector<T> decode(std::span<const std::byte> in) {
    if (in.size() % sizeof(T) != 0)
      detail::bad_encoding("vector", (in.size() / sizeof(T) + 1) * sizeof(T), in.size());
    std::vector<T> v(in.size() / sizeof(T));
    if (!in.empty()) std::memcpy(v.data(), in.data(), in.size());
    return v;
  }
  static std::span<const std::byte> view(const std::vector<T>& v) noexcept {
    return {reinterpret_cast<const std::byte*>(v.data()), v.size() * sizeof(T)};
  }
};

template <Encodable T>
struct Codec<std::optional<T>> {
  static std::size_t size(const std::optional<T>& v) {
    return 1 + (v ? static_cast<std::size_t>(Codec<T>::size(*v)) : 0);
  }
  static void encode(const std::optional<T>& v, std::span<std::byte> out) {
    out[0] = std::byte{v ? std::uint8_t{1} : std::uint8_t{0}};
    if (v) Codec<T>::encode(*v, out.subspan(1));
  }
  static std::optional<T> decode(std::span<const std::byte> in) {
    if (in.empty()) detail::bad_encoding("optional", 1, 0);
    if (in[0] == std::byte{0}) {
      if (in.size() != 1) detail::bad_encoding("optional", 1, in.size());
      return std::nullopt;
    }
    return Codec<T>::decode(in.subspan(1));
  }
};

namespace detail {

template <class T>
concept HasCodecView = requires(const T& v) {
  { Codec<T>::view(v) } -> std::same_as<std::span<const std::byte>>;
};

/// Calls f(std::span<const std::byte>) with v's encoding: the codec's view when it has one,
/// else a stack buffer for small encodings, else a heap buffer.
template <Encodable T, class F>
decltype(auto) with_encoded(const T& v, F&& f) {
  if constexpr (HasCodecView<T>) {
    return f(Codec<T>::view(v));
  } else {
    const std::size_t n = Codec<T>::size(v);
    constexpr std::size_t small = 256;
    if (n <= small) {
      alignas(16) std::byte buf[small];
      Codec<T>::encode(v, std::span<std::byte>(buf, n));
      return f(std::span<const std::byte>(buf, n));
    }
    Bytes big(n);
    Codec<T>::encode(v, std::span<std::byte>(big));
    return f(std::span<const std::byte>(big));
  }
}

/// A message buffer for decoding: small messages stay on the stack.
class DecodeBuffer {
 public:
  /// Returns room for n bytes (stable until the next call).
  std::byte* reserve(std::size_t n) {
    size_ = n;
    if (n <= sizeof(small_)) return small_;
    big_.resize(n);
    return big_.data();
  }
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept {
    return {size_ <= sizeof(small_) ? small_ : big_.data(), size_};
  }
  Bytes take_bytes() {
    if (size_ <= sizeof(small_)) return Bytes(small_, small_ + size_);
    return std::move(big_);
  }
  /// For the queue's C-style sink: ctx is a DecodeBuffer*.
  static void* sink(void* ctx, std::size_t n) { return static_cast<DecodeBuffer*>(ctx)->reserve(n); }

 private:
  alignas(16) std::byte small_[64];
  Bytes big_;
  std::size_t size_ = 0;
};

template <Encodable T>
T decode_from(DecodeBuffer& buf) {
  if constexpr (std::is_same_v<T, Bytes>) {
    return buf.take_bytes();
  } else {
    return Codec<T>::decode(buf.bytes());
  }
}

}  // namespace detail
}  // namespace mpref
