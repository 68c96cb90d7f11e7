"""Queue, JoinableQueue, SimpleQueue (CPython's multiprocessing/queues.py) on mpref's
shared-memory queues (_mpref.QueueCore, _mpref.SimpleQueueCore).

Where mpref differs from CPython on purpose (spec/clauses/queues.json, `divergence`): there is
no feeder thread. put() pickles (protocol 4) and writes the item into shared memory before it
returns, so an unpicklable item raises from put(), empty()/qsize()/get_nowait() see the item at
once, and no process ever waits at exit for queue data (join_thread() returns at once).
Everything else (signatures, messages, the per-process closed flag and its reset in a child)
is CPython's.
"""
import time
import types

from queue import Empty, Full  # noqa: F401 - re-exported as CPython's queues module does

from . import _mpref, context, util

__all__ = ["Queue", "SimpleQueue", "JoinableQueue"]

SEM_VALUE_MAX = _mpref.SEM_VALUE_MAX


def _maxsize_arg(maxsize):
    # CPython hands maxsize to a BoundedSemaphore: its int converter's errors.
    if maxsize <= 0:
        maxsize = SEM_VALUE_MAX
    return maxsize


class Queue(object):

    _joinable = False

    def __init__(self, maxsize=0, *, ctx):
        maxsize = _maxsize_arg(maxsize)
        self._maxsize = maxsize
        self._core = _mpref.QueueCore(maxsize, self._joinable)
        self._put_core = self._core.put
        self._get_core = self._core.get
        self._closed = False
        # CPython's feeder closes the pipes after close() once it has started (first put in
        # this process); then empty() raises OSError('handle is closed') (Q-CLOSE-8).
        self._fed = False
        self._pipes_closed = False
        util.register_after_fork(self, Queue._after_fork)

    def __getstate__(self):
        context.assert_spawning(self)

    def _after_fork(self):
        self._closed = False
        self._fed = False
        self._pipes_closed = False

    def put(self, obj, block=True, timeout=None):
        if self._closed:
            raise ValueError(f"Queue {self!r} is closed")
        self._put_core(obj, block, timeout)
        self._fed = True

    def get(self, block=True, timeout=None):
        if self._closed:
            raise ValueError(f"Queue {self!r} is closed")
        if block and timeout is not None:
            time.monotonic() + timeout  # CPython: TypeError for a non-number
        if self._pipes_closed:
            raise OSError("handle is closed")
        return self._get_core(block, timeout)

    def qsize(self):
        return self._core.qsize()

    def empty(self):
        if self._pipes_closed:
            raise OSError("handle is closed")
        return self._core.empty()

    def full(self):
        return self._core.full()

    def get_nowait(self):
        return self.get(False)

    def put_nowait(self, obj):
        return self.put(obj, False)

    def close(self):
        self._closed = True
        if self._fed:
            self._pipes_closed = True

    def join_thread(self):
        assert self._closed, "Queue {0!r} not closed".format(self)
        # No feeder thread: everything put is already in shared memory.

    def cancel_join_thread(self):
        # No feeder thread whose flush could be cancelled.
        pass


class JoinableQueue(Queue):

    _joinable = True

    def __init__(self, maxsize=0, *, ctx):
        Queue.__init__(self, maxsize, ctx=ctx)

    def __getstate__(self):
        return Queue.__getstate__(self)

    def put(self, obj, block=True, timeout=None):
        if self._closed:
            raise ValueError(f"Queue {self!r} is closed")
        self._put_core(obj, block, timeout)
        self._fed = True

    def task_done(self):
        self._core.task_done()

    def join(self):
        self._core.join()


class SimpleQueue(object):

    def __init__(self, *, ctx):
        self._core = _mpref.SimpleQueueCore()

    def close(self):
        self._core.close()

    def empty(self):
        return self._core.empty()

    def __getstate__(self):
        context.assert_spawning(self)

    def get(self):
        return self._core.get()

    def _get_timeout(self, timeout):
        # Not CPython's API: mpconform's Python executor bounds a SimpleQueue get with it.
        # Raises queue.Empty when `timeout` seconds pass.
        return self._core.get_timeout(timeout)

    def put(self, obj):
        self._core.put(obj)

    __class_getitem__ = classmethod(types.GenericAlias)
