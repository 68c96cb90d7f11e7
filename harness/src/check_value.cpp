// The shared-Value checker (see mpconform/checkers/value.hpp for the rules).
#include <map>

#include "checker_support.hpp"
#include "mpconform/checkers/value.hpp"

namespace mpconform {

using detail::short_name;

Verdict check_value(const History& h, const ValueCheckOptions& o) {
  if (h.dropped != 0) return detail::incomplete(h, "V-ATOM-3");
  std::vector<std::size_t> incs;  // ok
  std::vector<std::int64_t> ok_ret, any_inv;
  std::map<std::uint64_t, std::size_t> written;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.object != o.object || op.kind != OpKind::increment || op.failed()) continue;
    any_inv.push_back(op.invoke_ns);
    if (!op.ok()) continue;
    incs.push_back(i);
    ok_ret.push_back(op.return_ns);
    if (o.results_recorded) {
      if (auto [it, fresh] = written.emplace(op.value, i); !fresh)
        return Verdict::illegal("V-ATOM-3", {it->second, i},
                                fmt::format("lost update: {} and {} both wrote {}", short_name(h, it->second),
                                            short_name(h, i), static_cast<std::int64_t>(op.value)));
    }
  }
  const detail::TimeCount done(std::move(ok_ret));
  const detail::TimeCount maybe(std::move(any_inv));
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& r = h.ops[i];
    if (r.object != o.object || r.kind != OpKind::read || !r.ok()) continue;
    const auto n = static_cast<std::int64_t>(r.value);
    const std::int64_t lo = o.initial + static_cast<std::int64_t>(done.less(r.invoke_ns));
    const std::int64_t hi = o.initial + static_cast<std::int64_t>(maybe.less(r.return_ns));
    if (n < lo || n > hi) {
      std::vector<std::size_t> window{i};
      for (std::size_t k : incs)
        if (n < lo ? h.ops[k].return_ns < r.invoke_ns : h.ops[k].invoke_ns < r.return_ns) window.push_back(k);
      return Verdict::illegal("V-ATOM-3", window,
                              fmt::format("{} but {} increments {} (initial {}): the value must be in [{}, {}]",
                                          short_name(h, i), n < lo ? lo - o.initial : hi - o.initial,
                                          n < lo ? "had completed before" : "at most could have happened by then",
                                          o.initial, lo, hi));
    }
  }
  return Verdict::ok();
}

}  // namespace mpconform
