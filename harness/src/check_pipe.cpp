// The pipe checker (see mpconform/checkers/pipe.hpp for the rules).
#include <algorithm>
#include <map>
#include <set>

#include "channel.hpp"
#include "mpconform/checkers/pipe.hpp"

namespace mpconform {

using detail::Channel;
using detail::ChannelItem;
using detail::npos;
using detail::short_name;

Verdict check_pipe(const History& h, const PipeCheckOptions& o) {
  if (h.dropped != 0) return detail::incomplete(h, "C-SEND-12");
  const detail::ChannelClauses clauses{"C-SEND-12", "C-SEND-12", ""};
  Channel ch;
  if (auto v = detail::build_channel(h, o.object, OpKind::send, OpKind::recv, clauses, ch)) return *v;
  if (auto v = detail::check_channel_order(h, ch, /*per_producer=*/false, clauses)) return *v;

  // Writers and the earliest instant each may have closed its copy of the write end.
  std::set<std::uint32_t> writers(o.writers.begin(), o.writers.end());
  if (writers.empty()) {
    for (const Op& op : h.ops)
      if (op.object == o.object && (op.kind == OpKind::send || op.kind == OpKind::close)) writers.insert(op.process);
  }
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
    if (op.kind == OpKind::gone && op.ok()) note_close(static_cast<std::uint32_t>(op.value), op.invoke_ns, i);
  }

  // Items by send return, with the running maximum of their take bound (as in the queue's
  // Empty rule): a message definitely pending during a whole EOF recv.
  std::vector<std::size_t> ok_items;
  for (std::size_t k = 0; k < ch.items.size(); ++k)
    if (h.ops[ch.items[k].put].ok()) ok_items.push_back(k);
  std::sort(ok_items.begin(), ok_items.end(), [&](std::size_t a, std::size_t b) {
    return h.ops[ch.items[a].put].return_ns < h.ops[ch.items[b].put].return_ns;
  });
  std::vector<std::int64_t> send_ret;
  std::vector<std::pair<std::int64_t, std::size_t>> best;
  for (std::size_t k : ok_items) {
    send_ret.push_back(h.ops[ch.items[k].put].return_ns);
    const std::int64_t tb = detail::take_bound(h, ch, ch.items[k]);
    if (best.empty() || tb > best.back().first) {
      best.emplace_back(tb, k);
    } else {
      best.push_back(best.back());
    }
  }

  std::string undecided;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& e = h.ops[i];
    if (e.object != o.object || e.kind != OpKind::recv || !e.failed() || e.error != ErrorKind::EOFError) continue;
    // Rule 3: data first.
    const auto n = static_cast<std::size_t>(std::lower_bound(send_ret.begin(), send_ret.end(), e.invoke_ns) -
                                            send_ret.begin());
    if (n > 0 && best[n - 1].first > e.return_ns) {
      const ChannelItem& it = ch.items[best[n - 1].second];
      std::vector<std::size_t> window{it.put, i};
      if (it.get != npos) window.push_back(it.get);
      return Verdict::illegal("C-EOF-5", window,
                              fmt::format("{} raised EOFError while {} was still unread", short_name(h, i),
                                          short_name(h, it.put)));
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
  if (!undecided.empty()) return Verdict::unknown("C-EOF-2", undecided);
  return Verdict::ok();
}

}  // namespace mpconform
