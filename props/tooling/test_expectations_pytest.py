"""The pytest driver's expectation files (`--expectations FILE`, conftest.py) and its terminal
progress clock, each seen from outside: pytest runs in a subprocess (bounded) on a few fast
conformance tests.

The implementation is the wrong-exitcode mutant (props/pymutants): it fails P-EXIT-2 and
P-TERM-1 (a signalled child's exitcode is 128 + signum) and passes P-TERM-3; so
- a file listing exactly its failures: exit 0, both `xfail` in conformance.json with the reason;
- a file missing one: exit 1 (a new failure fails as without expectations);
- a file listing a clause it passes: exit 1, and the terminal names the entry to remove;
- a malformed file: usage error (exit 4) naming the file and the field;
- the shipped files (props/expectations/*.json) load.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ptyrun import run_on_a_terminal

ROOT = Path(__file__).resolve().parents[2]
MUTANT = "mpc_mutant_wrong_exitcode"
T = "props/conformance/test_process.py::"
TESTS = [T + "test_signal_exit_codes", T + "test_terminate_and_kill_do_not_wait",
         T + "test_terminate_after_exit"]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(
    [str(ROOT / "props" / "pymutants"), os.environ.get("PYTHONPATH", "")]))


def expectations(tmp_path, clauses, **extra) -> Path:
    doc = {"format": "mpconform-expectations/1", "implementation": MUTANT,
           "about": "test file", "clauses": clauses, "properties": {}, "cpython_tests": {}}
    doc.update(extra)
    path = tmp_path / f"{MUTANT}.json"
    path.write_text(json.dumps(doc))
    return path


def pytest_run(tmp_path, *args, tests=TESTS, flags=("-q", "-rxX")):
    """pytest on `tests` with `args`: the tests come first, as they must for options with a
    path value (before them, pytest would take `--expectations FILE`'s FILE for a test path
    and look for the conftest that defines the option next to it)."""
    report = tmp_path / "report"
    r = subprocess.run([sys.executable, "-m", "pytest", *flags, "-p", "no:cacheprovider", *tests,
                        f"--report-dir={report}", *args],
                       cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=240)
    doc = None
    if (report / "conformance.json").exists():
        doc = json.loads((report / "conformance.json").read_text())
    return r, doc


def results(doc):
    return {c["id"]: c["results"] for c in doc["clauses"]}


EXIT_CODES = {"reason": "a signalled child's exitcode is 128 + signum, not -signum"}


def test_exactly_the_expected_failures_pass(tmp_path):
    path = expectations(tmp_path, {"P-EXIT-2": dict(EXIT_CODES, link="https://example.org/bug/1"),
                                   "P-TERM-1": EXIT_CODES})
    r, doc = pytest_run(tmp_path, "--impl", "multiprocessing", "--impl", MUTANT,
                        "--expectations", str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 xfailed" in r.stdout and "128 + signum" in r.stdout  # pytest's own xfail, with the reason
    assert doc["format"] == "mpconform-conformance/1"
    assert doc["expectations"] == {MUTANT: str(path)}
    res = results(doc)
    cell = res["P-EXIT-2"][MUTANT]
    assert cell["status"] == "xfail"
    assert cell["expected"] == {"reason": EXIT_CODES["reason"], "link": "https://example.org/bug/1"}
    assert cell["tests"]["xfail"] == 1 and "143" in cell["first"]["impl"]
    assert res["P-TERM-1"][MUTANT]["status"] == "xfail"
    assert res["P-TERM-3"][MUTANT]["status"] == "pass"
    # the file applies to the implementation it names only
    assert res["P-EXIT-2"]["multiprocessing"]["status"] == "pass"
    assert "expected" not in res["P-EXIT-2"]["multiprocessing"]
    assert doc["totals"][MUTANT] == {"pass": 1, "fail": 0, "xfail": 2, "xpass": 0, "skip": 0}
    md = (tmp_path / "report" / "conformance.md").read_text()
    assert "## Expected failures" in md and "**P-EXIT-2** on `mpc_mutant_wrong_exitcode`" in md


def test_a_new_failure_fails(tmp_path):
    path = expectations(tmp_path, {"P-EXIT-2": EXIT_CODES})
    r, doc = pytest_run(tmp_path, "--impl", MUTANT, "--expectations", str(path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert "1 failed" in r.stdout and "1 xfailed" in r.stdout
    res = results(doc)
    assert res["P-TERM-1"][MUTANT]["status"] == "fail"
    assert res["P-EXIT-2"][MUTANT]["status"] == "xfail"


def test_an_unexpected_pass_fails_naming_the_entry(tmp_path):
    path = expectations(tmp_path, {"P-EXIT-2": EXIT_CODES, "P-TERM-1": EXIT_CODES,
                                   "P-TERM-3": {"reason": "stale: it passes"}})
    r, doc = pytest_run(tmp_path, "--impl", MUTANT, "--expectations", str(path))
    assert r.returncode == 1, r.stdout + r.stderr
    assert (f'{MUTANT}: clause P-TERM-3 passed but {path} expects it to fail; '
            f'remove clauses."P-TERM-3"') in r.stdout
    last = r.stdout.splitlines()[-1]  # pytest's summary line: not green
    assert "1 unexpected pass" in last and "1 passed" in last and "xpassed" not in last, last
    cell = results(doc)["P-TERM-3"][MUTANT]
    assert cell["status"] == "xpass" and cell["expected"] == {"reason": "stale: it passes"}
    assert doc["totals"][MUTANT]["xpass"] == 1


def test_a_flaky_entry_may_pass(tmp_path):
    """"flaky": true (fails in some runs only): passing is no unexpected pass; failing is xfail."""
    path = expectations(tmp_path, {"P-EXIT-2": dict(EXIT_CODES, flaky=True), "P-TERM-1": EXIT_CODES,
                                   "P-TERM-3": {"reason": "fails sometimes", "flaky": True}})
    r, doc = pytest_run(tmp_path, "--impl", MUTANT, "--expectations", str(path))
    assert r.returncode == 0, r.stdout + r.stderr
    res = results(doc)
    assert res["P-TERM-3"][MUTANT]["status"] == "pass"
    assert res["P-EXIT-2"][MUTANT]["status"] == "xfail"


def test_a_clause_not_run_is_no_unexpected_pass(tmp_path):
    """A selection (-k, node ids) runs with the full file: only clauses that ran are judged."""
    path = expectations(tmp_path, {"P-EXIT-2": EXIT_CODES, "P-TERM-1": EXIT_CODES,
                                   "Q-FULL-1": {"reason": "not run here"}})
    r, doc = pytest_run(tmp_path, "--impl", MUTANT, "--expectations", str(path), tests=TESTS[:1])
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.parametrize("change, field", [
    ({"clauses": {"P-EXIT-2": {"link": "https://example.org"}}}, 'clauses."P-EXIT-2".reason'),
    ({"clauses": {"P-EXIT-2": {"reason": ""}}}, 'clauses."P-EXIT-2".reason'),
    ({"clauses": {"P-EXIT-2": {"reason": "x", "why": "y"}}}, 'clauses."P-EXIT-2".why'),
    ({"clauses": {"NO-SUCH-1": {"reason": "x"}}}, 'clauses."NO-SUCH-1"'),
    ({"properties": {"queue": {"reason": "x", "clause": "NO-SUCH-1"}}}, 'properties."queue".clause'),
    ({"cpython_tests": {"_TestQueue.test_fork": {}}}, 'cpython_tests."_TestQueue.test_fork".reason'),
    ({"format": "mpconform-expectations/2"}, "format"),
    ({"implementation": ""}, "implementation"),
    ({"comment": "x"}, "comment"),
    ({"clauses": {"P-EXIT-2": {"reason": "x", "flaky": "yes"}}}, 'clauses."P-EXIT-2".flaky'),
])
def test_a_malformed_file_is_a_usage_error(tmp_path, change, field):
    path = expectations(tmp_path, {"P-EXIT-2": EXIT_CODES})
    doc = json.loads(path.read_text())
    doc.update(change)
    path.write_text(json.dumps(doc))
    r, _ = pytest_run(tmp_path, "--impl", MUTANT, "--expectations", str(path), "--co")
    assert r.returncode == 4, r.stdout + r.stderr
    assert f"{path}: field {field}: " in r.stderr, r.stderr


def test_a_file_for_an_implementation_not_under_test_is_a_usage_error(tmp_path):
    path = expectations(tmp_path, {"P-EXIT-2": EXIT_CODES})
    r, _ = pytest_run(tmp_path, "--impl", "multiprocessing", "--expectations", str(path), "--co")
    assert r.returncode == 4, r.stdout + r.stderr
    assert f"{path}: field implementation: {MUTANT} is not under test" in r.stderr, r.stderr


def test_not_json_is_a_usage_error(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"format": ')
    r, _ = pytest_run(tmp_path, "--expectations", str(path), "--co")
    assert r.returncode == 4 and f"{path}: not JSON" in r.stderr, r.stdout + r.stderr


@pytest.mark.parametrize("path", sorted((ROOT / "props" / "expectations").glob("*.json")),
                         ids=lambda p: p.name)
def test_shipped_files_load(tmp_path, path):
    impl = json.loads(path.read_text())["implementation"]
    assert path.stem == impl  # props/expectations/<implementation>.json
    r, _ = pytest_run(tmp_path, "--impl", impl, "--expectations", str(path), "--co",
                      tests=["props/conformance/test_queues.py"])
    assert r.returncode == 0, r.stdout + r.stderr


# --------------------------------------------------------------------------- progress clock

PROGRESS_ARGS = ["props/conformance/test_queues.py", "-v", "--impl", "multiprocessing",
                 "-k", "test_get_timeout_ignored_when_not_blocking or test_close_without_put_keeps_pipes "
                       "or test_qsize_full_after_close_and_flush"]
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def test_progress_shows_time_left_on_a_terminal(tmp_path):
    """On a pseudo-terminal: every progress indicator but the last has the elapsed time and an
    estimate of the time left; the last has the elapsed time."""
    env = dict(ENV, COLUMNS="150", TERM="xterm")
    code, out = run_on_a_terminal([sys.executable, "-m", "pytest", "-p", "no:cacheprovider",
                                   f"--report-dir={tmp_path}", *PROGRESS_ARGS], cwd=ROOT, env=env)
    out = ANSI.sub("", out).replace("\r", "")
    assert code == 0, out
    progress = [line for line in out.splitlines() if "PASSED" in line]
    assert len(progress) == 3, out
    for line in progress[:-1]:
        assert re.search(r"\[ *\d+%\] \d+s, ~\d+s left$", line), line
    assert re.search(r"\[100%\] \d+s$", progress[-1]), progress[-1]


def test_progress_is_unchanged_in_a_log(tmp_path):
    r, _ = pytest_run(tmp_path, *PROGRESS_ARGS, tests=[], flags=())
    assert r.returncode == 0, r.stdout + r.stderr
    progress = [line for line in r.stdout.splitlines() if "PASSED" in line]
    assert len(progress) == 3 and all(re.search(r"PASSED +\[ *\d+%\]$", line) for line in progress), r.stdout
