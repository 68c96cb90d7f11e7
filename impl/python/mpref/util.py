"""Per-process helpers: after-fork hooks, finalizers, the exit function (CPython's util.py).

The exit function is CPython's util._exit_function: at the end of every child started by mpref
and at the main interpreter's exit (atexit), it runs the finalizers, terminates the daemonic
children, then joins every child. mpref's queues need no flushing (no feeder thread), so mpref
itself registers no finalizer; the registry is kept for API parity.
"""
import atexit
import itertools
import sys
import threading
import weakref

__all__ = ["register_after_fork", "Finalize", "is_exiting", "get_logger"]

_afterfork_registry = weakref.WeakValueDictionary()
_afterfork_counter = itertools.count()


def _run_after_forkers():
    items = list(_afterfork_registry.items())
    items.sort()
    for (index, ident, func), obj in items:
        try:
            func(obj)
        except Exception as e:  # noqa: BLE001 - as CPython: report and go on
            print("after forker raised exception %s" % e, file=sys.stderr)


def register_after_fork(obj, func):
    """Call func(obj) in every child started by mpref (not on a bare os.fork)."""
    _afterfork_registry[(next(_afterfork_counter), id(obj), func)] = obj


_finalizer_registry = {}
_finalizer_counter = itertools.count()


class Finalize(object):
    """A callback run when obj is collected, or at exit if exitpriority is not None."""

    def __init__(self, obj, callback, args=(), kwargs=None, exitpriority=None):
        if (exitpriority is not None) and not isinstance(exitpriority, int):
            raise TypeError(
                "Exitpriority ({0!r}) must be None or int, not {1!s}".format(
                    exitpriority, type(exitpriority)))
        if obj is not None:
            self._weakref = weakref.ref(obj, self)
        elif exitpriority is None:
            raise ValueError("Without object, exitpriority cannot be None")
        self._callback = callback
        self._args = args
        self._kwargs = kwargs or {}
        self._key = (exitpriority, next(_finalizer_counter))
        self._pid = _getpid()
        _finalizer_registry[self._key] = self

    def __call__(self, wr=None):
        try:
            del _finalizer_registry[self._key]
        except KeyError:
            return None
        if self._pid != _getpid():
            res = None
        else:
            res = self._callback(*self._args, **self._kwargs)
        self._weakref = self._callback = self._args = self._kwargs = self._key = None
        return res

    def cancel(self):
        try:
            del _finalizer_registry[self._key]
        except KeyError:
            pass
        else:
            self._weakref = self._callback = self._args = self._kwargs = self._key = None

    def still_active(self):
        return self._key in _finalizer_registry


def _getpid():
    import os
    return os.getpid()


def _run_finalizers(minpriority=None):
    if not _finalizer_registry:
        return
    if minpriority is None:
        f = lambda p: p[0] is not None  # noqa: E731
    else:
        f = lambda p: p[0] is not None and p[0] >= minpriority  # noqa: E731
    keys = [key for key in list(_finalizer_registry) if f(key)]
    keys.sort(reverse=True)
    for key in keys:
        finalizer = _finalizer_registry.get(key)
        if finalizer is not None:
            try:
                finalizer()
            except Exception:  # noqa: BLE001
                import traceback
                traceback.print_exc()
    if minpriority is None:
        _finalizer_registry.clear()


_exiting = False


def is_exiting():
    return _exiting or _exiting is None


def _exit_function():
    """CPython's util._exit_function: finalizers (priority >= 0), SIGTERM to every daemonic
    child, join every child without a timeout, then the remaining finalizers."""
    global _exiting
    if not _exiting:
        _exiting = True
        process = sys.modules[__package__ + ".process"]
        _run_finalizers(0)
        if process.current_process() is not None:
            for p in process.active_children():
                if p.daemon:
                    p._popen.terminate()
            for p in process.active_children():
                p.join()
        _run_finalizers()


atexit.register(_exit_function)


# ---- interplay with CPython's own multiprocessing objects used inside an mpref child --------

def _cpython_after_fork():
    """In a child started by mpref: what CPython's _bootstrap does for CPython's own objects
    (its finalizers belong to the parent; its after-fork hooks reset queues, locks and the
    resource sharer), so a CPython multiprocessing Queue used in an mpref child still flushes."""
    # Touch as little as possible: in a fresh child every page written costs a copy.
    mputil = sys.modules.get("multiprocessing.util")
    if mputil is None:
        return
    try:
        if mputil._finalizer_registry:
            mputil._finalizer_registry.clear()
        if mputil._afterfork_registry:
            mputil._run_after_forkers()
    except Exception:  # noqa: BLE001 - best effort: never break the child's start
        pass


def _cpython_exit():
    mputil = sys.modules.get("multiprocessing.util")
    if mputil is None or not mputil._finalizer_registry:
        return
    try:
        mputil._run_finalizers(0)
        mputil._run_finalizers()
    except Exception:  # noqa: BLE001
        pass


# ---- std streams (CPython's util._close_stdin / _flush_std_streams) -------------------------

def _close_stdin():
    if sys.stdin is None:
        return
    try:
        sys.stdin.close()
    except (OSError, ValueError):
        pass
    try:
        import os
        fd = os.open(os.devnull, os.O_RDONLY)
        try:
            sys.stdin = open(fd, encoding="utf-8", closefd=False)
        except:  # noqa: E722 - as CPython
            os.close(fd)
            raise
    except (OSError, ValueError):
        pass


def _stdin_from_fd0():
    """In a child started by mpref: C++ already put /dev/null on fd 0 (mpref::Process's child
    side), so sys.stdin is rebuilt on fd 0 instead of opening /dev/null again on a new fd as
    CPython's _close_stdin does (one file less in every child; reads give '' all the same)."""
    if sys.stdin is None:
        return
    try:
        sys.stdin.close()
    except (OSError, ValueError):
        pass
    try:
        sys.stdin = open(0, encoding="utf-8", closefd=False)
    except (OSError, ValueError):
        pass


def _flush_std_streams():
    try:
        sys.stdout.flush()
    except (AttributeError, ValueError):
        pass
    try:
        sys.stderr.flush()
    except (AttributeError, ValueError):
        pass


def get_logger():
    import logging
    return logging.getLogger("mpref")


def log_to_stderr(level=None):
    import logging
    logger = get_logger()
    formatter = logging.Formatter("[%(levelname)s/%(processName)s] %(message)s")
    handler = logging.StreamHandler()
    handler.setFormatter(formatter)
    logger.addHandler(handler)
    if level:
        logger.setLevel(level)
    return logger


# threading is imported here so that the after-fork machinery of the threading module is in
# place before any child is started.
_ = threading
