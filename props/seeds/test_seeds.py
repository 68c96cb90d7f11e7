"""The seed programs on CPython (the oracle) and on every --impl: the same checked outcome.

Each test runs one seed's `run(mp)`; CPython's outcome must be the seed's EXPECTED (so a seed that
no longer checks what it says is caught), and the implementation's must equal CPython's. A seed
that raises has 'raised <Class>: <message>' as its outcome. The lockless ticket sale is racy and
only checked on CPython: it must oversell at least once in a few tries (the lock is what stops it).
"""
import importlib

import pytest

from . import tickets
from ._util import exc_name

pytestmark = pytest.mark.timeout(90)

ORACLE = "multiprocessing"
_oracle_outcomes: dict = {}


def outcome(module, surface):
    try:
        return module.run(surface)
    except Exception as e:  # noqa: BLE001 - the exception is the outcome
        return f"raised {exc_name(e)}: {e}"


def same_outcome(request, seed, impl_name, mp, oracle):
    module = importlib.import_module(f"{__package__}.{seed}")
    if seed not in _oracle_outcomes:
        _oracle_outcomes[seed] = outcome(module, oracle)
    o = _oracle_outcomes[seed]

    def record(impl, note):
        request.node.user_properties.append(
            ("conformance", {"oracle": repr(o), "impl": impl, "note": note}))

    if o != module.EXPECTED:
        record(None, f"seed {seed}: the oracle no longer gives the expected outcome")
        pytest.fail(f"seed {seed}: CPython {ORACLE} does not give the seed's expected outcome\n"
                    f"  expected: {module.EXPECTED!r}\n  oracle:   {o!r}", pytrace=False)
    if impl_name == ORACLE:
        return
    i = outcome(module, mp)
    if i != o:
        record(repr(i), f"seed {seed}")
        pytest.fail(f"seed {seed}: {impl_name} differs from CPython {ORACLE}\n"
                    f"  oracle: {o!r}\n  {impl_name}: {i!r}", pytrace=False)


@pytest.mark.clause("L-EXCL-1")
def test_toilet(request, impl_name, mp, oracle):
    same_outcome(request, "toilet", impl_name, mp, oracle)


@pytest.mark.clause("L-EXCL-1")
def test_tickets(request, impl_name, mp, oracle):
    same_outcome(request, "tickets", impl_name, mp, oracle)


@pytest.mark.clause("L-EXCL-1")
def test_tickets_lockless_oversells_on_cpython(oracle):
    assert tickets.lockless(oracle, tries=5), "10 lockless buyers of 1 ticket never oversold in 5 tries"


@pytest.mark.clause("X-EXIT-3")
def test_daemon(request, impl_name, mp, oracle):
    same_outcome(request, "daemon", impl_name, mp, oracle)


@pytest.mark.clause("P-JOIN-7")
def test_join(request, impl_name, mp, oracle):
    same_outcome(request, "join", impl_name, mp, oracle)


@pytest.mark.clause("P-PID-1", "P-PID-2", "P-NAME-8", "P-TERM-1", "P-EXIT-1")
def test_basics(request, impl_name, mp, oracle):
    same_outcome(request, "basics", impl_name, mp, oracle)


@pytest.mark.clause("Q-ORDER-1", "Q-ORDER-3")
def test_producer_consumer(request, impl_name, mp, oracle):
    same_outcome(request, "producer_consumer", impl_name, mp, oracle)


@pytest.mark.clause("JQ-9", "X-EXIT-3")
def test_joinable(request, impl_name, mp, oracle):
    same_outcome(request, "joinable", impl_name, mp, oracle)


@pytest.mark.clause("Q-ORDER-2", "X-EXIT-3")
def test_three_producers(request, impl_name, mp, oracle):
    same_outcome(request, "three_producers", impl_name, mp, oracle)


@pytest.mark.clause("Q-MAX-3", "Q-SIZE-3", "Q-SIZE-5", "Q-FULL-1", "Q-FULL-2", "Q-FULL-3",
                    "Q-EMPTY-1", "Q-EMPTY-2", "Q-EMPTY-3")
def test_queue_demo(request, impl_name, mp, oracle):
    same_outcome(request, "queue_demo", impl_name, mp, oracle)


@pytest.mark.clause("V-ATOM-3")
def test_counter(request, impl_name, mp, oracle):
    same_outcome(request, "counter", impl_name, mp, oracle)
