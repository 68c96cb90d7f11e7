"""The `check` fixture: run a body on the oracle and on the implementation, compare outcomes."""
from __future__ import annotations

import pytest

from . import support
from .outcomes import ORACLE, Outcome, as_expect


# The oracle's outcome for one check does not depend on the implementation under test: compute
# it once per (test, other parameters, n-th check) and reuse it for every --impl.
_oracle_cache: dict[tuple, Outcome] = {}
_UNSET = object()


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
        allowed: for racy clauses, a list of such expectations: both outcomes must be in it.
        stronger: for a clause with a `divergence`, the reference's stronger outcome: the
                implementation may give the oracle's outcome or this one.
        """
        assert (expect is _UNSET) != (allowed is None), "give expect= or allowed="
        label = f"{'/'.join(self.clauses) or self.node.name}{' ' + what if what else ''}"
        exps = [as_expect(a) for a in (allowed if allowed is not None else [expect])]
        o = self.oracle_outcome(body)
        if not any(e.matches(o) for e in exps):
            want = " or ".join(map(repr, exps))
            self._record(o.key(), None, f"the oracle no longer matches the clause: expected {want}")
            pytest.fail(f"{label}: CPython {ORACLE} does not do what the clause says\n"
                        f"  clause: {want}\n  oracle: {o.key()}", pytrace=False)
        if self.impl_name == ORACLE:
            return o
        i = run_body(body, self.mp)
        ok = any(e.matches(i) for e in exps) if allowed is not None else i == o
        if not ok and stronger is not None:
            ok = as_expect(stronger).matches(i)
        if not ok:
            self._record(o.key(), i.key(), what or None)
            pytest.fail(f"{label}: {self.impl_name} differs from CPython {ORACLE}\n"
                        f"  oracle: {o.key()}\n  {self.impl_name}: {i.key()}"
                        + (f"\n  allowed: {' or '.join(map(repr, exps))}" if allowed else "")
                        + (f"\n  or the stronger: {as_expect(stronger)!r}" if stronger is not None else ""),
                        pytrace=False)
        return i


@pytest.fixture
def check(request, impl_name, mp, oracle) -> Checker:
    return Checker(request.node, impl_name, mp, oracle)
