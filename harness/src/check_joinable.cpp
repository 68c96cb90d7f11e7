// The JoinableQueue task-count checker (see mpconform/checkers/joinable.hpp for the rules).
#include "checker_support.hpp"
#include "mpconform/checkers/joinable.hpp"

namespace mpconform {

using detail::short_name;

Verdict check_joinable(const History& h, const JoinableCheckOptions& o) {
  if (h.dropped != 0) return detail::incomplete(h, "JQ-9");
  std::vector<std::size_t> puts;  // ok or info
  std::vector<std::size_t> dones;  // ok or info
  std::vector<std::int64_t> put_ok_ret, put_any_inv, done_any_inv, done_ok_ret;
  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& op = h.ops[i];
    if (op.object != o.object || op.failed()) continue;
    if (op.kind == OpKind::put) {
      puts.push_back(i);
      put_any_inv.push_back(op.invoke_ns);
      if (op.ok()) put_ok_ret.push_back(op.return_ns);
    } else if (op.kind == OpKind::task_done) {
      dones.push_back(i);
      done_any_inv.push_back(op.invoke_ns);
      if (op.ok()) done_ok_ret.push_back(op.return_ns);
    }
  }
  const detail::TimeCount puts_done(std::move(put_ok_ret));
  const detail::TimeCount puts_maybe(std::move(put_any_inv));
  const detail::TimeCount dones_maybe(std::move(done_any_inv));
  const detail::TimeCount dones_done(std::move(done_ok_ret));
  const auto lower = [&](const Op& q) {
    return static_cast<std::int64_t>(puts_done.less(q.invoke_ns)) -
           static_cast<std::int64_t>(dones_maybe.not_after(q.return_ns));
  };
  const auto upper = [&](const Op& q) {
    return static_cast<std::int64_t>(puts_maybe.not_after(q.return_ns)) -
           static_cast<std::int64_t>(dones_done.less(q.invoke_ns));
  };
  // The puts and task_dones counted in lower(q): what proves the count was positive.
  const auto lower_window = [&](std::size_t qi) {
    const Op& q = h.ops[qi];
    std::vector<std::size_t> w{qi};
    for (std::size_t i : puts)
      if (h.ops[i].ok() && h.ops[i].return_ns < q.invoke_ns) w.push_back(i);
    for (std::size_t i : dones)
      if (h.ops[i].invoke_ns <= q.return_ns) w.push_back(i);
    return w;
  };

  for (std::size_t i = 0; i < h.ops.size(); ++i) {
    const Op& q = h.ops[i];
    if (q.object != o.object || !q.completed()) continue;
    if (q.kind == OpKind::join && q.ok()) {
      if (const auto l = lower(q); l > 0)
        return Verdict::illegal("JQ-9", lower_window(i),
                                fmt::format("{} returned while at least {} tasks were unfinished", short_name(h, i), l));
    } else if (q.kind == OpKind::task_done && q.failed() && q.error == ErrorKind::ValueError) {
      if (const auto l = lower(q); l > 0)
        return Verdict::illegal("JQ-11", lower_window(i),
                                fmt::format("{} raised ValueError while at least {} tasks were unfinished",
                                            short_name(h, i), l));
    } else if (q.kind == OpKind::task_done && q.ok()) {
      if (upper(q) < 1) {
        std::vector<std::size_t> w{i};
        for (std::size_t d : dones)
          if (d != i && h.ops[d].ok() && h.ops[d].return_ns < q.invoke_ns) w.push_back(d);
        for (std::size_t p : puts)
          if (h.ops[p].invoke_ns <= q.return_ns) w.push_back(p);
        return Verdict::illegal("JQ-2", w,
                                fmt::format("{} succeeded but every task was already done", short_name(h, i)));
      }
    }
  }
  return Verdict::ok();
}

}  // namespace mpconform
