"""Mutant: a positive timeout on Queue.get, Queue.put and Lock.acquire waits only a quarter of it.

(A deadline computed in the wrong unit.) The call gives up with the right result (queue.Empty,
queue.Full, False), just too early. Caught by Q-EMPTY-3, Q-FULL-3, L-ACQ-6 and L-ACQ-3.
"""

# The mpconform property that must catch this mutant (`mpconform mutants --python`).
MPCONFORM_PROPERTY = "timeouts"
from multiprocessing import queues as _queues
from multiprocessing import synchronize as _synchronize

try:
    from ._mutantbase import REAL, MutantContext, acquire_args, disguise, install
except ImportError:  # imported top-level, props/pymutants on sys.path
    from _mutantbase import REAL, MutantContext, acquire_args, disguise, install


def _early(timeout):
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 0:
        return timeout / 4  # BUG
    return timeout


@disguise
class Queue(_queues.Queue):
    def put(self, obj, block=True, timeout=None):
        return super().put(obj, block, _early(timeout))

    def get(self, block=True, timeout=None):
        return super().get(block, _early(timeout))


@disguise
class Lock(_synchronize.Lock):
    def _make_methods(self):
        super()._make_methods()
        real_acquire = self._semlock.acquire

        def acquire(*args, **kwargs):
            block, timeout = acquire_args(args, kwargs)
            return real_acquire(block, _early(timeout))
        self.acquire = acquire


_Queue, _Lock = Queue, Lock  # install() rebinds the module names to the factories


class EarlyTimeoutContext(MutantContext):
    def Queue(self, maxsize=0):
        return _Queue(maxsize, ctx=REAL)

    def Lock(self):
        return _Lock(ctx=REAL)


install(globals(), EarlyTimeoutContext())
