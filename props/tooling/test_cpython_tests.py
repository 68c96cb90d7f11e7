"""The CPython-tests command (harness/python/mpconform_cpython_tests.py) runs CPython's own
multiprocessing tests against the module it is given, each under a timeout.

- `--list` names the in-scope classes' tests, `--class` and `-k` narrow them;
- a few quick tests pass on CPython's `multiprocessing`, and the report has the format of
  mpconform-cpython-tests/1;
- a deliberately broken module (a Lock that never refuses, a Queue whose timed get gives up at
  once) fails exactly the tests that see the bugs, through the test classes' mixin
  (`self.Lock`) and through the test module's own `multiprocessing.Queue` (rebound to the target);
  what it lacks (`reduction`) is CPython's, and the test's `uses_cpython` says so;
- a test that hangs (and starts processes, one of which leaves the process group) becomes
  `timeout` within the bound, says where it was stuck, and leaves no process behind;
- --total-timeout bounds the run (the rest is "not run", exit 1);
- expectations: exactly the expected failures -> exit 0 (xfail); an expected failure that passes
  -> exit 1 naming the entry to remove (xpass); malformed files and bad arguments -> exit 2, one
  line naming the field.
MPCONFORM_CPYTESTS_TOOL=/path/to/copy.py runs these tests against another copy of the command.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = Path(os.environ.get("MPCONFORM_CPYTESTS_TOOL",
                           ROOT / "harness" / "python" / "mpconform_cpython_tests.py"))
PYTHON = "/usr/bin/python3"  # Debian's, with test._test_multiprocessing
sys.path.insert(0, str(ROOT / "harness" / "python"))
import mpconform_tiers  # noqa: E402

REQUIRED = ["_TestProcess", "_TestQueue", "_TestLock", "_TestSemaphore", "_TestConnection",
            "_TestPoll", "_TestValue", "_TestArray", "_TestSharedCTypes"]
STATUSES = {"pass", "fail", "error", "skip", "timeout", "xfail", "xpass"}

pytestmark = pytest.mark.skipif(
    subprocess.run([PYTHON, "-c", "import test._test_multiprocessing"], capture_output=True).returncode != 0,
    reason=f"{PYTHON} has no test._test_multiprocessing (Debian: libpython3.11-testsuite)")

# A module with the multiprocessing API and two bugs: Lock.acquire never refuses, and a Queue's
# blocking get with a timeout gives up at once (Empty) instead of waiting.
BROKEN = '''
import multiprocessing, importlib
from multiprocessing import context, queues, synchronize

_real = multiprocessing.get_context("fork")


class BrokenQueue(queues.Queue):
    def get(self, block=True, timeout=None):
        if block and timeout is not None:
            return super().get(False)  # BUG: does not wait
        return super().get(block, timeout)


class BrokenLock(synchronize.Lock):
    def _make_methods(self):  # SemLock binds acquire on the instance
        super()._make_methods()
        real = self.acquire

        def acquire(block=True, timeout=None):
            real(False)
            return True  # BUG: never refuses
        self.acquire = acquire


class BrokenContext(context.ForkContext):
    def Queue(self, maxsize=0):
        return BrokenQueue(maxsize, ctx=_real)

    def Lock(self):
        return BrokenLock(ctx=_real)

    def get_context(self, method=None):
        return self


_ctx = BrokenContext()
get_context = _ctx.get_context
Queue = _ctx.Queue
Lock = _ctx.Lock


def __getattr__(name):
    if name.startswith("__") or name == "reduction":  # no reduction: CPython's is used instead
        raise AttributeError(name)
    try:
        return getattr(multiprocessing, name)
    except AttributeError:
        return importlib.import_module("multiprocessing." + name)
'''

# A Queue whose get() starts two sleepers (one in the test's process group, one in a session of
# its own) and then waits forever in hang_here().
HANGING = '''
import multiprocessing, importlib, os, subprocess, sys, time
from multiprocessing import context, queues

_real = multiprocessing.get_context("fork")
MARKER = {marker!r}


def hang_here():
    while True:
        time.sleep(3600)


class HangingQueue(queues.Queue):
    def get(self, block=True, timeout=None):
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", MARKER])
        subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)", MARKER],
                         start_new_session=True)
        hang_here()


class HangContext(context.ForkContext):
    def Queue(self, maxsize=0):
        return HangingQueue(maxsize, ctx=_real)

    def get_context(self, method=None):
        return self


_ctx = HangContext()
get_context = _ctx.get_context
Queue = _ctx.Queue


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(multiprocessing, name)
    except AttributeError:
        return importlib.import_module("multiprocessing." + name)
'''


def run(*args, path=None, timeout=120):
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(path)] + [p for p in [env.get("PYTHONPATH")] if p])
    t0 = time.monotonic()
    r = subprocess.run([PYTHON, str(TOOL), *map(str, args)], capture_output=True, text=True,
                       env=env, timeout=timeout, cwd=str(path or ROOT))
    r.wall = time.monotonic() - t0
    return r


def report(path) -> dict:
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    assert doc["format"] == "mpconform-cpython-tests/1"
    for key in ("implementation", "module", "python", "timeout_s", "tests", "totals"):
        assert key in doc, key
    for t in doc["tests"]:
        assert t["id"] == f"{t['class']}.{t['name']}"
        assert t["status"] in STATUSES
        assert isinstance(t["seconds"], (int, float))
        assert "\n" not in t.get("message", "")
    assert doc["totals"] == {s: sum(t["status"] == s for t in doc["tests"]) for s in STATUSES}
    return doc


def by_id(doc) -> dict:
    return {t["id"]: t for t in doc["tests"]}


@pytest.fixture
def broken(tmp_path):
    (tmp_path / "mpc_broken_mod.py").write_text(BROKEN, encoding="utf-8")
    return tmp_path


def expectations(tmp_path, entries, implementation="mpc_broken_mod", **extra):
    doc = {"format": "mpconform-expectations/1", "implementation": implementation,
           "about": "test", "cpython_tests": entries, **extra}
    path = tmp_path / "expect.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


# --------------------------------------------------------------------------- listing

def test_lists_the_in_scope_classes():
    r = run("--list")
    assert r.returncode == 0, r.stderr
    ids = r.stdout.split()
    assert all(re.fullmatch(r"_?Test\w+\.test\w*", i) for i in ids), ids
    classes = {i.split(".")[0] for i in ids}
    assert set(REQUIRED) <= classes
    assert {"_TestQueue.test_put", "_TestConnection.test_connection", "_TestSharedCTypes.test_copy",
            "_TestPoll.test_dont_merge"} <= set(ids)
    assert not classes & {"_TestPool", "_TestManagerRestart", "_TestCondition"}  # not in scope
    r = run("--list", "--class", "_TestLock", "-k", "rlock")
    assert r.stdout.split() == ["_TestLock.test_rlock"]
    r = run("--list", "--class", "_TestPool")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "--class _TestPool" in r.stderr


# --------------------------------------------------------------------------- running

def test_quick_tests_pass_on_multiprocessing(tmp_path):
    out = tmp_path / "mp.json"
    r = run("--module", "multiprocessing", "--class", "_TestLock", "--class", "_TestQueue",
            "-k", "_TestLock.", "-k", "test_qsize", "--json", out)
    assert r.returncode == 0, r.stdout + r.stderr
    doc = report(out)
    assert doc["implementation"] == doc["module"] == "multiprocessing"
    assert {t["id"]: t["status"] for t in doc["tests"]} == {
        "_TestLock.test_lock": "pass", "_TestLock.test_lock_context": "pass",
        "_TestLock.test_rlock": "pass", "_TestQueue.test_qsize": "pass"}
    lines = r.stdout.splitlines()
    assert sum(1 for ln in lines if ln.split()[:1] == ["pass"]) == 4  # one line per test


def test_broken_module_fails_where_it_is_broken(broken, tmp_path):
    out = tmp_path / "broken.json"
    r = run("--module", "mpc_broken_mod", "--class", "_TestLock", "--class", "_TestQueue",
            "--class", "_TestConnection", "-k", "_TestLock.", "-k", "_TestQueue.test_timeout",
            "-k", "_TestQueue.test_qsize", "-k", "test_missing_fd_transfer", "--json", out, path=broken)
    assert r.returncode == 1, r.stdout + r.stderr
    tests = by_id(report(out))
    # through the mixin (self.Lock): the Lock that never refuses
    assert tests["_TestLock.test_lock"]["status"] == "fail"
    assert "True != False" in tests["_TestLock.test_lock"]["message"]
    # through the test module's own `multiprocessing.Queue()`, rebound to the target
    assert tests["_TestQueue.test_timeout"]["status"] == "fail", tests["_TestQueue.test_timeout"]
    assert tests["_TestLock.test_rlock"]["status"] == "pass"
    assert tests["_TestLock.test_lock_context"]["status"] == "pass"
    assert tests["_TestQueue.test_qsize"]["status"] == "pass"
    assert "uses_cpython" not in tests["_TestQueue.test_qsize"]
    # the module has no reduction: the test used CPython's recv_handle, and says so
    fd = tests["_TestConnection.test_missing_fd_transfer"]
    assert fd["status"] == "pass" and fd["uses_cpython"] == ["multiprocessing.reduction.recv_handle"], fd
    assert "2 fail" in r.stdout and "_TestLock.test_lock" in r.stdout.splitlines()[-1]


def _ps():
    return subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout


def test_a_hang_is_a_timeout_and_leaves_no_process(tmp_path):
    marker = f"mpc-hang-{uuid.uuid4().hex}"
    (tmp_path / "mpc_hang_mod.py").write_text(HANGING.format(marker=marker), encoding="utf-8")
    out = tmp_path / "hang.json"
    per_test = 2.0
    scale = mpconform_tiers.time_scale()
    r = run("--module", "mpc_hang_mod", "--class", "_TestQueue", "-k", "test_qsize",
            "--timeout", per_test, "--json", out, path=tmp_path, timeout=60)
    try:
        assert r.returncode == 1, r.stdout + r.stderr
        t = by_id(report(out))["_TestQueue.test_qsize"]
        assert t["status"] == "timeout"
        assert per_test * scale <= t["seconds"] < per_test * scale + 4, t
        assert r.wall < per_test * scale + 15
        # where it was stuck, from faulthandler, innermost first
        assert "mpc_hang_mod.py" in t["message"] and "hang_here" in t["message"], t["message"]
        assert "test_qsize" in t["message"]
        assert "hang_here" in t["details"]
        # both sleepers, the one that left the process group too
        assert "killed it and 2 other processes it started" in t["message"], t["message"]
        left = [ln for ln in _ps().splitlines() if marker in ln]
        assert not left, left
    finally:
        for ln in _ps().splitlines():
            if marker in ln:
                os.kill(int(ln.split()[0]), 9)


def test_total_timeout_bounds_the_run(tmp_path):
    out = tmp_path / "total.json"
    scale = mpconform_tiers.time_scale()
    # test_wait_integer takes 3 s; with 1.5 s in all it is cut short, the socket tests never start
    r = run("--module", "multiprocessing", "--class", "TestWait", "-k", "test_wait_integer",
            "-k", "test_wait_socket", "--total-timeout", "1.5", "--json", out)
    assert r.returncode == 1, r.stdout + r.stderr
    tests = by_id(report(out))
    assert tests["TestWait.test_wait_integer"]["status"] == "timeout"
    assert tests["TestWait.test_wait_integer"]["seconds"] < 1.5 * scale + 1
    for name in ("test_wait_socket", "test_wait_socket_slow"):
        assert tests[f"TestWait.{name}"]["status"] == "skip"
        assert tests[f"TestWait.{name}"]["message"].startswith("not run: the total timeout")
    assert "total timeout" in r.stdout.splitlines()[-1]


# --------------------------------------------------------------------------- expectations

def test_exactly_the_expected_failures_exit_0(broken, tmp_path):
    exp = expectations(tmp_path, {"_TestLock.test_lock": {"reason": "acquire(False) says True",
                                                          "link": "https://example.org/1"}})
    out = tmp_path / "x.json"
    r = run("--module", "mpc_broken_mod", "--class", "_TestLock", "--expectations", exp,
            "--json", out, path=broken)
    assert r.returncode == 0, r.stdout + r.stderr
    doc = report(out)
    t = by_id(doc)["_TestLock.test_lock"]
    assert t["status"] == "xfail"
    assert t["expected"] == {"reason": "acquire(False) says True", "link": "https://example.org/1"}
    assert doc["totals"]["xfail"] == 1 and doc["totals"]["pass"] == 2
    assert doc["expectations"].endswith("expect.json")


def test_an_unexpected_pass_exits_1_naming_the_entry(broken, tmp_path):
    exp = expectations(tmp_path, {"_TestLock.test_lock": {"reason": "acquire(False) says True"},
                                  "_TestLock.test_rlock": {"reason": "no longer true"}})
    out = tmp_path / "x.json"
    r = run("--module", "mpc_broken_mod", "--implementation", "mpc_broken_mod", "--class",
            "_TestLock", "--expectations", exp, "--json", out, path=broken)
    assert r.returncode == 1, r.stdout + r.stderr
    tests = by_id(report(out))
    assert tests["_TestLock.test_lock"]["status"] == "xfail"
    assert tests["_TestLock.test_rlock"]["status"] == "xpass"
    assert 'remove cpython_tests."_TestLock.test_rlock"' in r.stdout
    assert "_TestLock.test_rlock passed but" in r.stdout


@pytest.mark.parametrize("edit, field", [
    (lambda d: d.pop("format"), "format"),
    (lambda d: d.update(implementation="billiard"), "implementation"),
    (lambda d: d.update(extra=1), "extra"),
    (lambda d: d["cpython_tests"]["_TestLock.test_lock"].pop("reason"),
     'cpython_tests."_TestLock.test_lock".reason'),
    (lambda d: d["cpython_tests"]["_TestLock.test_lock"].update(why="x"),
     'cpython_tests."_TestLock.test_lock".why'),
    (lambda d: d["cpython_tests"].update({"_TestLock.test_nothing": {"reason": "x"}}),
     'cpython_tests."_TestLock.test_nothing"'),
    (lambda d: d.update(clauses={"Q-NOPE-1": {"reason": "x"}}), 'clauses."Q-NOPE-1"'),
])
def test_a_malformed_expectation_file_exits_2(tmp_path, edit, field):
    doc = {"format": "mpconform-expectations/1", "implementation": "multiprocessing",
           "cpython_tests": {"_TestLock.test_lock": {"reason": "r"}}}
    edit(doc)
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    r = run("--module", "multiprocessing", "--class", "_TestLock", "--expectations", path)
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and f"bad.json: field {field}:" in lines[0], r.stderr
    assert r.stdout == ""  # nothing ran


def test_bad_arguments_exit_2(tmp_path):
    for args, says in ((["--class", "_TestLock"], "--module is required"),
                       (["--module", "no_such_module_mpc"], "cannot import"),
                       (["--module", "multiprocessing", "--timeout", "0"], "--timeout"),
                       (["--module", "multiprocessing", "-k", "no-such-test"], "no test selected")):
        r = run(*args)
        assert r.returncode == 2, (args, r.stdout, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and says in r.stderr, (args, r.stderr)
    (tmp_path / "bad.json").write_text("{", encoding="utf-8")
    r = run("--module", "multiprocessing", "--expectations", tmp_path / "bad.json")
    assert r.returncode == 2 and "not JSON" in r.stderr
