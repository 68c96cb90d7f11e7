"""Forked, randomized workloads through the Python API: the properties the C++ suite checks.

Hypothesis draws every parameter in the parent, before any fork (so a failure replays from its
seed); each example forks producers / consumers / buyers / workers of the implementation under
test and checks the outcome: FIFO per producer, no loss or duplication, no oversold ticket,
task_done accounting, timeouts of full and empty queues, daemon termination.
On `--impl multiprocessing` they check CPython itself.
"""
import os
import select
import threading
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import support
from .support import LONG, STILL_BLOCKED, Child, Flag, about, in_thread, proc_state, start, wait_until

pytestmark = pytest.mark.timeout(120)

SETTINGS = settings(max_examples=6, deadline=None, database=None, print_blob=True,
                    suppress_health_check=list(HealthCheck))


@pytest.fixture
def scoped(mp):
    """Every Hypothesis example is a body: its children are reaped when it ends."""
    class Scope:
        def __enter__(self):
            support.begin()
            return mp

        def __exit__(self, *exc):
            support.reap(mp)
    return Scope


@pytest.mark.clause("Q-ORDER-2", "Q-ORDER-1", "JQ-8")
@given(producers=st.integers(1, 3), consumers=st.integers(1, 3), per=st.integers(0, 60),
       maxsize=st.integers(0, 4), joinable=st.booleans())
@SETTINGS
def test_producers_consumers_fifo_no_loss_no_dup(scoped, producers, consumers, per, maxsize, joinable):
    with scoped() as mp:
        q = (mp.JoinableQueue if joinable else mp.Queue)(maxsize)

        def produce(i):
            for s in range(per):
                q.put((i, s), timeout=LONG)

        def consume():
            got = []
            while True:
                x = q.get(timeout=LONG)
                if joinable:
                    q.task_done()
                if x is None:
                    return got
                got.append(x)
        cons = [Child(mp, consume) for _ in range(consumers)]
        prods = [start(mp, produce, (i,)) for i in range(producers)]
        for p in prods:
            p.join(LONG)
        assert [p.exitcode for p in prods] == [0] * producers
        if joinable:
            assert in_thread(q.join, LONG) is None, "join() did not return after every task_done()"
        for _ in cons:
            q.put(None, timeout=LONG)
        results = [c.result(LONG) for c in cons]
        assert all(isinstance(r, list) for r in results), results
        everything = [tuple(x) for r in results for x in r]
        assert sorted(everything) == sorted((i, s) for i in range(producers) for s in range(per)), \
            "items lost or duplicated"
        for r in results:
            for i in range(producers):
                seq = [s for j, s in r if j == i]
                assert seq == sorted(seq), f"producer {i}'s items out of order at one consumer: {seq}"


@pytest.mark.clause("L-EXCL-1", "V-ATOM-3")
@given(buyers=st.integers(1, 4), tickets=st.integers(0, 40), use_value_lock=st.booleans())
@SETTINGS
def test_ticket_grab_never_oversells(scoped, buyers, tickets, use_value_lock):
    with scoped() as mp:
        left = mp.Value("i", tickets)
        lowest = mp.Value("i", tickets)
        lock = left.get_lock() if use_value_lock else mp.Lock()

        def buy():
            mine = 0
            while True:
                with lock:
                    n = left.value
                    if n <= 0:
                        return mine
                    time.sleep(0)  # invite an interleaving inside the critical section
                    left.value = n - 1
                    if n - 1 < lowest.value:
                        lowest.value = n - 1
                mine += 1
        kids = [Child(mp, buy) for _ in range(buyers)]
        sold = [k.result(LONG) for k in kids]
        assert all(isinstance(s, int) for s in sold), sold
        assert sum(sold) == tickets, f"sold {sold} of {tickets}"
        assert left.value == 0 and lowest.value >= 0


@pytest.mark.clause("JQ-9", "JQ-11", "JQ-2")
@given(workers=st.integers(1, 3), items=st.integers(0, 30), extra=st.integers(0, 2))
@SETTINGS
def test_task_done_accounting(scoped, workers, items, extra):
    with scoped() as mp:
        q = mp.JoinableQueue()
        done = mp.Value("i", 0)

        def work():
            while True:
                x = q.get(timeout=LONG)
                if x is None:
                    q.task_done()
                    return
                with done.get_lock():
                    done.value += 1
                q.task_done()
        ws = [start(mp, work) for _ in range(workers)]
        for i in range(items):
            q.put(i)
        assert in_thread(q.join, LONG) is None
        assert done.value == items
        for _ in ws:
            q.put(None)
        assert in_thread(q.join, LONG) is None
        for w in ws:
            w.join(LONG)
        assert [w.exitcode for w in ws] == [0] * workers
        errors = [type(in_thread(q.task_done)).__name__ for _ in range(extra)]
        assert errors == ["ValueError"] * extra


@pytest.mark.clause("Q-FULL-3", "Q-EMPTY-3")
@given(t=st.floats(0.05, 0.3), maxsize=st.integers(1, 3))
@settings(SETTINGS, max_examples=4)
def test_full_and_empty_timeouts(scoped, t, maxsize):
    import queue
    with scoped() as mp:
        q = mp.Queue(maxsize)
        for i in range(maxsize):
            q.put(i)
        t0 = time.monotonic()
        with pytest.raises(queue.Full):
            q.put("x", timeout=t)
        assert about(time.monotonic() - t0, t)
        assert [q.get(timeout=LONG) for _ in range(maxsize)] == list(range(maxsize))
        t0 = time.monotonic()
        with pytest.raises(queue.Empty):
            q.get(timeout=t)
        assert about(time.monotonic() - t0, t)


@pytest.mark.clause("X-EXIT-3", "P-DAEMON-1")
@given(daemons=st.integers(0, 3), others=st.integers(0, 2))
@settings(SETTINGS, max_examples=4)
def test_daemon_grandchildren_terminated_at_child_exit(scoped, daemons, others):
    with scoped() as mp:
        r, w = os.pipe()
        stop = Flag()

        def child():
            for d in [True] * daemons + [False] * others:
                g = mp.Process(target=stop.wait, args=(0.3 if not d else LONG,), daemon=d)
                g.start()
                os.write(w, f"{g.pid}:{int(d)};".encode())
        p = start(mp, child)
        p.join(LONG)
        os.close(w)
        data = b""
        while select.select([r], [], [], 0.5)[0]:  # what the child wrote (grandchildren may hold w)
            chunk = os.read(r, 4096)
            if not chunk:
                break
            data += chunk
        os.close(r)
        pids = [tuple(map(int, e.split(":"))) for e in data.decode().split(";") if e]
        assert p.exitcode == 0
        assert len(pids) == daemons + others
        for pid, _ in pids:
            assert wait_until(lambda: proc_state(pid) == "gone", LONG), f"grandchild {pid} left behind"
