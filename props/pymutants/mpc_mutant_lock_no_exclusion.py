"""Mutant: Lock.acquire() always succeeds at once. A held lock is "acquired" anyway (the call
returns True without taking it, and the matching release() is a no-op), so two holders can be
inside the critical section together. Caught by L-ACQ-2, L-ACQ-3, L-ACQ-6 (and by the toilet and
tickets seeds).
"""

# The mpconform property that must catch this mutant (`mpconform mutants --python`).
MPCONFORM_PROPERTY = "lock"
from multiprocessing import synchronize as _synchronize

try:
    from ._mutantbase import REAL, MutantContext, acquire_args, disguise, install
except ImportError:  # imported top-level, props/pymutants on sys.path
    from _mutantbase import REAL, MutantContext, acquire_args, disguise, install


@disguise
class Lock(_synchronize.Lock):
    def _make_methods(self):
        real_acquire, real_release = self._semlock.acquire, self._semlock.release
        phantom = [0]  # acquires (in this process) that did not really take the lock

        def acquire(*args, **kwargs):
            _, timeout = acquire_args(args, kwargs)
            if real_acquire(False, timeout):
                return True
            phantom[0] += 1  # BUG: should wait, or return False
            return True

        def release():
            if phantom[0]:
                phantom[0] -= 1
                return None
            return real_release()
        self.acquire, self.release = acquire, release

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *args):
        return self.release()


_Lock = Lock  # install() rebinds the module name Lock to the factory


class NoExclusionContext(MutantContext):
    def Lock(self):
        return _Lock(ctx=REAL)


install(globals(), NoExclusionContext())
