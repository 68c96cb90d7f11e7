"""Mutant: JoinableQueue.task_done() called more times than items were put returns None silently
instead of raising ValueError('task_done() called too many times'). Caught by JQ-2.
"""

# The mpconform property that must catch this mutant (`mpconform mutants --python`).
MPCONFORM_PROPERTY = "joinable"
from multiprocessing import queues as _queues

try:
    from ._mutantbase import REAL, MutantContext, disguise, install
except ImportError:  # imported top-level, props/pymutants on sys.path
    from _mutantbase import REAL, MutantContext, disguise, install


@disguise
class JoinableQueue(_queues.JoinableQueue):
    def task_done(self):
        with self._cond:
            if not self._unfinished_tasks.acquire(False):
                return  # BUG: should raise ValueError
            if self._unfinished_tasks._semlock._is_zero():
                self._cond.notify_all()


_JoinableQueue = JoinableQueue  # install() rebinds the module name to the factory


class TaskDoneContext(MutantContext):
    def JoinableQueue(self, maxsize=0):
        return _JoinableQueue(maxsize, ctx=REAL)


install(globals(), TaskDoneContext())
