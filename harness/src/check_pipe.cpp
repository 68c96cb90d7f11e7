// The pipe checker (see mpconform/checkers/pipe.hpp for the rules).
#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "channel.hpp"
#include "mpconform/checkers/pipe.hpp"
#include "mpconform/tiers.hpp"

namespace mpconform {

using detail::Channel;
using detail::ChannelItem;
using detail::npos;
using detail::short_name;

namespace {

// Rule 7: which info recv could have taken which ok message nobody received. Every such
// message `a` that must have left the pipe (before the recv of a message it is ahead of
// returned, before an EOF returned, or at all when drained) needs its own info recv r that
// could have taken it: r invoked by that deadline; a sent by r's return (send(a).invoke <=
// r.return); and r not taking a ahead of a message that is ahead of a (FIFO): no message
// ahead of a (its send returned before a's was invoked) was received by a recv invoked after
// r returned. A maximum matching (augmenting paths, at most needs x info recvs x the smaller
// of the two steps) decides; above kMaxWork steps the rule is skipped (the counting rules
// still hold).
std::optional<Verdict> check_info_takes(const History& h, const PipeCheckOptions& o, const Channel& ch) {
  constexpr std::size_t kMaxWork = 100'000'000;
  if (ch.info_takes.empty()) return std::nullopt;
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  // Received messages by send invoke (suffix: the earliest recv return) and by send return
  // (prefix: the latest recv invoke).
  std::vector<std::pair<std::int64_t, std::size_t>> by_invoke, by_return;  // (send instant, item)
  for (std::size_t k = 0; k < ch.items.size(); ++k) {
    if (ch.items[k].get == npos) continue;
    by_invoke.push_back({h.ops[ch.items[k].put].invoke_ns, k});
    by_return.push_back({h.ops[ch.items[k].put].return_ns, k});
  }
  std::sort(by_invoke.begin(), by_invoke.end());
  std::sort(by_return.begin(), by_return.end());
  std::vector<std::pair<std::int64_t, std::size_t>> earliest(by_invoke.size() + 1, {kNever, npos});  // (return, recv)
  for (std::size_t k = by_invoke.size(); k-- > 0;) {
    const std::size_t get = ch.items[by_invoke[k].second].get;
    earliest[k] = std::min(earliest[k + 1], std::make_pair(h.ops[get].return_ns, get));
  }
  std::vector<std::int64_t> latest(by_return.size() + 1, kMin);
  for (std::size_t k = 0; k < by_return.size(); ++k)
    latest[k + 1] = std::max(latest[k], h.ops[ch.items[by_return[k].second].get].invoke_ns);
  // The earliest EOF.
  std::pair<std::int64_t, std::size_t> eof{kNever, npos};
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& e = h.ops[i];
    if (e.object == o.object && e.kind == OpKind::recv && e.failed() && e.error == ErrorKind::EOFError)
      eof = std::min(eof, std::make_pair(e.return_ns, i));
  }

  struct Need {
    std::size_t item;
    std::int64_t deadline;  // taken by then (kNever: at all)
    std::size_t by;         // the op that sets the deadline (npos: drained)
    std::int64_t lo;        // an info recv returning before this cannot have taken it
  };
  std::vector<Need> needs;
  for (std::size_t k = 0; k < ch.items.size(); ++k) {
    const ChannelItem& it = ch.items[k];
    if (it.get != npos || !h.ops[it.put].ok()) continue;
    const Op& send = h.ops[it.put];
    const auto after = std::upper_bound(by_invoke.begin(), by_invoke.end(), std::make_pair(send.return_ns, npos));
    std::pair<std::int64_t, std::size_t> deadline = std::min(earliest[static_cast<std::size_t>(after - by_invoke.begin())], eof);
    if (deadline.second == npos && !o.drained) continue;
    const auto before = std::lower_bound(by_return.begin(), by_return.end(), std::make_pair(send.invoke_ns, std::size_t{0}));
    needs.push_back({k, deadline.first, deadline.second,
                     std::max(send.invoke_ns, latest[static_cast<std::size_t>(before - by_return.begin())])});
  }
  if (needs.empty()) return std::nullopt;
  const std::size_t pairs = needs.size() * ch.info_takes.size();
  if (pairs > kMaxWork || pairs * std::min(needs.size(), ch.info_takes.size()) > kMaxWork) return std::nullopt;
  std::vector<std::vector<std::size_t>> can(needs.size());  // need -> info_takes indices
  for (std::size_t n = 0; n < needs.size(); ++n)
    for (std::size_t t = 0; t < ch.info_takes.size(); ++t) {
      const Op& r = h.ops[ch.info_takes[t]];
      if (r.invoke_ns <= needs[n].deadline && r.return_ns >= needs[n].lo) can[n].push_back(t);
    }
  std::vector<std::size_t> taken_by(ch.info_takes.size(), npos);  // info take -> need
  std::vector<char> seen;
  const auto augment = [&](auto&& self, std::size_t n) -> bool {
    for (std::size_t t : can[n]) {
      if (seen[t]) continue;
      seen[t] = 1;
      if (taken_by[t] == npos || self(self, taken_by[t])) {
        taken_by[t] = n;
        return true;
      }
    }
    return false;
  };
  // Earliest deadlines first, so that the unmatched one reported is the tightest.
  std::vector<std::size_t> order(needs.size());
  for (std::size_t n = 0; n < needs.size(); ++n) order[n] = n;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return needs[x].deadline < needs[y].deadline; });
  for (std::size_t n : order) {
    seen.assign(ch.info_takes.size(), 0);
    if (augment(augment, n)) continue;
    const Need& need = needs[n];
    const std::size_t put = ch.items[need.item].put;
    if (need.by == npos) {
      return Verdict::illegal("C-SEND-12", {put},
                              fmt::format("{} was never received although the reader read to EOF, and no info recv "
                                          "left could have taken it (FIFO)",
                                          short_name(h, put)));
    }
    const bool at_eof = h.ops[need.by].failed();
    return Verdict::illegal(at_eof ? "C-EOF-5" : "C-SEND-12", {put, need.by},
                            fmt::format("{} was never received but had to leave the pipe before {} returned, and no "
                                        "info recv left could have taken it (each takes one message, after it was "
                                        "sent and not ahead of an earlier message received later)",
                                        short_name(h, put), short_name(h, need.by)));
  }
  return std::nullopt;
}

// Rule 8: a poll that returned False although the pipe was certainly readable: at EOF before
// it was invoked, or, for a timed poll, at EOF or with a message certainly pending for longer
// than the `notice` tier of its wait.
std::optional<Verdict> check_polls(const History& h, const PipeCheckOptions& o, const Channel& ch,
                                   const std::set<std::uint32_t>& writers) {
  // EOF is certain once every writer's copy certainly closed: its ok close on this object
  // returned, or an ok gone op saw it dead (exit ops do not count: a process closes its copies
  // after its exit op returns). kNever when some writer has neither, or there is no writer.
  std::map<std::uint32_t, std::pair<std::int64_t, std::size_t>> closed;  // writer -> (instant, op)
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (!op.ok() || op.return_ns == kNever) continue;
    std::uint32_t w = 0;
    if (op.kind == OpKind::close && op.object == o.object)
      w = op.process;
    else if (op.kind == OpKind::gone && op.value <= std::numeric_limits<std::uint32_t>::max())
      w = static_cast<std::uint32_t>(op.value);
    else
      continue;
    if (!writers.count(w)) continue;
    auto [it, fresh] = closed.emplace(w, std::make_pair(op.return_ns, i));
    if (!fresh && op.return_ns < it->second.first) it->second = {op.return_ns, i};
  }
  std::pair<std::int64_t, std::size_t> eof{writers.empty() ? kNever : std::numeric_limits<std::int64_t>::min(), npos};
  for (std::uint32_t w : writers) {
    const auto it = closed.find(w);
    if (it == closed.end()) {
      eof = {kNever, npos};
      break;
    }
    eof = std::max(eof, it->second);
  }

  const std::int64_t notice = nanoseconds(o.notice);
  const detail::PresentIndex lasting(h, ch, notice);
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& p = h.ops[i];
    if (p.object != o.object || p.kind != OpKind::poll || !p.failed() || p.error != ErrorKind::Timeout) continue;
    if (p.invoke_ns > eof.first) {
      return Verdict::illegal("C-EOF-1", {eof.second, i},
                              fmt::format("{} returned False, but every copy of the write end was closed before it "
                                          "was invoked (the last by {}): EOF is readable",
                                          short_name(h, i), short_name(h, eof.second)));
    }
    if (p.timeout_ns <= 0) continue;
    const std::int64_t end = detail::waited_until(p);
    if (eof.first != kNever && end - std::max(p.invoke_ns, eof.first) > notice) {
      return Verdict::illegal(
          "C-EOF-1", {eof.second, i},
          fmt::format("{} (timeout {}) returned False, but every copy of the write end was closed (the last by {}) "
                      "for {} of its wait, from {}, longer than tier {} ({})",
                      short_name(h, i), detail::seconds_str(p.timeout_ns), short_name(h, eof.second),
                      detail::seconds_str(end - eof.first), detail::seconds_str(eof.first), o.notice.name,
                      detail::seconds_str(notice)));
    }
    const std::size_t w = lasting.lasting(p.invoke_ns, end);
    if (w == npos) continue;
    const auto [window, from, to] = detail::PresentIndex::stretch(h, ch, w, i, end);
    return Verdict::illegal(
        "C-POLL-2", window,
        fmt::format("{} (timeout {}) returned False although {} was pending for {} of its wait, from {}, longer "
                    "than tier {} ({})",
                    short_name(h, i), detail::seconds_str(p.timeout_ns), short_name(h, window[0]),
                    detail::seconds_str(to - from), detail::seconds_str(from), o.notice.name,
                    detail::seconds_str(notice)));
  }
  return std::nullopt;
}

}  // namespace

// A send that never returned (its process was killed in it) took effect, if at all, before its
// process died, which an ok gone op saw by its return: the send is bounded by that return.
// Returns the history with those sends' returns set so, or nullopt when there is none.
std::optional<History> bound_killed_sends(const History& h, std::uint32_t object) {
  std::map<std::uint32_t, std::int64_t> dead_by;  // process -> the earliest return of a gone op for it
  for (const Op& op : h.ops) {
    if (op.kind != OpKind::gone || !op.ok() || op.return_ns == kNever ||
        op.value > std::numeric_limits<std::uint32_t>::max())
      continue;
    auto [it, fresh] = dead_by.emplace(static_cast<std::uint32_t>(op.value), op.return_ns);
    if (!fresh) it->second = std::min(it->second, op.return_ns);
  }
  std::optional<History> out;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.object != object || op.kind != OpKind::send || op.return_ns != kNever) continue;
    const auto it = dead_by.find(op.process);
    if (it == dead_by.end() || it->second < op.invoke_ns) continue;  // (not well formed: left alone)
    if (!out) out = h;
    out->ops[i].return_ns = it->second;
  }
  return out;
}

Verdict check_pipe(const History& history, const PipeCheckOptions& o) {
  const std::optional<History> bounded = bound_killed_sends(history, o.object);
  const History& h = bounded ? *bounded : history;
  if (h.dropped != 0) return detail::incomplete(h, "C-SEND-12");
  const detail::ChannelClauses clauses{"C-SEND-12", "C-SEND-12", ""};
  Channel ch;
  if (auto v = detail::build_channel(h, o.object, OpKind::send, OpKind::recv, clauses, ch)) return *v;
  if (auto v = detail::check_channel_order(h, ch, /*per_producer=*/false, clauses)) return *v;

  // Rule 6: close() never raises (C-CLOSE-1); a send from a copy its process had already
  // closed raises OSError (C-CLOSE-4); BrokenPipeError needs every copy of the read end closed
  // (C-EPIPE-1), and a later recv or poll that did not raise OSError proves one was open.
  std::map<std::uint32_t, std::size_t> first_close;  // process -> its ok close with the earliest return
  std::int64_t last_read = std::numeric_limits<std::int64_t>::min();  // latest invoke of such a recv/poll
  std::size_t last_read_op = npos;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.object != o.object) continue;
    if (op.kind == OpKind::close && op.failed())
      return Verdict::illegal("C-CLOSE-1", {i}, fmt::format("{} raised, but close() never does", short_name(h, i)));
    if (op.kind == OpKind::close && op.ok()) {
      auto [it, fresh] = first_close.emplace(op.process, i);
      if (!fresh && op.return_ns < h.ops[it->second].return_ns) it->second = i;
    }
    const bool read_open = (op.kind == OpKind::recv && (op.ok() || (op.failed() && op.error == ErrorKind::EOFError))) ||
                           (op.kind == OpKind::poll && (op.ok() || (op.failed() && op.error == ErrorKind::Timeout)));
    if (read_open && op.invoke_ns > last_read) {
      last_read = op.invoke_ns;
      last_read_op = i;
    }
  }
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.object != o.object || op.kind != OpKind::send) continue;
    if (op.ok()) {
      const auto it = first_close.find(op.process);
      if (it != first_close.end() && h.ops[it->second].return_ns < op.invoke_ns) {
        return Verdict::illegal("C-CLOSE-4", {it->second, i},
                                fmt::format("{} succeeded after its process closed its end ({})", short_name(h, i),
                                            short_name(h, it->second)));
      }
    }
    if (op.failed() && op.error == ErrorKind::BrokenPipeError && op.return_ns < last_read) {
      return Verdict::illegal("C-EPIPE-1", {i, last_read_op},
                              fmt::format("{} raised BrokenPipeError, but the read end was still open at {}",
                                          short_name(h, i), short_name(h, last_read_op)));
    }
  }

  // Writers and the earliest instant each may have closed its copy of the write end.
  // (a process that sends or closes on this object holds a copy, listed or not).
  std::set<std::uint32_t> writers(o.writers.begin(), o.writers.end());
  for (const Op& op : h.ops)
    if (op.object == o.object && (op.kind == OpKind::send || op.kind == OpKind::close)) writers.insert(op.process);
  std::map<std::uint32_t, std::pair<std::int64_t, std::size_t>> may_close;  // writer -> (instant, op)
  const auto note_close = [&](std::uint32_t p, std::int64_t t, std::size_t i) {
    if (!writers.count(p)) return;
    auto [it, fresh] = may_close.emplace(p, std::make_pair(t, i));
    if (!fresh && t < it->second.first) it->second = {t, i};
  };
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.kind == OpKind::close && op.object == o.object && !op.failed()) note_close(op.process, op.invoke_ns, i);
    if (op.kind == OpKind::exit) note_close(op.process, op.invoke_ns, i);
  }
  // A gone op says the writer died by the gone op's return; it may have died long before, at
  // any instant after it invoked its last op (it was alive then).
  std::map<std::uint32_t, std::int64_t> last_invoke;  // process -> its latest invoke
  for (const Op& op : h.ops) {
    auto [it, fresh] = last_invoke.emplace(op.process, op.invoke_ns);
    if (!fresh) it->second = std::max(it->second, op.invoke_ns);
  }
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.kind != OpKind::gone || !op.ok()) continue;
    const auto w = static_cast<std::uint32_t>(op.value);
    const auto it = last_invoke.find(w);
    note_close(w, it != last_invoke.end() ? std::min(it->second, op.invoke_ns) : std::numeric_limits<std::int64_t>::min(), i);
  }

  // The ok message with the latest earliest-take: every ok send precedes its sender's close
  // (or death), which precedes any EOF, so it was definitely pending during an EOF recv that
  // returned before that instant.
  std::size_t latest = npos;
  std::int64_t latest_take = std::numeric_limits<std::int64_t>::min();
  // (An info send whose message was received took effect: it counts as ok here.)
  std::size_t unreceived = 0;  // ok messages nobody received: each needs an info recv before EOF
  for (std::size_t k = 0; k < ch.items.size(); ++k) {
    if (!h.ops[ch.items[k].put].ok() && ch.items[k].get == npos) continue;
    if (ch.items[k].get == npos) ++unreceived;
    const std::int64_t tb = detail::take_bound(h, ch, ch.items[k]);
    if (latest == npos || tb > latest_take) {
      latest = k;
      latest_take = tb;
    }
  }

  std::string undecided;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& e = h.ops[i];
    if (e.object != o.object || e.kind != OpKind::recv || !e.failed() || e.error != ErrorKind::EOFError) continue;
    // Rule 3: data first.
    if (latest != npos && latest_take > e.return_ns) {
      const ChannelItem& it = ch.items[latest];
      std::vector<std::size_t> window{it.put, i};
      if (it.get != npos) window.push_back(it.get);
      return Verdict::illegal("C-EOF-5", window,
                              fmt::format("{} raised EOFError while {} was still unread", short_name(h, i),
                                          short_name(h, it.put)));
    }
    // Rule 3, counted: each ok message nobody received was taken before EOF by an info recv
    // invoked before the EOF returned, a different one for each.
    const auto takers = static_cast<std::size_t>(std::count_if(
        ch.info_takes.begin(), ch.info_takes.end(), [&](std::size_t t) { return h.ops[t].invoke_ns < e.return_ns; }));
    if (unreceived > takers) {
      std::vector<std::size_t> window{i};
      for (const ChannelItem& it : ch.items)
        if (it.get == npos && h.ops[it.put].ok() && window.size() < 4) window.push_back(it.put);
      return Verdict::illegal("C-EOF-5", window,
                              fmt::format("{} raised EOFError, but {} ok message(s) were never received and only {} "
                                          "info recv(s) could have taken one before it",
                                          short_name(h, i), unreceived, takers));
    }
    // Rule 4: every writer closed first.
    for (std::uint32_t w : writers) {
      auto it = may_close.find(w);
      if (it == may_close.end()) {
        if (undecided.empty())
          undecided = fmt::format("writer p{} has no close, exit or gone op: cannot tell when it closed", w);
        continue;
      }
      if (it->second.first > e.return_ns) {
        return Verdict::illegal("C-EOF-2", {it->second.second, i},
                                fmt::format("{} raised EOFError before writer p{} closed its end ({})",
                                            short_name(h, i), w, short_name(h, it->second.second)));
      }
    }
  }
  // Rule 5: nothing lost.
  if (o.drained) {
    std::vector<std::size_t> missing;
    for (const ChannelItem& it : ch.items)
      if (it.get == npos && h.ops[it.put].ok()) missing.push_back(it.put);
    if (missing.size() > ch.info_takes.size()) {
      return Verdict::illegal("C-SEND-12", {missing.front()},
                              fmt::format("{} of {} ok sends never received although the reader read to EOF; "
                                          "first: {}",
                                          missing.size(), ch.items.size(), short_name(h, missing.front())));
    }
  }
  if (auto v = check_info_takes(h, o, ch)) return *v;
  if (auto v = check_polls(h, o, ch, writers)) return *v;
  if (!undecided.empty()) return Verdict::unknown("C-EOF-2", undecided);
  return Verdict::ok();
}

}  // namespace mpconform
