"""Mutant: a child ended by a signal reports exitcode 128 + signum (the shell's convention)
instead of -signum: terminate() gives 143, kill() 137. Caught by P-EXIT-2 and P-TERM-1.
"""

# The mpconform property that must catch this mutant (`mpconform mutants --python`).
MPCONFORM_PROPERTY = "daemon"
from multiprocessing import context as _context

try:
    from ._mutantbase import MutantContext, disguise, install
except ImportError:  # imported top-level, props/pymutants on sys.path
    from _mutantbase import MutantContext, disguise, install


@disguise
class ForkProcess(_context.ForkProcess):
    @property
    def exitcode(self):
        code = super().exitcode
        if code is not None and code < 0:
            return 128 - code  # BUG: should stay -signum
        return code


class WrongExitcodeContext(MutantContext):
    Process = ForkProcess


install(globals(), WrongExitcodeContext())
