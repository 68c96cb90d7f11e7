// The lock checker (see mpconform/checkers/lock.hpp for the rules).
#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "checker_support.hpp"
#include "mpconform/checkers/lock.hpp"
#include "mpconform/tiers.hpp"

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
  bool forever = false;  // an info acquire, its process's last op: held for good if it took effect
  // An info release, its certain process's last op: the section ended by the release's return
  // if it took effect, else it is held for good.
  bool may_stay = false;
  std::int64_t ended_by = kNever;
};

// The latest maybe_to among sections, by process, over a prefix of the sections (sorted by
// maybe_from): the largest, and the largest of any other process (an RLock's own sections do
// not explain its failed acquire).
struct LatestEnd {
  std::int64_t end = std::numeric_limits<std::int64_t>::min();
  std::uint32_t process = 0;
  std::int64_t other = std::numeric_limits<std::int64_t>::min();  // the largest by another process
  void add(std::int64_t e, std::uint32_t p) {
    if (e > end) {
      if (p != process) other = end;
      end = e;
      process = p;
    } else if (p != process && e > other) {
      other = e;
    }
  }
  // The latest end of a section that is not `p`'s (all sections when `exclude` is false).
  std::int64_t of_others(std::uint32_t p, bool exclude) const { return exclude && p == process ? other : end; }
};

// Sections sorted by maybe_from, with the running LatestEnd: whether some section other than
// `p`'s (when `exclude`) was possibly held during [from, to].
struct MaybeHeld {
  std::vector<std::int64_t> starts;
  std::vector<LatestEnd> latest;
  explicit MaybeHeld(std::vector<std::pair<std::int64_t, std::pair<std::int64_t, std::uint32_t>>> s) {
    std::sort(s.begin(), s.end());
    for (const auto& [from, rest] : s) {
      starts.push_back(from);
      LatestEnd l = latest.empty() ? LatestEnd{} : latest.back();
      l.add(rest.first, rest.second);
      latest.push_back(l);
    }
  }
  bool during(std::int64_t from, std::int64_t to, std::uint32_t p, bool exclude) const {
    // Closed intervals: a section that ends (or starts) at the very instant the call starts
    // (or ends) may have been held during it.
    const auto n = static_cast<std::size_t>(std::upper_bound(starts.begin(), starts.end(), to) - starts.begin());
    return n > 0 && latest[n - 1].of_others(p, exclude) >= from;
  }
};

// Runs of time in which none of some sections was possibly held: the gaps of the union of
// their closed [maybe_from, maybe_to] (a section touching a run's end splits it). Only runs
// longer than `longer` are kept, so "a run covering more than `longer` of a wait" is one
// binary search. Each run names the ops that bound it: the release (else the acquire) of the
// section that ends just before it, the acquire of the one that starts it (npos at the ends).
class FreeRuns {
 public:
  struct Run {
    std::int64_t from;
    std::int64_t to;
    std::size_t before;
    std::size_t after;
  };
  FreeRuns(std::vector<const Section*> held, std::int64_t longer) : longer_(longer) {
    std::sort(held.begin(), held.end(),
              [](const Section* a, const Section* b) { return a->maybe_from < b->maybe_from; });
    std::int64_t end = std::numeric_limits<std::int64_t>::min();  // the latest maybe_to so far
    std::size_t end_op = npos;
    for (const Section* s : held) {
      if (s->maybe_from > end) add({end, s->maybe_from, end_op, s->acquire});
      if (end_op == npos || s->maybe_to > end) {
        end = s->maybe_to;
        end_op = s->release != npos ? s->release : s->acquire;
      }
    }
    if (end != kNever) add({end, kNever, end_op, npos});
  }
  // The run covering more than `longer` of [from, to], or nullptr.
  [[nodiscard]] const Run* covering(std::int64_t from, std::int64_t to) const {
    if (to - from <= longer_) return nullptr;
    // Runs are disjoint and sorted: the first that ends after from + longer is the only
    // candidate, as later ones start later.
    const auto it = std::upper_bound(runs_.begin(), runs_.end(), from + longer_,
                                     [](std::int64_t t, const Run& r) { return t < r.to; });
    return it != runs_.end() && it->from < to - longer_ ? &*it : nullptr;
  }

 private:
  void add(const Run& r) {
    if (r.to - longer_ > r.from) runs_.push_back(r);  // (not r.to - r.from: r.from may be the minimum)
  }
  std::int64_t longer_;
  std::vector<Run> runs_;
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
  for (auto& [process, ops] : per_process)
    std::stable_sort(ops.begin(), ops.end(),
                     [&](std::size_t a, std::size_t b) { return h.ops[a].invoke_ns < h.ops[b].invoke_ns; });

  std::vector<Section> sections;
  std::vector<std::size_t> failed_acquires;
  std::vector<std::size_t> failed_releases;
  std::size_t cross_release = npos;
  std::size_t reacquire_first = npos;
  std::size_t reacquire_second = npos;

  // Builds the sections from each process's ops, leaving out `voided` (info acquires proved
  // to have had no effect). Returns a verdict when a process's own ops are illegal.
  const auto build = [&](const std::set<std::size_t>& voided) -> std::optional<Verdict> {
    sections.clear();
    failed_acquires.clear();
    failed_releases.clear();
    cross_release = reacquire_first = reacquire_second = npos;

    for (auto& [process, all_ops] : per_process) {
      std::vector<std::size_t> ops;
      for (std::size_t i : all_ops)
        if (!voided.count(i)) ops.push_back(i);
      if (ops.empty()) continue;
      int depth = 0;           // held depth as p sees it (RLock count; 0/1 for Lock)
      bool uncertain = false;  // an info op made p's state unknown
      Section current;
      std::size_t last_zero_release = npos;
      bool certain_at_open = true;  // p's state was certain when `current` opened
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
              certain_at_open = !uncertain;
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
        const bool was_uncertain = uncertain;
        if (op.info()) uncertain = true;
        if (--depth == 0) {
          current.release = i;
          if (op.info() && !was_uncertain && ops.back() == i) {
            current.may_stay = true;
            current.ended_by = op.return_ns;
          }
          current.held_to = op.invoke_ns;
          current.maybe_to = op.completed() && op.ok() ? op.return_ns : kNever;
          // An RLock's count is unknown after an info op: this release may not have freed it.
          if (o.reentrant && uncertain) current.maybe_to = kNever;
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
        // An info acquire at depth 0 by a certain process, as its last op: if it took effect, p
        // holds the lock for good.
        current.forever = !current.definite && certain_at_open && ops.back() == current.acquire;
        sections.push_back(current);
      }
    }
    return std::nullopt;
  };
  if (auto v = build({})) return *v;
  // An info acquire that returned while another process definitely held the lock throughout
  // the call (held_from < invoke, return < held_to) could not have taken it: it had no effect,
  // and its process's later sections are as certain as if it had failed. Nor could one that is
  // its process's last op and returned before another process's section was last definitely
  // held (return < held_to): it would have held the lock for good from its return on.
  // (Definite sections are only trusted without cross releases.)
  if (cross_release == npos) {
    std::vector<std::pair<std::int64_t, std::pair<std::int64_t, std::uint32_t>>> held;  // (from, (to, p))
    for (const Section& s : sections)
      if (s.definite) held.push_back({s.held_from, {s.held_to, h.ops[s.acquire].process}});
    std::sort(held.begin(), held.end());
    std::vector<std::int64_t> froms;
    std::vector<LatestEnd> latest;
    for (const auto& [from, rest] : held) {
      froms.push_back(from);
      LatestEnd l = latest.empty() ? LatestEnd{} : latest.back();
      l.add(rest.first, rest.second);
      latest.push_back(l);
    }
    std::set<std::size_t> voided;
    for (const auto& [process, ops] : per_process) {
      for (std::size_t i : ops) {
        const Op& a = h.ops[i];
        if (a.kind != OpKind::acquire || !a.info() || a.return_ns == kNever) continue;
        const auto n = static_cast<std::size_t>(std::lower_bound(froms.begin(), froms.end(), a.invoke_ns) - froms.begin());
        const bool inside = n > 0 && latest[n - 1].of_others(process, true) > a.return_ns;
        const bool for_good = i == ops.back() && !latest.empty() && latest.back().of_others(process, true) > a.return_ns;
        if (inside || for_good) voided.insert(i);
      }
    }
    if (!voided.empty())
      if (auto v = build(voided)) return *v;
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
  std::vector<Section*> definite;
  for (Section& s : sections)
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
  // Definite sections are ordered: when B (the next by held_from) was definitely held after A
  // was taken (B.held_to > A.held_from), B cannot come first, so A's release took effect
  // before B's acquire (by B.held_from) and B's acquire after A's release was invoked. This
  // bounds an unfinished or late release (info, or returning late) by the next section.
  for (std::size_t k = 1; k < definite.size(); ++k) {
    Section& a = *definite[k - 1];
    Section& b = *definite[k];
    if (b.held_to <= a.held_from) continue;
    a.maybe_to = std::min(a.maybe_to, b.held_from);
    b.maybe_from = std::max(b.maybe_from, a.held_to);
  }
  // A Lock's failed release proves it free at an instant of the call: a definite section
  // taken before the call (held_from < invoke) was released by its return, and one still held
  // after it (held_to > return) was taken after its invoke.
  if (!o.reentrant && !failed_releases.empty()) {
    std::vector<std::pair<std::int64_t, std::int64_t>> by_invoke, by_return;  // (invoke, return), (return, invoke)
    for (std::size_t i : failed_releases) {
      by_invoke.push_back({h.ops[i].invoke_ns, h.ops[i].return_ns});
      by_return.push_back({h.ops[i].return_ns, h.ops[i].invoke_ns});
    }
    std::sort(by_invoke.begin(), by_invoke.end());
    std::sort(by_return.begin(), by_return.end());
    std::vector<std::int64_t> min_return(by_invoke.size() + 1, kNever);  // over by_invoke[k..]
    for (std::size_t k = by_invoke.size(); k-- > 0;) min_return[k] = std::min(min_return[k + 1], by_invoke[k].second);
    std::vector<std::int64_t> max_invoke(by_return.size() + 1, std::numeric_limits<std::int64_t>::min());  // over [..k)
    for (std::size_t k = 0; k < by_return.size(); ++k) max_invoke[k + 1] = std::max(max_invoke[k], by_return[k].second);
    for (Section* s : definite) {
      const auto after = std::upper_bound(by_invoke.begin(), by_invoke.end(),
                                          std::make_pair(s->held_from, std::numeric_limits<std::int64_t>::max()));
      s->maybe_to = std::min(s->maybe_to, min_return[static_cast<std::size_t>(after - by_invoke.begin())]);
      const auto before = std::lower_bound(by_return.begin(), by_return.end(),
                                           std::make_pair(s->held_to, std::numeric_limits<std::int64_t>::min()));
      s->maybe_from = std::max(s->maybe_from, max_invoke[static_cast<std::size_t>(before - by_return.begin())]);
    }
  }

  // Rule 2: a failed acquire while certainly free (for an RLock: free of other processes);
  // one that only never-ending info acquires could explain proves that one of them took
  // effect: the lock is held for good from the failed acquire's return, and an ok acquire
  // invoked after that is illegal.
  std::vector<std::pair<std::int64_t, std::pair<std::int64_t, std::uint32_t>>> all;
  std::vector<std::pair<std::int64_t, std::pair<std::int64_t, std::uint32_t>>> ending;
  for (const Section& s : sections) {
    const auto entry = std::make_pair(s.maybe_from, std::make_pair(s.maybe_to, h.ops[s.acquire].process));
    all.push_back(entry);
    if (s.forever) continue;
    ending.push_back(s.may_stay ? std::make_pair(s.maybe_from, std::make_pair(std::min(s.maybe_to, s.ended_by),
                                                                              h.ops[s.acquire].process))
                                : entry);
  }
  const MaybeHeld maybe_all(std::move(all));
  const MaybeHeld maybe_ending(std::move(ending));
  std::size_t forced = npos;  // the failed acquire that proves a holder for good, earliest return
  for (std::size_t i : failed_acquires) {
    const Op& f = h.ops[i];
    if (!maybe_all.during(f.invoke_ns, f.return_ns, f.process, o.reentrant)) {
      return Verdict::illegal(o.reentrant ? "RL-ACQ-2" : "L-ACQ-1", {i},
                              fmt::format("{} returned False but nobody{} could have held the {} during the call",
                                          short_name(h, i), o.reentrant ? " else" : "",
                                          o.reentrant ? "RLock" : "Lock"));
    }
    if (!maybe_ending.during(f.invoke_ns, f.return_ns, f.process, o.reentrant) &&
        (forced == npos || f.return_ns < h.ops[forced].return_ns))
      forced = i;
  }
  if (forced != npos) {
    const Op& f = h.ops[forced];
    for (std::size_t i = 0; i < h.ops.size(); ++i) {
      const Op& a = h.ops[i];
      if (a.object != o.object || a.invoke_ns <= f.return_ns) continue;
      // A Lock held by anyone is released by anyone (L-REL-3): a ValueError is illegal too.
      if (!o.reentrant && a.kind == OpKind::release && a.failed()) {
        return Verdict::illegal("L-REL-3", {forced, i},
                                fmt::format("{} failed, but {} returned False before it was invoked and only a "
                                            "section that may be held for good (an info acquire or release, its "
                                            "process's last op; L-DEAD-1) could explain that: the Lock was held",
                                            short_name(h, i), short_name(h, forced)));
      }
      if (a.kind != OpKind::acquire || !a.ok()) continue;
      return Verdict::illegal(acquire_clause(a, o.reentrant), {forced, i},
                              fmt::format("{} succeeded, but {} returned False before it was invoked and only a "
                                          "section that may be held for good (an info acquire or release, its process's "
                                          "last op; L-DEAD-1) could explain that",
                                          short_name(h, i), short_name(h, forced)));
    }
  }
  // Rule 2b: a Lock's release fails only when it may be free.
  if (!o.reentrant) {
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
  }

  // Rule 2c: a timed acquire notices the lock freeing while it waits. For an RLock, runs free
  // of the other processes' sections. A process's own sections matter only when one may be
  // held for good (after its info op): any other was over, its release returned, before the
  // acquire was invoked, or began after it returned (its ops do not overlap). Such a process
  // gets runs of its own.
  const std::int64_t notice = nanoseconds(o.notice);
  const auto free_of = [&](std::optional<std::uint32_t> except) {
    std::vector<const Section*> held;
    for (const Section& s : sections)
      if (!except || h.ops[s.acquire].process != *except) held.push_back(&s);
    return FreeRuns(std::move(held), notice);
  };
  const FreeRuns free_runs = free_of(std::nullopt);
  std::map<std::uint32_t, std::int64_t> own_for_good;  // process -> earliest maybe_from of its sections never ending
  for (const Section& s : sections) {
    if (s.maybe_to != kNever) continue;
    auto [it, fresh] = own_for_good.emplace(h.ops[s.acquire].process, s.maybe_from);
    if (!fresh) it->second = std::min(it->second, s.maybe_from);
  }
  std::map<std::uint32_t, FreeRuns> free_of_others;
  for (std::size_t i : failed_acquires) {
    const Op& f = h.ops[i];
    if (!detail::gave_up(f, o.object, OpKind::acquire, ErrorKind::Timeout)) continue;
    const std::int64_t end = detail::waited_until(f);
    const FreeRuns::Run* run = free_runs.covering(f.invoke_ns, end);
    const auto own = own_for_good.find(f.process);
    if (run == nullptr && o.reentrant && own != own_for_good.end() && own->second < end) {
      auto it = free_of_others.find(f.process);
      if (it == free_of_others.end()) it = free_of_others.emplace(f.process, free_of(f.process)).first;
      run = it->second.covering(f.invoke_ns, end);
    }
    if (run == nullptr) continue;
    std::vector<std::size_t> window{i};
    for (std::size_t b : {run->before, run->after})
      if (b != npos) window.push_back(b);
    const std::int64_t from = std::max(run->from, f.invoke_ns);
    return Verdict::illegal(acquire_clause(f, o.reentrant), window,
                            fmt::format("{} (timeout {}) returned False although the {} was free{} for {} of its "
                                        "wait, from {}, longer than tier {} ({})",
                                        short_name(h, i), detail::seconds_str(f.timeout_ns),
                                        o.reentrant ? "RLock" : "Lock", o.reentrant ? " of other processes" : "",
                                        detail::seconds_str(std::min(run->to, end) - from), detail::seconds_str(from),
                                        o.notice.name, detail::seconds_str(notice)));
  }
  return Verdict::ok();
}

}  // namespace mpconform
