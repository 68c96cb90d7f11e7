"""Mutant: every Queue silently drops the third item put into it (per queue, per putting process).

put() returns None as usual, but the item is never enqueued (no slot taken, nothing sent).
Caught by Q-MAX-3 (a Queue(3) still accepts a 4th item and returns the wrong items) and, more
slowly (a get that times out), by Q-ORDER-1 and Q-ORDER-2.
"""

# The mpconform property that must catch this mutant (`mpconform mutants --python`).
MPCONFORM_PROPERTY = "queue"
from multiprocessing import queues as _queues

try:
    from ._mutantbase import REAL, MutantContext, disguise, install
except ImportError:  # imported top-level, props/pymutants on sys.path
    from _mutantbase import REAL, MutantContext, disguise, install


@disguise
class Queue(_queues.Queue):
    def put(self, obj, block=True, timeout=None):
        self._mpc_puts = getattr(self, "_mpc_puts", 0) + 1
        if self._mpc_puts == 3:
            return None  # BUG: the third item is lost
        return super().put(obj, block, timeout)


_Queue = Queue  # install() rebinds the module name Queue to the factory


class LostItemContext(MutantContext):
    def Queue(self, maxsize=0):
        return _Queue(maxsize, ctx=REAL)


install(globals(), LostItemContext())
