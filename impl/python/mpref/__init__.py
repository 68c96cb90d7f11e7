"""mpref: the reference implementation of the `multiprocessing` API, on mpref's C++ library.

The same module-level API as CPython's `multiprocessing` (fork start method only): Process,
current_process, parent_process, active_children, Lock, RLock, Semaphore, BoundedSemaphore,
Condition, Event, Barrier, Queue, JoinableQueue, SimpleQueue, Pipe, Value, Array, RawValue,
RawArray, get_context, cpu_count, and CPython's own exception classes (ProcessError,
BufferTooShort, TimeoutError, AuthenticationError are multiprocessing's, so isinstance checks
hold across both). Primitives live in anonymous shared mappings inherited across fork.

Deliberate differences from CPython are the `divergence` clauses of spec/clauses/*.json (queues
have no feeder thread; daemonic children die with their parent; ...). mpref extensions:
CapacityError (an unbounded queue outgrew its shared-memory reserve) and OwnerDiedError.
"""
from . import _mpref, context

__version__ = "0.1.0"

__all__ = [x for x in dir(context._default_context) if not x.startswith("_")]
globals().update((name, getattr(context._default_context, name)) for name in __all__)

CapacityError = _mpref.CapacityError
OwnerDiedError = _mpref.OwnerDiedError

from . import connection, process, queues, synchronize, util  # noqa: E402,F401


def __getattr__(name):
    # sharedctypes (ctypes, mmap) is imported on first use, as CPython's is: a smaller
    # interpreter image forks faster.
    if name == "sharedctypes":
        import importlib
        return importlib.import_module(".sharedctypes", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

SUBDEBUG = 5
SUBWARNING = 25
