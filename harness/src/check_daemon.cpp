// The daemon / child-exit checker (see mpconform/checkers/daemon.hpp for the rules).
#include <algorithm>
#include <limits>
#include <map>

#include "checker_support.hpp"
#include "mpconform/checkers/daemon.hpp"

#include <csignal>

namespace mpconform {
namespace {

using detail::npos;
using detail::short_name;

constexpr std::int64_t kMinTime = std::numeric_limits<std::int64_t>::min();

struct Life {
  std::size_t exit = npos;       // its own ok exit op
  std::size_t gone = npos;       // the first ok gone op about it
  std::int64_t alive_at = kMinTime;  // the latest instant it was certainly alive
  std::size_t alive_op = npos;       // the op that proves it
  [[nodiscard]] std::int64_t ended_by(const History& h) const {
    std::int64_t t = kNever;
    if (exit != npos) t = std::min(t, h.ops[exit].return_ns);
    if (gone != npos) t = std::min(t, h.ops[gone].return_ns);
    return t;
  }
};

}  // namespace

Verdict check_daemon(const History& h, const DaemonCheckOptions& o) {
  if (h.dropped != 0) return detail::incomplete(h, "X-EXIT-1");
  std::map<std::uint32_t, Life> lives;
  const auto seen_alive = [&](std::uint32_t p, std::int64_t t, std::size_t i) {
    Life& l = lives[p];
    if (t > l.alive_at) {
      l.alive_at = t;
      l.alive_op = i;
    }
  };
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    // Its own ops prove a process alive while they run (an exit op up to its invoke only:
    // the exit work itself may be the process's last moment).
    if (op.kind == OpKind::exit) {
      seen_alive(op.process, op.invoke_ns, i);
      if (op.ok() && lives[op.process].exit == npos) lives[op.process].exit = i;
    } else {
      seen_alive(op.process, op.completed() ? op.return_ns : op.invoke_ns, i);
    }
    if (op.kind == OpKind::gone) {
      const auto target = static_cast<std::uint32_t>(op.value);
      if (op.ok()) {
        seen_alive(target, op.invoke_ns, i);
        Life& l = lives[target];
        if (l.gone == npos || op.return_ns < h.ops[l.gone].return_ns) l.gone = i;
      } else if (op.failed() && op.error == ErrorKind::Timeout) {
        seen_alive(target, op.return_ns, i);
      }
    }
  }

  const std::int64_t grace = nanoseconds(o.grace);
  std::string undecided;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& s = h.ops[i];
    if (s.kind != OpKind::start || !s.ok()) continue;
    const std::uint32_t parent = s.process;
    const auto child = static_cast<std::uint32_t>(s.value);
    const bool daemonic = s.aux != 0;
    const Life& pl = lives[parent];
    const Life& cl = lives[child];
    std::int64_t end = kNever;  // when the parent's exit completed (or it died, with pdeathsig)
    std::size_t end_op = npos;
    const char* clause = nullptr;
    if (pl.exit != npos) {
      end = h.ops[pl.exit].return_ns;
      end_op = pl.exit;
      clause = daemonic ? "X-EXIT-1" : "X-EXIT-8";
    } else if (o.pdeathsig && daemonic && pl.gone != npos) {
      end = h.ops[pl.gone].return_ns;
      end_op = pl.gone;
      clause = "X-EXIT-7";
    } else {
      continue;  // killed parent: no exit work, nothing to check
    }
    const std::int64_t bound = daemonic ? end + grace : end;
    if (cl.alive_at > bound) {
      return Verdict::illegal(
          clause, {i, end_op, cl.alive_op},
          daemonic ? fmt::format("daemonic p{} was still alive {} after its parent p{} ended (grace: tier {} = {})",
                                 child, detail::seconds_str(cl.alive_at - end), parent, o.grace.name,
                                 detail::seconds_str(grace))
                   : fmt::format("non-daemonic p{} was still alive {} after its parent p{}'s exit completed", child,
                                 detail::seconds_str(cl.alive_at - end), parent));
    }
    if (cl.ended_by(h) > bound && undecided.empty()) {
      undecided = fmt::format("cannot tell whether p{} ended in time after {} (no gone or exit op proves it)", child,
                              short_name(h, end_op));
    }
  }
  if (!undecided.empty()) return Verdict::unknown("X-EXIT-1", undecided);

  // Rule 4: exit codes as the parent read them.
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& e = h.ops[i];
    if (e.kind != OpKind::exitcode || !e.ok()) continue;
    for (std::size_t s = 0; s < h.ops.size(); ++s) {
      const Op& st = h.ops[s];
      if (st.kind != OpKind::start || !st.ok() || st.process != e.process || st.value != e.aux) continue;
      const auto code = static_cast<std::int64_t>(e.value);
      if (st.aux != 0 && code != 0 && code != -SIGTERM)
        return Verdict::illegal("P-EXIT-2", {s, i},
                                fmt::format("daemonic p{} ended by its parent's exit work has exitcode {} (a child "
                                            "terminated by SIGTERM has exitcode -{})",
                                            e.aux, code, SIGTERM));
      if (st.aux == 0 && code != 0)
        return Verdict::illegal("P-EXIT-1", {s, i},
                                fmt::format("non-daemonic p{}, whose target returned normally, has exitcode {}", e.aux,
                                            code));
    }
  }
  return Verdict::ok();
}

}  // namespace mpconform
