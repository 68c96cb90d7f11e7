"""What every mutant shares: a fork context whose factories are CPython's, and the module surface.

A mutant module defines a `MutantContext` subclass overriding the one factory (or Process class)
its bug lives in, then calls `install(globals(), TheContext())`. Everything it does not override
is CPython's fork context (the objects are built with the *real* fork context, so a mutant Lock
does not leak into the Queue's internal locks), and any other module attribute (`connection`,
`process`, `SUBDEBUG`, ...) is CPython's.
"""
from __future__ import annotations

import importlib
import multiprocessing
import operator
from multiprocessing import context as _context

REAL = multiprocessing.get_context("fork")

_FACTORIES = ("Array", "Barrier", "BoundedSemaphore", "Condition", "Event", "JoinableQueue", "Lock",
              "Manager", "Pipe", "Pool", "Queue", "RLock", "RawArray", "RawValue", "Semaphore",
              "SimpleQueue", "Value")


class MutantContext(_context.ForkContext):
    """The fork context, every factory delegating to CPython's; fork is the only start method."""

    def get_context(self, method=None):
        if method is None or method == "fork":
            return self
        raise ValueError(f"cannot find context for {method!r}")

    def get_all_start_methods(self):
        return ["fork"]


def _delegate(name):
    def factory(self, *args, **kwargs):
        return getattr(REAL, name)(*args, **kwargs)
    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = getattr(_context.BaseContext, name).__doc__
    return factory


for _name in _FACTORIES:
    setattr(MutantContext, _name, _delegate(_name))


def install(ns: dict, ctx: MutantContext) -> None:
    """Make module namespace `ns` look like `multiprocessing` with `ctx` as its (fork) context."""
    public = [n for n in dir(ctx) if not n.startswith("_")]
    for n in public:
        ns[n] = getattr(ctx, n)
    ns["get_context"] = ctx.get_context
    ns["__all__"] = sorted(set(public) | {"get_context"})

    def __getattr__(attr):
        if attr.startswith("__"):
            raise AttributeError(f"module {ns['__name__']!r} has no attribute {attr!r}")
        if hasattr(multiprocessing, attr):
            return getattr(multiprocessing, attr)
        try:
            return importlib.import_module(f"multiprocessing.{attr}")
        except ImportError:
            raise AttributeError(f"module {ns['__name__']!r} has no attribute {attr!r}") from None

    ns["__getattr__"] = __getattr__


def disguise(cls):
    """Give a mutant class its CPython base's module and name, so that nothing but the bug tells
    them apart (type names and reprs compare equal). Returns cls (a class decorator)."""
    original = cls.__mro__[1]
    cls.__module__, cls.__qualname__, cls.__name__ = (
        original.__module__, original.__qualname__, original.__name__)
    return cls


def acquire_args(args, kwargs):
    """(block, timeout) from SemLock.acquire's arguments, with the TypeErrors CPython's C parser
    gives for extra or unknown arguments and for a non-integer block."""
    if len(args) > 2:
        raise TypeError(f"acquire() takes at most 2 arguments ({len(args)} given)")
    names = ("block", "timeout")
    for k in kwargs:
        if k not in names:
            raise TypeError(f"{k!r} is an invalid keyword argument for acquire()")
    values = dict(zip(names, args))
    for k, v in kwargs.items():
        if k in values:
            raise TypeError(f"argument for acquire() given by name ({k!r}) and position")
        values[k] = v
    block = values.get("block", True)
    operator.index(block) if not isinstance(block, bool) else None
    return block, values.get("timeout", None)
