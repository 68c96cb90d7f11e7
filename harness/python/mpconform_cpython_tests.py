#!/usr/bin/python3
"""mpconform_cpython_tests: CPython's own multiprocessing tests, run against any module with the
`multiprocessing` API, each test in its own process group under a timeout.

    /usr/bin/python3 harness/python/mpconform_cpython_tests.py --module billiard \\
        --json reports/cpython-tests-billiard.json [--expectations props/expectations/billiard.json]

The tests are Lib/test/_test_multiprocessing.py of the interpreter running this file (Debian:
python3 3.11 with libpython3.11-testsuite), processes flavour only (no threads or manager
flavours). Classes run by default (IN_SCOPE): _TestProcess, _TestQueue, _TestLock,
_TestSemaphore, _TestConnection, _TestPoll, _TestValue, _TestArray, _TestSharedCTypes, and the
ones that obviously test the same APIs: _TestSubclassingProcess (Process subclasses, exit codes,
stderr at exit), _TestPollEintr (Process.join under a signal), TestSimpleQueue and TestWait
(multiprocessing.connection.wait). Known to `--class` but not run by default (OPTIONAL: they test
APIs spec/clauses does not cover): _TestCondition, _TestEvent, _TestBarrier, _TestListener,
_TestListenerClient.

Options:
  --module NAME          the module under test (importable; `mpref` is found in
                         $MPCONFORM_BUILD_DIR/impl/python, default build/). Required unless --list.
  --implementation NAME  its name in the report and in expectation files (default: NAME).
  --class CLASS          run only this class (repeatable; any of IN_SCOPE or OPTIONAL).
  -k SUBSTRING           run only tests whose id (`Class.test_name`) contains it (repeatable: any).
  --list                 print the selected test ids, one a line, and exit.
  --timeout S            per-test bound in seconds (default 30), multiplied by
                         MPCONFORM_TIME_SCALE (harness/tiers.json; mpconform_tiers).
  --total-timeout S      bound on the whole run (default 900, also scaled): tests not started by
                         then are reported as skip ("not run"), and the run exits 1.
  --json FILE            write the report (format mpconform-cpython-tests/1, below).
  --expectations FILE    an expectation file (props/expectations/README.md); its
                         `cpython_tests` entries ("Class.test_name": {"reason", "link"}) are the
                         tests expected to fail on this implementation.

Console: one line per test (status, seconds, id, message); on a terminal also a progress line on
stderr with the elapsed time and an estimate of the time left. Exit codes: 0 every test passed,
was skipped or failed as expected; 1 a test failed, erred or timed out without being expected
to, an expected failure passed (xpass: the message names the entry to remove), or the total
timeout ran out; 2 bad arguments, a module that cannot be imported, or a bad expectation file
(one line naming the file and the field).

The report (harness/INTERPRETING.md, design section 4):
  {"format": "mpconform-cpython-tests/1", "implementation", "module", "module_version",
   "python", "timeout_s", "total_timeout_s", "wall_s", "expectations" (path or null),
   "tests": [{"id", "class", "name", "status", "seconds", "message" (one line; absent for a plain
              pass), "details" (traceback, dump or output; absent for a plain pass),
              "expected": {"reason", "link"} (xfail/xpass), "uses_cpython": [...] (optional)}],
   "totals": {"pass", "fail", "error", "skip", "timeout", "xfail", "xpass"}}
  Status: pass, fail (an assertion, or a subtest's), error (any other exception, or the test's
  process died), skip (the test skipped itself, or is not applicable, with the reason), timeout
  (no result within --timeout: `message` says where its main thread was, from a
  faulthandler dump, `details` has the whole dump), xfail / xpass (with --expectations).

How a test is run. The runner imports the test module and the target once, does what the test
module's setUpModule does (set_start_method("fork", force=True) on CPython's multiprocessing and
on the target, the temporary directory, the logger level, the semaphore checks), then per test
forks a child that puts itself in its own process group (PR_SET_PDEATHSIG: it dies with the
runner), points the test module at the target (below), and runs the one test with its class's
setUpClass and tearDownClass (unittest's own TestSuite), its stdout and stderr (and its
children's) going to a file. The runner waits up to the timeout; then it sends SIGUSR2 (the
child registered faulthandler on it: every thread's stack), kills the process group, and, being
a child subreaper (PR_SET_CHILD_SUBREAPER), kills and reaps whatever the test left behind, even
processes that left the group: no test leaves a process running. A runner killed with SIGKILL
cannot do that; SIGINT, SIGTERM and SIGHUP are handled.

How the tests are pointed at the target. 3.11's ProcessesMixin binds `Process =
multiprocessing.Process` etc. when the module is imported, so each class is combined with
TargetMixin instead, whose Process, Queue, Lock, RLock, Semaphore, BoundedSemaphore, Condition,
Event, Barrier, Value, Array, RawValue, RawArray, Pipe, Pool, JoinableQueue, SimpleQueue,
current_process, parent_process, active_children, set_executable come from the target's
`get_context("fork")` (the module itself when it has no get_context), and `connection` from the
module; an attribute the target lacks raises AttributeError naming it (the test errors). Many
tests also use the test module's globals, so in the test's process (never in the runner) these
are rebound when the target is not CPython's `multiprocessing`:
  - `multiprocessing` becomes a view of the target module: `multiprocessing.X` is the target's X
    (`multiprocessing.queues.Queue` its queues.Queue, `multiprocessing.Process.terminate`,
    `multiprocessing.BufferTooShort`, TestSimpleQueue's and TestWait's `multiprocessing.Pipe`
    ...), and CPython's X only where the target has none;
  - `Value`, `copy` (from multiprocessing.sharedctypes), `wait` (from multiprocessing.connection),
    `reduction`: the target's sharedctypes.Value, sharedctypes.copy, connection.wait, reduction;
  - `_UpperCaser` (a subclass of CPython's Process) is rebuilt on the target's Process;
  - tests that import at run time (`from multiprocessing.process import parent_process`,
    `from multiprocessing.connection import wait`) get the target's, as CPython's
    multiprocessing.process.parent_process and multiprocessing.connection.wait are replaced by
    the target's in the test's process (CPython's own code in that process then uses them too).
Every use of CPython's object in place of a missing one (a fallback) is recorded, in the test's
process and the processes it starts, and listed in the test's `uses_cpython`.

Limits (what cannot reflect the target):
  - helpers stay CPython's: `multiprocessing.util` (get_temp_dir, abstract_sockets_supported, the
    logger), `test.support`, `_multiprocessing` (HAVE_BROKEN_SEM_GETVALUE), HAS_REDUCTION and
    HAS_SHAREDCTYPES (computed when the module was imported);
  - _TestQueue.test_no_import_lock_contention imports a module that says `import
    multiprocessing` (CPython's): not applicable to another module, reported as skip;
  - @cpython_only tests (TestSimpleQueue.test_closed: private attributes) are skip on other
    modules, as the test says;
  - tests of the forkserver and spawn start methods skip themselves (the fork method is used);
  - on CPython's `multiprocessing` nothing is rebound: the run is the stock test.

Standard library only (and test._test_multiprocessing).
"""
from __future__ import annotations

import argparse
import ast
import ctypes
import faulthandler
import functools
import importlib
import json
import os
import platform
import re
import select
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import types
import unittest
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
_build = Path(os.environ.get("MPCONFORM_BUILD_DIR", ROOT / "build"))
if not _build.is_absolute():
    _build = ROOT / _build
if str(_build / "impl" / "python") not in sys.path:
    sys.path.append(str(_build / "impl" / "python"))

import mpconform_expectations  # noqa: E402 - needs the path above
import mpconform_tiers  # noqa: E402 - needs the path above
from mpconform_expectations import shown_path  # noqa: E402

REPORT_FORMAT = "mpconform-cpython-tests/1"
TEST_MODULE = "test._test_multiprocessing"
ORACLE = "multiprocessing"
STATUSES = ("pass", "fail", "error", "skip", "timeout", "xfail", "xpass")
FAILING = ("fail", "error", "timeout")

IN_SCOPE = ("_TestProcess", "_TestQueue", "_TestLock", "_TestSemaphore", "_TestConnection",
            "_TestPoll", "_TestValue", "_TestArray", "_TestSharedCTypes",
            # obviously the same APIs
            "_TestSubclassingProcess", "_TestPollEintr", "TestSimpleQueue", "TestWait")
OPTIONAL = ("_TestCondition", "_TestEvent", "_TestBarrier", "_TestListener", "_TestListenerClient")

# Tests that cannot exercise another module at all, whatever is rebound: skip on non-CPython.
NOT_APPLICABLE = {
    "_TestQueue.test_no_import_lock_contention":
        "not applicable: the module it imports says `import multiprocessing` (CPython's), so it "
        "cannot exercise the target",
}

DEFAULT_TIMEOUT_S = 30.0
DEFAULT_TOTAL_TIMEOUT_S = 900.0
DUMP_SIGNAL = signal.SIGUSR2
MESSAGE_MAX = 300
DETAILS_MAX = 6000

# What TargetMixin takes from the target's fork context (else the module), as ProcessesMixin does.
MIXIN_FACTORIES = ("Process", "Pool", "Pipe", "Queue", "JoinableQueue", "SimpleQueue", "Lock",
                   "RLock", "Semaphore", "BoundedSemaphore", "Condition", "Event", "Barrier",
                   "Value", "Array", "RawValue", "RawArray", "current_process", "parent_process",
                   "active_children", "set_executable")

_HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # by the runner: kill the test, stop
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36


class UsageError(Exception):
    """Bad arguments or a bad expectation file: one line, exit 2."""


# --------------------------------------------------------------------------- small helpers

def one_line(text, limit=MESSAGE_MAX) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def capped(text, limit=DETAILS_MAX) -> str:
    text = str(text)
    return text if len(text) <= limit else "...\n" + text[-limit:]


def _prctl(option, value) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def scaled(seconds: float) -> float:
    return seconds * mpconform_tiers.time_scale()


# --------------------------------------------------------------------------- the test catalogue

def load_test_module():
    """test._test_multiprocessing, or UsageError (a missing test suite, a broken sem_open...)."""
    try:
        return importlib.import_module(TEST_MODULE)
    except unittest.SkipTest as e:
        raise UsageError(f"{TEST_MODULE} skips itself here: {e}") from None
    except ImportError as e:
        raise UsageError(f"cannot import {TEST_MODULE} ({e}); Debian: apt-get install "
                         f"libpython{sys.version_info[0]}.{sys.version_info[1]}-testsuite, and "
                         f"run with /usr/bin/python3") from None


def is_base_test(tm, cls) -> bool:
    return isinstance(cls, type) and issubclass(cls, tm.BaseTestCase)


def class_tests(tm, name) -> list[str]:
    """The test method names of class `name` (processes flavour), sorted as unittest sorts."""
    base = getattr(tm, name, None)
    if not isinstance(base, type):
        return []
    if is_base_test(tm, base) and "processes" not in base.ALLOWED_TYPES:
        return []
    return list(unittest.TestLoader().getTestCaseNames(base))


def catalogue(tm, classes) -> list[tuple[str, str]]:
    """[(class, test name)] for `classes`, in that order."""
    return [(c, t) for c in classes for t in class_tests(tm, c)]


@functools.lru_cache(maxsize=None)
def cpython_only_tests(path) -> frozenset:
    """`Class.test` ids decorated with @cpython_only / @support.cpython_only in the test module:
    on CPython that decorator is a no-op, so it cannot be seen at run time."""
    tree = ast.parse(Path(path).read_text(encoding="utf-8"))
    out = set()
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            for f in node.body:
                if isinstance(f, ast.FunctionDef) and any(
                        "cpython_only" in ast.unparse(d) for d in f.decorator_list):
                    out.add(f"{node.name}.{f.name}")
    return frozenset(out)


# --------------------------------------------------------------------------- expectations

def load_expectations(path, implementation, known_tests) -> dict:
    """The `cpython_tests` entries ({id: {"reason", "link", "flaky"}}) of the expectation file at
    `path`, checked whole (mpconform_expectations.load); UsageError naming the field otherwise,
    also when the file is for another implementation."""
    try:
        doc = mpconform_expectations.load(path, known_tests=known_tests)
    except ValueError as e:
        raise UsageError(f"--expectations {e}") from None
    if doc["implementation"] != implementation:
        raise UsageError(f"--expectations {shown_path(path)}: field implementation: the file is for "
                         f"{doc['implementation']!r}, this run is of {implementation!r} "
                         f"(--module / --implementation)")
    return doc["cpython_tests"]


# --------------------------------------------------------------------------- the target

def attribute_or_submodule(obj, name):
    """obj.name, else (for a module) its submodule `name` imported, else None."""
    if obj is None:
        return None
    found = getattr(obj, name, None)
    if found is None and isinstance(obj, types.ModuleType):
        try:
            found = importlib.import_module(f"{obj.__name__}.{name}")
        except ImportError:
            found = None
    return found


class Target:
    """The module under test: the module, its fork context, and whether it is CPython's."""

    def __init__(self, name):
        self.name = name
        try:
            self.module = importlib.import_module(name)
        except BaseException as e:  # noqa: BLE001 - any import failure is the argument's fault
            raise UsageError(f"--module {name}: cannot import it: {type(e).__name__}: "
                             f"{one_line(e)}") from None
        self.context = self.module
        if hasattr(self.module, "get_context"):
            try:
                self.context = self.module.get_context("fork")
            except (ValueError, TypeError):
                self.context = self.module
        self.is_cpython = self.module is sys.modules.get(ORACLE) and name == ORACLE
        self.version = str(getattr(self.module, "__version__", "") or
                           (platform.python_version() if self.is_cpython else ""))

    def lookup(self, dotted):
        """The target's object at a dotted path (`sharedctypes.Value`), or None."""
        obj = self.module
        for part in dotted.split("."):
            obj = attribute_or_submodule(obj, part)
            if obj is None:
                return None
        return obj


class _Missing:
    """A TargetMixin attribute the target lacks: using it raises AttributeError naming it."""

    def __init__(self, target, name):
        self._what = f"{target} has no {name}"

    def __get__(self, obj, cls=None):
        raise AttributeError(f"the module under test: {self._what}")


def make_mixin(target: Target, tm):
    """ProcessesMixin for `target`: the same attributes and class fixtures."""
    ns = {"TYPE": "processes"}
    for name in MIXIN_FACTORIES:
        obj = getattr(target.context, name, None)
        if obj is None:
            obj = getattr(target.module, name, None)
        if obj is None:
            ns[name] = _Missing(target.name, name)
        elif isinstance(obj, type):
            ns[name] = obj
        else:
            ns[name] = staticmethod(obj)
    conn = target.lookup("connection")
    ns["connection"] = conn if conn is not None else _Missing(target.name, "connection")
    process_mod = target.lookup("process")
    threading_dangling = getattr(threading, "_dangling", set())

    def setUpClass(cls):
        cls.dangling = (set(getattr(process_mod, "_dangling", ()) or ()), set(threading_dangling))

    def tearDownClass(cls):
        tm.support.gc_collect()
        processes = set(getattr(process_mod, "_dangling", ()) or ()) - cls.dangling[0]
        if processes:
            tm.support.print_warning(f"Dangling processes: {processes}")
        threads = set(threading_dangling) - cls.dangling[1]
        if threads:
            tm.support.print_warning(f"Dangling threads: {threads}")

    ns["setUpClass"] = classmethod(setUpClass)
    ns["tearDownClass"] = classmethod(tearDownClass)
    return type("TargetMixin", (object,), ns)


def make_case(tm, target: Target, name):
    """The unittest class that runs `name`'s tests on the target (install_tests_in_module_dict)."""
    base = getattr(tm, name)
    if is_base_test(tm, base):
        cls = type("With" + "Processes" + name[1:], (base, make_mixin(target, tm), unittest.TestCase), {})
    else:
        cls = type(name, (base, object), {})
    cls.__module__ = tm.__name__  # no setUpModule there: the runner did its work
    return cls


class Recorder:
    """CPython objects used in place of the target's: one line each in a file that the test's
    process and every process it starts append to (the runner reads it)."""

    def __init__(self, path):
        self.path = path
        self.used = set()  # in this process

    def note(self, what):
        if what in self.used:
            return
        self.used.add(what)
        try:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (what + "\n").encode())
            finally:
                os.close(fd)
        except OSError:
            pass


class TargetView(types.ModuleType):
    """`multiprocessing` as the test module sees it: the target's objects, CPython's (recorded)
    where the target has none. Submodules are views too."""

    def __init__(self, path, target_obj, cpython_obj, recorder):
        super().__init__(path)
        object.__setattr__(self, "_mpc", (path, target_obj, cpython_obj, recorder))

    def __getattr__(self, attr):
        path, target_obj, cpython_obj, recorder = object.__getattribute__(self, "_mpc")
        if attr.startswith("__") and attr.endswith("__"):
            raise AttributeError(attr)
        cp = attribute_or_submodule(cpython_obj, attr)
        mine = attribute_or_submodule(target_obj, attr)
        if isinstance(cp, types.ModuleType) or isinstance(mine, types.ModuleType):
            tmod = mine if isinstance(mine, types.ModuleType) else None
            if tmod is None:
                recorder.note(f"{path}.{attr}")
            view = TargetView(f"{path}.{attr}", tmod, cp, recorder)
            object.__setattr__(self, attr, view)
            return view
        if mine is not None:
            return mine
        if cp is None:
            raise AttributeError(f"module {path!r} (the target's view) has no attribute {attr!r}")
        recorder.note(f"{path}.{attr}")
        return cp


def _recording(func, what, recorder):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        recorder.note(what)
        return func(*args, **kwargs)
    return wrapper


def point_at_target(tm, target: Target, recorder: Recorder) -> None:
    """Rebind the test module's multiprocessing globals to the target (in the test's process)."""
    if target.is_cpython:
        return
    import multiprocessing
    import multiprocessing.connection
    import multiprocessing.process
    g = vars(tm)
    g["multiprocessing"] = TargetView("multiprocessing", target.module, multiprocessing, recorder)
    for name, dotted in (("Value", "sharedctypes.Value"), ("copy", "sharedctypes.copy"),
                         ("wait", "connection.wait")):
        if name not in g:
            continue
        mine = target.lookup(dotted)
        g[name] = mine if mine is not None else _recording(g[name], f"multiprocessing.{dotted}", recorder)
    if "reduction" in g:  # a view: with no target reduction, each attribute used is recorded
        g["reduction"] = TargetView("multiprocessing.reduction", target.lookup("reduction"),
                                    g["reduction"], recorder)
    proc = target.lookup("Process")
    if "_UpperCaser" in g and isinstance(proc, type):
        old = g["_UpperCaser"]
        body = {k: v for k, v in vars(old).items() if k not in ("__dict__", "__weakref__")}
        g["_UpperCaser"] = type(old.__name__, (proc,), body)
    # Run-time imports inside the tests (`from multiprocessing.process import parent_process`,
    # `from multiprocessing.connection import wait`) read CPython's modules: give them the target's.
    for mod, attr, dotted in ((multiprocessing.process, "parent_process", "parent_process"),
                              (multiprocessing.connection, "wait", "connection.wait")):
        mine = target.lookup(dotted)
        setattr(mod, attr, mine if mine is not None else
                _recording(getattr(mod, attr), f"{mod.__name__}.{attr}", recorder))


def prepare(tm, target: Target) -> None:
    """What the test module's setUpModule does, once, in the runner (the tests inherit it)."""
    import multiprocessing
    from multiprocessing import util
    multiprocessing.process._cleanup()
    for mod in {id(multiprocessing): multiprocessing, id(target.module): target.module}.values():
        setter = getattr(mod, "set_start_method", None)
        if setter is not None:
            try:
                setter("fork", force=True)
            except (ValueError, TypeError):
                pass
    try:
        target.context.RLock()
    except OSError as e:
        raise UsageError(f"--module {target.name}: RLock() raises {e} (see issue 3111)") from None
    except AttributeError:
        pass
    try:
        tm.check_enough_semaphores()
    except unittest.SkipTest as e:
        raise UsageError(str(e)) from None
    cpython_only_tests(tm.__file__)  # parsed once, inherited by the tests' processes
    util.get_temp_dir()
    multiprocessing.get_logger().setLevel(tm.LOG_LEVEL)
    if not target.is_cpython:
        tutil = target.lookup("util")
        if tutil is not None and hasattr(tutil, "get_temp_dir"):
            try:
                tutil.get_temp_dir()
            except Exception:  # noqa: BLE001 - a helper; the tests will say what is wrong
                pass
        get_logger = getattr(target.module, "get_logger", None)
        if get_logger is not None:
            try:
                get_logger().setLevel(tm.LOG_LEVEL)
            except Exception:  # noqa: BLE001
                pass


# --------------------------------------------------------------------------- in the test's process

class _Result(unittest.TestResult):
    """Keeps the first problem of each kind with its exception, for a one-line message."""

    def __init__(self):
        super().__init__()
        self.problems = []  # (kind, label, exc_info)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self.problems.append(("fail", "", err))

    def addError(self, test, err):
        super().addError(test, err)
        kind = "fail" if issubclass(err[0], AssertionError) else "error"
        self.problems.append((kind, "" if isinstance(test, unittest.TestCase) else str(test), err))

    def addSubTest(self, test, subtest, err):
        super().addSubTest(test, subtest, err)
        if err is not None:
            kind = "fail" if issubclass(err[0], test.failureException) else "error"
            self.problems.append((kind, subtest._subDescription(), err))


def _frame_text(filename, lineno, func) -> str:
    """`_test_multiprocessing.py:12 test_x`, `billiard/connection.py:971 _poll`."""
    p = Path(filename)
    shown = p.name if p.name == "_test_multiprocessing.py" or not p.parent.name else f"{p.parent.name}/{p.name}"
    return f"{shown}:{lineno} {func}"


def _exc_message(tm_file, label, err) -> tuple[str, str]:
    etype, value, tb = err
    text = "".join(traceback.format_exception_only(etype, value)).strip()
    first = text.splitlines()[0] if text else etype.__name__
    unittest_dir = os.path.dirname(unittest.__file__)
    frames = [f for f in traceback.extract_tb(tb)
              if not f.filename.startswith(unittest_dir) and f.filename != __file__]
    where = ""
    if frames:
        # innermost first: where it was raised, where it left the test module, the test's frame
        ours = [k for k, f in enumerate(frames) if f.filename == tm_file]
        theirs = [k for k, f in enumerate(frames) if f.filename != tm_file]
        spots = sorted({len(frames) - 1, *(theirs[-1:]), *(ours[:1])}, reverse=True)
        where = " (at " + " <- ".join(_frame_text(frames[k].filename, frames[k].lineno, frames[k].name)
                                      for k in spots) + ")"
    message = one_line(f"{label + ': ' if label else ''}{first}{where}")
    return message, "".join(traceback.format_exception(etype, value, tb))


def run_in_child(tm, target, cls_name, test_name, files) -> None:
    """The forked test process: never returns."""
    code = 0
    try:
        os.setpgid(0, 0)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        os.chdir(files["cwd"])
        null = os.open(os.devnull, os.O_RDONLY)
        out = os.open(files["out"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(null)
        os.close(out)
        for sig in _HANDLED:
            signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HANDLED)
        dump = open(files["dump"], "w")  # noqa: SIM115 - open until os._exit
        faulthandler.register(DUMP_SIGNAL, file=dump, all_threads=True, chain=False)
        with open(files["start"], "w") as f:
            f.write(str(threading.main_thread().ident))
        recorder = Recorder(files["uses"])
        test_id = f"{cls_name}.{test_name}"
        result = {"status": "pass", "message": "", "details": ""}
        if not target.is_cpython and test_id in NOT_APPLICABLE:
            result.update(status="skip", message=NOT_APPLICABLE[test_id])
        elif not target.is_cpython and test_id in cpython_only_tests(tm.__file__):
            result.update(status="skip", message="not applicable: @cpython_only (it checks "
                                                 "CPython's private attributes)")
        else:
            point_at_target(tm, target, recorder)
            case = make_case(tm, target, cls_name)
            suite = unittest.TestSuite([case(test_name)])
            res = _Result()
            suite.run(res)
            sys.stdout.flush()
            sys.stderr.flush()
            if res.problems:
                kinds = [k for k, _, _ in res.problems]
                kind = "fail" if "fail" in kinds else "error"
                _, label, err = next(p for p in res.problems if p[0] == kind)
                message, _ = _exc_message(tm.__file__, label, err)
                details = "\n".join(_exc_message(tm.__file__, lb, e)[1] for _, lb, e in res.problems)
                result.update(status=kind, message=message, details=capped(details))
            elif res.unexpectedSuccesses:
                result.update(status="fail", message="unexpected success of an expectedFailure test")
            elif res.skipped:
                result.update(status="skip", message=one_line(res.skipped[0][1]))
        tmp = files["result"] + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(result, f)
        os.replace(tmp, files["result"])
    except BaseException:  # noqa: BLE001 - say what went wrong, whatever it was
        code = 3
        try:
            traceback.print_exc()
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(code)


# --------------------------------------------------------------------------- in the runner

def _proc_stat(pid):
    """(ppid, pgrp, state) of pid from /proc, or None."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = data[data.rfind(")") + 2:].split()
    return int(fields[1]), int(fields[2]), fields[0]


def descendants_left(pgid) -> list[int]:
    """Live (not zombie) processes in group pgid or, the runner being a child subreaper,
    reparented to it."""
    me = os.getpid()
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != me:
            st = _proc_stat(entry)
            if st and (st[0] == me or st[1] == pgid) and st[2] != "Z":
                out.append(int(entry))
    return out


def _reap_all():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_tree(pgid, deadline_s=5.0) -> int:
    """SIGKILL the test's process group and whatever was reparented to the runner (processes
    that left the group), until none is left alive; reap them all (the test's process too).
    Returns how many processes besides the test's own process were killed."""
    killed = set()
    end = time.monotonic() + deadline_s
    while True:
        left = descendants_left(pgid)
        killed.update(left)
        try:
            os.killpg(pgid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.005 if left else 0)
        _reap_all()
        if not left or time.monotonic() > end:
            break
    killed.discard(pgid)
    return len(killed)


def _wait_exit(pid, seconds, tick=None) -> int | None:
    """The wait status of child pid once it exits within `seconds`, else None; calls tick()
    about once a second meanwhile."""
    end = time.monotonic() + seconds
    fd = None
    try:
        fd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        fd = None
    try:
        while True:
            got, status = os.waitpid(pid, os.WNOHANG)
            if got == pid:
                return status
            left = end - time.monotonic()
            if left <= 0:
                return None
            if tick is not None:
                tick()
                left = min(left, 1.0)
            if fd is not None:
                try:
                    select.select([fd], [], [], left)
                except InterruptedError:
                    pass
            else:
                time.sleep(min(0.01, left))
    finally:
        if fd is not None:
            os.close(fd)


_FRAME = re.compile(r'^\s+File "(?P<file>.*)", line (?P<line>\d+) in (?P<func>\S+)')


def where_stuck(dump: str, main_ident: int | None) -> str:
    """`file:line func <- ...` of the main thread in a faulthandler dump, innermost first."""
    blocks = re.split(r"\n(?=(?:Current thread|Thread) 0x)", dump.strip())
    chosen = None
    for block in blocks:
        m = re.match(r"(?:Current thread|Thread) 0x([0-9a-fA-F]+)", block)
        if m and main_ident is not None and int(m.group(1), 16) == main_ident:
            chosen = block
    if chosen is None:
        chosen = next((b for b in blocks if b.startswith("Current thread")), blocks[0] if blocks else "")
    frames = [_frame_text(m["file"], m["line"], m["func"]) for m in map(_FRAME.match, chosen.splitlines()) if m]
    if not frames:
        return ""
    shown = frames[:3]
    test_frame = next((f for f in frames if f.startswith("_test_multiprocessing.py:")), None)
    text = " <- ".join(shown)
    if test_frame and test_frame not in shown:
        text += " <- ... <- " + test_frame
    return text


def _read(path) -> str:
    try:
        return Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""


def _tail(text, lines=30) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


class Runner:
    def __init__(self, tm, target, timeout_s, workdir):
        self.tm, self.target, self.timeout_s, self.workdir = tm, target, timeout_s, workdir
        self.current_pgid = None
        self.count = 0

    def run(self, cls_name, test_name, limit_s, tick=None) -> dict:
        """One test in its own process group, bounded by limit_s."""
        self.count += 1
        stem = os.path.join(self.workdir, str(self.count))
        files = {k: f"{stem}.{k}" for k in ("out", "dump", "start", "result", "uses", "cwd")}
        os.mkdir(files["cwd"])  # the test's working directory (os_helper.TESTFN is relative)
        sys.stdout.flush()
        sys.stderr.flush()
        t0 = time.monotonic()
        # No runner signal handler may run in the child before it resets them.
        signal.pthread_sigmask(signal.SIG_BLOCK, _HANDLED)
        pid = os.fork()
        if pid == 0:
            run_in_child(self.tm, self.target, cls_name, test_name, files)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _HANDLED)
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass  # the child did it first (or already exec'd its children)
        self.current_pgid = pid
        status = _wait_exit(pid, limit_s, tick)
        entry = {}
        if status is None:
            ident = _read(files["start"]).strip()
            if ident:  # faulthandler is registered: every thread's stack into files["dump"]
                os.kill(pid, DUMP_SIGNAL)
            dump_end = time.monotonic() + 2.0
            dump, last = "", -1
            while time.monotonic() < dump_end:  # until the dump stops growing
                time.sleep(0.1)
                dump = _read(files["dump"])
                if dump and len(dump) == last:
                    break
                last = len(dump)
            seconds = time.monotonic() - t0
            left = kill_tree(pid)
            stuck = where_stuck(dump, int(ident) if ident.isdigit() else None)
            entry = {"status": "timeout",
                     "message": one_line(f"no result after {limit_s:g} s"
                                         + (f"; main thread in {stuck}" if stuck else "")
                                         + "; killed it" + (f" and {left} other "
                                         f"process{'es' if left > 1 else ''} it started"
                                                             if left else "")),
                     "details": capped((dump or "(no faulthandler dump)")
                                       + ("\n--- output ---\n" + _tail(_read(files["out"]))
                                          if _read(files["out"]).strip() else ""))}
        else:
            seconds = time.monotonic() - t0
            kill_tree(pid)
            try:
                entry = json.loads(_read(files["result"]))
            except ValueError:
                out = _tail(_read(files["out"]))
                how = (f"killed by signal {os.WTERMSIG(status)}" if os.WIFSIGNALED(status)
                       else f"exit code {os.WEXITSTATUS(status)}")
                last = out.strip().splitlines()[-1] if out.strip() else ""
                entry = {"status": "error",
                         "message": one_line(f"the test's process died ({how}) without a result"
                                             + (f": {last}" if last else "")),
                         "details": capped(out)}
        self.current_pgid = None
        uses = sorted(set(_read(files["uses"]).split()))
        if uses:
            entry["uses_cpython"] = uses
        output = _tail(_read(files["out"]))
        if entry.get("status") in ("fail", "error") and output.strip() and "--- output ---" not in entry.get("details", ""):
            entry["details"] = capped(entry.get("details", "") + "\n--- output ---\n" + output)
        for k, path in files.items():
            if k == "cwd":
                shutil.rmtree(path, ignore_errors=True)
                continue
            try:
                os.unlink(path)
            except OSError:
                pass
        entry["seconds"] = round(seconds, 2)
        return entry

    def abort(self):
        if self.current_pgid is not None:
            kill_tree(self.current_pgid, 1.0)


# --------------------------------------------------------------------------- console

class Console:
    def __init__(self, total):
        self.total = total
        self.tty = sys.stderr.isatty()
        self.t0 = time.monotonic()
        self.done = 0
        self.progress_shown = False
        self.current = ""
        self.done_at = 0.0

    @staticmethod
    def _clock(s):
        s = int(s)
        return f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"

    def _clear(self):
        if self.progress_shown:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()
            self.progress_shown = False

    def starting(self, test_id):
        self.current = test_id
        self.tick()

    def tick(self):
        if not self.tty:
            return
        test_id = self.current
        elapsed = time.monotonic() - self.t0
        est = ""
        if self.done:  # the mean time of the tests done, for those left, less the current one's
            left = self.done_at / self.done * (self.total - self.done) - (elapsed - self.done_at)
            est = f", ~{self._clock(max(left, 0))} left"
        self._clear()
        sys.stderr.write(f"[{self.done}/{self.total}] {self._clock(elapsed)}{est}  {test_id}")
        sys.stderr.flush()
        self.progress_shown = True

    def line(self, text):
        self._clear()
        print(text, flush=True)

    def result(self, t):
        self.done += 1
        self.done_at = time.monotonic() - self.t0
        msg = t.get("message", "")
        self.line(f"{t['status']:<8}{t['seconds']:7.2f}s  {t['id']}" + (f"  {msg}" if msg else ""))


# --------------------------------------------------------------------------- main

class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(message)


def parse_args(argv):
    p = _Parser(prog="mpconform_cpython_tests",
                description="CPython's own multiprocessing tests against any module with the "
                            "multiprocessing API (see the module docstring).")
    p.add_argument("--module", help="the module under test (importable)")
    p.add_argument("--implementation", help="its name in reports and expectation files "
                                            "(default: the module's name)")
    p.add_argument("--class", dest="classes", action="append", default=[], metavar="CLASS",
                   help=f"only this class (repeatable): {', '.join(IN_SCOPE + OPTIONAL)}")
    p.add_argument("-k", dest="keywords", action="append", default=[], metavar="SUBSTRING",
                   help="only tests whose id contains it (repeatable: any)")
    p.add_argument("--list", action="store_true", help="print the selected test ids and exit")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, metavar="S",
                   help=f"per-test bound in seconds, times MPCONFORM_TIME_SCALE (default {DEFAULT_TIMEOUT_S:g})")
    p.add_argument("--total-timeout", type=float, default=DEFAULT_TOTAL_TIMEOUT_S, metavar="S",
                   help=f"bound on the whole run, times MPCONFORM_TIME_SCALE (default {DEFAULT_TOTAL_TIMEOUT_S:g})")
    p.add_argument("--json", metavar="FILE", help="write the report (mpconform-cpython-tests/1)")
    p.add_argument("--expectations", metavar="FILE", help="expectation file of this implementation")
    a = p.parse_args(argv)
    for opt, v in (("--timeout", a.timeout), ("--total-timeout", a.total_timeout)):
        if not (v > 0 and v < 1e7):
            raise UsageError(f"{opt}: must be a number of seconds > 0, not {v:g}")
    known = IN_SCOPE + OPTIONAL
    for c in a.classes:
        if c not in known:
            raise UsageError(f"--class {c}: not a class this command runs (known: {', '.join(known)})")
    if not a.list and not a.module:
        raise UsageError("--module is required (e.g. --module billiard)")
    if a.module is not None and not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_]\w*)*", a.module):
        raise UsageError(f"--module {a.module}: not a module name")
    a.implementation = a.implementation or a.module
    return a


def select_tests(tm, args) -> list[tuple[str, str]]:
    classes = args.classes or list(IN_SCOPE)
    seen = []
    for c in classes:
        if c not in seen:
            seen.append(c)
    tests = catalogue(tm, seen)
    if args.keywords:
        tests = [(c, t) for c, t in tests if any(k in f"{c}.{t}" for k in args.keywords)]
    return tests


def judge(entry, expected, exp_path, implementation) -> str | None:
    """Apply an expectation entry to a test result; returns an unexpected-pass line or None."""
    if expected is None:
        return None
    entry["expected"] = {k: expected[k] for k in ("reason", "link") if k in expected}
    if entry["status"] in FAILING:
        entry["message"] = one_line(f"expected failure ({expected['reason']}): "
                                    f"{entry['status']}: {entry.get('message', '')}")
        entry["status"] = "xfail"
    elif entry["status"] == "pass" and not expected.get("flaky"):
        entry["status"] = "xpass"
        line = (f"{implementation}: {entry['id']} passed but {exp_path} expects it to fail; "
                f'remove cpython_tests."{entry["id"]}"')
        entry["message"] = one_line(line)
        return line
    return None


def write_json(path, doc):
    path = Path(path)
    if path.parent and not path.parent.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def main(argv=None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        timeout_s = scaled(args.timeout)
        total_s = scaled(args.total_timeout)
    except UsageError as e:
        print(f"mpconform_cpython_tests: {e}", file=sys.stderr)
        return 2
    except ValueError as e:  # a malformed MPCONFORM_TIME_SCALE
        print(f"mpconform_cpython_tests: {e}", file=sys.stderr)
        return 2
    try:
        tm = load_test_module()
        tests = select_tests(tm, args)
        if args.list:
            for c, t in tests:
                print(f"{c}.{t}")
            return 0
        known = {f"{c}.{t}" for c, t in catalogue(tm, IN_SCOPE + OPTIONAL)}
        expected = (load_expectations(args.expectations, args.implementation, known)
                    if args.expectations else {})
        if not tests:
            raise UsageError("no test selected (--class / -k)")
        target = Target(args.module)
        prepare(tm, target)
    except UsageError as e:
        print(f"mpconform_cpython_tests: {e}", file=sys.stderr)
        return 2
    return run_all(tm, target, tests, args, timeout_s, total_s, expected)


def run_all(tm, target, tests, args, timeout_s, total_s, expected) -> int:
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    workdir = tempfile.mkdtemp(prefix="mpconform-cpython-tests-")
    runner = Runner(tm, target, timeout_s, workdir)
    console = Console(len(tests))
    interrupted = []

    def on_signal(signum, frame):
        interrupted.append(signum)
        runner.abort()
        raise KeyboardInterrupt

    old = {s: signal.signal(s, on_signal) for s in _HANDLED}
    if threading.active_count() != 1:
        console.line(f"warning: {threading.active_count()} threads in the runner before forking")
    t0 = time.monotonic()
    results = []
    xpass_lines = []
    ran_out = False
    try:
        for c, t in tests:
            test_id = f"{c}.{t}"
            left = total_s - (time.monotonic() - t0)
            if left <= 0 or interrupted:
                ran_out = ran_out or left <= 0
                why = "interrupted" if interrupted else f"the total timeout ({total_s:g} s) ran out"
                entry = {"status": "skip", "seconds": 0.0, "message": f"not run: {why}"}
            else:
                console.starting(test_id)
                started = time.monotonic()
                try:
                    entry = runner.run(c, t, min(timeout_s, left), console.tick if console.tty else None)
                except KeyboardInterrupt:
                    entry = {"status": "error", "seconds": round(time.monotonic() - started, 2),
                             "message": "interrupted (signal {})".format(interrupted[0] if interrupted else "?")}
            entry = {"id": test_id, "class": c, "name": t, **entry}
            line = judge(entry, expected.get(test_id), shown_path(args.expectations or ""),
                         args.implementation)
            if line:
                xpass_lines.append(line)
            for k in ("message", "details"):
                if not entry.get(k):
                    entry.pop(k, None)
            if not entry.get("uses_cpython"):
                entry.pop("uses_cpython", None)
            results.append(entry)
            console.result(entry)
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        shutil.rmtree(workdir, ignore_errors=True)
    wall = time.monotonic() - t0
    totals = {s: sum(1 for r in results if r["status"] == s) for s in STATUSES}
    doc = {"format": REPORT_FORMAT, "implementation": args.implementation, "module": args.module,
           "module_version": target.version, "python": platform.python_version(),
           "timeout_s": round(timeout_s, 3), "total_timeout_s": round(total_s, 3),
           "wall_s": round(wall, 2),
           "expectations": shown_path(args.expectations) if args.expectations else None,
           "tests": results, "totals": totals}
    if args.json:
        write_json(args.json, doc)
    summary = ", ".join(f"{totals[s]} {s}" for s in STATUSES if totals[s])
    console.line(f"{args.implementation}: {len(results)} tests: {summary} in {wall:.1f} s")
    for line in xpass_lines:
        console.line(line)
    new = [r for r in results if r["status"] in FAILING]
    if new:
        console.line(f"{args.implementation}: {len(new)} unexpected "
                     f"{'failure' if len(new) == 1 else 'failures'}"
                     + (f" (not in {shown_path(args.expectations)})" if args.expectations else "")
                     + ": " + ", ".join(r["id"] for r in new[:10]) + (" ..." if len(new) > 10 else ""))
    if ran_out:
        console.line(f"{args.implementation}: the total timeout ({total_s:g} s) ran out; "
                     f"{sum(1 for r in results if r.get('message', '').startswith('not run'))} tests not run")
    if interrupted:
        return 1
    return 1 if (new or xpass_lines or ran_out) else 0


if __name__ == "__main__":
    sys.exit(main())
