"""Nothing outlives a SIGKILLed harness, in any schedule mode, on both executors.

`mpconform run` is started with a marker in its environment (every process it forks, and the
Python executor's, inherits it), left to get into its scenarios, then SIGKILLed. Within a few
seconds no process carrying the marker may remain (so no real-time priority or CPU affinity can
outlive the run either: PCT's processes die with it), and no shared-memory segment is left; the
next harness removes the temporary folder of the dead one.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_build = Path(os.environ.get("MPCONFORM_BUILD_DIR", ROOT / "build"))
BUILD = _build if _build.is_absolute() else ROOT / _build
MPCONFORM = BUILD / "harness" / "cli" / "mpconform"


@pytest.fixture(autouse=True)
def built():
    if not MPCONFORM.exists():
        pytest.skip(f"{MPCONFORM} is not built (ci/setup; MPCONFORM_BUILD_DIR={BUILD})")


def marked(mark):
    """The pids of live (not zombie) processes whose environment holds `mark`."""
    found = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if mark.encode() not in (d / "environ").read_bytes():
                continue
            state = (d / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(d.name))
    return found


def cmdline(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
    except OSError:
        return ""


def policy(pid):
    try:
        return os.sched_getscheduler(pid), len(os.sched_getaffinity(pid))
    except OSError:
        return None


CASES = [("reference", "delays", "queue"), ("reference", "pct", "queue"), ("reference", "overlap", "queue"),
         ("python:multiprocessing", "pct", "lock"), ("python:multiprocessing", "overlap", "lock")]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("backend,mode,prop", CASES, ids=[f"{b}-{m}" for b, m, _ in CASES])
def test_nothing_outlives_a_killed_harness(tmp_path, backend, mode, prop):
    if mode == "pct" and os.geteuid() != 0:
        pytest.skip("PCT needs root or CAP_SYS_NICE (it falls back to delays without)")
    mark = f"MPCONFORM_KILL_MARK={uuid.uuid4().hex}"
    env = dict(os.environ, TMPDIR=str(tmp_path), MPCONFORM_BUILD_DIR=str(BUILD))
    env[mark.split("=")[0]] = mark.split("=")[1]
    stamp = time.time()
    h = subprocess.Popen([str(MPCONFORM), "run", "--backend", backend, "--mode", mode, "--property", prop,
                          "--seconds", "60", "--seed", "1"], env=env, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    # Kill it in the middle of a scenario: the scenario's processes forked (Python's executor and
    # two of its processes, or the keeper and two plan processes) and, under PCT, real-time.
    program = "python3" if backend.startswith("python:") else "mpconform"

    def in_scenario():
        procs = [p for p in marked(mark) if p != h.pid and program in cmdline(p)]
        fifo = any((policy(p) or (None,))[0] == os.SCHED_FIFO for p in procs)
        return len(procs) >= 3 and (fifo or mode != "pct")

    deadline = time.monotonic() + 30
    while not in_scenario():
        assert time.monotonic() < deadline, "the run never got into a scenario"
        time.sleep(0.02)
    h.send_signal(signal.SIGKILL)
    h.wait(timeout=10)
    deadline = time.monotonic() + 5
    while marked(mark) and time.monotonic() < deadline:
        time.sleep(0.05)
    left = marked(mark)
    assert not left, "outlived the harness: " + "; ".join(
        f"{p} {policy(p)} {Path(f'/proc/{p}/cmdline').read_bytes()!r}" for p in left)
    shm = [f for f in Path("/dev/shm").iterdir() if not f.name.startswith(".") and f.stat().st_mtime > stamp
           and "mpconform" in f.name]
    assert not shm, shm
    # The dead harness's temporary folder goes at the next harness's start.
    subprocess.run([str(MPCONFORM), "run", "--property", "value", "--scenarios", "1", "--seed", "1"], env=env,
                   capture_output=True, timeout=120, check=True)
    assert not list(tmp_path.glob(f"mpconform-{h.pid}-*")), list(tmp_path.iterdir())
