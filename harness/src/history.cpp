// The shared-memory history log: claiming slots, completing calls, reading the history back.
#include "mpconform/history.hpp"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <new>
#include <stdexcept>
#include <utility>

#include <mpref/detail/shared_memory.hpp>

#include "mpconform/detail/history_log.hpp"

namespace mpconform {

using detail::LogHeader;
using detail::LogSlot;

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

std::int64_t timeout_ns_of(bool block, std::optional<double> timeout_seconds) noexcept {
  if (!block) return 0;
  if (!timeout_seconds) return kNoTimeout;
  const double t = *timeout_seconds;
  if (!(t > 0)) return 0;  // 0, negative and NaN: CPython does not wait
  const double ns = t * 1e9;
  if (ns >= 9.2e18) return kNoTimeout;  // beyond the clock's range: forever in practice
  return static_cast<std::int64_t>(std::llround(ns));
}

std::uint64_t make_tag(std::uint32_t producer, std::uint64_t seq) {
  if (producer > kMaxTagProducer) throw std::out_of_range("make_tag: producer out of range");
  if (seq > kMaxTagSeq) throw std::out_of_range("make_tag: sequence number out of range");
  return (static_cast<std::uint64_t>(producer) + 1) << 48 | seq;
}

// --- Call -------------------------------------------------------------------------------------

Call::Call(Call&& other) noexcept : slot_(std::exchange(other.slot_, nullptr)) {}

Call& Call::operator=(Call&& other) noexcept {
  if (this != &other) {
    if (slot_ != nullptr) complete(Outcome::info, ErrorKind::Other, nullptr);
    slot_ = std::exchange(other.slot_, nullptr);
  }
  return *this;
}

Call::~Call() {
  // Unwound without a verdict: the call returned, but nobody knows whether it took effect.
  if (slot_ != nullptr) complete(Outcome::info, ErrorKind::Other, nullptr);
}

void Call::ok() { complete(Outcome::ok, ErrorKind::none, nullptr); }
void Call::ok(std::uint64_t result) { complete(Outcome::ok, ErrorKind::none, &result); }
void Call::fail(ErrorKind why) { complete(Outcome::fail, why, nullptr); }
void Call::info(ErrorKind why) { complete(Outcome::info, why, nullptr); }

void Call::complete(Outcome outcome, ErrorKind error, const std::uint64_t* result) noexcept {
  LogSlot* s = std::exchange(slot_, nullptr);
  if (s == nullptr) return;  // overflowed, or already completed
  s->return_ns = monotonic_ns();
  s->outcome = static_cast<std::uint8_t>(outcome);
  s->error = static_cast<std::uint8_t>(error);
  s->has_result = result != nullptr ? 1 : 0;
  s->result = result != nullptr ? *result : 0;
  s->state.store(detail::kSlotCompleted, std::memory_order_release);
}

// --- ProcessLog -------------------------------------------------------------------------------

Call ProcessLog::invoke(OpKind kind, std::uint32_t object, std::uint64_t value,
                        std::int64_t timeout_ns, std::uint64_t aux) const {
  const std::uint64_t i = header_->next.fetch_add(1, std::memory_order_relaxed);
  if (i >= header_->capacity) {
    header_->dropped.fetch_add(1, std::memory_order_relaxed);
    return Call();
  }
  LogSlot* s = &slots_[i];
  s->process = process_;
  s->pid = pid_;
  s->object = object;
  s->kind = static_cast<std::uint8_t>(kind);
  s->value = value;
  s->aux = aux;
  s->timeout_ns = timeout_ns;
  // The invoke time is taken last, just before the call starts: the recorded interval always
  // contains the real one.
  s->invoke_ns = monotonic_ns();
  s->state.store(detail::kSlotInvoked, std::memory_order_release);
  return Call(s);
}

void ProcessLog::instant(OpKind kind, std::uint32_t object, std::uint64_t value,
                         std::uint64_t aux) const {
  invoke(kind, object, value, 0, aux).ok();
}

// --- Recorder ---------------------------------------------------------------------------------

Recorder::Recorder(std::size_t capacity) : capacity_(capacity) {
  if (capacity == 0) throw std::invalid_argument("Recorder: capacity must be at least 1");
  region_ = std::make_shared<mpref::detail::SharedRegion>(sizeof(LogHeader) +
                                                           capacity * sizeof(LogSlot));
  header_ = ::new (region_->data()) LogHeader{};
  header_->magic = detail::kLogMagic;
  header_->capacity = capacity;
  header_->next.store(0, std::memory_order_relaxed);
  header_->dropped.store(0, std::memory_order_relaxed);
  // The mapping is zero-filled: every slot starts free, without touching (committing) it.
  slots_ = reinterpret_cast<LogSlot*>(static_cast<std::byte*>(region_->data()) + sizeof(LogHeader));
}

ProcessLog Recorder::log(std::uint32_t process) const {
  return ProcessLog(header_, slots_, process, static_cast<std::int32_t>(::getpid()));
}

std::uint64_t Recorder::claimed() const noexcept {
  return header_->next.load(std::memory_order_acquire);
}

std::uint64_t Recorder::dropped() const noexcept {
  return header_->dropped.load(std::memory_order_acquire);
}

void Recorder::clear() noexcept {
  const std::uint64_t n = std::min<std::uint64_t>(claimed(), capacity_);
  for (std::uint64_t i = 0; i < n; ++i) slots_[i].state.store(detail::kSlotFree, std::memory_order_relaxed);
  header_->dropped.store(0, std::memory_order_relaxed);
  header_->next.store(0, std::memory_order_release);
}

History Recorder::read() const {
  History h = read(0, claimed());
  h.dropped = dropped();
  return h;
}

History Recorder::read(std::uint64_t first, std::uint64_t last) const {
  History h;
  const std::uint64_t n = std::min<std::uint64_t>({claimed(), capacity_, last});
  h.ops.reserve(static_cast<std::size_t>(n > first ? n - first : 0));
  for (std::uint64_t i = first; i < n; ++i) {
    const LogSlot& s = slots_[i];
    const std::uint32_t state = s.state.load(std::memory_order_acquire);
    if (state == detail::kSlotFree) {
      ++h.torn;  // claimed, but the process died before the call started
      continue;
    }
    Op op;
    op.process = s.process;
    op.pid = s.pid;
    op.kind = static_cast<OpKind>(s.kind);
    op.object = s.object;
    op.value = s.value;
    op.aux = s.aux;
    op.timeout_ns = s.timeout_ns;
    op.invoke_ns = s.invoke_ns;
    if (state == detail::kSlotCompleted) {
      op.outcome = static_cast<Outcome>(s.outcome);
      op.error = static_cast<ErrorKind>(s.error);
      op.return_ns = s.return_ns;
      if (s.has_result != 0) op.value = s.result;
    } else {
      op.outcome = Outcome::info;  // invoked, never completed: the process died mid-call
      op.error = ErrorKind::none;
      op.return_ns = kNever;
    }
    h.ops.push_back(op);
  }
  return h;
}

}  // namespace mpconform
