#pragma once
// mpref/detail/slice.hpp: Python's slice arithmetic (PySlice_Unpack + PySlice_AdjustIndices),
// so Array slices clamp, step and reverse exactly as ctypes arrays do.
#include <cstddef>
#include <limits>
#include <optional>

#include "mpref/errors.hpp"

namespace mpref::detail {

/// A slice resolved against a length: the indices start, start+step, ... (count of them).
struct SliceRange {
  std::ptrdiff_t start;
  std::ptrdiff_t step;
  std::ptrdiff_t count;
};

/// Resolves slice(start, stop, step) against `length` (nullopt = Python's None).
/// Throws: ValueError("slice step cannot be zero").
inline SliceRange resolve_slice(std::ptrdiff_t length, std::optional<std::ptrdiff_t> start_opt,
                                std::optional<std::ptrdiff_t> stop_opt, std::ptrdiff_t step) {
  constexpr std::ptrdiff_t max = std::numeric_limits<std::ptrdiff_t>::max();
  if (step == 0) throw ValueError("slice step cannot be zero");
  if (step < -max) step = -max;  // so that -step cannot overflow (as PySlice_Unpack)
  std::ptrdiff_t start = start_opt ? *start_opt : (step < 0 ? max : 0);
  std::ptrdiff_t stop = stop_opt ? *stop_opt : (step < 0 ? -max - 1 : max);
  auto adjust = [&](std::ptrdiff_t& i) {
    if (i < 0) {
      i += length;
      if (i < 0) i = step < 0 ? -1 : 0;
    } else if (i >= length) {
      i = step < 0 ? length - 1 : length;
    }
  };
  adjust(start);
  adjust(stop);
  std::ptrdiff_t count = 0;
  if (step < 0) {
    if (stop < start) count = (start - stop - 1) / (-step) + 1;
  } else if (start < stop) {
    count = (stop - start - 1) / step + 1;
  }
  return SliceRange{start, step, count};
}

/// Resolves a single (possibly negative) index. Throws: IndexError("invalid index").
inline std::size_t resolve_index(std::ptrdiff_t length, std::ptrdiff_t i) {
  if (i < 0) i += length;
  if (i < 0 || i >= length) throw IndexError("invalid index");
  return static_cast<std::size_t>(i);
}

}  // namespace mpref::detail
