// Queue, JoinableQueue (mpref/queues.hpp): the untyped parts.
#include "mpref/queues.hpp"

#include <cstdio>

namespace mpref {

QueueBase::QueueBase(std::int64_t maxsize, const QueueOptions& options, bool joinable,
                     const char* type_name)
    : core_(detail::QueueCore::Config{maxsize, options.reserve_bytes, joinable}),
      local_(std::make_shared<Local>()),
      type_name_(type_name) {}

void QueueBase::put_bytes(std::span<const std::byte> message, bool block,
                          std::optional<double> timeout) {
  check_not_closed();
  core_.put(message.data(), message.size(), block, timeout);
}

Bytes QueueBase::get_bytes(bool block, std::optional<double> timeout) {
  check_not_closed();
  detail::DecodeBuffer buf;
  core_.get(&detail::DecodeBuffer::sink, &buf, block, timeout);
  return buf.take_bytes();
}

std::string QueueBase::repr() const {
  char addr[32];
  std::snprintf(addr, sizeof addr, "%p", core_.address());
  return std::string("<multiprocessing.queues.") + type_name_ + " object at " + addr + ">";
}

void QueueBase::throw_closed() const { throw ValueError("Queue " + repr() + " is closed"); }

void QueueBase::join_thread() const {
  if (!local_->closed) throw AssertionError("Queue " + repr() + " not closed");
}

}  // namespace mpref
