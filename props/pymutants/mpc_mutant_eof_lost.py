"""Mutant: a Connection from Pipe() reads end-of-file as an empty message: recv_bytes() returns
b'', recv_bytes_into() returns 0 and recv() raises EOFError('Ran out of input') (unpickling
nothing) instead of a bare EOFError. Caught by C-EOF-4, C-EOF-5 and C-EOF-6.
"""

# The mpconform property that must catch this mutant (`mpconform mutants --python`).
MPCONFORM_PROPERTY = "pipe"
import io
from multiprocessing import connection as _connection
from multiprocessing import reduction as _reduction

try:
    from ._mutantbase import MutantContext, disguise, install
except ImportError:  # imported top-level, props/pymutants on sys.path
    from _mutantbase import MutantContext, disguise, install


@disguise
class Connection(_connection.Connection):
    def _recv_bytes(self, maxsize=None):
        try:
            return super()._recv_bytes(maxsize)
        except EOFError:
            return io.BytesIO()  # BUG: EOF is not an empty message


# sent through a Connection like CPython's (it is rebuilt as a plain CPython Connection)
_reduction.register(Connection, _connection.reduce_connection)


class EofLostContext(MutantContext):
    def Pipe(self, duplex=True):
        ends = _connection.Pipe(duplex)
        for end in ends:
            end.__class__ = Connection
        return ends


install(globals(), EofLostContext())
