"""Children, time tiers and sandboxes for conformance bodies.

Nothing hangs, nothing leaks:
- every Process a body starts goes through `start()` or `track()`; when the body ends, `reap()`
  joins each with the LONG bound and kills the ones still alive (then sweeps the implementation's
  `active_children()` the same way);
- `in_child(mp, fn, timeout)` / `Child(mp, fn).result(timeout)` run `fn` in a child of the
  implementation and give its value (an exception becomes an outcomes.Exc), or STILL_BLOCKED
  when the child has not answered within `timeout` (it is then killed); `in_thread` likewise;
- `sandbox(fn)` runs `fn` in a plain forked process that is a child subreaper, so orphans a
  scenario creates (a parent that leaves with os._exit) are adopted, killed and reaped there.

Time tiers (seconds): the tiers of harness/tiers.json, read through mpconform_tiers (which
parses MPCONFORM_TIME_SCALE as the C++ harness does, and scales them by it):
  WAIT        the `wait` tier: the timeout a test passes when a call must wait and then give up
  PROMPT      the `instant` tier: "at once", a call that must not wait returns within this
  LATE        the `late` tier: slack allowed after a timeout
  LONG        the `watchdog` tier: bound on anything that should happen soon (a child exiting,
              an item arriving)
  REAP_GRACE  the `long` tier: how long a body's leftover children get to exit
"""
from __future__ import annotations

import ctypes
import os
import pickle
import select
import signal
import struct
import threading
import time
from typing import Any, Callable

from mpconform_tiers import seconds

from .outcomes import Outcome, Repr, canon, known_pids

WAIT = seconds("wait")
PROMPT = seconds("instant")
LATE = seconds("late")
LONG = seconds("watchdog")
REAP_GRACE = seconds("long")

STILL_BLOCKED = Repr("STILL BLOCKED")


def about(dt: float, t: float) -> bool:
    """dt is a wait of about t: not (noticeably) early, not much late."""
    return t - 0.02 <= dt <= t + LATE


def prompt(dt: float) -> bool:
    return dt < PROMPT


def timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    """(fn()'s value or the exception it raised, seconds it took)."""
    t0 = time.monotonic()
    v = attempt(fn)
    return v, time.monotonic() - t0


def waits(fn: Callable[[], Any], t: float) -> tuple[Any, bool]:
    """(fn()'s value or exception, whether it took about t seconds)."""
    v, dt = timed(fn)
    return v, about(dt, t)


def at_once(fn: Callable[[], Any]) -> tuple[Any, bool]:
    """(fn()'s value or exception, whether it returned at once)."""
    v, dt = timed(fn)
    return v, prompt(dt)


# --------------------------------------------------------------------------- children

_tracked: list = []


def track(p):
    """Register a started (or about to be started) Process for reaping when the body ends."""
    _tracked.append(p)
    return p


def start(mp, target=None, args=(), kwargs=None, **kw):
    p = mp.Process(target=target, args=tuple(args), kwargs=kwargs or {}, **kw)
    track(p)
    p.start()
    known_pids.add(p.pid)
    return p


def join_or_kill(p, timeout: float = LONG):
    """Join p; if it is still alive after timeout, kill it and join again. Never raises."""
    try:
        p.join(timeout)
        if p.is_alive():
            _sigkill(p.pid)
            p.join(LONG)
    except Exception:  # noqa: BLE001 - closed, never started, not ours: nothing to reap
        pass


def _sigkill(pid):
    """SIGKILL by pid: the harness does not rely on the implementation's Process.kill()."""
    try:
        if pid:
            os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


_fds: list[int] = []


class Flag:
    """A one-way signal over a private os.pipe, usable across fork (parent and children)."""

    def __init__(self):
        self.r, self.w = os.pipe()
        _fds.extend((self.r, self.w))

    def set(self):
        os.write(self.w, b"x")

    def wait(self, timeout: float = LONG) -> bool:
        """True once set (consumes one set()), False after timeout."""
        if not select.select([self.r], [], [], timeout)[0]:
            return False
        os.read(self.r, 1)
        return True


def begin():
    _tracked.clear()


def reap(mp):
    """End of a body: set every Flag (children waiting on one go on), join every tracked child
    briefly (a child still alive after REAP_GRACE is killed), sweep active_children(), close
    the Flags' fds."""
    for i in range(0, len(_fds), 2):
        try:
            os.write(_fds[i + 1], b"x" * 16)
        except OSError:
            pass
    for p in list(_tracked):
        join_or_kill(p, REAP_GRACE)
    _tracked.clear()
    while _fds:
        try:
            os.close(_fds.pop())
        except OSError:
            pass
    try:
        leftovers = mp.active_children()
    except Exception:  # noqa: BLE001
        leftovers = []
    for p in leftovers:
        join_or_kill(p, 0.5)


def _send(fd: int, obj) -> None:
    data = pickle.dumps(obj)
    data = struct.pack("!I", len(data)) + data
    while data:
        n = os.write(fd, data)
        data = data[n:]


def _recv(fd: int, timeout: float):
    """The message on fd within timeout, or raise TimeoutError; EOFError if the writer left."""
    deadline = time.monotonic() + timeout
    buf = b""
    need = 4
    size = None
    while True:
        while len(buf) < need:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, need - len(buf))
            if not chunk:
                raise EOFError
            buf += chunk
        if size is None:
            size = struct.unpack("!I", buf)[0]
            buf, need = b"", size
            continue
        return pickle.loads(buf)


def attempt(fn: Callable[[], Any]):
    """fn()'s value, or the exception it raised (as a value: canonicalised as Exc later)."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001
        return e


def _plain(o: Outcome):
    return o.value  # an Exc when it raised


class Child:
    """fn() running in a child started with mp.Process; result() is its value, Exc, or
    STILL_BLOCKED. The child answers through a private os.pipe (not the implementation's)."""

    def __init__(self, mp, fn: Callable[[], Any], **process_kw):
        module = getattr(mp, "_mpc_module", None)
        r, w = os.pipe()

        def child():
            os.close(r)
            _tracked.clear()  # the parent's processes are not ours to reap
            _send(w, Outcome.of(fn, module))
            os.close(w)

        try:
            self.process = start(mp, child, **process_kw)
        except BaseException:
            os.close(r)
            os.close(w)
            raise
        os.close(w)
        self._r = r
        self._result = None

    @property
    def pid(self):
        return self.process.pid

    def ready(self, timeout: float = 0.0) -> bool:
        """Whether the child has answered (within timeout), without consuming the answer."""
        return self._r is None or bool(select.select([self._r], [], [], timeout)[0])

    def result(self, timeout: float = LONG):
        """The child's answer within timeout (then the child is joined, or killed after LONG)."""
        if self._r is None:
            return self._result
        try:
            try:
                res = _plain(_recv(self._r, timeout))
            except TimeoutError:
                res = STILL_BLOCKED
            except EOFError:
                self.process.join(LONG)
                res = Repr(f"child died, exitcode {self.process.exitcode}")
        finally:
            os.close(self._r)
            self._r = None
            if res is STILL_BLOCKED:
                _sigkill(self.process.pid)
            join_or_kill(self.process)
        self._result = res
        return res


def in_child(mp, fn: Callable[[], Any], timeout: float = LONG, **process_kw):
    """fn() in a child of mp: its value, Exc, or STILL_BLOCKED after timeout (then killed)."""
    return Child(mp, fn, **process_kw).result(timeout)


def wait_until(cond: Callable[[], Any], timeout: float = LONG, step: float = 0.005) -> bool:
    """Poll cond() until it is true (True) or timeout passes (False)."""
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)


def in_thread(fn: Callable[[], Any], timeout: float = LONG, name: str | None = None):
    """fn() in a daemon thread: its value, the exception, or STILL_BLOCKED after timeout."""
    box = []

    def run():
        box.append(attempt(fn))

    t = threading.Thread(target=run, name=name, daemon=True)
    t.start()
    t.join(timeout)
    return box[0] if box else STILL_BLOCKED


# --------------------------------------------------------------------------- sandboxes

_PR_SET_CHILD_SUBREAPER = 36


def _children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        if int(fields[1]) == pid:
            out.append(int(entry))
    return out


def _kill_and_reap_all(deadline: float):
    me = os.getpid()
    while time.monotonic() < deadline:
        kids = _children_of(me)
        if not kids:
            return
        for k in kids:
            try:
                os.kill(k, signal.SIGKILL)
            except ProcessLookupError:
                pass
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                time.sleep(0.01)
                break


def sandbox(fn: Callable[[], Any], timeout: float = LONG, module=None):
    """Value (or Exc) of fn() run in a forked subreaper process; all its descendants are killed after."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the sandbox
        code = 0
        try:
            os.close(r)
            os.setpgid(0, 0)  # so a sandbox that overruns can be killed with its descendants
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
            _tracked.clear()
            _send(w, Outcome.of(fn, module))
        except BaseException:  # noqa: BLE001
            code = 1
        finally:
            try:
                _kill_and_reap_all(time.monotonic() + LONG)
            finally:
                os._exit(code)
    os.close(w)
    try:
        try:
            res = _plain(_recv(r, timeout))
        except TimeoutError:
            res = STILL_BLOCKED
        except EOFError:
            res = Repr("sandbox died")
    finally:
        os.close(r)
        deadline = time.monotonic() + LONG
        while True:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            if time.monotonic() > deadline:
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                break
            time.sleep(0.01)
    return res


def proc_state(pid: int) -> str:
    """'gone', or the /proc state letter of pid ('R', 'S', 'Z', ...)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
    except OSError:
        return "gone"
    return stat[stat.rfind(b")") + 2:].split()[0].decode()


def canonical(value, mp):
    return canon(value, getattr(mp, "_mpc_module", None))


# --------------------------------------------------------------------------- fresh interpreters

_PRELUDE = """\
import importlib, sys
sys.path[:0] = {paths!r}
_mod = importlib.import_module({name!r})
try:
    mp = _mod.get_context("fork")
except Exception:
    mp = _mod
"""


def run_script(mp, code: str, timeout: float = LONG, flags=(), linger: float = 0.0):
    """Run `code` as the main program of a fresh interpreter (this one's executable), with `mp`
    bound to the implementation (fork context, or the module). Runs under a sandbox, so
    whatever the script leaves behind is killed and reaped.

    Returns (returncode or 'TIMEOUT', stdout, stderr, seconds); a script still running after
    `timeout` is killed with everything it started. `linger`: seconds to let the processes the
    script left behind (orphans) run on after it exited, before they are killed.
    """
    import subprocess
    import sys
    import textwrap
    name = getattr(mp, "_mpc_name", "multiprocessing")
    src = _PRELUDE.format(paths=[p for p in sys.path if p], name=name) + textwrap.dedent(code)

    def run():
        t0 = time.monotonic()
        proc = subprocess.Popen([sys.executable, *flags, "-c", src], stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            rc = "TIMEOUT"
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            out, err = proc.communicate()
        if linger:
            time.sleep(linger)
        return rc, out.decode(errors="replace"), err.decode(errors="replace"), time.monotonic() - t0

    res = sandbox(run, timeout=timeout + LONG)
    if not isinstance(res, tuple):
        raise RuntimeError(f"run_script: {res!r}")
    return res
