"""Contexts (CPython's multiprocessing/context.py): mpref has one start method, 'fork'.

The module-level functions of `mpref` are the bound methods of the default context, as in
CPython, so argument errors name `BaseContext.<method>()` exactly as CPython's do.
"""
import os

from multiprocessing import (AuthenticationError, BufferTooShort, ProcessError,
                             TimeoutError)

from . import process

__all__ = []


def assert_spawning(obj):
    # mpref only forks: objects are never pickled for a spawning child.
    raise RuntimeError(
        "%s objects should only be shared between processes"
        " through inheritance" % type(obj).__name__)


def get_spawning_popen():
    return None


class BaseContext(object):

    ProcessError = ProcessError
    BufferTooShort = BufferTooShort
    TimeoutError = TimeoutError
    AuthenticationError = AuthenticationError

    current_process = staticmethod(process.current_process)
    parent_process = staticmethod(process.parent_process)
    active_children = staticmethod(process.active_children)

    def cpu_count(self):
        """Returns the number of CPUs in the system"""
        num = os.cpu_count()
        if num is None:
            raise NotImplementedError("cannot determine number of cpus")
        else:
            return num

    def Pipe(self, duplex=True):
        """Returns two connection object connected by a pipe"""
        from .connection import Pipe
        return Pipe(duplex)

    def Lock(self):
        """Returns a non-recursive lock object"""
        from .synchronize import Lock
        return Lock(ctx=self.get_context())

    def RLock(self):
        """Returns a recursive lock object"""
        from .synchronize import RLock
        return RLock(ctx=self.get_context())

    def Condition(self, lock=None):
        """Returns a condition object"""
        from .synchronize import Condition
        return Condition(lock, ctx=self.get_context())

    def Semaphore(self, value=1):
        """Returns a semaphore object"""
        from .synchronize import Semaphore
        return Semaphore(value, ctx=self.get_context())

    def BoundedSemaphore(self, value=1):
        """Returns a bounded semaphore object"""
        from .synchronize import BoundedSemaphore
        return BoundedSemaphore(value, ctx=self.get_context())

    def Event(self):
        """Returns an event object"""
        from .synchronize import Event
        return Event(ctx=self.get_context())

    def Barrier(self, parties, action=None, timeout=None):
        """Returns a barrier object"""
        from .synchronize import Barrier
        return Barrier(parties, action, timeout, ctx=self.get_context())

    def Queue(self, maxsize=0):
        """Returns a queue object"""
        from .queues import Queue
        return Queue(maxsize, ctx=self.get_context())

    def JoinableQueue(self, maxsize=0):
        """Returns a queue object"""
        from .queues import JoinableQueue
        return JoinableQueue(maxsize, ctx=self.get_context())

    def SimpleQueue(self):
        """Returns a queue object"""
        from .queues import SimpleQueue
        return SimpleQueue(ctx=self.get_context())

    def RawValue(self, typecode_or_type, *args):
        """Returns a shared object"""
        from .sharedctypes import RawValue
        return RawValue(typecode_or_type, *args)

    def RawArray(self, typecode_or_type, size_or_initializer):
        """Returns a shared array"""
        from .sharedctypes import RawArray
        return RawArray(typecode_or_type, size_or_initializer)

    def Value(self, typecode_or_type, *args, lock=True):
        """Returns a synchronized shared object"""
        from .sharedctypes import Value
        return Value(typecode_or_type, *args, lock=lock,
                     ctx=self.get_context())

    def Array(self, typecode_or_type, size_or_initializer, *, lock=True):
        """Returns a synchronized shared array"""
        from .sharedctypes import Array
        return Array(typecode_or_type, size_or_initializer, lock=lock,
                     ctx=self.get_context())

    def freeze_support(self):
        """Check whether this is a fake forked process in a frozen executable."""

    def get_logger(self):
        """Return package logger -- if it does not already exist then it is created."""
        from .util import get_logger
        return get_logger()

    def allow_connection_pickling(self):
        """Install support for sending connections and sockets between processes."""
        from . import connection  # noqa: F401 - Connection pickles itself (__reduce__)

    def get_context(self, method=None):
        if method is None:
            method = "fork"
        try:
            ctx = _concrete_contexts[method]
        except KeyError:
            raise ValueError("cannot find context for %r" % method) from None
        return ctx

    def get_start_method(self, allow_none=False):
        return self._name

    def set_start_method(self, method, force=False):
        raise ValueError("cannot set start method of concrete context")

    def set_executable(self, executable):
        """Only meaningful for the spawn start method, which mpref does not have."""

    def set_forkserver_preload(self, module_names):
        """Only meaningful for the forkserver start method, which mpref does not have."""

    def log_to_stderr(self, level=None):
        """Turn on logging and add a handler which prints to stderr"""
        from .util import log_to_stderr
        return log_to_stderr(level)

    @property
    def reducer(self):
        from multiprocessing import reduction
        return reduction

    def _check_available(self):
        pass


class Process(process.BaseProcess):
    _start_method = None

    @staticmethod
    def _Popen(process_obj):
        return _default_context.get_context().Process._Popen(process_obj)

    @staticmethod
    def _after_fork():
        return _default_context.get_context().Process._after_fork()


class DefaultContext(BaseContext):
    Process = Process

    def __init__(self, context):
        self._default_context = context
        self._actual_context = None

    def get_context(self, method=None):
        if method is None:
            if self._actual_context is None:
                self._actual_context = self._default_context
            return self._actual_context
        else:
            return super().get_context(method)

    def set_start_method(self, method, force=False):
        if self._actual_context is not None and not force:
            raise RuntimeError("context has already been set")
        if method is None and force:
            self._actual_context = None
            return
        self._actual_context = self.get_context(method)

    def get_start_method(self, allow_none=False):
        if self._actual_context is None:
            if allow_none:
                return None
            self._actual_context = self._default_context
        return self._actual_context._name

    def get_all_start_methods(self):
        return ["fork"]


class ForkProcess(process.BaseProcess):
    _start_method = "fork"

    @staticmethod
    def _Popen(process_obj):
        return process.Popen(process_obj)


class ForkContext(BaseContext):
    _name = "fork"
    Process = ForkProcess


_concrete_contexts = {"fork": ForkContext()}
_default_context = DefaultContext(_concrete_contexts["fork"])
