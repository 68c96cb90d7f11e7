#pragma once
// mpref/detail/shared_memory.hpp: anonymous shared mappings that fork children inherit.
//
// Every mpref primitive lives in a MAP_SHARED|MAP_ANONYMOUS mapping made through
// Boost.Interprocess (anonymous_shared_memory). It has no name, so nothing ever appears in
// /dev/shm and nothing can be left behind, even after SIGKILL: the kernel frees it when the
// last process that maps it is gone. Sharing is by inheritance across fork, as CPython's
// primitives are ("should only be shared between processes through inheritance").
#include <cstddef>
#include <memory>
#include <new>
#include <utility>

#include <sys/mman.h>

#include <boost/interprocess/anonymous_shared_memory.hpp>
#include <boost/interprocess/mapped_region.hpp>

namespace mpref::detail {

/// An anonymous shared mapping of `size` bytes, zero-filled. Pages are committed only when
/// first touched, so a large reserve costs address space, not memory.
/// Throws boost::interprocess::interprocess_exception when the mapping fails.
class SharedRegion {
 public:
  explicit SharedRegion(std::size_t size)
      : region_(boost::interprocess::anonymous_shared_memory(size)) {}
  [[nodiscard]] void* data() const noexcept { return region_.get_address(); }
  [[nodiscard]] std::size_t size() const noexcept { return region_.get_size(); }
  /// Give the pages of [offset, offset+len) back to the kernel (contents become zero).
  /// Used to keep a queue's resident memory close to its contents.
  void discard(std::size_t offset, std::size_t len) noexcept {
    ::madvise(static_cast<char*>(data()) + offset, len, MADV_REMOVE);
  }

 private:
  boost::interprocess::mapped_region region_;
};

/// A T constructed in its own anonymous shared mapping (extra bytes after it on request).
/// Copies of the handle in one process share the mapping; a forked child inherits it.
/// T's destructor is never run: the object is shared with other processes, which may still
/// use it, so T must be trivially destructible in spirit (pthread objects, atomics, PODs).
template <class T>
class Shared {
 public:
  template <class... Args>
  static Shared make_with_extra(std::size_t extra, Args&&... args) {
    auto region = std::make_shared<SharedRegion>(sizeof(T) + extra);
    T* obj = ::new (region->data()) T(std::forward<Args>(args)...);
    return Shared(std::move(region), obj);
  }
  template <class... Args>
  static Shared make(Args&&... args) { return make_with_extra(0, std::forward<Args>(args)...); }

  T* get() const noexcept { return obj_; }
  T* operator->() const noexcept { return obj_; }
  T& operator*() const noexcept { return *obj_; }
  /// The bytes after the object (make_with_extra).
  [[nodiscard]] std::byte* extra() const noexcept { return reinterpret_cast<std::byte*>(obj_ + 1); }
  [[nodiscard]] SharedRegion& region() const noexcept { return *region_; }

 private:
  Shared(std::shared_ptr<SharedRegion> r, T* obj) : region_(std::move(r)), obj_(obj) {}
  std::shared_ptr<SharedRegion> region_;
  T* obj_;
};

}  // namespace mpref::detail
