// The timeout checker (see mpconform/checkers/timeouts.hpp for the rules).
#include "checker_support.hpp"
#include "mpconform/checkers/timeouts.hpp"

namespace mpconform {
namespace {

// The clause for a timed-out call of this kind: (with a timeout, without waiting).
std::pair<const char*, const char*> clauses_of(OpKind kind) {
  switch (kind) {
    case OpKind::put: return {"Q-FULL-3", "Q-FULL-1"};
    case OpKind::get: return {"Q-EMPTY-3", "Q-EMPTY-1"};
    case OpKind::acquire: return {"L-ACQ-6", "L-ACQ-2"};
    case OpKind::poll: return {"C-POLL-2", "C-POLL-1"};
    case OpKind::process_join: return {"P-JOIN-5", "P-JOIN-6"};
    default: return {nullptr, nullptr};
  }
}

bool timed_out(const Op& op) {
  if (!op.failed()) return false;
  switch (op.kind) {
    case OpKind::put: return op.error == ErrorKind::Full;
    case OpKind::get: return op.error == ErrorKind::Empty;
    default: return op.error == ErrorKind::Timeout;
  }
}

}  // namespace

Verdict check_timeouts(const History& h, const TimeoutCheckOptions& o) {
  if (h.dropped != 0) return detail::incomplete(h, "Q-EMPTY-3");
  const std::int64_t early = nanoseconds(o.early);
  const std::int64_t late = nanoseconds(o.late);
  const std::int64_t late_now = nanoseconds(o.late_now);
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.timeout_ns == kNoTimeout || !op.completed()) continue;
    const auto [timed_clause, now_clause] = clauses_of(op.kind);
    if (timed_clause == nullptr) continue;
    const bool waits = op.timeout_ns > 0;
    const char* clause = waits ? timed_clause : now_clause;
    const std::int64_t d = op.return_ns - op.invoke_ns;
    if (timed_out(op) && d < op.timeout_ns - early) {
      return Verdict::illegal(clause, {i},
                              fmt::format("{} timed out after {}, before its timeout of {} (tier {} forgives {})",
                                          detail::short_name(h, i), detail::seconds_str(d),
                                          detail::seconds_str(op.timeout_ns), o.early.name, detail::seconds_str(early)));
    }
    const std::int64_t allowed = waits ? late : late_now;
    if (d > op.timeout_ns + allowed) {
      return Verdict::illegal(clause, {i},
                              fmt::format("{} returned after {}, later than its timeout {} + tier {} ({})",
                                          detail::short_name(h, i), detail::seconds_str(d),
                                          detail::seconds_str(op.timeout_ns), waits ? o.late.name : o.late_now.name,
                                          detail::seconds_str(allowed)));
    }
  }
  return Verdict::ok();
}

}  // namespace mpconform
