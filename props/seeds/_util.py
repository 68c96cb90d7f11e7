"""Bounded waits and clean-up for the seed programs: nothing hangs, no child is left behind.

- `Children`: a context manager that starts processes and, on leaving, joins each with a bound,
  SIGKILLs (by pid) and reaps whatever is still running;
- `run_main(mp, fn, ...)`: runs fn(mp, ...) as a program's *main* in a child started with
  mp.Process, so that "main ends" (the implementation's exit work: daemonic children terminated,
  the others joined) really happens; the outcome comes back over a private os.pipe, not through
  the implementation under test;
- `ended(pids)`: whether processes that are not ours (a main's children) have ended.
Times are tiers of harness/tiers.json (mpconform_tiers), scaled by MPCONFORM_TIME_SCALE like the
conformance suite's.
"""
from __future__ import annotations

import os
import pickle
import queue
import select
import signal
import struct
import time

from mpconform_tiers import seconds

LONG = seconds("watchdog")  # bound on anything that should happen soon
SHORT = seconds("wait")     # a timeout that must expire


def exc_name(e: BaseException) -> str:
    """The class of an exception as a clause writes it: builtins bare, queue.Full/Empty, else
    module-qualified."""
    cls = type(e)
    if cls.__module__ == "builtins":
        return cls.__qualname__
    if cls in (queue.Full, queue.Empty):
        return f"queue.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


def raised(fn):
    """The name of the exception fn() raises, or 'returned <value>'."""
    try:
        v = fn()
    except Exception as e:  # noqa: BLE001 - the exception is the outcome
        return exc_name(e)
    return f"returned {v!r}"


def _sigkill(pid):
    if not isinstance(pid, int) or pid <= 0:  # never kill(0) or kill(-1): our group, everyone
        return
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    stat = f.read()
            except OSError:
                continue
            if int(stat[stat.rfind(b")") + 2:].split()[1]) == pid:
                out.append(int(entry))
    return out


def kill_tree(pid: int) -> None:
    """SIGKILL pid and its descendants."""
    if not isinstance(pid, int) or pid <= 0:
        return
    for child in _children_of(pid):
        kill_tree(child)
    _sigkill(pid)


def join_or_kill(p, timeout: float = LONG) -> None:
    try:
        p.join(timeout)
        if p.is_alive():
            if p.pid:
                kill_tree(p.pid)
            p.join(LONG)
    except Exception:  # noqa: BLE001 - never started, closed: nothing to reap
        pass


class Children:
    """with Children(mp) as kids: kids.start(target, ...) -> started Process; all reaped at exit."""

    def __init__(self, mp):
        self.mp = mp
        self.procs = []

    def start(self, target, *args, **kw):
        p = self.mp.Process(target=target, args=args, **kw)
        self.procs.append(p)
        p.start()
        return p

    def join_all(self, timeout: float = LONG) -> list:
        """Join every child (bounded, one overall deadline); their exit codes."""
        deadline = time.monotonic() + timeout
        for p in self.procs:
            p.join(max(0.0, deadline - time.monotonic()))
        return [p.exitcode for p in self.procs]

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for p in self.procs:
            join_or_kill(p, 0.5 if exc[0] else LONG)
        return False


def _send(fd: int, obj) -> None:
    data = pickle.dumps(obj)
    data = struct.pack("!I", len(data)) + data
    while data:
        data = data[os.write(fd, data):]


def _recv(fd: int, timeout: float):
    deadline = time.monotonic() + timeout
    buf, need, size = b"", 4, None
    while True:
        while len(buf) < need:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError("no answer from the seed's main")
            chunk = os.read(fd, need - len(buf))
            if not chunk:
                raise EOFError("the seed's main exited without answering")
            buf += chunk
        if size is None:
            size = struct.unpack("!I", buf)[0]
            buf, need = b"", size
            continue
        return pickle.loads(buf)


def run_main(mp, fn, *args, timeout: float = LONG):
    """Run fn(mp, *args) as a program's main process (a non-daemonic child of ours) and let it end.

    Returns (fn's value, or 'raised <Class>: msg', the main's exit code). A main still running
    after `timeout` is killed with its descendants (exit code 'TIMEOUT').
    """
    r, w = os.pipe()

    def main():
        os.close(r)
        try:
            value = fn(mp, *args)
        except Exception as e:  # noqa: BLE001
            value = f"raised {exc_name(e)}: {e}"
        _send(w, value)
        os.close(w)

    p = mp.Process(target=main, name="seed-main")
    try:
        p.start()
    except BaseException:
        os.close(r)
        raise
    finally:
        os.close(w)
    try:
        try:
            value = _recv(r, timeout)
        except (TimeoutError, EOFError) as e:
            value = f"no answer: {e}"
        p.join(timeout)
        code = p.exitcode
        if p.is_alive():
            code = "TIMEOUT"
    finally:
        os.close(r)
        join_or_kill(p, 0)
    return value, code


def state(pid: int) -> str:
    """'gone', or the /proc state letter of pid ('R', 'S', 'Z', ...)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return "gone"
    return stat[stat.rfind(b")") + 2:].split()[0].decode()


def ended(pids, timeout: float = LONG) -> list[bool]:
    """For each pid (not our child): has it ended (gone or a zombie) within timeout? A process
    still running then is killed (the program left it behind) and reported False; so is a pid
    that was never filled in (0)."""
    deadline = time.monotonic() + timeout
    out = []
    for pid in pids:
        if pid <= 0:
            out.append(False)
            continue
        while state(pid) not in ("gone", "Z") and time.monotonic() < deadline:
            time.sleep(0.01)
        done = state(pid) in ("gone", "Z")
        if not done:
            kill_tree(pid)
        out.append(done)
    return out
