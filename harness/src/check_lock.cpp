// The lock checker (see mpconform/checkers/lock.hpp for the rules).
#include <algorithm>
#include <limits>
#include <map>

#include "checker_support.hpp"
#include "mpconform/checkers/lock.hpp"

namespace mpconform {
namespace {

using detail::npos;
using detail::short_name;

struct Section {
  std::size_t acquire = npos;  // the (outermost) acquire
  std::size_t release = npos;  // the matching release, if any
  std::int64_t held_from = 0;  // definitely held during [held_from, held_to]
  std::int64_t held_to = 0;
  std::int64_t maybe_from = 0;  // possibly held during [maybe_from, maybe_to]
  std::int64_t maybe_to = kNever;
  bool definite = true;  // false: only possibly held (info acquire)
};

std::string acquire_clause(const Op& a, bool reentrant) {
  if (reentrant) return "RL-ACQ-2";
  if (a.timeout_ns == kNoTimeout) return "L-ACQ-9";
  if (a.timeout_ns == 0) return "L-ACQ-2";
  return "L-ACQ-6";
}

}  // namespace

Verdict check_lock(const History& h, const LockCheckOptions& o) {
  const char* base_clause = o.reentrant ? "RL-ACQ-2" : "L-ACQ-9";
  if (h.dropped != 0) return detail::incomplete(h, base_clause);

  // Each process's ops on the lock, in invoke order.
  std::map<std::uint32_t, std::vector<std::size_t>> per_process;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.object == o.object && (op.kind == OpKind::acquire || op.kind == OpKind::release))
      per_process[op.process].push_back(i);
  }

  std::vector<Section> sections;
  std::vector<std::size_t> failed_acquires;
  std::vector<std::size_t> failed_releases;
  std::size_t cross_release = npos;
  std::size_t reacquire_first = npos;
  std::size_t reacquire_second = npos;

  for (auto& [process, ops] : per_process) {
    std::stable_sort(ops.begin(), ops.end(),
                     [&](std::size_t a, std::size_t b) { return h.ops[a].invoke_ns < h.ops[b].invoke_ns; });
    int depth = 0;           // held depth as p sees it (RLock count; 0/1 for Lock)
    bool uncertain = false;  // an info op made p's state unknown
    Section current;
    std::size_t last_zero_release = npos;
    for (std::size_t i : ops) {
      const Op& op = h.ops[i];
      if (op.kind == OpKind::acquire) {
        if (op.ok()) {
          if (depth > 0 && !o.reentrant) {
            if (reacquire_first == npos && !uncertain) {
              reacquire_first = current.acquire;
              reacquire_second = i;
            }
            continue;  // pairing broken; reported below (or Unknown with cross releases)
          }
          if (depth == 0) {
            current = Section{};
            current.acquire = i;
            current.held_from = op.return_ns;
            current.maybe_from = op.invoke_ns;
            current.definite = !uncertain;
          }
          ++depth;
        } else if (op.failed()) {
          // acquire() with no timeout waits until it gets the lock: it never returns False.
          if (op.error == ErrorKind::Timeout && op.timeout_ns == kNoTimeout) {
            return Verdict::illegal(o.reentrant ? "RL-ACQ-2" : "L-ACQ-9", {i},
                                    fmt::format("{} returned False although it had no timeout", short_name(h, i)));
          }
          if (o.reentrant && depth > 0 && !uncertain) {
            return Verdict::illegal("RL-ACQ-1", {current.acquire, i},
                                    fmt::format("{} failed although p{} owned the RLock since {}",
                                                short_name(h, i), process, short_name(h, current.acquire)));
          }
          failed_acquires.push_back(i);
        } else {  // info: may hold it from now on
          // A Lock's holder acquiring again blocks or gets False (L-ACQ-3): no effect, no doubt
          // (a release by another process in between is a cross release: Unknown below).
          if (!o.reentrant && depth > 0) continue;
          if (depth == 0) {
            current = Section{};
            current.acquire = i;
            current.maybe_from = op.invoke_ns;
            current.definite = false;
            depth = 1;
          }
          uncertain = true;
        }
        continue;
      }
      // release
      if (op.failed()) {
        if (o.reentrant && depth > 0 && !uncertain) {
          return Verdict::illegal("RL-ACQ-3", {current.acquire, i},
                                  fmt::format("{} failed although p{} owned the RLock since {}",
                                              short_name(h, i), process, short_name(h, current.acquire)));
        }
        failed_releases.push_back(i);
        continue;
      }
      // A Lock release that may have taken effect (ok or info) at depth 0, or by a process
      // whose depth is uncertain (its info acquire may not have happened), may have freed
      // another process's section: sections cannot be paired.
      if (!o.reentrant && !op.failed() && (depth == 0 || uncertain) && cross_release == npos) cross_release = i;
      if (depth == 0) {
        if (uncertain) continue;
        if (o.reentrant && op.ok()) {
          std::vector<std::size_t> window{i};
          if (last_zero_release != npos) window.push_back(last_zero_release);
          return Verdict::illegal("RL-REL-1", window,
                                  fmt::format("{} succeeded but p{} did not own the RLock", short_name(h, i),
                                              process));
        }
        continue;
      }
      if (op.info()) uncertain = true;
      if (--depth == 0) {
        current.release = i;
        current.held_to = op.invoke_ns;
        current.maybe_to = op.completed() && op.ok() ? op.return_ns : kNever;
        sections.push_back(current);
        last_zero_release = i;
      }
    }
    if (depth > 0) {
      // Never released: nobody else released it either (that would be a cross release, which
      // makes the verdict Unknown), and a holder's death does not release it (L-DEAD-1,
      // RL-DEAD-1): held for good.
      current.held_to = kNever;
      current.maybe_to = kNever;
      sections.push_back(current);
    }
  }

  if (cross_release != npos) {
    return Verdict::unknown("L-REL-3", fmt::format("{} released a Lock its process did not acquire: "
                                                   "critical sections cannot be paired",
                                                   short_name(h, cross_release)));
  }
  if (reacquire_second != npos) {
    return Verdict::illegal("L-ACQ-3", {reacquire_first, reacquire_second},
                            fmt::format("{} succeeded while its process still held the Lock from {}",
                                        short_name(h, reacquire_second), short_name(h, reacquire_first)));
  }

  // Rule 1: definitely-held intervals never overlap.
  std::vector<const Section*> definite;
  for (const Section& s : sections)
    if (s.definite) definite.push_back(&s);
  std::sort(definite.begin(), definite.end(),
            [](const Section* a, const Section* b) { return a->held_from < b->held_from; });
  const Section* longest = nullptr;
  for (const Section* s : definite) {
    if (longest != nullptr && s->held_from < longest->held_to) {
      std::vector<std::size_t> window{longest->acquire, s->acquire};
      if (longest->release != npos) window.push_back(longest->release);
      if (s->release != npos) window.push_back(s->release);
      return Verdict::illegal(acquire_clause(h.ops[s->acquire], o.reentrant), window,
                              fmt::format("{} succeeded while p{} held the lock ({} .. {})",
                                          short_name(h, s->acquire), h.ops[longest->acquire].process,
                                          short_name(h, longest->acquire),
                                          longest->release != npos ? short_name(h, longest->release)
                                                                   : std::string("never released")));
    }
    if (longest == nullptr || s->held_to > longest->held_to) longest = s;
  }

  if (o.reentrant) return Verdict::ok();

  // Rule 2: a failed acquire while certainly free; a failed release while certainly held.
  std::vector<const Section*> maybe;
  for (const Section& s : sections) maybe.push_back(&s);
  std::sort(maybe.begin(), maybe.end(),
            [](const Section* a, const Section* b) { return a->maybe_from < b->maybe_from; });
  std::vector<std::int64_t> starts;
  std::vector<std::int64_t> max_end;
  for (const Section* s : maybe) {
    starts.push_back(s->maybe_from);
    max_end.push_back(std::max(max_end.empty() ? std::numeric_limits<std::int64_t>::min() : max_end.back(),
                               s->maybe_to));
  }
  for (std::size_t i : failed_acquires) {
    const Op& f = h.ops[i];
    const auto n = static_cast<std::size_t>(std::lower_bound(starts.begin(), starts.end(), f.return_ns) - starts.begin());
    if (n == 0 || max_end[n - 1] <= f.invoke_ns) {
      return Verdict::illegal("L-ACQ-1", {i},
                              fmt::format("{} returned False but nobody could have held the Lock during the call",
                                          short_name(h, i)));
    }
  }
  for (std::size_t i : failed_releases) {
    const Op& r = h.ops[i];
    for (const Section* s : definite) {
      if (s->held_from < r.invoke_ns && s->held_to > r.return_ns) {
        std::vector<std::size_t> window{s->acquire, i};
        if (s->release != npos) window.push_back(s->release);
        return Verdict::illegal("L-REL-3", window,
                                fmt::format("{} failed while the Lock was held since {}", short_name(h, i),
                                            short_name(h, s->acquire)));
      }
    }
  }
  return Verdict::ok();
}

}  // namespace mpconform
