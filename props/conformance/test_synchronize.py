"""Lock, RLock, Semaphore, BoundedSemaphore (spec/clauses/synchronize.json), oracle vs --impl.

Each test runs `body(mp)` on CPython's multiprocessing and on the implementation and compares
outcomes (props/conformance/outcomes.py); children, threads and waits are bounded
(props/conformance/support.py).
"""
import os
import pickle
import signal
import threading
import time

import pytest

from .outcomes import Raises, exc, raised
from .support import (LONG, STILL_BLOCKED, WAIT, Child, Flag, at_once, attempt, in_child,
                      in_thread, start, waits)

pytestmark = pytest.mark.timeout(30)

TOO_MANY = exc("ValueError", "semaphore or lock released too many times")


def hold_in_child(mp, acquire, release=None):
    """A child that calls acquire(), then waits for `go` and calls release() (if given).
    Returns (process, go flag); the child exits after go (or after LONG)."""
    ready, go = Flag(), Flag()

    def run():
        acquire()
        ready.set()
        go.wait(LONG)
        if release:
            release()

    p = start(mp, run)
    assert ready.wait(LONG), "holder child did not start"
    return p, go


def hold_in_thread(acquire, release=None):
    """A thread that calls acquire(), then release() once `go` is set. Returns (thread, go)."""
    ready, go = threading.Event(), threading.Event()

    def run():
        acquire()
        ready.set()
        go.wait(LONG)
        if release:
            release()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    assert ready.wait(LONG)
    return t, go


# --------------------------------------------------------------------------- Lock.acquire

@pytest.mark.clause("L-ACQ-1")
def test_acquire_free_lock_returns_true(check):
    check(lambda mp: mp.Lock().acquire(), expect=True)


@pytest.mark.clause("L-ACQ-5")
def test_acquire_keyword_is_block(check):
    check(lambda mp: mp.Lock().acquire(blocking=True), expect=Raises.clause("L-ACQ-5"))


@pytest.mark.clause("L-ACQ-2")
def test_acquire_nonblocking_on_held_lock(check):
    def body(mp):
        lock = mp.Lock()
        lock.acquire()
        return at_once(lambda: lock.acquire(False))
    check(body, expect=(False, True))


@pytest.mark.clause("L-ACQ-6")
def test_acquire_timeout_on_lock_held_elsewhere(check):
    def body(mp):
        lock = mp.Lock()
        lock.acquire()
        by_thread = in_thread(lambda: waits(lambda: lock.acquire(True, WAIT), WAIT))
        lock.release()
        p, go = hold_in_child(mp, lock.acquire)
        by_process = waits(lambda: lock.acquire(timeout=WAIT), WAIT)
        go.set()
        return by_thread, by_process
    check(body, expect=((False, True), (False, True)))


@pytest.mark.clause("L-ACQ-7")
def test_acquire_zero_and_negative_timeout_do_not_wait(check):
    def body(mp):
        lock = mp.Lock()
        lock.acquire()
        return at_once(lambda: lock.acquire(timeout=0)), at_once(lambda: lock.acquire(timeout=-1))
    check(body, expect=((False, True), (False, True)))


@pytest.mark.clause("L-ACQ-8")
def test_acquire_timeout_ignored_when_not_blocking(check):
    def body(mp):
        lock = mp.Lock()
        lock.acquire()
        return at_once(lambda: lock.acquire(False, 5)), at_once(lambda: lock.acquire(False, -1))
    check(body, expect=((False, True), (False, True)))


@pytest.mark.clause("L-ACQ-9")
def test_blocking_acquire_returns_when_released(check):
    def body(mp):
        lock = mp.Lock()
        # held by another process, released after a while: acquire() in a child of ours waits
        lock.acquire()
        waiter = Child(mp, lambda: lock.acquire())
        time.sleep(WAIT)
        lock.release()
        by_process = waiter.result(LONG)
        lock.release()  # the waiter took it and exited: no owner, any process may release
        # held by another thread
        t, go = hold_in_thread(lock.acquire, lock.release)
        threading.Timer(WAIT, go.set).start()
        by_thread = lock.acquire(True, None)
        return by_process, by_thread
    check(body, expect=(True, True))


@pytest.mark.clause("L-ACQ-3")
def test_lock_is_not_reentrant(check):
    def body(mp):
        lock = mp.Lock()
        lock.acquire()
        return waits(lambda: lock.acquire(timeout=WAIT), WAIT)
    check(body, expect=(False, True))


@pytest.mark.clause("L-ACQ-4")
def test_acquire_accepts_int_block_and_int_timeout(check):
    def body(mp):
        lock = mp.Lock()
        first = lock.acquire(1)
        return first, lock.acquire(0), lock.acquire(True, 0), lock.acquire(1, 0)
    check(body, expect=(True, False, False, False))


@pytest.mark.clause("L-ACQ-10")
def test_acquire_rejects_non_integer_block(check):
    def body(mp):
        lock = mp.Lock()
        return attempt(lambda: lock.acquire("x")), attempt(lambda: lock.acquire(1.5)), lock.acquire(False)
    check(body, expect=(raised("L-ACQ-10"),
                        exc("TypeError", "'float' object cannot be interpreted as an integer"), True))


@pytest.mark.clause("L-ACQ-11")
def test_acquire_rejects_non_numeric_timeout(check):
    def body(mp):
        lock = mp.Lock()
        free = (attempt(lambda: lock.acquire(True, "x")), attempt(lambda: lock.acquire(False, "x")))
        lock.acquire()
        held = (attempt(lambda: lock.acquire(True, "x")), attempt(lambda: lock.acquire(False, "x")))
        return free, held
    e = raised("L-ACQ-11")
    check(body, expect=((e, e), (e, e)))


# --------------------------------------------------------------------------- Lock.release

@pytest.mark.clause("L-REL-1")
def test_release_unheld_lock(check):
    check(lambda mp: mp.Lock().release(), expect=Raises.clause("L-REL-1"))


@pytest.mark.clause("L-REL-2")
def test_lock_released_by_another_thread(check):
    def body(mp):
        lock = mp.Lock()
        lock.acquire()
        return in_thread(lock.release), lock.acquire(False)
    check(body, expect=(None, True))


@pytest.mark.clause("L-REL-3")
def test_lock_released_by_another_process(check):
    def body(mp):
        lock = mp.Lock()
        lock.acquire()
        return in_child(mp, lock.release), lock.acquire(False)
    check(body, expect=(None, True))


@pytest.mark.clause("L-REL-4")
def test_racing_releases(check):
    def body(mp):
        lock = mp.Lock()
        lock.acquire()
        go = Flag()

        def release():
            go.wait(LONG)
            return lock.release()
        kids = [Child(mp, release) for _ in range(2)]
        go.set()
        go.set()
        results = sorted((repr(k.result(LONG)) for k in kids))
        extra = lock.acquire(False), lock.acquire(False)  # (True, True) if the value rose to 2
        return results, extra
    check(body, allowed=[
        ([repr(None), repr(TOO_MANY)], (True, False)),
        ([repr(None), repr(None)], (True, True)),
    ])


# --------------------------------------------------------------------------- with

@pytest.mark.clause("L-CTX-1")
def test_with_lock_binds_true(check):
    def body(mp):
        with mp.Lock() as x:
            return x
    check(body, expect=True)


@pytest.mark.clause("L-CTX-2")
def test_with_lock_releases_on_exception(check):
    def body(mp):
        lock = mp.Lock()
        try:
            with lock:
                raise KeyError("inside")
        except KeyError as e:
            propagated = e
        free = lock.acquire(False)
        lock.release()
        lock.__enter__()
        return propagated, free, lock.__exit__(None, None, None), lock.acquire(False)
    check(body, expect=(KeyError("inside"), True, None, True))


# --------------------------------------------------------------------------- death, fork

@pytest.mark.clause("L-DEAD-1", "L-DEAD-2")
def test_lock_of_killed_holder(check):
    def body(mp):
        lock = mp.Lock()
        p, _ = hold_in_child(mp, lock.acquire)
        os.kill(p.pid, signal.SIGKILL)  # not p.kill(): that is P-TERM-1's business
        p.join(LONG)
        after_kill = waits(lambda: lock.acquire(timeout=WAIT), WAIT)
        other = in_child(mp, lambda: lock.acquire(timeout=0.05))  # and in another process
        return after_kill, other, lock.release(), lock.acquire(False)
    check(body, expect=((False, True), False, None, True))


@pytest.mark.clause("L-FORK-1")
def test_lock_state_is_shared_across_fork(check):
    def body(mp):
        lock = mp.Lock()
        lock.acquire()
        child_sees = in_child(mp, lambda: lock.acquire(timeout=0.1))
        lock.release()
        taken_by_child = in_child(mp, lock.acquire)
        return child_sees, taken_by_child, lock.acquire(False)
    check(body, expect=(False, True, False))


# --------------------------------------------------------------------------- repr

@pytest.mark.clause("L-REPR-1")
def test_repr_of_lock_held_by_another_process(check):
    def body(mp):
        lock = mp.Lock()
        p, go = hold_in_child(mp, lock.acquire)
        r = repr(lock)
        go.set()
        return r
    check(body, allowed=["<Lock(owner=SomeOtherProcess)>", "<Lock(owner=MainProcess)>"])


@pytest.mark.clause("L-REPR-2")
def test_repr_of_free_and_main_held_lock(check):
    def body(mp):
        lock = mp.Lock()
        free = repr(lock)
        lock.acquire()
        return free, repr(lock)
    check(body, expect=("<Lock(owner=None)>", "<Lock(owner=MainProcess)>"))


@pytest.mark.clause("L-REPR-3")
def test_repr_of_lock_held_by_calling_non_main_thread(check):
    def body(mp):
        lock = mp.Lock()

        def run():
            lock.acquire()
            return repr(lock)
        return in_thread(run, name="Thread-1")
    check(body, expect="<Lock(owner=MainProcess|Thread-1)>")


@pytest.mark.clause("L-REPR-4")
def test_repr_of_lock_held_by_another_thread(check):
    def body(mp):
        lock = mp.Lock()
        t, go = hold_in_thread(lock.acquire)
        r = repr(lock)
        go.set()
        return r
    check(body, expect="<Lock(owner=SomeOtherThread)>")


# --------------------------------------------------------------------------- pickling, api

@pytest.mark.clause("L-PICKLE-1")
def test_pickling_a_lock(check):
    def body(mp):
        lock = mp.Lock()
        a, b = mp.Pipe()
        return attempt(lambda: pickle.dumps(lock)), attempt(lambda: a.send(lock))
    check(body, expect=(raised("L-PICKLE-1"), raised("L-PICKLE-1")))


@pytest.mark.clause("L-PICKLE-2")
def test_lock_put_in_queue_is_dropped(check):
    def body(mp):
        q = mp.Queue()
        return attempt(lambda: q.put(mp.Lock())), attempt(lambda: q.get(timeout=WAIT))
    # stronger: Q-SER-4's divergence (the reference pickles in put(), which then raises)
    check(body, expect=(None, exc("queue.Empty", "")),
          stronger=(raised("L-PICKLE-1"), exc("queue.Empty", "")))


@pytest.mark.clause("L-PICKLE-3")
def test_pickling_an_rlock(check):
    check(lambda mp: pickle.dumps(mp.RLock()), expect=Raises.clause("L-PICKLE-3"))


@pytest.mark.clause("L-PICKLE-4")
def test_pickling_a_semaphore(check):
    check(lambda mp: pickle.dumps(mp.Semaphore()), expect=Raises.clause("L-PICKLE-4"))


@pytest.mark.clause("L-PICKLE-5")
def test_pickling_a_bounded_semaphore(check):
    check(lambda mp: pickle.dumps(mp.BoundedSemaphore()), expect=Raises.clause("L-PICKLE-5"))


@pytest.mark.clause("L-API-1")
def test_lock_classes(check):
    def body(mp):
        name = lambda o: f"{type(o).__module__}.{type(o).__qualname__}"
        lock, rlock, sem, bsem = mp.Lock(), mp.RLock(), mp.Semaphore(), mp.BoundedSemaphore()
        return (hasattr(lock, "get_value"), name(lock), name(rlock), name(sem), name(bsem),
                issubclass(type(bsem), type(sem)))
    check(body, expect=(False, "multiprocessing.synchronize.Lock", "multiprocessing.synchronize.RLock",
                        "multiprocessing.synchronize.Semaphore",
                        "multiprocessing.synchronize.BoundedSemaphore", True))


# --------------------------------------------------------------------------- RLock

@pytest.mark.clause("RL-ACQ-1")
def test_rlock_is_reentrant(check):
    def body(mp):
        r = mp.RLock()
        return r.acquire(), r.acquire(), r.acquire(False)
    check(body, expect=(True, True, True))


@pytest.mark.clause("RL-ACQ-2")
def test_rlock_held_elsewhere(check):
    def body(mp):
        r = mp.RLock()
        r.acquire()

        def others():
            return (waits(lambda: r.acquire(timeout=WAIT), WAIT), at_once(lambda: r.acquire(timeout=-1)),
                    at_once(lambda: r.acquire(timeout=0)), at_once(lambda: r.acquire(False)))
        by_thread = in_thread(others)
        by_process = in_child(mp, others)
        return by_thread, by_process
    one = ((False, True), (False, True), (False, True), (False, True))
    check(body, expect=(one, one))


@pytest.mark.clause("RL-ACQ-3")
def test_rlock_needs_as_many_releases(check):
    def body(mp):
        r = mp.RLock()
        for _ in range(3):
            r.acquire()
        r.release()
        r.release()
        still_held = in_thread(lambda: r.acquire(False))

        def take_and_give_back():
            got = r.acquire(False)
            if got:
                r.release()
            return got
        r.release()
        return still_held, in_thread(take_and_give_back)
    check(body, expect=(False, True))


@pytest.mark.clause("RL-REL-1")
def test_rlock_release_by_non_owner(check):
    def body(mp):
        r = mp.RLock()
        r.acquire()
        return in_thread(r.release), in_child(mp, r.release), r.release()
    check(body, expect=(raised("RL-REL-1"), raised("RL-REL-1"), None))


@pytest.mark.clause("RL-REL-2")
def test_rlock_release_when_free(check):
    check(lambda mp: mp.RLock().release(), expect=Raises.clause("RL-REL-2"))


@pytest.mark.clause("RL-FORK-1")
def test_rlock_child_is_not_owner(check):
    def body(mp):
        r = mp.RLock()
        r.acquire()
        return in_child(mp, lambda: (r.acquire(timeout=0.2), attempt(r.release)))
    check(body, expect=(False, raised("RL-FORK-1")))


@pytest.mark.clause("RL-DEAD-1")
def test_rlock_of_killed_owner(check):
    def body(mp):
        r = mp.RLock()
        p, _ = hold_in_child(mp, r.acquire)
        os.kill(p.pid, signal.SIGKILL)  # not p.kill(): that is P-TERM-1's business
        p.join(LONG)
        return waits(lambda: r.acquire(timeout=WAIT), WAIT), attempt(r.release)
    check(body, expect=((False, True), raised("RL-DEAD-1")))


@pytest.mark.clause("RL-REPR-1")
def test_rlock_repr_free_and_owned(check):
    def body(mp):
        r = mp.RLock()
        free = repr(r)
        for _ in range(3):
            r.acquire()
        return free, repr(r)
    check(body, expect=("<RLock(None, 0)>", "<RLock(MainProcess, 3)>"))


@pytest.mark.clause("RL-REPR-2")
def test_rlock_repr_held_by_another_process(check):
    def body(mp):
        r = mp.RLock()
        p, go = hold_in_child(mp, r.acquire, r.release)
        text = repr(r)
        go.set()
        return text
    check(body, expect="<RLock(SomeOtherProcess, nonzero)>")


@pytest.mark.clause("RL-REPR-3")
def test_rlock_repr_held_by_another_thread(check):
    def body(mp):
        r = mp.RLock()
        t, go = hold_in_thread(r.acquire, r.release)
        text = repr(r)
        go.set()
        t.join(LONG)
        return text
    check(body, expect="<RLock(SomeOtherThread, nonzero)>")


# --------------------------------------------------------------------------- Semaphore

@pytest.mark.clause("S-1")
def test_semaphore_value(check):
    def body(mp):
        s = mp.Semaphore(2)
        steps = [mp.Semaphore().get_value(), s.get_value()]
        for _ in range(2):
            steps += [s.acquire(), s.get_value()]
        return tuple(steps + [s.acquire(False), s.get_value()])
    check(body, expect=(1, 2, True, 1, True, 0, False, 0))


@pytest.mark.clause("S-7")
def test_semaphore_acquire_timeouts(check):
    def body(mp):
        s = mp.Semaphore(0)
        return (at_once(lambda: s.acquire(False)), at_once(lambda: s.acquire(timeout=0)),
                at_once(lambda: s.acquire(timeout=-1)), at_once(lambda: s.acquire(False, 5)))
    check(body, expect=((False, True),) * 4)


@pytest.mark.clause("S-8")
def test_semaphore_context_manager(check):
    def body(mp):
        s = mp.Semaphore(1)
        entered = s.__enter__()
        inside = s.get_value()
        return entered, inside, s.__exit__(None, None, None), s.get_value()
    check(body, expect=(True, 0, None, 1))


@pytest.mark.clause("S-5")
def test_semaphore_zero_acquire_waits(check):
    check(lambda mp: waits(lambda: mp.Semaphore(0).acquire(timeout=WAIT), WAIT), expect=(False, True))


@pytest.mark.clause("S-2")
def test_semaphore_released_above_initial_value(check):
    def body(mp):
        s = mp.Semaphore(0)
        for _ in range(4):
            s.release()
        return s.get_value()
    check(body, expect=4)


@pytest.mark.clause("S-9")
def test_semaphore_release_at_sem_value_max(check):
    def body(mp):
        s = mp.Semaphore(2147483647)
        return s.get_value(), attempt(s.release)
    check(body, expect=(2147483647, raised("S-9")))


@pytest.mark.clause("S-3")
def test_semaphore_release_takes_no_argument(check):
    check(lambda mp: mp.Semaphore(0).release(1), expect=Raises.clause("S-3"))


@pytest.mark.clause("S-4")
def test_negative_initial_value(check):
    check(lambda mp: (attempt(lambda: mp.Semaphore(-1)), attempt(lambda: mp.BoundedSemaphore(-1))),
          expect=(raised("S-4"), raised("S-4")))


@pytest.mark.clause("S-10")
def test_initial_value_too_large(check):
    check(lambda mp: mp.Semaphore(2 ** 31), expect=Raises.clause("S-10"))


@pytest.mark.clause("S-11")
def test_initial_value_float(check):
    check(lambda mp: mp.Semaphore(2.5), expect=Raises.clause("S-11"))


@pytest.mark.clause("S-6")
def test_semaphore_repr(check):
    check(lambda mp: repr(mp.Semaphore(2)), expect="<Semaphore(value=2)>")


@pytest.mark.clause("S-12")
def test_bounded_semaphore_repr(check):
    check(lambda mp: repr(mp.BoundedSemaphore(2)), expect="<BoundedSemaphore(value=2, maxvalue=2)>")


@pytest.mark.clause("BS-1")
def test_racing_bounded_releases(check):
    def body(mp):
        s = mp.BoundedSemaphore(2)
        s.acquire()  # one below the bound
        go = Flag()

        def release():
            go.wait(LONG)
            return s.release()
        kids = [Child(mp, release) for _ in range(3)]
        for _ in kids:
            go.set()
        results = sorted(repr(k.result(LONG)) for k in kids)
        return results.count(repr(None)), s.get_value() > 2
    check(body, allowed=[(1, False), (2, True), (3, True)])


@pytest.mark.clause("BS-2")
def test_bounded_semaphore_release_above_bound(check):
    def body(mp):
        full = mp.BoundedSemaphore(2)
        return attempt(mp.BoundedSemaphore(0).release), attempt(full.release), full.get_value()
    check(body, expect=(TOO_MANY, TOO_MANY, 2))
