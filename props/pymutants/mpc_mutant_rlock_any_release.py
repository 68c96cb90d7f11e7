"""Mutant: RLock.release() by a thread or process that does not own the RLock (or of an RLock
nobody holds) returns None silently instead of raising AssertionError. Caught by RL-REL-1 and
RL-REL-2.
"""

# The mpconform property that must catch this mutant (`mpconform mutants --python`).
MPCONFORM_PROPERTY = "lock"
from multiprocessing import synchronize as _synchronize

try:
    from ._mutantbase import REAL, MutantContext, disguise, install
except ImportError:  # imported top-level, props/pymutants on sys.path
    from _mutantbase import REAL, MutantContext, disguise, install


@disguise
class RLock(_synchronize.RLock):
    def _make_methods(self):
        super()._make_methods()
        real_release = self._semlock.release

        def release():
            try:
                return real_release()
            except AssertionError:
                return None  # BUG: a non-owner's release must raise
        self.release = release


_RLock = RLock  # install() rebinds the module name RLock to the factory


class AnyReleaseContext(MutantContext):
    def RLock(self):
        return _RLock(ctx=REAL)


install(globals(), AnyReleaseContext())
