"""Racy clauses as statistics: each racy body runs --racy-runs times on each side and the report
counts the outcomes (props/conformance/conftest.py `Checker._racy`, outcomes.racy_stats).

- the Wilson interval on known values (and at the edges, where racy counts sit);
- racy_stats counts each run once: allowed outcomes by the first expectation they match, the
  others as `outside`;
- end to end (a pytest run in a subprocess, bounded): conformance.json has `stats` for the racy
  clauses only, with counts that add up to `runs` on each side; an implementation whose outcome
  is outside the allowed set (the wrong-exitcode mutant: 143 instead of -15 after terminate())
  still fails the clause, every run counted as outside.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "props") not in sys.path:  # as pytest imports the conformance package
    sys.path.insert(0, str(ROOT / "props"))

from conformance.outcomes import Outcome, Raises, Returns, racy_stats, wilson  # noqa: E402

MUTANT = "mpc_mutant_wrong_exitcode"


@pytest.mark.parametrize("k, n, low, high", [
    (5, 10, 0.2366, 0.7634),   # textbook value
    (0, 10, 0.0, 0.2775),      # z^2 / (n + z^2): never the empty [0, 0] of the normal approximation
    (10, 10, 0.7225, 1.0),
    (48, 50, 0.8654, 0.9890),
    (1, 20, 0.0089, 0.2361),
    (0, 0, 0.0, 1.0),          # no runs: nothing known
])
def test_wilson_interval(k, n, low, high):
    lo, hi = wilson(k, n)
    assert lo == pytest.approx(low, abs=1e-4) and hi == pytest.approx(high, abs=1e-4)


def test_racy_stats_counts_every_run_once():
    allowed = [Returns(1), Raises("ValueError")]
    ret = lambda v: Outcome(False, v)  # noqa: E731
    bad = Outcome.of(lambda: (_ for _ in ()).throw(ValueError("x")))
    st = racy_stats(allowed, [ret(1), ret(1), bad, ret(3)], [bad, bad, bad, ret(2)])
    assert st["runs"] == 4
    assert st["allowed"] == ["returned 1", "raised ValueError(…)"]
    assert [(o["outcome"], o["oracle"], o["impl"]) for o in st["outcomes"]] == [
        ("returned 1", 2, 0), ("raised ValueError(…)", 1, 3)]
    assert st["outside"] == {"oracle": 1, "impl": 1}
    assert st["outcomes"][0]["oracle_ci"] == list(wilson(2, 4))
    assert st["outcomes"][1]["impl_ci"] == list(wilson(3, 4))


@pytest.fixture(scope="module")
def racy_run(tmp_path_factory):
    """One bounded pytest run: a racy clause (P-TERM-7) the mutant breaks, one (Q-SIZE-1/7) it
    does not, and a deterministic one (P-TERM-3), on CPython and the mutant, 7 runs each."""
    out = tmp_path_factory.mktemp("racy")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "props" / "pymutants"), os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--racy-runs", "7",
         "--impl", "multiprocessing", "--impl", MUTANT, f"--report-dir={out}",
         "props/conformance/test_process.py::test_is_alive_right_after_terminate",
         "props/conformance/test_process.py::test_terminate_after_exit",
         "props/conformance/test_queues.py::test_empty_right_after_put"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    doc = json.loads((out / "conformance.json").read_text())
    return r, {c["id"]: c["results"] for c in doc["clauses"]}, doc


def test_stats_add_up_to_the_runs(racy_run):
    r, results, doc = racy_run
    assert doc["racy_runs"] == 7
    for cid in ("P-TERM-7", "Q-SIZE-1", "Q-SIZE-7"):
        for impl in ("multiprocessing", MUTANT):
            st = results[cid][impl]["stats"]
            assert st["runs"] == 7, (cid, impl)  # these bodies take milliseconds: no budget cut
            assert len(st["outcomes"]) == len(st["allowed"]) == 2
            for side in ("oracle", "impl"):
                assert sum(o[side] for o in st["outcomes"]) + st["outside"][side] == 7, (cid, impl, side)
                for o in st["outcomes"]:
                    lo, hi = o[side + "_ci"]
                    assert 0 <= lo <= o[side] / 7 <= hi <= 1
    assert "stats" not in results["P-TERM-3"]["multiprocessing"]  # deterministic: one run
    assert results["Q-SIZE-1"][MUTANT]["status"] == "pass"


def test_outcome_outside_the_allowed_set_fails(racy_run):
    r, results, doc = racy_run
    assert r.returncode == 1, r.stdout + r.stderr
    cell = results["P-TERM-7"][MUTANT]
    assert cell["status"] == "fail"
    assert cell["stats"]["outside"] == {"oracle": 0, "impl": 7}
    assert cell["first"]["impl"].endswith(", False, 143)")  # what it did instead of -15
    assert results["P-TERM-7"]["multiprocessing"]["status"] == "pass"
    assert "7 of 7 runs outside the allowed set" in r.stdout


def test_racy_runs_must_be_positive():
    r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "--racy-runs", "0", "--co", "props/conformance/test_queues.py"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 4 and "--racy-runs" in r.stderr, r.stdout + r.stderr
