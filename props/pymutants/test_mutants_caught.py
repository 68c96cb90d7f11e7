"""Every Python mutant is caught by the suite, and the same tests pass on CPython.

For each mutant, one pytest run in a subprocess (bounded) runs the tests that should catch it
with `--impl multiprocessing --impl <mutant>` (the mutant importable through PYTHONPATH), then
this test reads the conformance report that run wrote and its -rf summary, and asserts:
- the run failed (exit status 1, not an error, interruption or empty selection);
- every expected test failed on the mutant and every expected clause is 'fail' for the mutant;
- every selected test passed on `multiprocessing` and every expected clause is 'pass' for it,
  so the failure is the mutant's, not a broken test.
The selection is by node id (a renamed test is an error here, not a silently empty selection).
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RUN_TIMEOUT = 100.0  # seconds for one mutant's run; each takes a few


@dataclass(frozen=True)
class Mutant:
    name: str
    catches: dict  # node id (relative to ROOT) -> the clauses that test checks
    other_tests: tuple = field(default=())  # also selected, may pass or fail on the mutant

    @property
    def clauses(self):
        return sorted({c for cs in self.catches.values() for c in cs})


# The tests that catch each mutant, fast. (Slower ones catch some too: for the lost item, every
# test that drains a queue, e.g. Q-ORDER-1/2 and the Queue state machine, after a get timeout.
# test_workloads.py::test_ticket_grab_never_oversells catches the lock without exclusion only in
# about half of the runs, and test_task_done_accounting the task_done that never raises only when
# Hypothesis draws extra > 0, so they are not listed; the tickets seed and JQ-2's test always do.)
C, S = "props/conformance/", "props/seeds/test_seeds.py::"
MUTANTS = [
    Mutant("mpc_mutant_lost_item", {
        C + "test_queues.py::test_positive_maxsize_holds_exactly_n": ["Q-MAX-3"],
        S + "test_producer_consumer": ["Q-ORDER-1", "Q-ORDER-3"],
    }),
    Mutant("mpc_mutant_early_timeout", {
        C + "test_queues.py::test_get_timeout_on_empty": ["Q-EMPTY-3"],
        C + "test_queues.py::test_put_timeout_on_full": ["Q-FULL-3"],
        C + "test_synchronize.py::test_acquire_timeout_on_lock_held_elsewhere": ["L-ACQ-6"],
        C + "test_synchronize.py::test_lock_is_not_reentrant": ["L-ACQ-3"],
        C + "test_workloads.py::test_full_and_empty_timeouts": ["Q-FULL-3", "Q-EMPTY-3"],
        S + "test_queue_demo": ["Q-FULL-3", "Q-EMPTY-3"],
    }),
    Mutant("mpc_mutant_task_done_never_raises", {
        C + "test_queues.py::test_task_done_too_many_times": ["JQ-2"],
        C + "test_statemachines.py::test_joinable_queue_state_machine": ["JQ-2"],
    }),
    Mutant("mpc_mutant_lock_no_exclusion", {
        C + "test_synchronize.py::test_acquire_nonblocking_on_held_lock": ["L-ACQ-2"],
        C + "test_synchronize.py::test_lock_is_not_reentrant": ["L-ACQ-3"],
        C + "test_synchronize.py::test_acquire_timeout_on_lock_held_elsewhere": ["L-ACQ-6"],
        C + "test_statemachines.py::test_lock_state_machine": ["L-ACQ-2"],
        S + "test_toilet": ["L-EXCL-1"],
        S + "test_tickets": ["L-EXCL-1"],
    }),
    Mutant("mpc_mutant_wrong_exitcode", {
        C + "test_process.py::test_signal_exit_codes": ["P-EXIT-2"],
        C + "test_process.py::test_terminate_and_kill_do_not_wait": ["P-TERM-1"],
        S + "test_basics": ["P-TERM-1"],
    }),
    Mutant("mpc_mutant_rlock_any_release", {
        C + "test_synchronize.py::test_rlock_release_by_non_owner": ["RL-REL-1"],
        C + "test_synchronize.py::test_rlock_release_when_free": ["RL-REL-2"],
        C + "test_statemachines.py::test_rlock_state_machine": ["RL-REL-2"],
    }),
    Mutant("mpc_mutant_eof_lost", {
        C + "test_connection.py::test_recv_at_eof": ["C-EOF-4"],
        C + "test_connection.py::test_queued_messages_before_eof": ["C-EOF-5"],
        C + "test_connection.py::test_eof_needs_every_copy_closed": ["C-EOF-2", "C-EOF-6"],
    }),
]


def run_suite(mutant: Mutant, report_dir: Path):
    """(exit status, stdout+stderr, report dict or None, seconds) of the mutant's pytest run."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(HERE), env.get("PYTHONPATH")) if p)
    env.pop("PYTEST_ADDOPTS", None)
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rf",
           # option=value: pytest picks its rootdir before the conftest declares these options,
           # and a separate existing path (the report dir) would move the rootdir to /
           "--impl=multiprocessing", f"--impl={mutant.name}", f"--report-dir={report_dir}",
           *mutant.catches, *mutant.other_tests]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=RUN_TIMEOUT)
        rc = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and everything it started
        out, _ = proc.communicate()
        rc = "TIMEOUT"
    report = report_dir / "conformance.json"
    doc = json.loads(report.read_text()) if report.exists() else None
    return rc, out.decode(errors="replace"), doc, time.monotonic() - t0


@pytest.mark.timeout(RUN_TIMEOUT + 20)
@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_mutant_is_caught(mutant, tmp_path, record_property):
    rc, out, doc, seconds = run_suite(mutant, tmp_path)
    record_property("seconds", round(seconds, 1))
    tail = "\n".join(out.splitlines()[-40:])
    assert rc == 1, f"{mutant.name}: the run should fail its tests (exit 1), got {rc}\n{tail}"

    failed = set(re.findall(r"^FAILED (\S+)", out, re.M))
    for node in mutant.catches:
        assert f"{node}[{mutant.name}]" in failed, f"{node} did not catch {mutant.name}\n{tail}"
    on_cpython = {f for f in failed if f.endswith("[multiprocessing]")}
    assert not on_cpython, f"tests fail on CPython multiprocessing too: {sorted(on_cpython)}\n{tail}"
    summary = re.search(r"(\d+) failed, (\d+) passed", out)
    selected = len(mutant.catches) + len(mutant.other_tests)
    assert summary and int(summary[1]) + int(summary[2]) == 2 * selected, \
        f"expected {selected} tests on each implementation\n{tail}"

    assert doc is not None, f"no conformance report written\n{tail}"
    results = {c["id"]: c["results"] for c in doc["clauses"]}
    firsts = {results[cid][mutant.name]["first"]["test"] for cid in mutant.clauses
              if results.get(cid, {}).get(mutant.name, {}).get("first")}
    assert firsts <= {f"{node}[{mutant.name}]" for node in mutant.catches}, firsts
    for cid in mutant.clauses:
        assert cid in results, f"{cid} missing from the conformance report"
        assert results[cid]["multiprocessing"]["status"] == "pass", (cid, results[cid])
        assert results[cid][mutant.name]["status"] == "fail", (cid, results[cid])
