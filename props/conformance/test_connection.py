"""Pipe and Connection (spec/clauses/connection.json), oracle vs --impl."""
import array
import mmap
import os
import pickle
import socket
import stat
import threading

import pytest

from .outcomes import Raises, exc, raised
from .support import (LONG, WAIT, Child, Flag, at_once, attempt, run_script, start, waits)

pytestmark = pytest.mark.timeout(60)

EOF_ = exc("EOFError", "")
CLOSED = exc("OSError", "handle is closed")
NESTED_LAMBDA = (lambda: lambda: 0)()  # qualname '<lambda>.<locals>.<lambda>': not picklable
MIB = 1 << 20


def mem_available() -> int:
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


# --------------------------------------------------------------------------- Pipe

@pytest.mark.clause("C-PIPE-1")
def test_duplex_pipe(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send("to b")
        b.send("to a")
        return (a.readable, a.writable, b.readable, b.writable), b.recv(), a.recv()
    check(body, expect=((True, True, True, True), "to b", "to a"))


@pytest.mark.clause("C-PIPE-2")
def test_simplex_pipe(check):
    def body(mp):
        r, w = mp.Pipe(False)
        w.send(1)
        return ((r.readable, r.writable), (w.readable, w.writable)), r.recv()
    check(body, expect=(((True, False), (False, True)), 1))


@pytest.mark.clause("C-PIPE-3")
def test_pipe_kernel_objects(check):
    def body(mp):
        a, b = mp.Pipe()
        s = socket.socket(fileno=os.dup(a.fileno()))
        duplex = (s.family == socket.AF_UNIX, s.type == socket.SOCK_STREAM)
        s.close()
        r, w = mp.Pipe(False)
        return duplex, stat.S_ISFIFO(os.fstat(r.fileno()).st_mode), stat.S_ISFIFO(os.fstat(w.fileno()).st_mode)
    check(body, expect=((True, True), True, True))


@pytest.mark.clause("C-RW-1")
def test_send_on_read_only_end(check):
    def body(mp):
        r, w = mp.Pipe(False)
        e = attempt(lambda: r.send(1))
        return e, attempt(lambda: r.send_bytes(b"x")), getattr(e, "errno", "n/a")
    check(body, expect=(raised("C-RW-1"), raised("C-RW-1"), None))


@pytest.mark.clause("C-RW-2")
def test_receive_on_write_only_end(check):
    def body(mp):
        r, w = mp.Pipe(False)
        e = attempt(w.recv)
        return (e, attempt(w.recv_bytes), attempt(lambda: w.recv_bytes_into(bytearray(4))),
                attempt(w.poll), getattr(e, "errno", "n/a"))
    e = raised("C-RW-2")
    check(body, expect=(e, e, e, e, None))


# --------------------------------------------------------------------------- send

@pytest.mark.clause("C-SEND-1")
def test_send_pickles_and_returns_none(check):
    def body(mp):
        a, b = mp.Pipe()
        obj = {"k": [1, 2.5, "s", b"b", None, (3,)]}
        return a.send(obj), b.recv() == obj
    check(body, expect=(None, True))


@pytest.mark.clause("C-SEND-4")
def test_send_pickling_error_propagates(check):
    def body(mp):
        a, b = mp.Pipe()
        return attempt(lambda: a.send(NESTED_LAMBDA)), b.poll(0.05)
    check(body, expect=(raised("C-SEND-4"), False))


@pytest.mark.clause("C-SEND-5")
def test_send_main_module_lambda(check):
    def body(mp):
        rc, out, err, _ = run_script(mp, """
            f = lambda: 0
            a, b = mp.Pipe()
            try:
                a.send(f)
            except Exception as e:
                print(type(e).__name__ + "|" + str(e))
        """)
        return out.strip()
    r = raised("C-SEND-5")
    check(body, expect=f"PicklingError|{r.message}")


@pytest.mark.clause("C-SEND-2")
def test_send_bytes_counts_bytes(check):
    def body(mp):
        a, b = mp.Pipe()
        out = []
        for buf in (b"abc", bytearray(b"abc"), memoryview(b"abc"), array.array("i", [1, 2, 3])):
            a.send_bytes(buf)
            out.append(b.recv_bytes())
        a.send_bytes(array.array("i", [1, 2, 3]), 1, 1)
        out.append(b.recv_bytes())
        return out
    check(body, expect=[b"abc"] * 3 + [array.array("i", [1, 2, 3]).tobytes(), b"\x00"])


@pytest.mark.clause("C-SEND-6")
def test_send_bytes_negative_offset(check):
    check(lambda mp: mp.Pipe()[0].send_bytes(b"abc", -1), expect=Raises.clause("C-SEND-6"))


@pytest.mark.clause("C-SEND-7")
def test_send_bytes_offset_beyond_buffer(check):
    check(lambda mp: mp.Pipe()[0].send_bytes(b"abc", 4), expect=Raises.clause("C-SEND-7"))


@pytest.mark.clause("C-SEND-8")
def test_send_bytes_negative_size(check):
    check(lambda mp: mp.Pipe()[0].send_bytes(b"abc", 0, -1), expect=Raises.clause("C-SEND-8"))


@pytest.mark.clause("C-SEND-9")
def test_send_bytes_offset_plus_size_beyond_buffer(check):
    check(lambda mp: mp.Pipe()[0].send_bytes(b"abc", 2, 2), expect=Raises.clause("C-SEND-9"))


@pytest.mark.clause("C-SEND-10")
def test_send_bytes_of_str(check):
    check(lambda mp: mp.Pipe()[0].send_bytes("abc"), expect=Raises.clause("C-SEND-10"))


@pytest.mark.clause("C-SEND-11")
def test_send_bytes_at_end_sends_empty_message(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send_bytes(b"abc", 3)
        a.send_bytes(b"abc", 3, 0)
        return b.recv_bytes(), b.recv_bytes()
    check(body, expect=(b"", b""))


@pytest.mark.clause("C-SEND-3")
def test_empty_message_preserved(check):
    def body(mp):
        a, b = mp.Pipe()
        return a.send_bytes(b""), b.poll(LONG), b.recv_bytes()
    check(body, expect=(None, True, b""))


@pytest.mark.clause("C-SEND-12")
def test_message_boundaries_kept(check):
    def body(mp):
        a, b = mp.Pipe()
        msgs = [bytes([i]) * i for i in range(50)]

        def sender():
            for m in msgs:
                a.send_bytes(m)
        start(mp, sender)
        return [b.recv_bytes() for _ in msgs] == msgs, b.poll(0.05)
    check(body, expect=(True, False))


@pytest.mark.clause("C-RECV-1")
def test_recv_of_non_pickle(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send_bytes(b"\x80\x04K")
        return b.recv()
    check(body, expect=Raises.clause("C-RECV-1"))


# --------------------------------------------------------------------------- maxlength, into

@pytest.mark.clause("C-MAXLEN-1")
def test_recv_bytes_negative_maxlength(check):
    check(lambda mp: mp.Pipe()[1].recv_bytes(-1), expect=Raises.clause("C-MAXLEN-1"))


@pytest.mark.clause("C-MAXLEN-2")
def test_recv_bytes_maxlength(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send_bytes(b"abcd")
        exact = b.recv_bytes(4)
        a.send_bytes(b"abcde")
        return exact, attempt(lambda: b.recv_bytes(4))
    check(body, expect=(b"abcd", raised("C-MAXLEN-2")))


@pytest.mark.clause("C-MAXLEN-3")
def test_too_long_message_on_duplex_end(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send_bytes(b"abcde")
        first = attempt(lambda: b.recv_bytes(4))
        sent = b.send("still")
        return first, b.readable, attempt(b.recv), sent, a.recv()
    check(body, expect=(exc("OSError", "bad message length"), False, raised("C-MAXLEN-3"), None, "still"))


@pytest.mark.clause("C-MAXLEN-4")
def test_too_long_message_on_simplex_reader(check):
    def body(mp):
        r, w = mp.Pipe(False)
        w.send_bytes(b"abcde")
        first = attempt(lambda: r.recv_bytes(4))
        return first, r.closed, attempt(r.recv)
    check(body, expect=(exc("OSError", "bad message length"), True, raised("C-MAXLEN-4")))


@pytest.mark.clause("C-INTO-1")
def test_recv_bytes_into(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send_bytes(b"abc")
        buf = bytearray(8)
        return b.recv_bytes_into(buf), bytes(buf)
    check(body, expect=(3, b"abc" + b"\x00" * 5))


@pytest.mark.clause("C-INTO-2")
def test_recv_bytes_into_offset_in_bytes(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send_bytes(array.array("i", [7]))
        buf = array.array("i", [0, 0, 0])
        return b.recv_bytes_into(buf, 4), list(buf)
    check(body, expect=(4, [0, 7, 0]))


@pytest.mark.clause("C-INTO-3")
def test_recv_bytes_into_negative_offset(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send_bytes(b"abc")
        return b.recv_bytes_into(bytearray(8), -1)
    check(body, expect=Raises.clause("C-INTO-3"))


@pytest.mark.clause("C-INTO-4")
def test_recv_bytes_into_offset_too_large(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send_bytes(b"abc")
        return b.recv_bytes_into(bytearray(8), 9)
    check(body, expect=Raises.clause("C-INTO-4"))


@pytest.mark.clause("C-INTO-5")
def test_recv_bytes_into_buffer_too_short(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send_bytes(b"0123456789AB")
        a.send_bytes(b"next")
        e = attempt(lambda: b.recv_bytes_into(bytearray(8)))
        args0 = e.args[0] if isinstance(e, mp.BufferTooShort) else None
        return e, args0, b.recv_bytes()
    check(body, expect=(raised("C-INTO-5"), b"0123456789AB", b"next"))


@pytest.mark.clause("C-INTO-6")
def test_recv_bytes_into_read_only_buffer(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send_bytes(b"abc")
        a.send_bytes(b"next")
        return attempt(lambda: b.recv_bytes_into(b"xxxxxxxx")), b.recv_bytes()
    check(body, expect=(raised("C-INTO-6"), b"next"))


# --------------------------------------------------------------------------- poll

@pytest.mark.clause("C-POLL-1")
def test_poll_consumes_nothing(check):
    def body(mp):
        a, b = mp.Pipe()
        before = at_once(b.poll)
        a.send(1)
        b.poll(LONG)
        return before, at_once(b.poll), at_once(lambda: b.poll(0)), b.recv()
    check(body, expect=((False, True), (True, True), (True, True), 1))


@pytest.mark.clause("C-POLL-2")
def test_poll_timeout(check):
    def body(mp):
        a, b = mp.Pipe()
        empty = waits(lambda: b.poll(WAIT), WAIT)

        def late():
            import time
            time.sleep(WAIT / 2)
            a.send("x")
        start(mp, late)
        got, dt = at_once_within(lambda: b.poll(LONG), LONG / 2)
        return empty, got, dt, b.recv()
    check(body, expect=((False, True), True, True, "x"))


def at_once_within(fn, bound):
    import time
    t0 = time.monotonic()
    v = fn()
    return v, time.monotonic() - t0 < bound


@pytest.mark.clause("C-POLL-3")
def test_poll_none_waits_for_data(check):
    def body(mp):
        a, b = mp.Pipe()

        def late():
            import time
            time.sleep(WAIT)
            a.send("x")
        start(mp, late)
        return waits(lambda: b.poll(None), WAIT)[0]
    check(body, expect=True)


@pytest.mark.clause("C-POLL-4")
def test_poll_negative(check):
    def body(mp):
        a, b = mp.Pipe()  # keep a: a collected peer is closed, and EOF polls True
        return at_once(lambda: b.poll(-1))
    check(body, expect=(False, True))


@pytest.mark.clause("C-POLL-5")
def test_poll_non_numeric(check):
    def body(mp):
        a, b = mp.Pipe()
        return b.poll("x")
    check(body, expect=Raises.clause("C-POLL-5"))


# --------------------------------------------------------------------------- EOF, EPIPE

@pytest.mark.clause("C-EOF-1")
def test_poll_true_at_eof(check):
    def body(mp):
        a, b = mp.Pipe()
        a.close()
        return at_once(b.poll)
    check(body, expect=(True, True))


@pytest.mark.clause("C-EOF-4")
def test_recv_at_eof(check):
    def body(mp):
        a, b = mp.Pipe()
        a.close()
        return attempt(b.recv), attempt(b.recv_bytes), attempt(lambda: b.recv_bytes_into(bytearray(4)))
    check(body, expect=(raised("C-EOF-4"),) * 3)


@pytest.mark.clause("C-EOF-5")
def test_queued_messages_before_eof(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send("queued")
        a.close()
        return b.poll(), b.recv(), b.poll(), attempt(b.recv)
    check(body, expect=(True, "queued", True, EOF_))


@pytest.mark.clause("C-EOF-2", "C-EOF-6")
def test_eof_needs_every_copy_closed(check):
    def body(mp):
        a, b = mp.Pipe()
        p = start(mp, lambda: b.send("hi"))
        p.join(LONG)
        first = a.recv(), a.poll(WAIT)
        b.close()
        return first, a.poll(LONG), attempt(a.recv)
    check(body, expect=(("hi", False), True, raised("C-EOF-6")))


@pytest.mark.clause("C-EOF-3")
def test_peer_closes_mid_message(check):
    def body(mp):
        out = []
        for partial in (b"\x00\x00", b"\x00\x00\x00\x08abc"):
            a, b = mp.Pipe()
            os.write(a.fileno(), partial)
            a.close()
            out.append(attempt(b.recv_bytes))
        return out
    check(body, expect=[raised("C-EOF-3")] * 2)


@pytest.mark.clause("C-EPIPE-1")
def test_send_to_closed_peer(check):
    def body(mp):
        a, b = mp.Pipe()
        b.close()
        r, w = mp.Pipe(False)
        r.close()
        return attempt(lambda: a.send(1)), attempt(lambda: a.send_bytes(b"x")), attempt(lambda: w.send(1))
    check(body, expect=(raised("C-EPIPE-1"),) * 3)


@pytest.mark.clause("C-RESET-1")
def test_close_with_unread_data_resets_peer_once(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send_bytes(b"x")
        b.close()  # closed with b"x" unread
        return (attempt(a.recv_bytes), a.poll(), attempt(a.recv_bytes),
                attempt(lambda: a.send_bytes(b"z")))
    check(body, expect=(raised("C-RESET-1"), True, EOF_, raised("C-EPIPE-1")))


@pytest.mark.clause("C-EPIPE-2")
def test_send_empty_bytes_to_closed_peer(check):
    def body(mp):
        a, b = mp.Pipe()
        b.close()
        return a.send_bytes(b"")
    check(body, expect=Raises.clause("C-EPIPE-2"))


# --------------------------------------------------------------------------- close

@pytest.mark.clause("C-CLOSE-1")
def test_close_twice(check):
    def body(mp):
        a, b = mp.Pipe()
        before = a.closed
        return before, a.close(), a.close(), a.closed
    check(body, expect=(False, None, None, True))


@pytest.mark.clause("C-CLOSE-4")
def test_everything_raises_after_close(check):
    def body(mp):
        a, b = mp.Pipe()
        a.close()
        ops = [lambda: a.send(1), lambda: a.send_bytes(b"x"), a.recv, a.recv_bytes,
               lambda: a.recv_bytes_into(bytearray(4)), a.poll, a.fileno]
        return [attempt(op) for op in ops]
    check(body, expect=[raised("C-CLOSE-4")] * 7)


@pytest.mark.clause("C-CLOSE-5")
def test_readable_writable_kept_after_close(check):
    def body(mp):
        a, b = mp.Pipe()
        a.close()
        return a.readable, a.writable
    check(body, expect=(True, True))


@pytest.mark.clause("C-CLOSE-6")
def test_connection_context_manager(check):
    def body(mp):
        a, b = mp.Pipe()
        entered = a.__enter__()
        return [entered is a, a.__exit__(None, None, None), a.closed]
    check(body, expect=[True, None, True])


# --------------------------------------------------------------------------- size, wire format

@pytest.mark.clause("C-BLOCK-1")
def test_send_blocks_while_buffer_full(check):
    def body(mp):
        a, b = mp.Pipe()
        payload = os.urandom(8 * MIB)
        t = threading.Thread(target=a.send_bytes, args=(payload,), daemon=True)
        t.start()
        t.join(WAIT)
        blocked = t.is_alive()
        got = b.recv_bytes()
        t.join(LONG)
        return blocked, (len(got),), got == payload, t.is_alive()
    check(body, expect=(True, (8 * MIB,), True, False))


@pytest.mark.clause("C-SIZE-1")
def test_64_mib_message(check):
    def body(mp):
        a, b = mp.Pipe()
        payload = b"\x02" * (64 * MIB)
        t = threading.Thread(target=a.send_bytes, args=(payload,), daemon=True)
        t.start()
        got = b.recv_bytes()
        t.join(LONG)
        return len(got), got == payload
    check(body, expect=(64 * MIB, True))


@pytest.mark.clause("C-SIZE-2")
def test_wire_format_small(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send_bytes(b"abc")
        return os.read(b.fileno(), 100)
    check(body, expect=b"\x00\x00\x00\x03abc")


@pytest.mark.clause("C-SIZE-3")
def test_wire_format_of_send(check):
    def body(mp):
        a, b = mp.Pipe()
        a.send(1)
        return os.read(b.fileno(), 100)
    check(body, expect=b"\x00\x00\x00\x05\x80\x04K\x01.")


BIG = 2 ** 31 + 10


def big_buffer():
    """2**31 + 10 zero bytes backed by the zero page (no RSS until written)."""
    return mmap.mmap(-1, BIG, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)


def release(buf):
    """Unmap buf unless something still exports it (a stuck sender, or the traceback of the
    sender's exception): then the garbage collector unmaps it later."""
    try:
        buf.close()
    except BufferError:
        pass


def in_background(fn, *args):
    """Start fn(*args) in a daemon thread; returns (thread, box) where box gets the result
    (or the exception) when fn ends."""
    box = []
    t = threading.Thread(target=lambda: box.append(attempt(lambda: fn(*args))), daemon=True)
    t.start()
    return t, box


def read_exactly(fd, n, timeout, keep=True):
    """n bytes from fd (only counted when keep is False), each read bounded by timeout;
    None if the stream stalls or ends first."""
    import select
    out, left = bytearray(), n
    while left:
        if not select.select([fd], [], [], timeout)[0]:
            return None
        chunk = os.read(fd, min(left, 1 << 22))
        if not chunk:
            return None
        left -= len(chunk)
        if keep:
            out += chunk
    return bytes(out)


@pytest.mark.clause("C-SIZE-4")
@pytest.mark.timeout(120)
def test_wire_format_large(check):
    def body(mp):
        a, b = mp.Pipe()
        buf = big_buffer()
        t, sent = in_background(a.send_bytes, buf)
        fd = b.fileno()
        head = read_exactly(fd, 12, LONG)
        rest = read_exactly(fd, BIG, LONG, keep=False) if head is not None else None
        a.close()  # unblocks a stalled sender
        t.join(LONG)
        release(buf)
        return head, rest is not None, sent
    check(body, expect=(b"\xff\xff\xff\xff\x00\x00\x00\x00\x80\x00\x00\n", True, [None]))


@pytest.mark.clause("C-SIZE-5")
@pytest.mark.timeout(120)
def test_2_gib_message_round_trips(check):
    if mem_available() < 8 * (1 << 30):
        pytest.skip("needs 8 GiB of available memory")

    def body(mp):
        a, b = mp.Pipe()
        buf = big_buffer()
        ts, sent = in_background(a.send_bytes, buf)
        tr, got = in_background(b.recv_bytes)
        ts.join(3 * LONG)
        tr.join(3 * LONG)
        if tr.is_alive():
            a.close()  # the receiver then sees EOF mid-message
            tr.join(LONG)
        release(buf)
        data = got[0] if got else None
        if isinstance(data, bytes):
            n, zeros = len(data), data.count(0)
            del got[:], data
            return sent, n, zeros == n
        return sent, data, None
    check(body, expect=([None], BIG, True))


# --------------------------------------------------------------------------- construction, api

@pytest.mark.clause("C-NEW-1")
def test_connection_invalid_handle(check):
    check(lambda mp: mp.connection.Connection(-1), expect=Raises.clause("C-NEW-1"))


@pytest.mark.clause("C-NEW-2")
def test_connection_neither_readable_nor_writable(check):
    def body(mp):
        r, w = os.pipe()
        try:
            return mp.connection.Connection(r, readable=False, writable=False)
        finally:
            os.close(r)
            os.close(w)
    check(body, expect=Raises.clause("C-NEW-2"))


@pytest.mark.clause("C-NEW-3")
def test_connection_handle_must_be_index(check):
    check(lambda mp: mp.connection.Connection("3"), expect=Raises.clause("C-NEW-3"))


@pytest.mark.clause("C-PICKLE-1")
def test_connection_sent_through_connection(check):
    def body(mp):
        a, b = mp.Pipe()
        done = Flag()

        def child():
            x, y = mp.Pipe()
            r = a.send(x)
            done.wait(LONG)  # keep the fd sharer alive until the parent has the connection
            return r, y.recv()
        c = Child(mp, child)
        got = b.recv()
        kind = type(got).__name__
        got.send("through")
        done.set()
        return c.result(), kind
    check(body, expect=((None, "through"), "Connection"))


@pytest.mark.clause("C-WAIT-1")
def test_wait_returns_ready_objects(check):
    def body(mp):
        a, b = mp.Pipe()
        c, d = mp.Pipe()
        e, f = mp.Pipe()
        a.send("data")
        e.close()  # f at EOF
        p = start(mp, lambda: None)
        p.join(LONG)
        busy = start(mp, Flag().wait, (WAIT,))  # still running while we wait
        s1, s2 = socket.socketpair()
        s1.send(b"x")
        try:
            objs = {"b": b, "d": d, "f": f, "exited": p.sentinel, "running": busy.sentinel, "s2": s2,
                    "s1": s1}
            ready = mp.connection.wait(list(objs.values()), LONG)
            return sorted(k for k, v in objs.items() if v in ready)
        finally:
            s1.close()
            s2.close()
    check(body, expect=["b", "exited", "f", "s2"])


@pytest.mark.clause("C-WAIT-2")
def test_wait_timeout(check):
    def body(mp):
        a, b = mp.Pipe()
        return waits(lambda: mp.connection.wait([b], WAIT), WAIT)
    check(body, expect=([], True))


@pytest.mark.clause("C-WAIT-3")
def test_wait_zero_and_negative(check):
    def body(mp):
        a, b = mp.Pipe()
        return at_once(lambda: mp.connection.wait([b], 0)), at_once(lambda: mp.connection.wait([b], -1))
    check(body, expect=(([], True), ([], True)))


@pytest.mark.clause("C-API-1")
def test_connection_public_attributes(check):
    check(lambda mp: sorted(n for n in dir(mp.Pipe()[0]) if not n.startswith("_")),
          expect=["close", "closed", "fileno", "poll", "readable", "recv", "recv_bytes",
                  "recv_bytes_into", "send", "send_bytes", "writable"])
