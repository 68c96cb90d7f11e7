// Helpers shared by the property files (support.hpp).
#include "support.hpp"

#include "mpconform/checkers.hpp"

namespace mpconform::properties {

CallSpec blocking_call(Rng& r, const GenLimits& l, bool allow_forever) {
  CallSpec c;
  c.delay_us = r.delay(l.max_delay_us);
  const std::uint32_t pick = r.u(0, 99);
  if (pick < 15) {
    c.block = false;
    if (r.chance(0.3)) c.timeout = r.real(0.001, l.max_timeout_s);  // ignored by block=False
  } else if (pick < 25 && allow_forever) {
    c.timeout = std::nullopt;
  } else if (pick < 30) {
    c.timeout = 0.0;
  } else if (pick < 35) {
    c.timeout = -0.01;
  } else {
    c.timeout = r.real(0.001, l.max_timeout_s);
  }
  return c;
}

std::vector<std::string_view> clauses_of(std::initializer_list<std::string_view> checkers,
                                         std::initializer_list<std::string_view> own) {
  std::vector<std::string_view> out;
  auto add = [&](std::string_view c) {
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  };
  for (std::string_view name : checkers)
    for (std::string_view c : checker_clauses(name)) add(c);
  for (std::string_view c : own) add(c);
  return out;
}

bool ended_with(const History& h, std::uint32_t process, OpKind kind, ErrorKind error) {
  const Op* last = nullptr;
  for (const Op& op : h.ops)
    if (op.process == process && (last == nullptr || op.invoke_ns >= last->invoke_ns)) last = &op;
  return last != nullptr && last->kind == kind && last->failed() && last->error == error;
}

}  // namespace mpconform::properties
