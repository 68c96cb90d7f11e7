"""The `check` fixture: run a body on the oracle and on the implementation, compare outcomes.

A racy check (`allowed=`) runs its body up to --racy-runs times on each side and counts the
outcomes (outcomes.racy_stats; the report's `stats`), within a time budget: racy bodies take
from milliseconds to seconds (an implementation that blocks where CPython does not waits out its
timeout every run), and the suite must stay about as fast as with one run.
"""
from __future__ import annotations

import time

import pytest

from . import support
from .outcomes import ORACLE, Outcome, as_expect, racy_stats


# The oracle's outcome for one check does not depend on the implementation under test: compute
# it once per (test, other parameters, n-th check) and reuse it for every --impl. A racy check
# keeps the list of its runs' outcomes, extended when a later implementation runs more often.
_oracle_cache: dict[tuple, Outcome] = {}
_racy_cache: dict[tuple, list[Outcome]] = {}
_UNSET = object()


def racy_budget(node) -> float:
    """Seconds a racy check may go on starting new runs after its first: the watchdog tier
    (LONG, scaled like every tier), or a quarter of the test's timeout when that is less, so
    the runs that fit before the timeout are never cut off by it."""
    marker = node.get_closest_marker("timeout")
    timeout = (marker.args[0] if marker.args else marker.kwargs.get("timeout")) if marker else None
    return min(support.LONG, timeout / 4) if timeout else support.LONG


def run_body(body, surface) -> Outcome:
    support.begin()
    try:
        return Outcome.of(lambda: body(surface), surface._mpc_module)
    finally:
        support.reap(surface)


class Checker:
    def __init__(self, node, impl_name, mp, oracle):
        self.node, self.impl_name, self.mp, self.oracle = node, impl_name, mp, oracle
        self.calls = 0
        params = dict(getattr(node, "callspec", None).params) if hasattr(node, "callspec") else {}
        params.pop("impl_name", None)
        self.key = (node.module.__name__, node.originalname, repr(sorted(params.items(), key=str)))
        self.clauses = [c for m in node.iter_markers("clause") for c in m.args]

    def _record(self, oracle, impl, note):
        if not any(k == "conformance" for k, _ in self.node.user_properties):
            self.node.user_properties.append(("conformance", {
                "oracle": oracle, "impl": impl, "note": note}))

    def oracle_outcome(self, body) -> Outcome:
        key = self.key + (self.calls,)
        self.calls += 1
        if key not in _oracle_cache:
            _oracle_cache[key] = run_body(body, self.oracle)
        return _oracle_cache[key]

    def __call__(self, body, expect=_UNSET, allowed=None, stronger=None, what: str = ""):
        """Run body on both; return the implementation's Outcome.

        expect: what the clause says the outcome is (a value, an exception instance, or an
                outcomes.Expect); checked against the oracle.
        allowed: for racy clauses, a list of such expectations: the body runs --racy-runs times
                on each side (see _racy) and every outcome must be in it.
        stronger: for a clause with a `divergence`, the reference's stronger outcome: the
                implementation may give the oracle's outcome or this one.
        """
        assert (expect is _UNSET) != (allowed is None), "give expect= or allowed="
        assert allowed is None or stronger is None, "stronger= goes with expect=, not allowed="
        label = f"{'/'.join(self.clauses) or self.node.name}{' ' + what if what else ''}"
        exps = [as_expect(a) for a in (allowed if allowed is not None else [expect])]
        if allowed is not None:
            return self._racy(body, exps, label)
        o = self.oracle_outcome(body)
        if not any(e.matches(o) for e in exps):
            want = " or ".join(map(repr, exps))
            self._record(o.key(), None, f"the oracle no longer matches the clause: expected {want}")
            pytest.fail(f"{label}: CPython {ORACLE} does not do what the clause says\n"
                        f"  clause: {want}\n  oracle: {o.key()}", pytrace=False)
        if self.impl_name == ORACLE:
            return o
        i = run_body(body, self.mp)
        ok = i == o
        if not ok and stronger is not None:
            ok = as_expect(stronger).matches(i)
        if not ok:
            self._record(o.key(), i.key(), what or None)
            pytest.fail(f"{label}: {self.impl_name} differs from CPython {ORACLE}\n"
                        f"  oracle: {o.key()}\n  {self.impl_name}: {i.key()}"
                        + (f"\n  or the stronger: {as_expect(stronger)!r}" if stronger is not None else ""),
                        pytrace=False)
        return i

    def _racy(self, body, exps, label) -> Outcome:
        """Run body up to --racy-runs times on each side (run j of the oracle, then run j of the
        implementation; the oracle's runs are shared with the other implementations), starting
        no new run once the budget is spent; record the statistics; then fail as a single run
        would on the first outcome outside the allowed set, oracle first. Returns the
        implementation's first outcome."""
        runs = self.node.config._mpc_racy_runs
        key = self.key + (self.calls,)
        self.calls += 1
        cached = _racy_cache.setdefault(key, [])
        oracle, impl = [], []
        deadline = time.monotonic() + racy_budget(self.node)
        while len(oracle) < runs and (not oracle or time.monotonic() < deadline):
            if len(cached) == len(oracle):
                cached.append(run_body(body, self.oracle))
            oracle.append(cached[len(oracle)])
            if self.impl_name != ORACLE:
                impl.append(run_body(body, self.mp))
        if self.impl_name == ORACLE:
            impl = oracle
        stats = racy_stats(exps, oracle, impl)
        if not any(k == "racy" for k, _ in self.node.user_properties):
            self.node.user_properties.append(("racy", stats))
        allowed = " or ".join(map(repr, exps))
        n = stats["runs"]
        for o in oracle:
            if not any(e.matches(o) for e in exps):
                self._record(o.key(), None, f"the oracle no longer matches the clause: expected {allowed}")
                pytest.fail(f"{label}: CPython {ORACLE} does not do what the clause says "
                            f"({stats['outside']['oracle']} of {n} runs)\n"
                            f"  clause: {allowed}\n  oracle: {o.key()}", pytrace=False)
        for j, i in enumerate(impl):
            if not any(e.matches(i) for e in exps):
                self._record(oracle[j].key(), i.key(), None)
                pytest.fail(f"{label}: {self.impl_name} differs from CPython {ORACLE} "
                            f"({stats['outside']['impl']} of {n} runs outside the allowed set)\n"
                            f"  oracle: {oracle[j].key()}\n  {self.impl_name}: {i.key()}\n"
                            f"  allowed: {allowed}", pytrace=False)
        return impl[0]


@pytest.fixture
def check(request, impl_name, mp, oracle) -> Checker:
    return Checker(request.node, impl_name, mp, oracle)
