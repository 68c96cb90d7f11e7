"""The Python executor (harness/python/mpconform_exec.py) follows the executor protocol.

Hand-written plans (harness/INTERPRETING.md, "Plans: the executor protocol") covering every
step op and object type run on each --impl (default `multiprocessing` and `mpref`); the tests
read the recorded p<index>.jsonl / exec.jsonl and assert the ops, outcomes, values, expected
errors and exit codes. Also: an import failure gives exit 2 + error.json and forks nothing; a
process SIGKILLed in a blocking get leaves its invoke without completion; an unexpected exception
gives info + note + exit code 3; the ticket file is gone; billiard and multiprocess run a
10-process plan; a mutant's lost item shows in the history. PCT schedules (the plan's `schedule`
member): every plan process pinned at its SCHED_FIFO priority, change points, an exact shared call
counter, delays not slept, malformed schedules refused, nothing left at real-time priority, and a
run through `mpconform exec` (skipped where SCHED_FIFO is not permitted). Overlap schedules: the
phase-0 actors forked once and run many iterations, the arbiters (phase >= 1) in the leader, the
iterations line and every op inside its iteration, values and ticket files reset and setup re-run
each iteration, the seconds budget, the start offsets, bounded waits, refused schedules and plans.

MPCONFORM_PY_EXECUTOR=/path/to/other_exec.py runs the same tests against another executor (a
deliberately broken copy must make them fail).
"""
from __future__ import annotations

import bisect
import contextlib
import functools
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXECUTOR = Path(os.environ.get("MPCONFORM_PY_EXECUTOR",
                               ROOT / "harness" / "python" / "mpconform_exec.py"))
PYTHON = "/usr/bin/python3"  # Debian's: the interpreter the harness runs the executor with
_build = Path(os.environ.get("MPCONFORM_BUILD_DIR", ROOT / "build"))
BUILD_PY = (_build if _build.is_absolute() else ROOT / _build) / "impl" / "python"
PYMUTANTS = ROOT / "props" / "pymutants"
RUN_TIMEOUT = 30  # seconds for one executor run (each takes well under 2)

CLOCK = 0.002  # the `clock` tier: forgiven earliness of a timed-out call
TIMING = {"patience": 0.5, "daemon_life": 1.0, "observe": 1.5, "settle": 0.002, "wait": 2.0}


# --------------------------------------------------------------------------------------------
# running the executor and reading what it recorded

def tag(p, s):
    return f"{p}:{s}"


class Op(dict):
    """One merged call: invoke + completion (outcome info and ret None when there is none)."""

    @property
    def duration(self):
        return (self["ret"] - self["invoke"]) / 1e9


class Run:
    def __init__(self, out: Path, proc: subprocess.CompletedProcess):
        self.out = out
        self.rc = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.headers, self.ops, self.notes = {}, {}, {}
        for f in sorted(out.glob("p*.jsonl")):
            self._read(f)
        self.exec = []
        if (out / "exec.jsonl").exists():
            self.exec = [json.loads(x) for x in (out / "exec.jsonl").read_text().splitlines()]
        # overlap: the leader's {"iterations": [start_0, ...]} (at most one line)
        starts = [x for x in self.exec if "iterations" in x]
        assert len(starts) <= 1 and all(set(x) == {"iterations"} for x in starts), starts
        self.iterations = starts[0]["iterations"] if starts else None

    def _read(self, f: Path):
        lines = [json.loads(x) for x in f.read_text().splitlines()]
        assert lines, f"{f.name} is empty"
        header = lines[0]
        assert set(header) == {"process", "pid"}, f"{f.name}: bad first line {header}"
        i = header["process"]
        assert f.name == f"p{i}.jsonl"
        calls, notes = {}, []
        for line in lines[1:]:
            if "i" in line:
                assert set(line) == {"i", "op", "obj", "value", "aux", "timeout", "t"}, line
                assert line["i"] == len(calls), f"{f.name}: call numbers must count from 0"
                calls[line["i"]] = Op(process=i, pid=header["pid"], op=line["op"], obj=line["obj"],
                                      value=line["value"], aux=line["aux"],
                                      timeout=line["timeout"], invoke=line["t"], outcome="info",
                                      error=None, ret=None)
            elif "c" in line:
                assert set(line) <= {"c", "outcome", "value", "error", "t"}, line
                assert line["c"] in calls, f"{f.name}: completion {line['c']} without an invoke"
                op = calls[line["c"]]
                assert op["ret"] is None, f"{f.name}: call {line['c']} completed twice"
                assert line["outcome"] in ("ok", "fail", "info")
                assert line["t"] >= op["invoke"]
                op.update(outcome=line["outcome"], ret=line["t"], error=line.get("error"))
                if "value" in line:
                    op["value"] = line["value"]
                if line["outcome"] == "fail":
                    assert op["error"], line
            else:
                assert set(line) == {"note"}, line
                notes.append(line["note"])
        assert len(notes) <= 1, f"{f.name}: at most one note"
        self.headers[i] = header
        self.ops[i] = list(calls.values())
        self.notes[i] = notes[0] if notes else None

    def of(self, process, op=None, obj=None):
        return [o for o in self.ops.get(process, [])
                if (op is None or o["op"] == op) and (obj is None or o["obj"] == obj)]

    def all(self, op=None, obj=None):
        return [o for p in sorted(self.ops) for o in self.of(p, op, obj)]

    def exitcodes(self):
        assert self.exec and self.exec[-1] == {"done": True}, self.exec
        codes = {}
        for line in self.exec[:-1]:
            if "iterations" in line:
                continue
            assert set(line) == {"process", "pid", "exitcode"}, line
            codes[line["process"]] = line["exitcode"]
        return codes


def env_for(extra_path=()):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([*map(str, extra_path), str(BUILD_PY), str(PYMUTANTS)]
                                        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    return env


def start_executor(tmp_path: Path, module: str, plan: dict, extra_path=()):
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    return out, subprocess.Popen(
        [PYTHON, str(EXECUTOR), "--module", module, "--plan", str(tmp_path / "plan.json"),
         "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env_for(extra_path),
        start_new_session=True)


def finish(out, p, timeout=RUN_TIMEOUT) -> Run:
    try:
        stdout, stderr = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise AssertionError(f"the executor did not finish within {timeout} s")
    return Run(out, subprocess.CompletedProcess(p.args, p.returncode, stdout, stderr))


def execute(tmp_path: Path, module: str, plan: dict, extra_path=()) -> Run:
    return finish(*start_executor(tmp_path, module, plan, extra_path))


def plan_of(objects, processes, setup=(), setup_process=None, timing=None):
    """A plan as plan.cpp's to_json writes it: no setup_process (default 0) without setup."""
    plan = {"timing": dict(TIMING, **(timing or {})), "objects": objects, "processes": processes}
    if setup or setup_process is not None:
        plan["setup_process"] = setup_process
        plan["setup"] = list(setup)
    return plan


def proc(index, steps, phase=0, role="", close_first=()):
    return {"index": index, "role": role or f"p{index}", "phase": phase,
            "close_first": [list(e) for e in close_first], "steps": steps}


def assert_ran(run: Run, expect_codes: dict):
    assert run.rc == 0, run.stderr
    assert run.exitcodes() == expect_codes, (run.exec, run.notes, run.stderr)
    for i in expect_codes:
        assert run.headers[i]["pid"] == next(x["pid"] for x in run.exec if x.get("process") == i)


def assert_clean(out: Path, *, extra=()):
    """Nothing but the protocol's files (the ticket file is gone)."""
    names = {p.name for p in out.iterdir()}
    allowed = {"exec.jsonl", *extra}
    assert {n for n in names if not (n.startswith("p") and n.endswith(".jsonl"))} <= allowed, names


_PR_SET_CHILD_SUBREAPER = 36


def _processes():
    """{pid: (state, ppid, fields)} of every process, from /proc/<pid>/stat (fields after the
    command's ')', so fields[0] is the state, fields[1] the parent, fields[38] the policy)."""
    out = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2:].split()
        out[int(d.name)] = (fields[0], int(fields[1]), fields)
    return out


def _zombie_children():
    """Pids of this process's children that are zombies (state Z)."""
    me = os.getpid()
    return [pid for pid, (state, ppid, _) in _processes().items() if state == "Z" and ppid == me]


@pytest.fixture(autouse=True)
def reap_orphans():
    """Processes a test orphans (a SIGKILLed executor's children die with it, and their children
    with them) are reparented to this process, a child subreaper, and reaped here: pid 1 reaps
    lazily, and a zombie left for it would count as a leak (ci/leaks)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        for pid in _zombie_children():
            try:
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
        # Orphans still running (dying) are children of ours too: wait for them to end.
        alive = [pid for pid, (_, ppid, _) in _processes().items() if ppid == os.getpid()]
        if not alive:
            break
        time.sleep(0.02)
    libc.prctl(_PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)


def _ppid_of(pid):
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat[stat.rfind(")") + 2:].split()[1])


@pytest.fixture
def impl(mp, impl_name):  # `mp` skips when the module cannot be imported
    return impl_name


# --------------------------------------------------------------------------------------------
# queues

@pytest.mark.timeout(60)
def test_queue_plan(tmp_path, impl):
    """put (block / non-blocking with retry_full), consume with probes, drain."""
    plan = plan_of(
        [{"type": "queue", "maxsize": 2}],
        [proc(0, [{"op": "put", "obj": 0, "item": tag(0, s), "block": True, "timeout": None,
                   "delay_us": 100} for s in range(4)]),
         proc(1, [{"op": "put", "obj": 0, "item": tag(1, s), "block": False, "retry_full": True}
                  for s in range(4)]),
         proc(2, [{"op": "consume", "obj": 0, "quota": 4,
                   "gets": [{"block": True, "timeout": 0.5}, {"block": False, "delay_us": 50}],
                   "probes": ["qsize", "empty", "full", ""]}]),
         proc(3, [{"op": "consume", "obj": 0, "quota": 4, "gets": [{"block": True}],
                   "probes": ["full"]}]),
         proc(4, [{"op": "drain", "obj": 0, "limit": 16}], phase=1)])
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0, 1: 0, 2: 0, 3: 0, 4: 0})

    puts = run.all("put")
    ok_puts = [o["value"] for o in puts if o["outcome"] == "ok"]
    assert sorted(ok_puts) == sorted(tag(p, s) for p in (0, 1) for s in range(4))
    assert {o["timeout"] for o in run.of(0, "put")} == {None}
    assert {o["timeout"] for o in run.of(1, "put")} == {0}
    assert all(o["outcome"] == "ok" or o["error"] == "Full" for o in puts)
    assert [o["value"] for o in run.of(1, "put")
            if o["outcome"] == "ok"] == [tag(1, s) for s in range(4)]

    got = [o["value"] for o in run.all("get") if o["outcome"] == "ok"]
    assert sorted(got) == sorted(ok_puts), "every item got exactly once"
    assert all(o["outcome"] == "ok" or o["error"] == "Empty" for o in run.all("get"))
    assert {o["timeout"] for o in run.of(2, "get")} <= {0.5, 0}
    assert {o["timeout"] for o in run.of(3, "get")} == {None}
    # probes: after every get of consumer 2, in the order qsize, empty, full, none
    kinds = [o["op"] for o in run.of(2) if o["op"] != "get"]
    n_gets = len(run.of(2, "get"))
    assert kinds == [("qsize", "empty", "full", None)[k % 4] for k in range(n_gets) if k % 4 != 3]
    for o in run.of(2, "qsize"):
        assert o["outcome"] == "ok" and 0 <= o["value"] <= 2
    for o in run.of(2, "empty") + run.of(2, "full") + run.of(3, "full"):
        assert o["outcome"] == "ok" and o["value"] in (0, 1)
    # the drainer: phase 1 (after everyone), ends with get(block=False) and get(timeout=settle)
    first = min(o["invoke"] for o in run.of(4))
    assert all(o["ret"] < first for p in range(4) for o in run.of(p))
    last2 = run.of(4, "get")[-2:]
    assert [(o["outcome"], o["error"], o["timeout"]) for o in last2] == [
        ("fail", "Empty", 0), ("fail", "Empty", TIMING["settle"])]
    assert all(run.notes[p] is None for p in range(5))
    assert_clean(run.out)


@pytest.mark.timeout(60)
def test_joinable_plan(tmp_path, impl):
    """task_done (ok and ValueError), join bounded (ok, Timeout), qsize/empty/full steps, setup."""
    setup = [{"op": "put", "obj": 1, "item": tag(5, 0), "block": False}]
    plan = plan_of(
        [{"type": "joinable_queue"}, {"type": "joinable_queue", "maxsize": 3}],
        [proc(0, [{"op": "put", "obj": 0, "item": tag(0, s)} for s in range(3)]),
         proc(1, [{"op": "consume", "obj": 0, "quota": 3, "gets": [{"block": True, "timeout": 1.0}],
                   "task_done": True, "task_pause_us": 1000}]),
         proc(2, [{"op": "sleep", "us": 1000}, {"op": "join", "obj": 0, "timeout": 1.5}]),
         proc(3, [{"op": "join", "obj": 1, "timeout": 0.2}, {"op": "qsize", "obj": 1},
                  {"op": "full", "obj": 1}, {"op": "empty", "obj": 1}]),
         proc(4, [{"op": "task_done", "obj": 0}, {"op": "join", "obj": 0, "timeout": 0.25},
                  {"op": "get", "obj": 1, "block": False}, {"op": "task_done", "obj": 1},
                  {"op": "join", "obj": 1, "timeout": None}], phase=1)],
        setup=setup, setup_process=5)
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0, 1: 0, 2: 0, 3: 0, 4: 0})
    assert [(o["op"], o["obj"], o["value"], o["outcome"], o["timeout"]) for o in run.of(5)] == [
        ("put", 1, tag(5, 0), "ok", 0)]
    assert sorted(o["value"] for o in run.of(1, "get") if o["outcome"] == "ok") == [
        tag(0, s) for s in range(3)]
    assert [(o["outcome"], o["error"]) for o in run.of(1, "task_done")] == [("ok", None)] * 3
    [j] = run.of(2, "join")
    assert (j["outcome"], j["timeout"]) == ("ok", 1.5)
    # it saw the count reach zero: after the last task_done, or before the first put took effect
    assert (j["ret"] >= max(o["invoke"] for o in run.of(1, "task_done"))
            or j["invoke"] <= max(o["ret"] for o in run.of(0, "put")))
    [j] = run.of(3, "join")
    assert (j["outcome"], j["error"], j["timeout"]) == ("fail", "Timeout", 0.2)
    assert 0.2 - CLOCK <= j.duration < 0.2 + 1.0
    assert [(o["op"], o["outcome"]) for o in run.of(3)][1:] == [
        ("qsize", "ok"), ("full", "ok"), ("empty", "ok")]
    assert run.of(3, "qsize")[0]["value"] == 1 and run.of(3, "full")[0]["value"] == 0
    assert run.of(3, "empty")[0]["value"] in ((0, 1) if impl != "mpref" else (0,))
    assert [(o["op"], o["outcome"], o["error"]) for o in run.of(4)] == [
        ("task_done", "fail", "ValueError"), ("join", "ok", None), ("get", "ok", None),
        ("task_done", "ok", None), ("join", "ok", None)]
    assert run.of(4, "get")[0]["value"] == tag(5, 0)
    assert run.of(4, "join")[1]["timeout"] is None


@pytest.mark.timeout(60)
def test_simple_queue_plan(tmp_path, impl):
    """SimpleQueue: put (no arguments), get without and with a timeout, the empty probe only."""
    bounded = impl != "mpref"  # mpref's SimpleQueue.get has no timeout and no internals to use
    consumer = [{"op": "consume", "obj": 0, "quota": 3, "gets": [{"block": True}],
                 "probes": ["empty", "qsize", "full"]}]
    last = ([{"op": "drain", "obj": 0, "limit": 8}, {"op": "get", "obj": 1, "timeout": 0.1}]
            if bounded else [{"op": "empty", "obj": 0}])
    plan = plan_of([{"type": "simple_queue"}, {"type": "simple_queue"}],
                   [proc(0, [{"op": "put", "obj": 0, "item": tag(0, s), "block": False,
                              "timeout": 0.5} for s in range(3)]),
                    proc(1, consumer),
                    proc(2, last, phase=1)])
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0, 1: 0, 2: 0})
    assert [(o["value"], o["outcome"], o["timeout"]) for o in run.of(0)] == [
        (tag(0, s), "ok", None) for s in range(3)]
    # probes cycle per get: empty, qsize, full -> qsize and full are skipped on a SimpleQueue
    assert [o["op"] for o in run.of(1)] == ["get", "empty", "get", "get"]
    assert [o["value"] for o in run.of(1, "get")] == [tag(0, s) for s in range(3)]
    assert all(o["timeout"] is None for o in run.of(1, "get"))
    if bounded:
        assert [(o["obj"], o["outcome"], o["error"], o["timeout"]) for o in run.of(2)] == [
            (0, "fail", "Empty", 0), (0, "fail", "Empty", TIMING["settle"]),
            (1, "fail", "Empty", 0.1)]
        assert run.of(2)[2].duration >= 0.1 - CLOCK
    else:
        assert [(o["op"], o["value"]) for o in run.of(2)] == [("empty", 1)]


# --------------------------------------------------------------------------------------------
# locks, tickets, values

def sections(run, process, obj):
    """(acquire return, release invoke) of each outermost section of `process` on `obj`."""
    out, depth, start = [], 0, None
    for o in run.of(process, obj=obj):
        if o["op"] == "acquire" and o["outcome"] == "ok":
            depth += 1
            if depth == 1:
                start = o["ret"]
        elif o["op"] == "release" and o["outcome"] == "ok" and depth:
            depth -= 1
            if depth == 0:
                out.append((start, o["invoke"]))
    return out


@pytest.mark.timeout(60)
def test_lock_plan(tmp_path, impl):
    """critical_section on Lock and RLock (depth, release_unowned_first, non-blocking), release
    errors, acquire timeouts on a lock held by setup."""
    cs = {"op": "critical_section", "obj": 0, "hold_us": 2000}
    plan = plan_of(
        [{"type": "lock"}, {"type": "rlock"}, {"type": "lock"}],
        [proc(0, [cs, cs]), proc(1, [cs, dict(cs, timeout=1.0)]),
         proc(2, [dict(cs, block=False), dict(cs, delay_us=500)]),
         proc(3, [{"op": "critical_section", "obj": 1, "depth": 3, "hold_us": 1000}]),
         proc(4, [{"op": "critical_section", "obj": 1, "release_unowned_first": True,
                   "timeout": 1.0}]),
         proc(5, [{"op": "acquire", "obj": 2, "timeout": 0.1},
                  {"op": "acquire", "obj": 2, "block": False}]),
         proc(6, [{"op": "release", "obj": 0}, {"op": "release", "obj": 1},
                  {"op": "acquire", "obj": 1, "block": False}, {"op": "release", "obj": 1}],
              phase=1)],
        setup=[{"op": "acquire", "obj": 2, "block": False}], setup_process=7)
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {i: 0 for i in range(7)})
    assert [(o["op"], o["outcome"], o["timeout"]) for o in run.of(7)] == [("acquire", "ok", 0)]
    secs = sorted(s for p in (0, 1, 2) for s in sections(run, p, 0))
    assert all(a[1] <= b[0] for a, b in zip(secs, secs[1:])), "Lock sections overlap"
    assert len(secs) >= 5  # only process 2's non-blocking attempt may fail
    for o in [o for p in (0, 1, 2) for o in run.of(p)]:
        assert (o["outcome"] == "ok"
                or (o["op"], o["error"], o["timeout"]) == ("acquire", "Timeout", 0))
    assert [o["timeout"] for o in run.of(1, "acquire")] == [None, 1.0]
    # RLock: depth 3 (the inner acquires wait forever), then the unowned release
    assert [(o["op"], o["outcome"], o["timeout"]) for o in run.of(3)] == (
        [("acquire", "ok", None)] * 3 + [("release", "ok", None)] * 3)
    assert [(o["op"], o["outcome"], o["error"]) for o in run.of(4)] == [
        ("release", "fail", "AssertionError"), ("acquire", "ok", None), ("release", "ok", None)]
    rsecs = sorted(sections(run, 3, 1) + sections(run, 4, 1))
    assert rsecs[0][1] <= rsecs[1][0], "RLock sections overlap"
    [timed, nowait] = run.of(5)
    assert (timed["outcome"], timed["error"], timed["timeout"]) == ("fail", "Timeout", 0.1)
    assert 0.1 - CLOCK <= timed.duration
    assert (nowait["outcome"], nowait["error"], nowait["timeout"]) == ("fail", "Timeout", 0)
    assert [(o["obj"], o["op"], o["outcome"], o["error"]) for o in run.of(6)] == [
        (0, "release", "fail", "ValueError"), (1, "release", "fail", "AssertionError"),
        (1, "acquire", "ok", None), (1, "release", "ok", None)]


@pytest.mark.timeout(60)
def test_tickets_plan(tmp_path, impl):
    """buy (a ticket file under a Lock, a Value under its own lock), read; the file is gone."""
    buy_file = {"op": "buy", "obj": 0, "store": 1, "attempts": 2, "hold_us": 1000}
    buy_value = {"op": "buy", "obj": 2, "store": 2, "attempts": 1, "hold_us": 1000}
    plan = plan_of(
        [{"type": "lock"}, {"type": "ticket_file", "initial": 2}, {"type": "value", "initial": 2}],
        [proc(0, [buy_file]), proc(1, [buy_file]), proc(2, [buy_file]),
         proc(3, [{"op": "read", "obj": 1}, {"op": "read", "obj": 2}], phase=1),
         proc(4, [buy_value]), proc(5, [buy_value]), proc(6, [buy_value])])
    tmpdir_before = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {i: 0 for i in range(7)})
    for buyers in ((0, 1, 2), (4, 5, 6)):
        buys = [o for p in buyers for o in run.of(p, "buy")]
        assert sorted(o["value"] for o in buys if o["outcome"] == "ok") == [1, 2]
        assert {o["error"] for o in buys if o["outcome"] != "ok"} == {"SoldOut"}
        assert all(o["outcome"] in ("ok", "fail") for o in buys)
    # a buyer stops at its ticket; the one without gets SoldOut `attempts` times
    assert sorted(len(run.of(p, "buy")) for p in (0, 1, 2)) == [1, 1, 2]
    assert sorted(len(run.of(p, "buy")) for p in (4, 5, 6)) == [1, 1, 1]
    assert [(o["obj"], o["outcome"], o["value"]) for o in run.of(3)] == [(1, "ok", 0), (2, "ok", 0)]
    assert_clean(run.out)
    tmpdir_after = set(os.listdir(os.environ.get("TMPDIR", "/tmp")))
    assert not [n for n in tmpdir_after - tmpdir_before if "ticket" in n]


@pytest.mark.timeout(60)
def test_value_plan(tmp_path, impl):
    """increment (with v.get_lock(): v.value += 1) and the final read."""
    inc = {"op": "increment", "obj": 0, "hold_us": 300}
    plan = plan_of([{"type": "value", "initial": 5}],
                   [*(proc(w, [inc] * 3) for w in range(4)),
                    proc(4, [{"op": "read", "obj": 0}], phase=1)])
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {i: 0 for i in range(5)})
    incs = run.all("increment")
    assert all(o["outcome"] == "ok" and o["timeout"] is None for o in incs)
    assert sorted(o["value"] for o in incs) == list(range(6, 18))
    assert [(o["op"], o["value"]) for o in run.of(4)] == [("read", 17)]


# --------------------------------------------------------------------------------------------
# pipes

@pytest.mark.timeout(60)
@pytest.mark.parametrize("as_bytes", [False, True], ids=["pickled", "bytes"])
def test_simplex_pipe_plan(tmp_path, impl, as_bytes):
    """send, close, recv_all with polls until EOF; close_first; the executor's ends closed;
    with `bytes`: send_bytes of the tag as 8 bytes big-endian, recv_bytes."""
    flag = {"bytes": True} if as_bytes else {}
    writer = lambda w: proc(w, [*({"op": "send", "obj": 0, "end": 1, "item": tag(w, s),
                                   "delay_us": 200, **flag} for s in range(3)),
                                {"op": "close", "obj": 0, "end": 1}], close_first=[(0, 0)])
    plan = plan_of([{"type": "pipe", "duplex": False}],
                   [writer(0), writer(1),
                    proc(2, [{"op": "recv_all", "obj": 0, "end": 0, "limit": 14,
                              "polls": [0.5, None], **flag}], close_first=[(0, 1)])])
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0, 1: 0, 2: 0})
    for w in (0, 1):
        assert [(o["op"], o["outcome"], o["value"]) for o in run.of(w)] == [
            *(("send", "ok", tag(w, s)) for s in range(3)), ("close", "ok", 0)]
    ops = run.of(2)
    assert [o["op"] for o in ops] == ["poll", "recv"] * 7
    assert [o["timeout"] for o in ops if o["op"] == "poll"] == [0.5, None] * 3 + [0.5]
    recvs = [o for o in ops if o["op"] == "recv"]
    assert (recvs[-1]["outcome"], recvs[-1]["error"]) == ("fail", "EOFError")
    got = [o["value"] for o in recvs[:-1]]
    assert sorted(got) == sorted(tag(w, s) for w in (0, 1) for s in range(3))
    for w in (0, 1):
        assert [v for v in got if v.startswith(f"{w}:")] == [tag(w, s) for s in range(3)]
    assert all(o["outcome"] == "ok" for o in ops[:-1])


@pytest.mark.timeout(60)
def test_duplex_pipe_plan(tmp_path, impl):
    """Both ends of a duplex pipe; recv_all until_quiet; `record` names the direction."""
    plan = plan_of(
        [{"type": "pipe", "duplex": True}],
        [proc(0, [{"op": "send", "obj": 0, "end": 0, "record": 0, "item": tag(0, s)}
                  for s in range(2)]
              + [{"op": "recv_all", "obj": 0, "end": 0, "record": 1, "limit": 2,
                  "until_quiet": True},
                 {"op": "close", "obj": 0, "end": 0, "record": 0}], close_first=[(0, 1)]),
         proc(1, [{"op": "send", "obj": 0, "end": 1, "record": 1, "item": tag(1, s)}
                  for s in range(2)]
              + [{"op": "recv_all", "obj": 0, "end": 1, "record": 0, "limit": 12},
                 {"op": "close", "obj": 0, "end": 1, "record": 1}], close_first=[(0, 0)])])
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0, 1: 0})
    assert [(o["op"], o["obj"], o["value"]) for o in run.of(0) if o["op"] != "poll"] == [
        ("send", 0, tag(0, 0)), ("send", 0, tag(0, 1)), ("recv", 1, tag(1, 0)),
        ("recv", 1, tag(1, 1)), ("close", 0, 0)]
    polls = run.of(0, "poll")
    assert [(o["obj"], o["outcome"], o["timeout"]) for o in polls] == [
        (1, "ok", TIMING["observe"])] * 2
    assert [(o["op"], o["obj"], o["value"], o["outcome"], o["error"]) for o in run.of(1)] == [
        ("send", 1, tag(1, 0), "ok", None), ("send", 1, tag(1, 1), "ok", None),
        ("recv", 0, tag(0, 0), "ok", None), ("recv", 0, tag(0, 1), "ok", None),
        ("recv", 0, 0, "fail", "EOFError"), ("close", 1, 0, "ok", None)]


@pytest.mark.timeout(60)
def test_recv_bytes_of_another_length_is_0(tmp_path, impl):
    """recv_bytes of a message that is not 8 bytes (here a pickle) is recorded as value 0."""
    plan = plan_of([{"type": "pipe", "duplex": False}],
                   [proc(0, [{"op": "send", "obj": 0, "end": 1, "item": tag(0, 0)},
                             {"op": "send", "obj": 0, "end": 1, "item": tag(0, 1), "bytes": True}]),
                    proc(1, [{"op": "recv", "obj": 0, "end": 0, "bytes": True},
                             {"op": "recv", "obj": 0, "end": 0, "bytes": True}])])
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0, 1: 0})
    assert [(o["op"], o["outcome"], o["value"]) for o in run.of(1)] == [
        ("recv", "ok", 0), ("recv", "ok", tag(0, 1))]


@pytest.mark.timeout(60)
def test_broken_pipe_ends_the_steps(tmp_path, impl):
    """A send that raises BrokenPipeError fails and ends the process's steps (exit code 0)."""
    plan = plan_of([{"type": "pipe", "duplex": False}],
                   [proc(0, [{"op": "send", "obj": 0, "end": 1, "item": tag(0, 0)},
                             {"op": "send", "obj": 0, "end": 1, "item": tag(0, 1)}],
                         close_first=[(0, 0)])])
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0})
    assert [(o["op"], o["value"], o["outcome"], o["error"]) for o in run.of(0)] == [
        ("send", tag(0, 0), "fail", "BrokenPipeError")]
    assert "BrokenPipeError" in run.notes[0]


# --------------------------------------------------------------------------------------------
# timeouts, processes

@pytest.mark.timeout(60)
def test_timeouts_plan(tmp_path, impl):
    """Every timed call on an object that must make it time out, as the timeouts property does;
    timed_process_join; zero and negative timeouts recorded as 0."""
    objects = [{"type": "queue"}, {"type": "queue", "maxsize": 1}, {"type": "lock"},
               {"type": "rlock"}, {"type": "joinable_queue"}, {"type": "pipe", "duplex": False}]
    setup = [{"op": "put", "obj": 1, "item": tag(2, 0), "block": False},
             {"op": "put", "obj": 1, "item": tag(2, 1), "block": False},
             {"op": "acquire", "obj": 2, "block": False},
             {"op": "acquire", "obj": 3, "block": False},
             {"op": "put", "obj": 4, "item": tag(2, 1000), "block": False}]
    t = 0.1
    timed = [{"op": "get", "obj": 0, "timeout": t},
             {"op": "put", "obj": 1, "item": tag(0, 0), "timeout": t},
             {"op": "acquire", "obj": 2, "timeout": t},
             {"op": "acquire", "obj": 3, "timeout": t},
             {"op": "join", "obj": 4, "timeout": t},
             {"op": "poll", "obj": 5, "end": 0, "timeout": t},
             {"op": "timed_process_join", "timeout": t}]
    nowait = [{"op": "get", "obj": 0, "timeout": -1.0},
              {"op": "put", "obj": 1, "item": tag(1, 0), "timeout": 0},
              {"op": "acquire", "obj": 3, "block": True, "timeout": 0.0},
              {"op": "poll", "obj": 5, "end": 0, "timeout": 0},
              {"op": "timed_process_join", "timeout": 0}]
    plan = plan_of(objects, [proc(0, timed),  # keeps the write end: the pipe stays quiet
                             proc(1, nowait)],
                   setup=setup, setup_process=2)
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0, 1: 0})
    assert [(o["op"], o["obj"], o["outcome"], o["error"]) for o in run.of(2)] == [
        ("put", 1, "ok", None), ("put", 1, "fail", "Full"), ("acquire", 2, "ok", None),
        ("acquire", 3, "ok", None), ("put", 4, "ok", None)]
    ops = run.of(0)
    assert [(o["op"], o["outcome"], o["error"], o["timeout"]) for o in ops] == [
        ("get", "fail", "Empty", t), ("put", "fail", "Full", t),
        ("acquire", "fail", "Timeout", t), ("acquire", "fail", "Timeout", t),
        ("join", "fail", "Timeout", t), ("poll", "fail", "Timeout", t),
        ("process_join", "fail", "Timeout", t)]
    for o in ops:
        assert t - CLOCK <= o.duration < t + 1.0, o
    ops = run.of(1)
    assert [(o["op"], o["outcome"], o["error"], o["timeout"]) for o in ops] == [
        ("get", "fail", "Empty", 0), ("put", "fail", "Full", 0),
        ("acquire", "fail", "Timeout", 0), ("poll", "fail", "Timeout", 0),
        ("process_join", "fail", "Timeout", 0)]
    for o in ops:
        assert o.duration < 1.0, o


@pytest.mark.timeout(60)
def test_daemon_plan(tmp_path, impl):
    """start_children (daemonic and not), exit_handling, observe (pidfd), the children's exit."""
    plan = plan_of([], [
        proc(0, [{"op": "start_children", "children": [
                    {"process": 2, "daemon": True},
                    {"process": 3, "daemon": False, "run_us": 300_000},
                    {"process": 4, "daemon": False, "run_us": 0}]},
                 {"op": "sleep", "us": 50_000}, {"op": "exit_handling"},
                 {"op": "sleep", "us": 1}],  # never runs: the process exits after its exit work
             role="parent"),
        proc(1, [{"op": "observe", "watch": [0, 2, 3, 4]}], role="observer")])
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0, 1: 0})
    starts = run.of(0, "start")
    assert [(o["value"], o["aux"], o["outcome"]) for o in starts] == [
        (2, 1, "ok"), (3, 0, "ok"), (4, 0, "ok")]
    [exit_] = run.of(0, "exit")
    assert exit_["outcome"] == "ok"
    # after the exit work, each child's Process.exitcode (aux: the child), an instant op
    assert [o["op"] for o in run.of(0)] == ["start"] * 3 + ["exit"] + ["exitcode"] * 3
    codes = run.of(0, "exitcode")
    assert [(o["aux"], o["value"], o["outcome"]) for o in codes] == [
        (2, -signal.SIGTERM, "ok"), (3, 0, "ok"), (4, 0, "ok")]
    assert all(o["invoke"] == o["ret"] >= exit_["ret"] for o in codes)
    gone = {o["value"]: o for o in run.of(1, "gone")}
    assert sorted(gone) == [0, 2, 3, 4]
    assert all(o["outcome"] == "ok" for o in gone.values())
    watch_start = max(o["invoke"] for o in gone.values())
    # the children waited for the observer, then lived run_us and recorded their exit
    for c in (3, 4):
        [e] = run.of(c)
        assert (e["op"], e["outcome"], e["invoke"] == e["ret"]) == ("exit", "ok", True)
        assert e["invoke"] >= watch_start
        assert gone[c]["ret"] >= e["ret"]
    assert run.of(3)[0]["invoke"] - watch_start >= 0.3e9
    # the daemonic child was terminated by the exit work (it would have lived daemon_life)
    assert run.of(2) == []
    assert gone[2]["ret"] - exit_["invoke"] < 0.5e9
    assert exit_["ret"] >= run.of(3)[0]["ret"]  # the exit work joined the non-daemonic child
    assert gone[0]["ret"] >= exit_["ret"]
    assert set(run.headers) == {0, 1, 2, 3, 4}  # no setup, no setup file


@pytest.mark.timeout(60)
def test_observing_an_ended_process_is_info(tmp_path, impl):
    """A gone op needs the process alive at its invoke: one already ended (a zombie: the
    executor is still joining process 0) is recorded info, not ok; a live one is ok."""
    plan = plan_of([], [proc(0, [{"op": "sleep", "us": 300_000},
                                 {"op": "observe", "watch": [1, 2]}]),
                        proc(1, []), proc(2, [{"op": "sleep", "us": 600_000}])])
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0, 1: 0, 2: 0})
    gone = {o["value"]: o for o in run.of(0, "gone")}
    assert (gone[1]["outcome"], gone[1]["error"]) == ("info", None)
    assert gone[1]["ret"] is not None
    assert gone[2]["outcome"] == "ok"


# --------------------------------------------------------------------------------------------
# failures: refused plans, modules that do not import, unexpected exceptions, killed processes

@pytest.mark.timeout(60)
@pytest.mark.parametrize("module", ["mpconform_no_such_module", "broken_at_import"])
def test_import_failure_forks_nothing(tmp_path, module):
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "broken_at_import.py").write_text(
        "raise RuntimeError('broken on purpose')\n")
    plan = plan_of([{"type": "queue"}], [proc(0, [{"op": "put", "obj": 0, "item": tag(0, 0)}])])
    run = execute(tmp_path, module, plan, extra_path=[tmp_path / "mods"])
    assert run.rc == 2
    assert len(run.stderr.strip().splitlines()) == 1 and module in run.stderr
    assert {p.name for p in run.out.iterdir()} == {"error.json"}  # no process file: nothing forked
    err = json.loads((run.out / "error.json").read_text())
    assert err["error"] == "import" and module in err["message"]


MISSING = """
import multiprocessing as _mp
_ctx = _mp.get_context("fork")
Process, Queue, Lock = _ctx.Process, _ctx.Queue, _ctx.Lock
"""


@pytest.mark.timeout(60)
def test_missing_api_forks_nothing(tmp_path):
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "mp_partial.py").write_text(MISSING)
    plan = plan_of([{"type": "queue"}, {"type": "joinable_queue"}],
                   [proc(0, [{"op": "put", "obj": 0, "item": tag(0, 0)}])])
    run = execute(tmp_path, "mp_partial", plan, extra_path=[tmp_path / "mods"])
    assert run.rc == 2, run.stderr
    assert {p.name for p in run.out.iterdir()} == {"error.json"}
    err = json.loads((run.out / "error.json").read_text())
    assert err["error"] == "missing" and "JoinableQueue" in err["message"]


@pytest.mark.timeout(60)
def test_exit_handling_without_util_is_info(tmp_path):
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "mp_partial.py").write_text(MISSING)
    plan = plan_of([], [proc(0, [{"op": "exit_handling"}, {"op": "sleep", "us": 1}])])
    run = execute(tmp_path, "mp_partial", plan, extra_path=[tmp_path / "mods"])
    assert_ran(run, {0: 3})
    assert [(o["op"], o["outcome"], o["error"]) for o in run.of(0)] == [("exit", "info", "Other")]
    assert "_exit_function" in run.notes[0]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("bad, field", [
    ({"op": "pot", "obj": 0}, "processes[0].steps[1].op"),
    ({"op": "get", "obj": 3}, "processes[0].steps[1].obj"),
    ({"op": "get", "obj": 0, "timout": 1}, "processes[0].steps[1].timout"),
    ({"op": "get", "obj": 0, "item": "0:1"}, "processes[0].steps[1].item"),  # not a get field
    ({"op": "put", "obj": 0, "item": "1-2"}, "processes[0].steps[1].item"),
    ({"op": "put", "obj": 0, "item": "0:1", "timeout": 61}, "processes[0].steps[1].timeout"),
    ({"op": "close", "obj": 0}, "processes[0].steps[1].obj"),  # close is for pipe ends
    ({"op": "task_done", "obj": 0}, "processes[0].steps[1].obj"),
    ({"op": "get", "obj": 0, "block": "yes"}, "processes[0].steps[1].block"),
    ({"op": "observe", "watch": [7]}, "processes[0].steps[1].watch[0]"),
])
def test_malformed_plan_is_refused(tmp_path, bad, field):
    plan = plan_of([{"type": "queue"}], [proc(0, [{"op": "sleep", "us": 1}, bad])])
    run = execute(tmp_path, "multiprocessing", plan)
    assert run.rc == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], run.stderr
    assert list(run.out.iterdir()) == []  # nothing forked, nothing written


@pytest.mark.timeout(60)
def test_refused_setup_and_limits(tmp_path):
    one = [proc(0, [])]
    cases = [
        (plan_of([{"type": "queue"}], one, setup=[{"op": "get", "obj": 0}], setup_process=1),
         "setup[0]: a setup step must not wait"),
        (plan_of([{"type": "lock"}], one, setup=[{"op": "release", "obj": 0}], setup_process=1),
         "setup[0]: a setup step must not wait"),
        (plan_of([{"type": "lok"}], one), "objects[0].type"),
        (plan_of([{"type": "queue"}] * 17, one), "objects"),
        (plan_of([{"type": "queue", "maxsize": -2}], one), "objects[0].maxsize"),
        (plan_of([], []), "processes: no process"),
        (plan_of([], [proc(0, []), proc(0, [])]), "processes[1].index"),
        (plan_of([], [proc(0, [{"op": "start_children", "children": [{"process": 0}]}])]),
         "processes[0].steps[0].children"),
        (plan_of([{"type": "queue"}], one, setup=[{"op": "qsize", "obj": 0}], setup_process=0),
         "setup_process"),
        (plan_of([], [proc(0, [], phase=9)]), "processes[0].phase"),
        (dict(plan_of([], one), extra=1), "extra"),
        ({"objects": [], "processes": [{"role": "no index", "steps": []}]}, "index"),
    ]
    for k, (plan, field) in enumerate(cases):
        sub = tmp_path / str(k)
        sub.mkdir()
        run = execute(sub, "multiprocessing", plan)
        assert run.rc == 2 and field in run.stderr, (field, run.stderr)


@pytest.mark.timeout(60)
def test_unexpected_exception_is_info_note_exit_3(tmp_path, impl):
    """send on the read-only end of a simplex pipe and recv on a closed end raise OSError (a
    send expects only BrokenPipeError, a recv only EOFError): info with its return time, the
    note says why, exit code 3, and nothing after it runs."""
    plan = plan_of(
        [{"type": "pipe", "duplex": False}],
        [proc(0, [{"op": "send", "obj": 0, "end": 0, "item": tag(0, 0)},
                  {"op": "send", "obj": 0, "end": 1, "item": tag(0, 1)}]),
         proc(1, [{"op": "close", "obj": 0, "end": 0}, {"op": "recv", "obj": 0, "end": 0},
                  {"op": "recv", "obj": 0, "end": 0}])])
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 3, 1: 3})
    assert [(o["op"], o["value"], o["outcome"], o["error"]) for o in run.of(0)] == [
        ("send", tag(0, 0), "info", "OSError")]
    assert run.of(0)[0]["ret"] is not None  # info with its return time: it raised
    assert run.notes[0] == "OSError: connection is read-only"
    assert [(o["op"], o["outcome"], o["error"]) for o in run.of(1)] == [
        ("close", "ok", None), ("recv", "info", "OSError")]
    assert run.notes[1].startswith("OSError: ")


RAISING = """
import multiprocessing as _mp
from multiprocessing import queues as _queues
_ctx = _mp.get_context("fork")
Process, Lock = _ctx.Process, _ctx.Lock


class _Queue(_queues.Queue):
    def get(self, block=True, timeout=None):
        raise RuntimeError("get is broken on purpose")

    def qsize(self):
        raise KeyError("qsize")


def Queue(maxsize=0):
    return _Queue(maxsize, ctx=_ctx)
"""


@pytest.mark.timeout(60)
def test_unexpected_exception_names(tmp_path):
    """The error's name is the closest of the protocol's (RuntimeError; a KeyError is Other)."""
    (tmp_path / "mods").mkdir()
    (tmp_path / "mods" / "mp_raising.py").write_text(RAISING)
    plan = plan_of([{"type": "queue"}],
                   [proc(0, [{"op": "get", "obj": 0, "block": False}, {"op": "qsize", "obj": 0}]),
                    proc(1, [{"op": "qsize", "obj": 0}, {"op": "get", "obj": 0}])])
    run = execute(tmp_path, "mp_raising", plan, extra_path=[tmp_path / "mods"])
    assert_ran(run, {0: 3, 1: 3})
    assert [(o["op"], o["outcome"], o["error"], o["timeout"]) for o in run.of(0)] == [
        ("get", "info", "RuntimeError", 0)]
    assert run.notes[0] == "RuntimeError: get is broken on purpose"
    assert [(o["op"], o["outcome"], o["error"]) for o in run.of(1)] == [("qsize", "info", "Other")]
    assert run.notes[1] == "KeyError: 'qsize'"


@pytest.mark.timeout(60)
def test_killed_in_blocking_get_leaves_invoke_only(tmp_path, impl):
    plan = plan_of([{"type": "queue"}],
                   [proc(0, [{"op": "get", "obj": 0, "block": True, "timeout": None}]),
                    proc(1, [{"op": "qsize", "obj": 0}])])
    out, p = start_executor(tmp_path, impl, plan)
    deadline = time.monotonic() + 10
    lines = []
    while len(lines) < 2 and time.monotonic() < deadline:  # the header and the get's invoke
        f = out / "p0.jsonl"
        lines = f.read_text().splitlines() if f.exists() else []
        time.sleep(0.01)
    assert len(lines) == 2, lines
    time.sleep(0.05)  # well inside the get
    os.kill(json.loads(lines[0])["pid"], signal.SIGKILL)
    run = finish(out, p)
    assert_ran(run, {0: -signal.SIGKILL, 1: 0})
    [get] = run.of(0)
    assert (get["op"], get["outcome"], get["ret"], get["timeout"]) == ("get", "info", None, None)
    assert run.notes[0] is None
    assert [(o["op"], o["outcome"], o["value"]) for o in run.of(1)] == [("qsize", "ok", 0)]


@pytest.mark.timeout(60)
def test_nothing_outlives_a_killed_executor(tmp_path, impl):
    """The executor SIGKILLed while its processes block: they die with it (PR_SET_PDEATHSIG)."""
    plan = plan_of([{"type": "queue"}],
                   [proc(i, [{"op": "get", "obj": 0, "block": True, "timeout": None}])
                    for i in range(3)])
    out, p = start_executor(tmp_path, impl, plan)
    deadline = time.monotonic() + 10
    pids = []
    while len(pids) < 3 and time.monotonic() < deadline:
        pids = []
        for i in range(3):
            f = out / f"p{i}.jsonl"
            lines = f.read_text().splitlines() if f.exists() else []
            if len(lines) >= 2:
                pids.append(json.loads(lines[0])["pid"])
        time.sleep(0.01)
    assert len(pids) == 3
    os.kill(p.pid, signal.SIGKILL)
    p.communicate(timeout=RUN_TIMEOUT)
    deadline = time.monotonic() + 5
    alive = pids
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in pids if Path(f"/proc/{pid}").exists()
                 and "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1][:3]]
        time.sleep(0.02)
    assert not alive, f"processes outlived the executor: {alive}"


# --------------------------------------------------------------------------------------------
# other modules

def queue_plan_10():
    """4 producers x 10 items, 4 consumers, a drainer."""
    producers = [proc(p, [{"op": "put", "obj": 0, "item": tag(p, s), "block": False,
                           "retry_full": True} for s in range(10)]) for p in range(4)]
    consumers = [proc(4 + c, [{"op": "consume", "obj": 0, "quota": 10,
                               "gets": [{"block": True, "timeout": 0.25}, {"block": False}],
                               "probes": ["qsize", ""]}]) for c in range(4)]
    return plan_of([{"type": "queue", "maxsize": 4}],
                   producers + consumers
                   + [proc(8, [{"op": "drain", "obj": 0, "limit": 56}], phase=1)])


def assert_drained(run):
    assert_ran(run, {i: 0 for i in range(9)})
    put = sorted(o["value"] for o in run.all("put") if o["outcome"] == "ok")
    assert put == sorted(tag(p, s) for p in range(4) for s in range(10))
    got = sorted(o["value"] for o in run.all("get") if o["outcome"] == "ok")
    assert got == put
    assert [o["error"] for o in run.of(8)[-2:]] == ["Empty", "Empty"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("module", ["billiard", "multiprocess"])
def test_other_modules_run_a_queue_plan(tmp_path, module):
    r = subprocess.run([PYTHON, "-c", f"import {module}"], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"{module} is not installed for {PYTHON}")
    assert_drained(execute(tmp_path, module, queue_plan_10()))


@pytest.mark.timeout(60)
def test_queue_plan_10_processes(tmp_path, impl):
    assert_drained(execute(tmp_path, impl, queue_plan_10()))


@pytest.mark.timeout(60)
def test_mutant_lost_item_shows_in_the_history(tmp_path):
    """The module's own objects are used: mpc_mutant_lost_item's Queue drops each process's
    third put, so one ok put per producer is never got."""
    plan = plan_of([{"type": "queue"}],
                   [proc(0, [{"op": "put", "obj": 0, "item": tag(0, s)} for s in range(4)]),
                    proc(1, [{"op": "drain", "obj": 0, "limit": 16}], phase=1)])
    run = execute(tmp_path, "mpc_mutant_lost_item", plan)
    assert_ran(run, {0: 0, 1: 0})
    assert [o["outcome"] for o in run.of(0)] == ["ok"] * 4
    got = [o["value"] for o in run.of(1, "get") if o["outcome"] == "ok"]
    assert got == [tag(0, 0), tag(0, 1), tag(0, 3)]


# --------------------------------------------------------------------------------------------
# PCT schedules (INTERPRETING.md, "Schedule modes"): every plan process pinned to one CPU at its
# SCHED_FIFO priority, a change point drops the caller to a low one, delays are not slept

SCHED_OTHER, SCHED_FIFO = 0, 1
PCT_CPU = max(os.sched_getaffinity(0))  # the harness's pct_cpu() is the last online CPU


@functools.lru_cache(maxsize=None)
def _fifo_problem():
    """None when a process of ours may enter SCHED_FIFO (probed in a child), else why not."""
    r = subprocess.run([PYTHON, "-c", "import os\n"
                        "os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))"],
                       capture_output=True, text=True, timeout=RUN_TIMEOUT)
    if r.returncode == 0:
        return None
    last = (r.stderr.strip().splitlines() or ["exit %d" % r.returncode])[-1]
    return f"SCHED_FIFO is not permitted here (needs root or CAP_SYS_NICE): {last}"


@pytest.fixture
def fifo():
    problem = _fifo_problem()
    if problem:
        pytest.skip(problem)


def pct_plan(objects, processes, priorities, change_points=(), cpu=PCT_CPU, **kw):
    plan = plan_of(objects, processes, **kw)
    plan["schedule"] = {"mode": "pct", "priorities": list(priorities),
                        "change_points": list(change_points), "cpu": cpu}
    return plan


def _cpu_list(text):
    cpus = set()
    for part in text.strip().split(","):
        lo, _, hi = part.partition("-")
        cpus.update(range(int(lo), int(hi or lo) + 1))
    return cpus


def sched_of(pid, tid=None):
    """(policy, rt_priority, allowed CPUs) of a process (or one of its threads), from /proc:
    stat fields 41 and 40, status Cpus_allowed_list."""
    base = Path(f"/proc/{pid}") if tid is None else Path(f"/proc/{pid}/task/{tid}")
    stat = (base / "stat").read_text()
    fields = stat[stat.rfind(")") + 2:].split()  # fields[0] is field 3 (state)
    status = (base / "status").read_text()
    allowed = status.split("Cpus_allowed_list:")[1].split("\n")[0]
    return int(fields[38]), int(fields[37]), _cpu_list(allowed)


def _lines(f: Path):
    """The complete lines of a process file being written (a line is one os.write)."""
    text = f.read_text() if f.exists() else ""
    return [json.loads(x) for x in text[:text.rfind("\n") + 1].splitlines()]


@contextlib.contextmanager
def blocked(tmp_path, module, plan, calls, timeout=10.0):
    """Starts the executor on `plan` and waits until each process index i of `calls` has written
    its calls[i]-th invoke line (a get that waits forever) and nothing after it; yields
    ({i: pid}, a list that then holds the Run). Then kills those processes (SIGKILL: exit code
    -9 each) and reads the run; on any failure the executor's whole session is killed (its
    processes die with it: PR_SET_PDEATHSIG)."""
    out, p = start_executor(tmp_path, module, plan)
    result = []
    try:
        deadline = time.monotonic() + timeout
        while True:
            pids, ready = {}, True
            for i, n in calls.items():
                lines = _lines(out / f"p{i}.jsonl")
                if lines:
                    pids[i] = lines[0]["pid"]
                notes = [x["note"] for x in lines if "note" in x]
                assert not notes, (i, notes)
                if len(lines) != 1 + 2 * (n - 1) + 1 or "i" not in lines[-1]:
                    ready = False
            if ready:
                break
            assert p.poll() is None, f"the executor ended: {p.communicate()}"
            assert time.monotonic() < deadline, f"not all blocked in time: {pids} {calls}"
            time.sleep(0.01)
        time.sleep(0.05)  # well inside the get
        yield pids, result
    except BaseException:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        raise
    for pid in pids.values():
        os.kill(pid, signal.SIGKILL)
    run = finish(out, p)
    assert_ran(run, {i: -signal.SIGKILL for i in pids})
    result.append(run)


def block_forever(obj=0):
    return {"op": "get", "obj": obj, "block": True, "timeout": None}


@pytest.mark.timeout(60)
def test_pct_pins_every_process_at_its_priority(tmp_path, impl, fifo):
    """(a) Each plan process runs pinned to `cpu` at SCHED_FIFO priorities[index] (threads the
    implementation started, e.g. a Queue's feeder, inherit both), while the executor itself stays
    at normal priority on every CPU it had."""
    priorities = [7, 2, 5, 9]
    plan = pct_plan([{"type": "queue"}, {"type": "queue"}],
                    [proc(0, [block_forever()]), proc(1, [block_forever()]),
                     proc(2, [{"op": "qsize", "obj": 0}, block_forever()]),
                     proc(3, [{"op": "put", "obj": 1, "item": tag(3, 0)}, block_forever()])],
                    priorities, change_points=[1000])
    with blocked(tmp_path, impl, plan, {0: 1, 1: 1, 2: 2, 3: 2}) as (pids, result):
        for i, pid in pids.items():
            for tid in sorted(int(t.name) for t in Path(f"/proc/{pid}/task").iterdir()):
                assert sched_of(pid, tid) == (SCHED_FIFO, priorities[i], {PCT_CPU}), (i, tid)
        executor = _ppid_of(pids[0])  # the plan processes are the executor's children
        assert sched_of(executor) == (SCHED_OTHER, 0, os.sched_getaffinity(0)), "the executor"
    [run] = result
    assert [o["op"] for o in run.all()] == ["get", "get", "qsize", "get", "put", "get"]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("change_points, priority", [
    ([2], 1),     # after its second call (a qsize), before the get
    ([3], 1),     # the get itself is call 3: dropped before it
    ([4], 5),     # never reached: its own priority
    ([1, 3], 2),  # change point i sets i + 1
    ([2, 2], 2),  # equal change points (drawn with replacement): the last one's
])
def test_pct_change_point_drops_the_caller(tmp_path, fifo, change_points, priority):
    """(b) The process whose call is change point i runs at priority i + 1 from that call on."""
    plan = pct_plan([{"type": "queue"}],
                    [proc(0, [{"op": "qsize", "obj": 0}, {"op": "qsize", "obj": 0},
                              block_forever()])],
                    [5], change_points)
    with blocked(tmp_path, "multiprocessing", plan, {0: 3}) as (pids, _):
        assert sched_of(pids[0]) == (SCHED_FIFO, priority, {PCT_CPU})


@pytest.mark.timeout(60)
@pytest.mark.parametrize("past", [0, 1], ids=["last-call", "one-past"])
def test_pct_counter_is_exact(tmp_path, fifo, past):
    """(c) The run's call counter loses nothing although processes are preempted at any instant:
    three low-priority processes make many calls while three high-priority ones wake up every
    ~0.2 ms (acquires timing out on a lock setup holds) and preempt them in the middle of their
    calls; everyone ends blocked in a get. A change point at exactly the total count fires (one
    process at priority 1); one past it never does."""
    n_low, n_high = 3000, 400
    low = [proc(i, [{"op": "qsize", "obj": 0}] * n_low + [block_forever()]) for i in range(3)]
    high = [proc(i, [{"op": "acquire", "obj": 1, "timeout": 0.0002}] * n_high + [block_forever()])
            for i in (3, 4, 5)]
    total = 3 * (n_low + 1) + 3 * (n_high + 1)
    priorities = [3, 4, 5, 7, 8, 9]
    plan = pct_plan([{"type": "queue"}, {"type": "lock"}], low + high, priorities,
                    [total + past], setup=[{"op": "acquire", "obj": 1, "block": False}],
                    setup_process=6)
    calls = {i: n_low + 1 for i in range(3)} | {i: n_high + 1 for i in (3, 4, 5)}
    with blocked(tmp_path, "multiprocessing", plan, calls, timeout=30) as (pids, result):
        seen = {i: sched_of(pid)[1] for i, pid in pids.items()}
    [run] = result
    assert sum(len(run.of(i)) for i in range(6)) == total
    dropped = [i for i in seen if seen[i] == 1]
    if past:
        assert not dropped, f"a change point past the last call fired: {seen}"
    else:
        assert len(dropped) == 1, f"the change point at the last call ({total}): {seen}"
    assert all(seen[i] == priorities[i] for i in seen if i not in dropped), seen
    # the high-priority processes did preempt the others in the middle of their calls: a timed
    # out acquire returned (one CPU) while a low one's call was in flight
    wakes = sorted(o["ret"] for i in (3, 4, 5) for o in run.of(i, "acquire"))
    inside = sum(1 for i in range(3) for o in run.of(i, "qsize")
                 if bisect.bisect_right(wakes, o["invoke"]) < bisect.bisect_left(wakes, o["ret"]))
    assert inside >= 20, f"only {inside} low calls were preempted"


def delays_plan():
    """~1.1 s of the plan's delays, holds, pauses and sleep steps in process 0; process 1's
    timed_process_join child lives daemon_life whatever the mode."""
    return ([{"type": "joinable_queue"}, {"type": "lock"}, {"type": "value", "initial": 3}],
            [proc(0, [{"op": "qsize", "obj": 0, "delay_us": 300_000},
                      {"op": "sleep", "us": 300_000},
                      {"op": "critical_section", "obj": 1, "delay_us": 100_000,
                       "hold_us": 100_000},
                      {"op": "increment", "obj": 2, "hold_us": 100_000},
                      {"op": "put", "obj": 0, "item": tag(0, 0)},
                      {"op": "consume", "obj": 0, "quota": 1, "gets": [{"timeout": 1.0}],
                       "task_done": True, "task_pause_us": 100_000},
                      {"op": "buy", "obj": 2, "store": 2, "hold_us": 100_000}]),
             proc(1, [{"op": "timed_process_join", "timeout": 0.2}])])


@pytest.mark.timeout(60)
@pytest.mark.parametrize("mode", ["pct", "delays"])
def test_pct_does_not_sleep_delays(tmp_path, mode):
    """(d) Under PCT the plan's delay_us, hold_us, task_pause_us and sleep steps are not slept;
    in mode delays (and without a schedule) they are. A timed_process_join child's life is what
    the process is: it stays."""
    if mode == "pct" and _fifo_problem():
        pytest.skip(_fifo_problem())
    objects, processes = delays_plan()
    if mode == "pct":
        plan = pct_plan(objects, processes, [3, 2])
    else:
        plan = dict(plan_of(objects, processes), schedule={"mode": "delays"})
    run = execute(tmp_path, "multiprocessing", plan)
    assert_ran(run, {0: 0, 1: 0})
    ops = run.of(0)
    assert [(o["op"], o["outcome"]) for o in ops] == [
        ("qsize", "ok"), ("acquire", "ok"), ("release", "ok"), ("increment", "ok"),
        ("put", "ok"), ("get", "ok"), ("task_done", "ok"), ("buy", "ok")]
    span = (ops[-1]["ret"] - ops[0]["invoke"]) / 1e9
    if mode == "pct":
        assert span < 0.25, f"pct slept the plan's delays: {span:.3f} s"
    else:
        assert span >= 0.8 - CLOCK, f"delays mode did not sleep them: {span:.3f} s"
    [join] = run.of(1)
    assert (join["op"], join["outcome"], join["error"]) == ("process_join", "fail", "Timeout")
    assert join.duration >= 0.2 - CLOCK


@pytest.mark.timeout(60)
@pytest.mark.parametrize("schedule, field", [
    ([], "schedule: must be an object"),
    ({"mode": "pct", "priorities": [3], "seed": 1}, "schedule.seed: unknown field"),
    ({"mode": "PCT", "priorities": [3]}, "schedule.mode"),
    ({"mode": "pct"}, "missing field 'priorities'"),
    ({"mode": "pct", "priorities": 3}, "schedule.priorities: must be a list"),
    ({"mode": "pct", "priorities": [3, "4"]}, "schedule.priorities[1]: must be an integer"),
    ({"mode": "pct", "priorities": [3, 99]}, "schedule.priorities[1]: is 99"),
    ({"mode": "pct", "priorities": [0, 4]}, "schedule.priorities[0]: is 0"),
    ({"mode": "pct", "priorities": [3, 3]}, "schedule.priorities[1]: 3 is also process 0's"),
    ({"mode": "pct", "priorities": [3, 2], "change_points": [5, 9]},
     "schedule.priorities[1]: is 2, expected 3..98"),
    ({"mode": "pct", "priorities": [3]}, "schedule.priorities: none for process 1"),
    ({"mode": "pct", "priorities": [3, 4], "change_points": [9, 5]},
     "schedule.change_points[1]: must be ascending"),
    ({"mode": "pct", "priorities": [3, 4], "change_points": [0]},
     "schedule.change_points[0]: is 0"),
    ({"mode": "pct", "priorities": [3, 4], "change_points": [True]},
     "schedule.change_points[0]: must be an integer"),
    ({"mode": "pct", "priorities": [3, 4], "cpu": -1}, "schedule.cpu: is -1"),
    ({"mode": "pct", "priorities": [3, 4], "cpu": 1.0}, "schedule.cpu: must be an integer"),
    ({"mode": "delays", "priorities": [3, 4]}, "schedule.priorities: only for mode pct"),
    ({"priorities": [3, 4]}, "schedule.priorities: only for mode pct"),
])
def test_pct_malformed_schedule_is_refused(tmp_path, schedule, field):
    """(e) One line naming the field, exit 2, nothing forked (nothing written)."""
    plan = plan_of([{"type": "queue"}], [proc(0, [{"op": "qsize", "obj": 0}]),
                                         proc(1, [{"op": "qsize", "obj": 0}])])
    plan["schedule"] = schedule
    run = execute(tmp_path, "multiprocessing", plan)
    assert run.rc == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], run.stderr
    assert list(run.out.iterdir()) == []


@pytest.mark.timeout(60)
def test_pct_failing_to_enter_is_a_note_and_exit_3(tmp_path):
    """A process that cannot be pinned (no such CPU) writes why and exits 3 before any call."""
    plan = pct_plan([{"type": "queue"}], [proc(0, [{"op": "qsize", "obj": 0}]),
                                          proc(1, [{"op": "get", "obj": 0, "timeout": 0.2}])],
                    [3, 2], cpu=8000)
    run = execute(tmp_path, "multiprocessing", plan)
    assert_ran(run, {0: 3, 1: 3})
    for i in (0, 1):
        assert run.of(i) == []
        assert run.notes[i].startswith("sched_setaffinity(CPU 8000): "), run.notes[i]


def _live_descendants():
    """{pid: policy} of this process's live descendants (orphans of a run are reparented to it, a
    child subreaper: see reap_orphans)."""
    parent, policy = {}, {}
    for pid, (state, ppid, fields) in _processes().items():
        if state not in ("Z", "X"):
            parent[pid], policy[pid] = ppid, int(fields[38])
    out, frontier = {}, [os.getpid()]
    while frontier:
        me = frontier.pop()
        for pid, pp in parent.items():
            if pp == me and pid not in out:
                out[pid] = policy[pid]
                frontier.append(pid)
    return out


def daemon_pct_plan():
    return pct_plan([{"type": "queue"}], [
        proc(0, [{"op": "start_children", "children": [
                    {"process": 2, "daemon": True},
                    {"process": 3, "daemon": False, "run_us": 200_000},
                    {"process": 4, "daemon": False, "run_us": 0}]},
                 {"op": "timed_process_join", "timeout": 0.05},
                 {"op": "exit_handling"}], role="parent"),
        proc(1, [{"op": "observe", "watch": [0, 2, 3, 4]}], role="observer"),
        proc(5, [{"op": "put", "obj": 0, "item": tag(5, s)} for s in range(3)]),
        proc(6, [{"op": "consume", "obj": 0, "quota": 3, "gets": [{"block": False}]}])],
        [6, 3, 10, 11, 12, 5, 4], [4])  # 2..4 are children: they inherit their parent's


@pytest.mark.timeout(60)
def test_pct_nothing_left_at_realtime_priority(tmp_path, impl, fifo):
    """(f) After a PCT run (children started by a step, which inherit the priority, a timed join's
    child, a queue's feeder thread) no process of the run survives it, and nothing is left at a
    real-time priority."""
    assert not _live_descendants()
    run = execute(tmp_path, impl, daemon_pct_plan())
    assert_ran(run, {0: 0, 1: 0, 5: 0, 6: 0})
    gone = {o["value"]: o["outcome"] for o in run.of(1, "gone")}
    assert gone == {0: "ok", 2: "ok", 3: "ok", 4: "ok"}
    assert [(o["aux"], o["value"]) for o in run.of(0, "exitcode")] == [
        (2, -signal.SIGTERM), (3, 0), (4, 0)]
    assert sorted(o["value"] for o in run.of(6, "get") if o["outcome"] == "ok") == [
        tag(5, s) for s in range(3)]
    pids = {h["pid"] for h in run.headers.values()}
    left = [pid for pid in pids if Path(f"/proc/{pid}").exists()
            and Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
    assert not left, f"processes of the run outlived it: {left}"
    left = _live_descendants()  # the timed join's child too, which has no process file
    assert not left, f"processes of the run outlived it ({{pid: policy}}): {left}"


def _mpconform():
    cli = Path(os.environ.get("MPCONFORM_BUILD_DIR", ROOT / "build")) / "harness" / "cli" / "mpconform"
    cli = cli if cli.is_absolute() else ROOT / cli
    for _ in range(50):  # the build may be relinking it
        if cli.exists():
            return cli
        time.sleep(0.1)
    pytest.skip(f"{cli} is not built")


@pytest.mark.timeout(120)
def test_pct_through_the_harness(tmp_path, fifo):
    """`mpconform exec` hands the Python executor the plan's schedule (adding `cpu`) and merges
    the history; a PCT run of a generated queue plan ends with every item got, and producer 0's
    0.1 s delays were not slept."""
    cli = _mpconform()
    r = subprocess.run([str(cli), "plan", "--property", "queue", "--seed", "3"],
                       capture_output=True, text=True, timeout=RUN_TIMEOUT)
    assert r.returncode == 0, r.stderr
    plan = json.loads(r.stdout)
    n = 1 + max(p["index"] for p in plan["processes"])
    for step in plan["processes"][0]["steps"]:
        step["delay_us"] = 100_000
    plan["schedule"] = {"mode": "pct", "priorities": list(range(3 + n, 3, -1)),
                        "change_points": [5, 40]}
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    env = dict(env_for(), MPCONFORM_EXEC_SCRIPT=str(EXECUTOR))  # the executor under test
    r = subprocess.run([str(cli), "exec", "--backend", "python:multiprocessing", "--plan",
                        str(tmp_path / "plan.json")], capture_output=True, text=True,
                       timeout=RUN_TIMEOUT, env=env)
    assert r.returncode == 0, r.stderr
    ops = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    puts = sorted(o["value"] for o in ops if o["op"] == "put" and o["outcome"] == "ok")
    got = sorted(o["value"] for o in ops if o["op"] == "get" and o["outcome"] == "ok")
    assert puts and got == puts
    assert all(o["outcome"] != "info" for o in ops), [o for o in ops if o["outcome"] == "info"]
    p0 = [o for o in ops if o["process"] == 0]
    assert len(p0) >= len(plan["processes"][0]["steps"])
    assert (p0[-1]["return"] - p0[0]["invoke"]) / 1e9 < 0.3, "the plan's delays were slept"


# --------------------------------------------------------------------------------------------
# overlap schedules (INTERPRETING.md, "The document": `schedule` mode overlap): the phase-0
# actors are forked once and run their steps once per iteration, released together; the phase >= 1
# steps (the arbiters) run in the leader after each iteration; exec.jsonl gets the iterations'
# start times

def overlap_plan(objects, processes, iterations=200, seconds=20, max_offset_ns=0, offset_seed=0,
                 **kw):
    plan = plan_of(objects, processes, **kw)
    plan["schedule"] = {"mode": "overlap", "iterations": iterations, "seconds": seconds,
                        "max_offset_ns": max_offset_ns, "offset_seed": offset_seed}
    return plan


def per_iteration(run):
    """{iteration: {process: [ops]}}, each op placed by its invoke among the iterations' starts;
    asserts the starts increase and that every op lies inside its iteration (invoke >= start_i,
    returned before start_{i+1})."""
    starts = run.iterations
    assert starts, run.exec
    assert all(a < b for a, b in zip(starts, starts[1:])), "starts must increase"
    out = {i: {} for i in range(len(starts))}
    for p in sorted(run.ops):
        for o in run.of(p):
            i = bisect.bisect_right(starts, o["invoke"]) - 1
            assert i >= 0, f"an op of process {p} before the first start: {o}"
            assert o["ret"] is not None, o
            if i + 1 < len(starts):
                assert o["ret"] < starts[i + 1], f"op of process {p} crosses start {i + 1}: {o}"
            out[i].setdefault(p, []).append(o)
    return out


def overlap_queue_plan(**kw):
    """The 2-process queue plan: a producer putting 2 items, a consumer consuming 2, a phase-1
    drainer."""
    return overlap_plan(
        [{"type": "queue"}],
        [proc(0, [{"op": "put", "obj": 0, "item": tag(0, s)} for s in range(2)], role="producer"),
         proc(1, [{"op": "consume", "obj": 0, "quota": 2,
                   "gets": [{"block": True, "timeout": 1.0}]}], role="consumer"),
         proc(2, [{"op": "drain", "obj": 0, "limit": 8}], phase=1, role="drainer")], **kw)


@pytest.mark.timeout(60)
def test_overlap_queue_plan(tmp_path, impl):
    """200 iterations of a producer and a consumer, released together with offsets, the drainer
    in the leader after each; the actors are forked once (distinct pids, one per phase-0
    process, the only exit code lines), the drainer recorded under its own index with the
    leader's pid."""
    run = execute(tmp_path, impl, overlap_queue_plan(max_offset_ns=20_000, offset_seed=7))
    assert_ran(run, {0: 0, 1: 0})  # the actors; the drainer is no process of its own
    assert all(run.notes[p] is None for p in (0, 1, 2)), run.notes
    assert len(run.iterations) == 200
    its = per_iteration(run)
    for i, ops in its.items():
        assert set(ops) == {0, 1, 2}, (i, ops.keys())
        assert [(o["op"], o["outcome"], o["value"]) for o in ops[0]] == [
            ("put", "ok", tag(0, 0)), ("put", "ok", tag(0, 1))], i
        assert sorted((o["op"], o["outcome"], o["value"]) for o in ops[1]) == [
            ("get", "ok", tag(0, 0)), ("get", "ok", tag(0, 1))], i
        drain = ops[2]
        assert [(o["outcome"], o["error"], o["timeout"]) for o in drain] == [
            ("fail", "Empty", 0), ("fail", "Empty", TIMING["settle"])], i
        # the arbiter runs after every actor finished this iteration's steps
        assert drain[0]["invoke"] > max(o["ret"] for p in (0, 1) for o in ops[p]), i
    # forked once: one pid per phase-0 process, the drainer's is the leader's
    pids = {i: h["pid"] for i, h in run.headers.items()}
    assert pids[0] != pids[1] and pids[2] == pids[0]
    assert {x["pid"] for x in run.exec if "pid" in x} == {pids[0], pids[1]}
    assert set(run.headers) == {0, 1, 2}
    assert_clean(run.out)


@pytest.mark.timeout(60)
def test_overlap_resets_values_and_tickets(tmp_path, impl):
    """Each iteration starts from the objects' initial state: the value back at `initial` and the
    ticket file at its count (not recorded), then setup re-run (its read sees `initial`, recorded
    as setup_process inside the iteration); four increments end at initial + 4 and two buyers
    sell the two tickets, every iteration."""
    inc = {"op": "increment", "obj": 0, "hold_us": 100_000}  # not slept: overlap
    buy = {"op": "buy", "obj": 2, "store": 1, "attempts": 1}
    plan = overlap_plan(
        [{"type": "value", "initial": 5}, {"type": "ticket_file", "initial": 2}, {"type": "lock"}],
        [proc(0, [inc, inc, buy]), proc(1, [inc, inc, buy]),
         proc(2, [{"op": "read", "obj": 0}, {"op": "read", "obj": 1}], phase=1)],
        iterations=100, setup=[{"op": "read", "obj": 0}, {"op": "read", "obj": 1}],
        setup_process=3)
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0, 1: 0})
    assert run.headers[3]["pid"] == run.headers[2]["pid"] == run.headers[0]["pid"]
    its = per_iteration(run)
    assert len(its) == 100
    for i, ops in its.items():
        assert [(o["op"], o["obj"], o["value"]) for o in ops[3]] == [
            ("read", 0, 5), ("read", 1, 2)], i
        incs = [o for p in (0, 1) for o in ops[p] if o["op"] == "increment"]
        assert sorted(o["value"] for o in incs) == [6, 7, 8, 9], i
        buys = [o for p in (0, 1) for o in ops[p] if o["op"] == "buy"]
        assert sorted((o["outcome"], o["value"]) for o in buys) == [("ok", 1), ("ok", 2)], i
        assert [(o["op"], o["obj"], o["value"]) for o in ops[2]] == [
            ("read", 0, 9), ("read", 1, 0)], i
    span = (run.all()[-1]["ret"] - run.iterations[0]) / 1e9
    assert span < 5, f"the holds were slept: {span:.2f} s"


@pytest.mark.timeout(60)
def test_overlap_seconds_budget(tmp_path):
    """No iteration is released after `seconds`: 1000000 iterations asked, 0.3 s given."""
    t0 = time.monotonic()
    run = execute(tmp_path, "multiprocessing",
                  overlap_queue_plan(iterations=1_000_000, seconds=0.3))
    took = time.monotonic() - t0
    assert_ran(run, {0: 0, 1: 0})
    starts = run.iterations
    assert 10 <= len(starts) < 1_000_000
    assert (starts[-1] - starts[0]) / 1e9 < 0.3 + 0.001, "an iteration started after the budget"
    assert (max(o["ret"] for o in run.all()) - starts[0]) / 1e9 < 0.3 + 0.2
    assert took < 3.0, f"the run took {took:.2f} s"
    per_iteration(run)


M64 = (1 << 64) - 1


def _mix(z):
    z = (z + 0x9E3779B97F4A7C15) & M64
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
    return z ^ (z >> 31)


def _offset(seed, i, p, max_offset_ns):
    return _mix(seed ^ _mix((i * 64 + p) & M64)) % (max_offset_ns + 1)


# (seed, iteration, process, max_offset_ns) -> offset, computed once by hand with the formula
OFFSETS = [((0, 0, 0, 1_000_000), 733173), ((0, 0, 1, 1_000_000), 450200),
           ((0, 1, 0, 1_000_000), 674323), ((12345, 7, 3, 50_000), 15654),
           ((M64, 999_999, 31, 1_000_000), 378315), ((42, 3, 2, 0), 0)]


def test_overlap_offset_function():
    """mix is splitmix64's finalizer (its published first output for seed 0); the executor's
    offsets are the formula's."""
    assert _mix(0) == 0xE220A8397B1DCDAF
    for args, want in OFFSETS:
        assert _offset(*args) == want, args
    import importlib.util
    spec = importlib.util.spec_from_file_location("mpconform_exec_under_test", EXECUTOR)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    for args, want in OFFSETS:
        assert mod.overlap_offset(*args) == want, args


@pytest.mark.timeout(60)
def test_overlap_actors_wait_their_offsets(tmp_path, impl):
    """Each actor's first call of iteration i starts no earlier than start_i + its offset (the
    leader's too), so the mean lag is at least the mean offset."""
    seed, spread = 12345, 1_000_000
    plan = overlap_plan([{"type": "queue"}],
                        [proc(p, [{"op": "qsize", "obj": 0}]) for p in (0, 1, 2)],
                        iterations=150, max_offset_ns=spread, offset_seed=seed)
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0, 1: 0, 2: 0})
    its = per_iteration(run)
    lags, offsets = [], []
    for i, ops in its.items():
        for p in (0, 1, 2):
            off = _offset(seed, i, p, spread)
            lag = ops[p][0]["invoke"] - run.iterations[i]
            assert lag >= off, (i, p, lag, off)
            lags.append(lag)
            offsets.append(off)
    assert sum(lags) / len(lags) >= sum(offsets) / len(offsets)
    assert len(set(offsets)) > len(offsets) // 2  # the offsets do differ


@pytest.mark.timeout(60)
@pytest.mark.parametrize("putter", [0, 1], ids=["leader", "actor"])
def test_overlap_steps_ending_early_end_that_iteration(tmp_path, impl, putter):
    """A put Full past the patience ends that process's steps of this iteration only (exit code
    0 steps, as in the C++ executor): every iteration runs, its first note is kept (one a file),
    the drainer empties the queue each time."""
    puts = [{"op": "put", "obj": 0, "item": tag(putter, s), "block": False, "retry_full": True}
            for s in range(2)]
    plan = overlap_plan([{"type": "queue", "maxsize": 1}],
                        [proc(0, puts if putter == 0 else [{"op": "qsize", "obj": 0}]),
                         proc(1, puts if putter == 1 else [{"op": "qsize", "obj": 0}]),
                         proc(2, [{"op": "drain", "obj": 0, "limit": 4}], phase=1)],
                        iterations=4, timing={"patience": 0.02})
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0, 1: 0})
    assert run.notes[putter].startswith(f"put {tag(putter, 1)}: Full for longer than the patience")
    its = per_iteration(run)
    assert len(its) == 4
    for i, ops in its.items():
        outcomes = [(o["value"], o["outcome"]) for o in ops[putter]]
        assert outcomes[0] == (tag(putter, 0), "ok") and len(outcomes) > 2, (i, outcomes)
        assert set(outcomes[1:]) == {(tag(putter, 1), "fail")}, (i, outcomes)
        assert [o["value"] for o in ops[2] if o["outcome"] == "ok"] == [tag(putter, 0)], i


@pytest.mark.timeout(60)
def test_overlap_defaults(tmp_path):
    """iterations and seconds default to plan.cpp's: 1000 iterations, at most 1 s."""
    plan = plan_of([{"type": "queue"}], [proc(0, [{"op": "qsize", "obj": 0}]),
                                         proc(1, [{"op": "qsize", "obj": 0}])])
    plan["schedule"] = {"mode": "overlap"}
    run = execute(tmp_path, "multiprocessing", plan)
    assert_ran(run, {0: 0, 1: 0})
    starts = run.iterations
    assert len(starts) == 1000 or (starts[-1] - starts[0]) / 1e9 > 0.9, len(starts)
    assert (starts[-1] - starts[0]) / 1e9 < 1.0 + 0.001
    per_iteration(run)


@pytest.mark.timeout(60)
def test_overlap_an_actor_stopping_ends_the_loop(tmp_path, impl):
    """An unexpected exception in an actor: its note, exit code 3; the iteration completes (the
    arbiter runs), no other iteration starts, the other actors exit 0. The arbiter has no exit
    code line."""
    plan = overlap_plan([{"type": "queue"}, {"type": "pipe", "duplex": False}],
                        [proc(0, [{"op": "qsize", "obj": 0}]),
                         proc(1, [{"op": "send", "obj": 1, "end": 0, "item": tag(1, 0)}]),
                         proc(2, [{"op": "qsize", "obj": 0}]),
                         proc(3, [{"op": "empty", "obj": 0}], phase=1)])
    run = execute(tmp_path, impl, plan)
    assert_ran(run, {0: 0, 1: 3, 2: 0})
    assert len(run.iterations) == 1
    assert [(o["op"], o["outcome"], o["error"]) for o in run.of(1)] == [
        ("send", "info", "OSError")]
    assert run.notes[1].startswith("OSError")
    assert [(o["op"], o["value"]) for o in run.of(3)] == [("empty", 1)]
    assert 3 not in run.exitcodes()
    assert [len(run.of(p)) for p in (0, 2)] == [1, 1]
    per_iteration(run)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("slow", [0, 1], ids=["leader-slow", "actor-slow"])
def test_overlap_waits_are_bounded(tmp_path, impl, slow):
    """Every barrier wait is bounded by `wait` (0.3 s here) and ends that process with a note:
    an actor not released while the leader's step takes 1 s (exit 3; the leader finishes the
    iteration and stops), or the leader given no done while an actor's step takes 1 s (exit 3,
    the arbiter not run; the actor exits 0 when it comes back). The note is the exit's reason,
    not that of puts that ended early before (exit code 0 steps)."""
    slow_get = {"op": "get", "obj": 0, "timeout": 1.0}
    ends_early = [{"op": "put", "obj": 1, "item": tag(1, s), "block": False, "retry_full": True}
                  for s in range(2)]
    plan = overlap_plan([{"type": "queue"}, {"type": "queue", "maxsize": 1}],
                        [proc(0, [slow_get] if slow == 0 else [{"op": "qsize", "obj": 0}]),
                         proc(1, ends_early if slow == 0 else [slow_get]),
                         proc(2, [{"op": "empty", "obj": 0}], phase=1)],
                        timing={"wait": 0.3, "patience": 0.02})
    run = execute(tmp_path, impl, plan)
    assert len(run.iterations) == 1
    if slow == 0:
        assert_ran(run, {0: 0, 1: 3})
        assert run.of(1, "put")[-1]["error"] == "Full"
        assert run.notes[1] == "overlap: iteration 1 was not released within 0.3 s"
        assert [o["op"] for o in run.of(2)] == ["empty"]
    else:
        assert_ran(run, {0: 3, 1: 0})
        assert run.notes[0] == "overlap: iteration 0: 1 of 1 actors did not finish within 0.3 s"
        assert run.of(2) == []
        [get] = run.of(1)
        assert (get["outcome"], get["error"]) == ("fail", "Empty")


@pytest.mark.timeout(60)
@pytest.mark.parametrize("schedule, field", [
    ({"mode": "overlap", "iterations": 0, "seconds": 1}, "schedule.iterations: is 0"),
    ({"mode": "overlap", "iterations": 1_000_001, "seconds": 1},
     "schedule.iterations: is 1000001, expected 1..1000000"),
    ({"mode": "overlap", "iterations": 2.0, "seconds": 1},
     "schedule.iterations: must be an integer"),
    ({"mode": "overlap", "iterations": 2, "seconds": 0}, "schedule.seconds: is 0"),
    ({"mode": "overlap", "iterations": 2, "seconds": -1}, "schedule.seconds: is -1"),
    ({"mode": "overlap", "iterations": 2, "seconds": 60.5}, "schedule.seconds: is 60.5"),
    ({"mode": "overlap", "iterations": 2, "seconds": "1"}, "schedule.seconds: must be a number"),
    ({"mode": "overlap", "iterations": 2, "seconds": True}, "schedule.seconds: must be a number"),
    ({"mode": "overlap", "iterations": 2, "seconds": 1, "max_offset_ns": -1},
     "schedule.max_offset_ns: is -1"),
    ({"mode": "overlap", "iterations": 2, "seconds": 1, "max_offset_ns": 1_000_001},
     "schedule.max_offset_ns: is 1000001, expected 0..1000000"),
    ({"mode": "overlap", "iterations": 2, "seconds": 1, "max_offset_ns": 1e3},
     "schedule.max_offset_ns: must be an integer"),
    ({"mode": "overlap", "iterations": 2, "seconds": 1, "offset_seed": -1},
     "schedule.offset_seed: is -1"),
    ({"mode": "overlap", "iterations": 2, "seconds": 1, "offset_seed": 1 << 64},
     "schedule.offset_seed: is 18446744073709551616"),
    ({"mode": "overlap", "iterations": 2, "seconds": 1, "offset_seed": "7"},
     "schedule.offset_seed: must be an integer"),
    ({"mode": "overlap", "iterations": 2, "seconds": 1, "priorities": [3, 4]},
     "schedule.priorities: only for mode pct"),
    ({"mode": "pct", "priorities": [3, 4], "iterations": 2},
     "schedule.iterations: only for mode overlap"),
    ({"mode": "delays", "seconds": 1}, "schedule.seconds: only for mode overlap"),
    ({"mode": "Overlap", "iterations": 2, "seconds": 1}, "schedule.mode"),
])
def test_overlap_malformed_schedule_is_refused(tmp_path, schedule, field):
    """One line naming the field, exit 2, nothing forked (nothing written)."""
    plan = plan_of([{"type": "queue"}], [proc(0, [{"op": "qsize", "obj": 0}]),
                                         proc(1, [{"op": "qsize", "obj": 0}])])
    plan["schedule"] = schedule
    run = execute(tmp_path, "multiprocessing", plan)
    assert run.rc == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and field in lines[0], run.stderr
    assert list(run.out.iterdir()) == []


@pytest.mark.timeout(60)
@pytest.mark.parametrize("where, step, close_first", [
    (1, {"op": "start_children", "children": [{"process": 5}]}, ()),
    (1, {"op": "observe", "watch": [0]}, ()),
    (1, {"op": "timed_process_join", "timeout": 0.1}, ()),
    (1, {"op": "exit_handling"}, ()),
    (1, {"op": "close", "obj": 1, "end": 0}, ()),
    (2, {"op": "exit_handling"}, ()),  # an arbiter's step too
    (1, None, [(1, 0)]),
], ids=["start_children", "observe", "timed_process_join", "exit_handling", "close",
        "arbiter", "close_first"])
def test_overlap_ineligible_plan_is_refused(tmp_path, where, step, close_first):
    """A plan that cannot be repeated on the same objects: one line naming the op and where."""
    steps = [[{"op": "qsize", "obj": 0}] for _ in range(3)]
    if step is not None:
        steps[where].append(step)
    cf = {where: close_first}
    plan = overlap_plan([{"type": "queue"}, {"type": "pipe", "duplex": False}],
                        [proc(k, steps[k], phase=1 if k == 2 else 0, close_first=cf.get(k, ()))
                         for k in range(3)], iterations=2, seconds=1)
    run = execute(tmp_path, "multiprocessing", plan)
    assert run.rc == 2
    lines = run.stderr.strip().splitlines()
    want = (f"schedule.mode: overlap cannot run a plan with {step['op']} "
            f"(processes[{where}].steps[1])" if step is not None else
            f"schedule.mode: overlap cannot run a plan with close_first "
            f"(processes[{where}].close_first)")
    assert len(lines) == 1 and want in lines[0], run.stderr
    assert list(run.out.iterdir()) == []


@pytest.mark.timeout(60)
def test_overlap_needs_an_actor(tmp_path):
    plan = overlap_plan([{"type": "queue"}], [proc(0, [{"op": "qsize", "obj": 0}], phase=1)],
                        iterations=2, seconds=1)
    run = execute(tmp_path, "multiprocessing", plan)
    assert run.rc == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "schedule.mode: overlap needs a phase-0 process" in lines[0]
