"""Pipe, Connection and wait (CPython's multiprocessing/connection.py, on mpref::Connection).

The checks and their order are CPython's; the descriptor, the wire format (4-byte big-endian
length, or -1 then an 8-byte length) and every blocking call are mpref's C++ code, run with the
GIL released.
"""
import io
import pickle
import time

from multiprocessing import BufferTooShort
from multiprocessing.reduction import ForkingPickler as _ForkingPickler

from . import _mpref

__all__ = ["Connection", "Pipe", "wait"]


class _ConnectionBase:
    _core = None

    def __init__(self, handle, readable=True, writable=True):
        handle = handle.__index__()
        if handle < 0:
            raise ValueError("invalid handle")
        if not readable and not writable:
            raise ValueError(
                "at least one of `readable` and `writable` must be True")
        self._core = _mpref.ConnectionCore(handle, bool(readable), bool(writable))

    @classmethod
    def _from_core(cls, core):
        self = cls.__new__(cls)
        self._core = core
        return self

    def _check_closed(self):
        if self._core.closed:
            raise OSError("handle is closed")

    def _check_readable(self):
        if not self._core.readable:
            raise OSError("connection is write-only")

    def _check_writable(self):
        if not self._core.writable:
            raise OSError("connection is read-only")

    @property
    def closed(self):
        """True if the connection is closed"""
        return self._core.closed

    @property
    def readable(self):
        """True if the connection is readable"""
        return self._core.readable

    @property
    def writable(self):
        """True if the connection is writable"""
        return self._core.writable

    def fileno(self):
        """File descriptor or handle of the connection"""
        self._check_closed()
        return self._core.fileno()

    def close(self):
        """Close the connection"""
        self._core.close()

    def send_bytes(self, buf, offset=0, size=None):
        """Send the bytes data from a bytes-like object"""
        self._check_closed()
        self._check_writable()
        m = memoryview(buf)
        # HACK for byte-indexing of non-bytewise buffers (e.g. array.array)
        if m.itemsize > 1:
            m = memoryview(bytes(m))
        n = len(m)
        if offset < 0:
            raise ValueError("offset is negative")
        if n < offset:
            raise ValueError("buffer length < offset")
        if size is None:
            size = n - offset
        elif size < 0:
            raise ValueError("size is negative")
        elif offset + size > n:
            raise ValueError("buffer length < offset + size")
        self._core.send_bytes(m[offset:offset + size])

    def send(self, obj):
        """Send a (picklable) object"""
        self._check_closed()
        self._check_writable()
        self._core.send_bytes(_ForkingPickler.dumps(obj))

    def recv_bytes(self, maxlength=None):
        """Receive bytes data as a bytes object."""
        self._check_closed()
        self._check_readable()
        if maxlength is not None and maxlength < 0:
            raise ValueError("negative maxlength")
        return self._core.recv_bytes(maxlength)

    def recv_bytes_into(self, buf, offset=0):
        """Receive bytes data into a writeable bytes-like object.
        Return the number of bytes read."""
        self._check_closed()
        self._check_readable()
        with memoryview(buf) as m:
            # Get bytesize of arbitrary buffer
            itemsize = m.itemsize
            bytesize = itemsize * len(m)
            if offset < 0:
                raise ValueError("negative offset")
            elif offset > bytesize:
                raise ValueError("offset too large")
            result = self._core.recv_bytes(None)
            size = len(result)
            if bytesize < offset + size:
                raise BufferTooShort(result)
            # Message can fit in dest
            io.BytesIO(result).readinto(m[offset // itemsize:(offset + size) // itemsize])
            return size

    def recv(self):
        """Receive a (picklable) object"""
        self._check_closed()
        self._check_readable()
        return pickle.loads(self._core.recv_bytes(None))

    def poll(self, timeout=0.0):
        """Whether there is any input available to be read"""
        self._check_closed()
        self._check_readable()
        if timeout is not None:
            time.monotonic() + timeout  # CPython's wait(): TypeError for a non-number
        return self._core.poll(timeout)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, exc_tb):
        self.close()

    def __reduce__(self):
        # Sent through a pipe or queue: the descriptor travels as CPython's does under fork,
        # through DupFd and the resource sharer (C-PICKLE-1).
        from multiprocessing import reduction
        df = reduction.DupFd(self.fileno())
        return rebuild_connection, (df, self.readable, self.writable)


class Connection(_ConnectionBase):
    """Connection class based on an arbitrary file descriptor (Unix only), or a socket
    handle (Windows)."""


def rebuild_connection(df, readable, writable):
    fd = df.detach()
    return Connection(fd, readable, writable)


def Pipe(duplex=True):
    """Returns pair of connection objects at either end of a pipe"""
    c1, c2 = _mpref.Pipe(bool(duplex))
    return Connection._from_core(c1), Connection._from_core(c2)


def _fd_of(obj):
    if isinstance(obj, int):
        return obj
    fd = obj.fileno()
    if not isinstance(fd, int):
        fd = int(fd)
    return fd


def wait(object_list, timeout=None):
    """Wait till an object in object_list is ready/readable.

    Returns list of those objects in object_list which are ready/readable."""
    object_list = list(object_list)
    fds = [_fd_of(o) for o in object_list]
    if timeout is not None:
        time.monotonic() + timeout  # CPython: TypeError for a non-number
    ready = set(_mpref.wait_fds(fds, timeout))
    return [o for o, fd in zip(object_list, fds) if fd in ready]
