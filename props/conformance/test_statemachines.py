"""Random operation sequences on the oracle and the implementation side by side (Hypothesis).

Each machine holds one primitive of CPython's multiprocessing (the oracle) and the same
primitive of the implementation under test, applies every step to both, and asserts that the
canonical outcomes are equal and that the oracle's matches a small sequential model (so a
CPython change is caught too). Only non-blocking or tiny-timeout calls are made; because
CPython's Queue.put is asynchronous, gets of an item the model says is there use a generous
timeout, and empty() is only compared where it is exact.
"""
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test

from .outcomes import Exc, Outcome, canon, exc
from .support import LONG, in_thread

pytestmark = pytest.mark.timeout(120)

SETTINGS = settings(max_examples=30, stateful_step_count=20, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck), print_blob=True)
TINY = 0.02
EMPTY = exc("queue.Empty", "")
FULL = exc("queue.Full", "")

items = st.one_of(st.integers(-2 ** 40, 2 ** 40), st.text(max_size=8), st.binary(max_size=16), st.none(),
                  st.tuples(st.integers(0, 9), st.booleans()))


class Twin(RuleBasedStateMachine):
    """Apply each step to the oracle's and the implementation's object; compare."""
    oracle = mp = None  # set by run()

    def both(self, step, model=None):
        """step(obj) on both sides; returns the oracle's canonical outcome. `model`: the value
        (or Exc) the sequential model predicts for the oracle."""
        o = Outcome.of(lambda: step(self.o), self.oracle._mpc_module)
        i = Outcome.of(lambda: step(self.i), self.mp._mpc_module)
        if model is not None:
            want = Outcome(isinstance(model, Exc), canon(model))
            assert o == want, f"oracle: {o.key()}; model: {want.key()}"
        assert i == o, f"{self.mp._mpc_name}: {i.key()}; oracle: {o.key()}"
        return o


def run(machine, oracle, mp):
    cls = type(machine.__name__, (machine,), {"oracle": oracle, "mp": mp})
    run_state_machine_as_test(cls, settings=SETTINGS)


# --------------------------------------------------------------------------- Queue

class QueueMachine(Twin):
    joinable = False

    def __init__(self):
        super().__init__()
        self.o = self.i = None

    @rule(maxsize=st.integers(-1, 3))
    def fresh(self, maxsize):
        self.teardown()
        make = "JoinableQueue" if self.joinable else "Queue"
        self.o, self.i = getattr(self.oracle, make)(maxsize), getattr(self.mp, make)(maxsize)
        self.maxsize, self.items, self.unfinished = maxsize, [], 0

    def teardown(self):
        for q in (getattr(self, "o", None), getattr(self, "i", None)):
            if q is not None:
                q.close()
                q.join_thread()
        self.o = self.i = None

    @precondition(lambda self: getattr(self, "o", None) is not None)
    @rule(x=items, nowait=st.booleans())
    def put(self, x, nowait):
        full = self.maxsize > 0 and len(self.items) >= self.maxsize
        self.both(lambda q: q.put_nowait(x) if nowait else q.put(x, timeout=TINY), FULL if full else None)
        if not full:
            self.items.append(x)
            self.unfinished += 1

    @precondition(lambda self: getattr(self, "o", None) is not None)
    @rule()
    def get(self):
        if self.items:
            self.both(lambda q: q.get(timeout=LONG), self.items.pop(0))
        else:
            self.both(lambda q: q.get(timeout=TINY), EMPTY)

    @precondition(lambda self: getattr(self, "o", None) is not None)
    @rule()
    def sizes(self):
        full = self.maxsize > 0 and len(self.items) >= self.maxsize
        self.both(lambda q: (q.qsize(), q.full()), (len(self.items), full))

    @precondition(lambda self: getattr(self, "o", None) is not None and not self.items)
    @rule()
    def empty_when_nothing_queued(self):
        self.both(lambda q: q.empty(), True)


class JoinableQueueMachine(QueueMachine):
    joinable = True

    @precondition(lambda self: getattr(self, "o", None) is not None)
    @rule()
    def task_done(self):
        if self.unfinished:
            self.both(lambda q: q.task_done(), None)
            self.unfinished -= 1
        else:
            self.both(lambda q: q.task_done(), exc("ValueError", "task_done() called too many times"))

    @precondition(lambda self: getattr(self, "o", None) is not None and self.unfinished == 0)
    @rule()
    def join_returns(self):
        self.both(lambda q: in_thread(q.join, LONG), None)


@pytest.mark.clause("Q-FULL-2", "Q-EMPTY-3", "Q-SIZE-2", "Q-SIZE-3", "Q-ORDER-1", "Q-SIZE-5")
def test_queue_state_machine(oracle, mp):
    run(QueueMachine, oracle, mp)


@pytest.mark.clause("JQ-1", "JQ-2", "JQ-9", "JQ-10", "JQ-11")
def test_joinable_queue_state_machine(oracle, mp):
    run(JoinableQueueMachine, oracle, mp)


# --------------------------------------------------------------------------- Lock, RLock

class LockMachine(Twin):
    def __init__(self):
        super().__init__()
        self.o, self.i, self.held = self.oracle.Lock(), self.mp.Lock(), False

    @rule(how=st.sampled_from(["nonblocking", "zero", "negative", "tiny", "ignored"]))
    def acquire(self, how):
        call = {"nonblocking": lambda l: l.acquire(False), "zero": lambda l: l.acquire(timeout=0),
                "negative": lambda l: l.acquire(True, -1), "tiny": lambda l: l.acquire(timeout=TINY),
                "ignored": lambda l: l.acquire(False, 5)}[how]
        self.both(call, not self.held)
        self.held = True

    @rule()
    def release(self):
        self.both(lambda l: l.release(),
                  None if self.held else exc("ValueError", "semaphore or lock released too many times"))
        self.held = False

    @invariant()
    def repr_matches(self):
        self.both(repr, "<Lock(owner=MainProcess)>" if self.held else "<Lock(owner=None)>")


class RLockMachine(Twin):
    def __init__(self):
        super().__init__()
        self.o, self.i, self.count = self.oracle.RLock(), self.mp.RLock(), 0

    @rule(blocking=st.booleans())
    def acquire(self, blocking):
        self.both(lambda l: l.acquire(blocking), True)
        self.count += 1

    @rule()
    def release(self):
        self.both(lambda l: l.release(), None if self.count else
                  exc("AssertionError", "attempt to release recursive lock not owned by thread"))
        self.count = max(0, self.count - 1)

    @invariant()
    def repr_matches(self):
        self.both(repr, f"<RLock(MainProcess, {self.count})>" if self.count else "<RLock(None, 0)>")


@pytest.mark.clause("L-ACQ-2", "L-ACQ-7", "L-ACQ-8", "L-REL-1", "L-REPR-2")
def test_lock_state_machine(oracle, mp):
    run(LockMachine, oracle, mp)


@pytest.mark.clause("RL-ACQ-1", "RL-REL-2", "RL-REPR-1")
def test_rlock_state_machine(oracle, mp):
    run(RLockMachine, oracle, mp)


# --------------------------------------------------------------------------- Pipe

class PipeMachine(Twin):
    def __init__(self):
        super().__init__()
        self.o, self.i = self.oracle.Pipe(), self.mp.Pipe()
        self.inbox = {0: [], 1: []}  # messages waiting at end 0 / end 1

    def teardown(self):
        for a, b in (self.o, self.i):
            a.close()
            b.close()

    @rule(end=st.sampled_from([0, 1]), x=items, raw=st.booleans())
    def send(self, end, x, raw):
        if raw:
            data = repr(x).encode()
            self.both(lambda p: p[end].send_bytes(data), None)
            self.inbox[1 - end].append(("bytes", data))
        else:
            self.both(lambda p: p[end].send(x), None)
            self.inbox[1 - end].append(("obj", x))

    @rule(end=st.sampled_from([0, 1]))
    def receive(self, end):
        if not self.inbox[end]:
            self.both(lambda p: p[end].poll(TINY), False)
            return
        kind, x = self.inbox[end].pop(0)
        self.both(lambda p: p[end].recv_bytes() if kind == "bytes" else p[end].recv(), x)

    @rule(end=st.sampled_from([0, 1]))
    def poll(self, end):
        self.both(lambda p: p[end].poll(LONG if self.inbox[end] else 0), bool(self.inbox[end]))


@pytest.mark.clause("C-SEND-1", "C-SEND-12", "C-POLL-1", "C-PIPE-1")
def test_pipe_state_machine(oracle, mp):
    run(PipeMachine, oracle, mp)


# --------------------------------------------------------------------------- Value

TYPE_BITS = {"b": 8, "B": 8, "h": 16, "H": 16, "i": 32, "I": 32, "q": 64, "Q": 64}


def wrap(tc, x):
    bits = TYPE_BITS[tc]
    x &= (1 << bits) - 1
    return x - (1 << bits) if tc.islower() and x >= 1 << (bits - 1) else x


class ValueMachine(Twin):
    @rule(tc=st.sampled_from(sorted(TYPE_BITS)), x=st.integers(-2 ** 70, 2 ** 70))
    def fresh(self, tc, x):
        self.o, self.i, self.tc, self.value = self.oracle.Value(tc, wrap(tc, x)), self.mp.Value(tc, wrap(tc, x)), tc, wrap(tc, x)

    @precondition(lambda self: hasattr(self, "o"))
    @rule(x=st.integers(-2 ** 70, 2 ** 70))
    def store(self, x):
        def set_(v):
            v.value = x
        self.both(set_, None)
        self.value = wrap(self.tc, x)

    @precondition(lambda self: hasattr(self, "o"))
    @rule(d=st.integers(-300, 300))
    def add_under_lock(self, d):
        def add(v):
            with v.get_lock():
                v.value += d
                return v.value
        self.value = wrap(self.tc, self.value + d)
        self.both(add, self.value)

    @precondition(lambda self: hasattr(self, "o"))
    @invariant()
    def load(self):
        if hasattr(self, "o"):
            self.both(lambda v: v.value, self.value)


@pytest.mark.clause("V-INIT-2", "V-INIT-3", "V-ATOM-3", "V-LOCK-1")
def test_value_state_machine(oracle, mp):
    run(ValueMachine, oracle, mp)
