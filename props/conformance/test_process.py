"""Process, current_process, parent_process, active_children and process exit
(spec/clauses/process.json), oracle vs --impl.

Names: the tests give the oracle `get_context('fork')`, whose class is ForkProcess, while mpref's
module-level class is Process; so a body reports a default name relative to type(p).__name__.
Behaviour of the *main* process (its counter, its exit, -O) runs in a fresh interpreter
(support.run_script), always under a sandbox that reaps whatever the script leaves behind.
"""
import gc
import os
import textwrap
import signal
import sys
import tempfile
import threading
import time
import weakref

import pytest

from .outcomes import Raises, exc, raised
from .support import (LONG, STILL_BLOCKED, WAIT, Child, Flag, about, at_once, attempt, in_child,
                      proc_state, run_script, sandbox, start, track, wait_until, waits)

pytestmark = pytest.mark.timeout(45)


def noop():
    pass


def sleeper(seconds=LONG):
    time.sleep(seconds)


def running(mp, **kw):
    """A started child that runs until the body ends (it waits on a Flag)."""
    stop = Flag()
    p = start(mp, stop.wait, (LONG,), **kw)
    return p, stop


def rel_name(p, name=None):
    """A default name with its class prefix replaced by '<cls>'."""
    name = p.name if name is None else name
    prefix = type(p).__name__ + "-"
    return "<cls>-" + name[len(prefix):] if name.startswith(prefix) else name


def src(*parts):
    """Script source from separately indented parts."""
    return "\n".join(textwrap.dedent(p) for p in parts)


def exit_of(mp, target, *args):
    p = start(mp, target, args)
    p.join(LONG)
    return p.exitcode


def stderr_of(mp, target):
    """(exitcode, name, the child's stderr) of a child running target, its sys.stderr redirected
    to a temporary file."""
    with tempfile.TemporaryFile("w+") as f:
        def run():
            sys.stderr = f
            target()
        p = start(mp, run)
        p.join(LONG)
        f.seek(0)
        return p.exitcode, p.name, f.read()


# --------------------------------------------------------------------------- construction, names

@pytest.mark.clause("P-CTOR-1")
def test_first_positional_is_group(check):
    check(lambda mp: mp.Process(noop), expect=Raises.clause("P-CTOR-1"))


@pytest.mark.clause("P-CTOR-2")
def test_args_and_kwargs_copied_at_construction(check):
    def body(mp):
        r, w = os.pipe()
        args, kwargs = [1, 2], {"k": 3}

        def target(*a, **k):
            os.write(w, repr((a, k)).encode())
        p = mp.Process(target=target, args=args, kwargs=kwargs)
        args.append(99)
        kwargs["late"] = 1
        track(p)
        p.start()
        p.join(LONG)
        os.close(w)
        got = os.read(r, 1000).decode()
        os.close(r)
        return got, attempt(lambda: mp.Process(target=noop, args=1))
    check(body, expect=("((1, 2), {'k': 3})", raised("P-CTOR-2")))


MAIN_NAMES = """
    def rel(p):
        return p.name.replace(type(p).__name__ + "-", "<cls>-")
"""


@pytest.mark.clause("P-NAME-1")
def test_first_default_names(check):
    def body(mp):
        rc, out, err, _ = run_script(mp, src(MAIN_NAMES, """
            print(rel(mp.Process()), rel(mp.Process()))
        """))
        return rc, out.split()
    check(body, expect=(0, ["<cls>-1", "<cls>-2"]))


@pytest.mark.clause("P-NAME-6")
def test_counter_counts_every_construction(check):
    def body(mp):
        rc, out, err, _ = run_script(mp, src(MAIN_NAMES, """
            mp.Process(); mp.Process(); mp.Process(name="x")
            print(rel(mp.Process()))
        """))
        return rc, out.strip()
    check(body, expect=(0, "<cls>-4"))


@pytest.mark.clause("P-NAME-7")
def test_child_counter_restarts_with_identity(check):
    def body(mp):
        def child():
            me = mp.current_process().name
            a, b = mp.Process(), mp.Process()
            return a.name == me + ":1", b.name == me + ":2", rel_name(a, me) != me
        return in_child(mp, child)
    check(body, expect=(True, True, True))


@pytest.mark.clause("P-NAME-2")
def test_name_prefix_is_class_name(check):
    def body(mp):
        class MyProc(mp.Process):
            pass
        p = mp.Process()
        return MyProc().name.startswith("MyProc-"), p.name.startswith(type(p).__name__ + "-")
    check(body, expect=(True, True))


@pytest.mark.clause("P-NAME-3")
def test_empty_or_none_name_is_default(check):
    def body(mp):
        ps = [mp.Process(name=""), mp.Process(name=None), mp.Process()]
        nums = [int(p.name.rsplit("-", 1)[1]) for p in ps]
        return [rel_name(p).startswith("<cls>-") for p in ps], [n - nums[0] for n in nums]
    check(body, expect=([True] * 3, [0, 1, 2]))


@pytest.mark.clause("P-NAME-4")
def test_name_must_be_str(check):
    def body(mp):
        p = mp.Process()
        p.name = 5
    check(body, expect=Raises.clause("P-NAME-4"))


@pytest.mark.clause("P-NAME-5")
def test_main_process_identity(check):
    check(lambda mp: (mp.current_process().name, mp.parent_process()), expect=("MainProcess", None))


@pytest.mark.clause("P-NAME-8")
def test_current_and_parent_process_in_child(check):
    def body(mp):
        parent_pid = os.getpid()

        def child():
            me, parent = mp.current_process(), mp.parent_process()
            return me.name, me.pid == os.getpid(), parent.name, parent.pid == parent_pid
        c = Child(mp, child)
        r = c.result()
        if not isinstance(r, tuple):
            return r
        name, pid_ok, parent_name, ppid_ok = r
        return name == c.process.name, pid_ok, parent_name, ppid_ok
    check(body, expect=(True, True, "MainProcess", True))


@pytest.mark.clause("P-NAME-9")
def test_parent_process_class(check):
    check(lambda mp: in_child(mp, lambda: type(mp.parent_process()).__name__), expect="_ParentProcess")


# --------------------------------------------------------------------------- pid, start

@pytest.mark.clause("P-PID-1")
def test_before_start(check):
    def body(mp):
        p = mp.Process(target=noop)
        return p.pid, p.ident, p.exitcode, p.is_alive()
    check(body, expect=(None, None, None, False))


@pytest.mark.clause("P-PID-2")
def test_pid_after_start(check):
    def body(mp):
        r, w = os.pipe()
        stop = Flag()

        def target():
            os.write(w, str(os.getpid()).encode())
            stop.wait(LONG)
        p = start(mp, target)
        child_pid = int(os.read(r, 100))
        os.close(r)
        os.close(w)
        while_running = (p.pid == child_pid, p.ident == child_pid, isinstance(p.pid, int), p.exitcode)
        stop.set()
        p.join(LONG)
        return while_running, p.pid == child_pid, p.ident == child_pid
    check(body, expect=((True, True, True, None), True, True))


@pytest.mark.clause("P-START-1")
def test_start_twice(check):
    def body(mp):
        p, stop = running(mp)
        while_running = attempt(p.start)
        stop.set()
        p.join(LONG)
        return while_running, attempt(p.start)
    check(body, expect=(raised("P-START-1"),) * 2)


@pytest.mark.clause("P-START-2")
def test_start_of_inherited_object(check):
    def body(mp):
        p = mp.Process(target=noop)
        return in_child(mp, p.start)
    check(body, expect=raised("P-START-2"))


@pytest.mark.clause("P-START-3")
def test_start_reaps_finished_children(check):
    def body(mp):
        a = start(mp, noop)
        zombie = wait_until(lambda: proc_state(a.pid) == "Z", LONG)
        b = start(mp, noop)
        after = proc_state(a.pid)
        b.join(LONG)
        return zombie, after
    check(body, expect=(True, "gone"), stronger=(False, "gone"))


@pytest.mark.clause("P-START-6")
def test_finished_child_stays_zombie_until_polled(check):
    def body(mp):
        a = start(mp, noop)
        zombie = wait_until(lambda: proc_state(a.pid) in ("Z", "gone"), LONG) and proc_state(a.pid)
        a.join(LONG)
        return zombie, proc_state(a.pid), a.exitcode
    check(body, expect=("Z", "gone", 0), stronger=("gone", "gone", 0))


@pytest.mark.clause("P-START-4")
def test_start_flushes_stdio(check):
    def body(mp):
        rc, out, err, _ = run_script(mp, """
            import sys
            sys.stdout.write("parent-before-start;")
            p = mp.Process(target=lambda: None)
            p.start()
            p.join()
        """)
        return rc, out
    check(body, expect=(0, "parent-before-start;"))


@pytest.mark.clause("P-START-7")
def test_child_stdin_is_devnull(check):
    check(lambda mp: in_child(mp, lambda: sys.stdin.read()), expect="")


@pytest.mark.clause("P-START-8")
def test_parent_drops_target_after_start(check):
    def body(mp):
        class Target:
            def __call__(self):
                pass
        t = Target()
        ref = weakref.ref(t)
        p = mp.Process(target=t, args=([1],))
        del t
        track(p)
        p.start()
        gc.collect()
        dead = ref() is None
        p.join(LONG)
        return dead
    check(body, expect=True)


@pytest.mark.clause("P-START-5")
def test_start_and_join_from_a_thread(check):
    def body(mp):
        box = []

        def run():
            p = start(mp, noop)
            p.join(LONG)
            box.append(p.exitcode)
        t = threading.Thread(target=run)
        t.start()
        t.join(LONG)
        return box
    check(body, expect=[0])


# --------------------------------------------------------------------------- run, exit codes

@pytest.mark.clause("P-RUN-1")
def test_run_calls_target_in_caller(check):
    def body(mp):
        seen = []
        p = mp.Process(target=lambda x, k=None: seen.append((x, k, os.getpid())) or "ignored",
                       args=(1,), kwargs={"k": 2})
        return p.run(), [(x, k, pid == os.getpid()) for x, k, pid in seen]
    check(body, expect=(None, [(1, 2, True)]))


@pytest.mark.clause("P-RUN-2")
def test_no_target(check):
    def body(mp):
        return mp.Process().run(), exit_of(mp, None)
    check(body, expect=(None, 0))


@pytest.mark.clause("P-EXIT-1")
def test_normal_return_exits_zero(check):
    check(lambda mp: [exit_of(mp, lambda v=v: v) for v in (None, 5, "x")], expect=[0, 0, 0])


def raise_value_error():
    raise ValueError("boom")


@pytest.mark.clause("P-EXIT-4")
def test_uncaught_exception_exits_one(check):
    def body(mp):
        code, name, err = stderr_of(mp, raise_value_error)
        lines = err.splitlines()
        return code, lines[0] == f"Process {name}:", lines[-1]
    check(body, expect=(1, True, "ValueError: boom"))


@pytest.mark.clause("P-EXIT-5")
def test_keyboard_interrupt_exits_one(check):
    def body(mp):
        def interrupt():
            raise KeyboardInterrupt
        code, name, err = stderr_of(mp, interrupt)
        ready = Flag()

        def wait_for_sigint():
            signal.signal(signal.SIGINT, signal.default_int_handler)
            ready.set()
            time.sleep(LONG)
        p = start(mp, wait_for_sigint)
        ready.wait(LONG)
        os.kill(p.pid, signal.SIGINT)
        p.join(LONG)
        return code, err.splitlines()[0] == f"Process {name}:", p.exitcode
    check(body, expect=(1, True, 1))


@pytest.mark.clause("P-EXIT-6")
def test_sys_exit_codes(check):
    def body(mp):
        codes = [exit_of(mp, sys.exit, *a) for a in ((), (None,), (False,), (True,))]
        code, _, err = stderr_of(mp, lambda: sys.exit("msg"))
        listed = exit_of(mp, sys.exit, [1])
        return codes, code, err, listed
    check(body, expect=([0, 0, 0, 1], 1, "msg\n", 1))


@pytest.mark.clause("P-EXIT-7")
def test_sys_exit_int_is_masked(check):
    check(lambda mp: [exit_of(mp, sys.exit, n) for n in (3, -1, 256, 257)], expect=[3, 255, 0, 1])


@pytest.mark.clause("P-EXIT-9")
def test_os_exit_is_masked(check):
    check(lambda mp: exit_of(mp, os._exit, 300), expect=44)


@pytest.mark.clause("P-EXIT-2")
def test_signal_exit_codes(check):
    def body(mp):
        out = []
        for stop in ("terminate", "kill"):
            p, _ = running(mp)
            getattr(p, stop)()
            p.join(LONG)
            out.append(p.exitcode)
        for sig in (signal.SIGSEGV, signal.SIGUSR1):
            out.append(exit_of(mp, lambda s=sig: (signal.signal(s, signal.SIG_DFL), os.kill(os.getpid(), s))))
        return out
    check(body, expect=[-15, -9, -11, -10])


@pytest.mark.clause("P-EXIT-3")
def test_exitcode_reaps_without_join(check):
    def body(mp):
        p, stop = running(mp)
        while_running = at_once(lambda: p.exitcode)
        stop.set()
        return while_running, wait_until(lambda: p.exitcode is not None), p.exitcode
    check(body, expect=((None, True), True, 0))


# --------------------------------------------------------------------------- join

@pytest.mark.clause("P-JOIN-1")
def test_join_returns_none(check):
    def body(mp):
        p, stop = running(mp)
        timed_out = p.join(0.05)
        stop.set()
        return timed_out, p.join(), p.exitcode
    check(body, expect=(None, None, 0))


@pytest.mark.clause("P-JOIN-5")
def test_join_timeout(check):
    def body(mp):
        p, stop = running(mp)
        r = waits(lambda: p.join(WAIT), WAIT)
        return r, p.is_alive(), p.exitcode
    check(body, expect=((None, True), True, None))


@pytest.mark.clause("P-JOIN-6")
def test_join_zero_and_negative(check):
    def body(mp):
        p, stop = running(mp)
        return at_once(lambda: p.join(0)), at_once(lambda: p.join(-1)), p.is_alive()
    check(body, expect=((None, True), (None, True), True))


@pytest.mark.clause("P-JOIN-7")
def test_join_waits_for_exit(check):
    def body(mp):
        p = start(mp, sleeper, (WAIT,))
        r = waits(lambda: p.join(None), WAIT)
        return r[0], p.exitcode, p in mp.active_children(), at_once(p.join), at_once(p.join)
    check(body, expect=(None, 0, False, (None, True), (None, True)))


@pytest.mark.clause("P-JOIN-2")
def test_join_unstarted(check):
    check(lambda mp: mp.Process(target=noop).join(), expect=Raises.clause("P-JOIN-2"))


@pytest.mark.clause("P-JOIN-3")
def test_join_by_non_creator(check):
    def body(mp):
        a, stop = running(mp)
        sibling = in_child(mp, lambda: a.join(0.1))
        return sibling, attempt(lambda: mp.current_process().join(0.1))
    check(body, expect=(raised("P-JOIN-3"),) * 2)


@pytest.mark.clause("P-JOIN-8")
def test_is_alive_by_non_creator(check):
    def body(mp):
        a, stop = running(mp)
        return in_child(mp, a.is_alive)
    check(body, expect=raised("P-JOIN-8"))


@pytest.mark.clause("P-JOIN-4")
def test_join_non_numeric_timeout(check):
    def body(mp):
        p, stop = running(mp)
        on_running = attempt(lambda: p.join("x"))
        stop.set()
        p.join(LONG)
        return on_running, p.join("x")
    check(body, expect=(raised("P-JOIN-4"), None))


@pytest.mark.clause("P-ALIVE-1")
def test_is_alive(check):
    def body(mp):
        p, stop = running(mp)
        alive = p.is_alive()
        stop.set()
        gone = wait_until(lambda: not p.is_alive())
        return alive, gone, p.exitcode, p in mp.active_children(), mp.current_process().is_alive()
    check(body, expect=(True, True, 0, False, True))


@pytest.mark.clause("P-ACT-1")
def test_active_children(check):
    def body(mp):
        unstarted = mp.Process(target=noop)
        p, stop = running(mp)
        first, second = mp.active_children(), mp.active_children()
        listed = (p in first, unstarted in first, first is not second)
        stop.set()
        left = wait_until(lambda: p not in mp.active_children())
        return listed, left, p.exitcode
    check(body, expect=((True, False, True), True, 0))


# --------------------------------------------------------------------------- terminate, kill

@pytest.mark.clause("P-TERM-1")
def test_terminate_and_kill_do_not_wait(check):
    def body(mp):
        out = []
        for stop in ("terminate", "kill"):
            p, _ = running(mp)
            out.append(at_once(getattr(p, stop)))
            p.join(LONG)
            out.append(p.exitcode)
        return out
    check(body, expect=[(None, True), -15, (None, True), -9])


@pytest.mark.clause("P-TERM-7")
def test_is_alive_right_after_terminate(check):
    def body(mp):
        p, _ = running(mp)
        p.terminate()
        right_after = p.is_alive()
        p.join(LONG)
        return right_after, p.is_alive(), p.exitcode
    check(body, allowed=[(True, False, -15), (False, False, -15)])


@pytest.mark.clause("P-TERM-3")
def test_terminate_after_exit(check):
    def body(mp):
        p = start(mp, noop)
        p.join(LONG)
        return p.terminate(), p.kill(), p.exitcode
    check(body, expect=(None, None, 0))


@pytest.mark.clause("P-TERM-4")
def test_child_ignoring_sigterm(check):
    def body(mp):
        ready = Flag()

        def stubborn():
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            ready.set()
            time.sleep(LONG)
        p = start(mp, stubborn)
        ready.wait(LONG)
        p.terminate()
        p.join(WAIT)
        alive = p.is_alive()
        p.kill()
        p.join(LONG)
        return alive, p.exitcode
    check(body, expect=(True, -9))


@pytest.mark.clause("P-TERM-5")
def test_terminated_child_runs_no_cleanup(check):
    def body(mp):
        def scenario():  # in a subreaper sandbox: the orphaned grandchildren are reaped there
            r, w = os.pipe()

            def child():
                for daemon in (False, True):
                    g = mp.Process(target=sleeper, args=(LONG,), daemon=daemon)
                    g.start()
                    os.write(w, f"{g.pid};".encode())
                time.sleep(LONG)
            p = mp.Process(target=child)
            p.start()
            data = b""
            while data.count(b";") < 2:
                data += os.read(r, 100)
            plain, daemonic = map(int, data.decode().split(";")[:2])
            p.terminate()
            # not join(): the grandchildren inherited the child's sentinel pipe, so join(t) waits t
            wait_until(lambda: p.exitcode is not None)
            time.sleep(0.2)
            alive = lambda pid: proc_state(pid) not in ("gone", "Z")
            return p.exitcode, alive(plain), alive(daemonic)
        return sandbox(scenario)
    # stronger: X-EXIT-7's divergence (the reference kills daemonic children when their parent dies)
    check(body, expect=(-15, True, True), stronger=(-15, True, False))


@pytest.mark.clause("P-TERM-2")
def test_terminate_unstarted(check):
    check(lambda mp: mp.Process(target=noop).terminate(), expect=Raises.clause("P-TERM-2"))


@pytest.mark.clause("P-TERM-6")
def test_kill_unstarted(check):
    check(lambda mp: mp.Process(target=noop).kill(), expect=Raises.clause("P-TERM-6"))


# --------------------------------------------------------------------------- daemon

@pytest.mark.clause("P-DAEMON-1")
def test_daemon_default_follows_creator(check):
    def body(mp):
        in_main = (mp.Process().daemon, mp.Process(daemon=None).daemon, mp.Process(daemon=True).daemon)
        in_daemon = in_child(mp, lambda: (mp.Process().daemon, mp.Process(daemon=False).daemon), daemon=True)
        return in_main, in_daemon
    check(body, expect=((False, False, True), (True, False)))


@pytest.mark.clause("P-DAEMON-4")
def test_daemon_stored_as_given(check):
    def body(mp):
        p = mp.Process()
        p.daemon = "yes"
        return p.daemon
    check(body, expect="yes")


@pytest.mark.clause("P-DAEMON-2")
def test_daemon_after_start(check):
    def body(mp):
        p, stop = running(mp)
        while_running = attempt(lambda: setattr(p, "daemon", True))
        stop.set()
        p.join(LONG)
        return while_running, attempt(lambda: setattr(p, "daemon", True))
    check(body, expect=(raised("P-DAEMON-2"),) * 2)


@pytest.mark.clause("P-DAEMON-3")
def test_daemon_cannot_have_children(check):
    def body(mp):
        caught = in_child(mp, lambda: mp.Process(target=noop).start(), daemon=True)
        p = mp.Process(target=lambda: mp.Process(target=noop).start(), daemon=True)
        track(p)
        p.start()
        p.join(LONG)
        return caught, p.exitcode
    check(body, expect=(raised("P-DAEMON-3"), 1))


# --------------------------------------------------------------------------- close, sentinel

@pytest.mark.clause("P-CLOSE-1")
def test_close_running(check):
    def body(mp):
        p, stop = running(mp)
        return attempt(p.close), p.is_alive()
    check(body, expect=(raised("P-CLOSE-1"), True))


@pytest.mark.clause("P-CLOSE-2")
def test_close_unstarted_or_finished(check):
    def body(mp):
        fresh = mp.Process(target=noop)
        done = start(mp, noop)
        done.join(LONG)
        return fresh.close(), fresh.close(), done.close(), done.close()
    check(body, expect=(None,) * 4)


@pytest.mark.clause("P-CLOSE-3")
def test_everything_raises_after_close(check):
    def body(mp):
        p = start(mp, noop)
        p.join(LONG)
        p.close()
        ops = [p.is_alive, p.join, p.terminate, p.kill, p.start, lambda: p.exitcode, lambda: p.pid,
               lambda: p.ident, lambda: p.sentinel]
        return [attempt(op) for op in ops]
    check(body, expect=[raised("P-CLOSE-3")] * 9)


@pytest.mark.clause("P-CLOSE-4")
def test_name_and_daemon_after_close(check):
    def body(mp):
        p = mp.Process(target=noop, name="kept", daemon=True)
        p.close()
        return p.name, p.daemon
    check(body, expect=("kept", True))


@pytest.mark.clause("P-SENT-1")
def test_sentinel_before_start(check):
    check(lambda mp: mp.Process(target=noop).sentinel, expect=Raises.clause("P-SENT-1"))


@pytest.mark.clause("P-SENT-2")
def test_sentinel_readable_at_exit(check):
    def body(mp):
        p, stop = running(mp)
        s = p.sentinel
        while_running = mp.connection.wait([s], 0.1)
        stop.set()
        after = mp.connection.wait([s], LONG)
        p.join(LONG)
        return isinstance(s, int), while_running, after == [s]
    check(body, expect=(True, [], True))


# --------------------------------------------------------------------------- repr, authkey

def rel_repr(p, text=None):
    text = repr(p) if text is None else text
    return text.replace(f"'{p.name}'", "'NAME'").replace("<" + type(p).__name__ + " ", "<CLS ")


@pytest.mark.clause("P-REPR-1")
def test_repr_life_cycle(check):
    def body(mp):
        p, stop = running(mp)
        started = rel_repr(p)
        stop.set()
        p.join(LONG)
        stopped = rel_repr(p)
        q, _ = running(mp)
        q.terminate()
        q.join(LONG)
        return rel_repr(mp.Process()).replace("'NAME'", "'N'"), started, stopped, rel_repr(q)
    check(body, expect=("<CLS name='N' parent=<pid> initial>",
                        "<CLS name='NAME' pid=<pid> parent=<pid> started>",
                        "<CLS name='NAME' pid=<pid> parent=<pid> stopped exitcode=0>",
                        "<CLS name='NAME' pid=<pid> parent=<pid> stopped exitcode=-SIGTERM>"))


@pytest.mark.clause("P-REPR-2")
def test_repr_after_close(check):
    def body(mp):
        p = start(mp, noop)
        p.join(LONG)
        p.close()
        return rel_repr(p)
    check(body, expect="<CLS name='NAME' parent=<pid> closed>")


@pytest.mark.clause("P-REPR-3")
def test_repr_daemon(check):
    def body(mp):
        p = mp.Process(target=noop, daemon=True)
        fresh = rel_repr(p)
        track(p)
        p.start()
        p.join(LONG)
        return fresh, rel_repr(p)
    check(body, expect=("<CLS name='NAME' parent=<pid> initial daemon>",
                        "<CLS name='NAME' pid=<pid> parent=<pid> stopped exitcode=0 daemon>"))


@pytest.mark.clause("P-AUTH-1")
def test_authkey(check):
    def body(mp):
        key = mp.current_process().authkey
        p = mp.Process()
        return type(key).__name__, isinstance(key, bytes), len(key), p.authkey == key
    check(body, expect=("AuthenticationString", True, 32, True))


# --------------------------------------------------------------------------- child bootstrap

@pytest.mark.clause("P-CHILD-1")
def test_child_waits_for_non_daemon_threads(check):
    def body(mp):
        with tempfile.TemporaryDirectory() as d:
            def child():
                threading.Thread(target=lambda: (time.sleep(WAIT), open(f"{d}/plain", "w").close())).start()
                threading.Thread(target=lambda: (time.sleep(2 * WAIT), open(f"{d}/daemon", "w").close()),
                                 daemon=True).start()
            p = start(mp, child)
            t0 = time.monotonic()
            p.join(LONG)
            took = time.monotonic() - t0
            time.sleep(WAIT)
            return p.exitcode, took >= WAIT * 0.8, os.path.exists(f"{d}/plain"), os.path.exists(f"{d}/daemon")
    check(body, expect=(0, True, True, False))


@pytest.mark.clause("P-CHILD-2")
def test_child_main_thread_native_id(check):
    def body(mp):
        parent = threading.main_thread().native_id
        return in_child(mp, lambda: (threading.main_thread().native_id != parent,
                                     threading.main_thread().native_id == threading.get_native_id()))
    check(body, expect=(True, True))


# --------------------------------------------------------------------------- python -O

def script_outcome(mp, code, flags=("-O",)):
    rc, out, err, _ = run_script(mp, src("""
        def outcome(fn):
            try:
                return repr(fn())
            except Exception as e:
                return type(e).__name__ + ": " + str(e)
    """, code), flags=flags)
    return rc, out.strip().splitlines()


@pytest.mark.clause("P-OPT-1")
def test_optimized_join_unstarted(check):
    def body(mp):
        return script_outcome(mp, """
            print(outcome(lambda: mp.Process(target=print).join()))
        """)
    r = raised("P-OPT-1")
    check(body, expect=(0, [f"AttributeError: {r.message}"]))


@pytest.mark.clause("P-OPT-2")
def test_optimized_start_twice(check):
    def body(mp):
        return script_outcome(mp, """
            import time
            p = mp.Process(target=lambda: None)
            p.start()
            p.join()
            before = set(mp.active_children())
            print(outcome(p.start).replace(type(p).__name__, "Process"))
            time.sleep(0.5)
            print(p.exitcode)
        """)
    r = raised("P-OPT-2")
    check(body, expect=(0, [f"AttributeError: {r.message}", "1"]))


@pytest.mark.clause("P-OPT-3")
def test_optimized_asserts_vanish(check):
    def body(mp):
        return script_outcome(mp, """
            print(outcome(lambda: mp.Process(1) is not None))
            p = mp.Process(target=lambda: None)
            p.start()
            print(outcome(lambda: setattr(p, "daemon", True)))
            p.join()
            def daemon_parent():
                c = mp.Process(target=lambda: None)
                c.start()
                c.join()
                raise SystemExit(c.exitcode + 7)
            d = mp.Process(target=daemon_parent, daemon=True)
            d.start()
            d.join()
            print(d.exitcode)
        """)
    check(body, expect=(0, ["True", "None", "7"]))


@pytest.mark.clause("RL-REL-3")
def test_rlock_assertion_survives_optimize(check):
    def body(mp):
        return script_outcome(mp, """
            print(outcome(mp.RLock().release))
        """)
    r = raised("RL-REL-3")
    check(body, expect=(0, [f"AssertionError: {r.message}"]))


# --------------------------------------------------------------------------- interpreter exit

TERM_RECORDER = """
    import os, signal, sys, time
    def record(path, text):
        with open(path, "a") as f:
            f.write(text)
    def term_recorder(path, ignore=False, seconds=5.0):
        def on_term(*_):
            record(path, "term;")
            if not ignore:
                os._exit(0)
        signal.signal(signal.SIGTERM, on_term)
        record(path, "up;")
        time.sleep(seconds)
        record(path, "done;")
    def up(path, n=1):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                if open(path).read().count("up;") >= n:
                    return
            except OSError:
                pass
            time.sleep(0.01)
"""


def script_with_log(mp, code, **kw):
    """Run code with `LOG` (a fresh file path) and the TERM_RECORDER helpers; returns
    (rc, log text, seconds, stderr)."""
    with tempfile.TemporaryDirectory() as d:
        log = os.path.join(d, "log")
        rc, out, err, dt = run_script(mp, src(TERM_RECORDER, f"LOG = {log!r}", code), **kw)
        text = open(log).read() if os.path.exists(log) else ""
        return rc, text, dt, err


@pytest.mark.clause("X-EXIT-1")
def test_main_exit_terminates_daemons(check):
    def body(mp):
        rc, log, dt, _ = script_with_log(mp, """
            mp.Process(target=term_recorder, args=(LOG,), daemon=True).start()
            up(LOG)
        """)
        return rc, log, dt < 4.0
    check(body, expect=(0, "up;term;", True))


@pytest.mark.clause("X-EXIT-8")
def test_main_exit_joins_children(check):
    def body(mp):
        rc, log, dt, _ = script_with_log(mp, f"""
            mp.Process(target=lambda: (time.sleep({WAIT}), record(LOG, "child-done;"))).start()
        """)
        return rc, log, dt >= WAIT
    check(body, expect=(0, "child-done;", True))


@pytest.mark.clause("X-EXIT-9")
def test_main_exit_after_exception(check):
    def body(mp):
        rc, log, dt, _ = script_with_log(mp, f"""
            mp.Process(target=term_recorder, args=(LOG,), daemon=True).start()
            mp.Process(target=lambda: (time.sleep({WAIT}), record(LOG, "child-done;"))).start()
            up(LOG)
            raise RuntimeError("main fails")
        """)
        return rc, sorted(log.split(";"))
    check(body, expect=(1, ["", "child-done", "term", "up"]))


@pytest.mark.clause("X-EXIT-10")
def test_main_exit_order(check):
    def body(mp):
        rc, log, dt, _ = script_with_log(mp, f"""
            import threading
            mp.Process(target=term_recorder, args=(LOG,), daemon=True).start()
            up(LOG)
            threading.Thread(target=lambda: (time.sleep({WAIT}), record(LOG, "thread;"))).start()
        """)
        return rc, log
    check(body, expect=(0, "up;thread;term;"))


@pytest.mark.clause("X-EXIT-2")
def test_daemon_ignoring_sigterm_blocks_main_exit(check):
    def body(mp):
        rc, log, dt, _ = script_with_log(mp, f"""
            mp.Process(target=term_recorder, args=(LOG, True, {2 * WAIT}), daemon=True).start()
            up(LOG)
        """)
        return rc, log, dt >= 2 * WAIT * 0.8
    check(body, expect=(0, "up;term;done;", True))


@pytest.mark.clause("X-EXIT-3")
def test_child_exit_terminates_and_joins_grandchildren(check):
    def body(mp):
        with tempfile.TemporaryDirectory() as d:
            log = os.path.join(d, "log")
            ns = {}
            exec(compile(textwrap.dedent(TERM_RECORDER), "recorder", "exec"), ns)

            def child():
                mp.Process(target=ns["term_recorder"], args=(log,), daemon=True).start()
                ns["up"](log)
                mp.Process(target=lambda: (time.sleep(WAIT), ns["record"](log, "grandchild-done;"))).start()
            p = start(mp, child)
            t0 = time.monotonic()
            p.join(LONG)
            took = time.monotonic() - t0
            return p.exitcode, sorted(open(log).read().split(";")), took >= WAIT * 0.8
    check(body, expect=(0, ["", "grandchild-done", "term", "up"], True))


ORPHAN_S = WAIT


@pytest.mark.clause("X-EXIT-4")
def test_orphaned_children_run_to_completion(check):
    def body(mp):
        rc, log, dt, _ = script_with_log(mp, f"""
            mp.Process(target=lambda: (time.sleep({ORPHAN_S}), record(LOG, "orphan-done;"))).start()
            record(LOG, "parent-exit;")
            os._exit(0)
        """, linger=0.5)  # (the orphan holds the script's stdout: run_script waits for it)
        return rc, log
    check(body, expect=(0, "parent-exit;orphan-done;"))


@pytest.mark.clause("X-EXIT-7")
def test_daemons_survive_parent_death(check):
    def body(mp):
        rc, log, dt, _ = script_with_log(mp, f"""
            mp.Process(target=lambda: (time.sleep({ORPHAN_S}), record(LOG, "daemon-done;")), daemon=True).start()
            record(LOG, "parent-exit;")
            os._exit(0)
        """, linger=0.5)
        return rc, log
    check(body, expect=(0, "parent-exit;daemon-done;"), stronger=(0, "parent-exit;"))


@pytest.mark.clause("X-EXIT-12")
def test_child_watches_parent(check):
    def body(mp):
        rc, log, dt, _ = script_with_log(mp, f"""
            def watcher():
                pp = mp.parent_process()
                t0 = time.monotonic()
                r = pp.join({WAIT})
                waited = time.monotonic() - t0 >= {WAIT} * 0.9
                record(LOG, f"{{pp.is_alive()}},{{r}},{{waited}};")
                record(LOG, "ready;")
                t0 = time.monotonic()
                pp.join(5)
                quick = time.monotonic() - t0 < 4
                record(LOG, f"{{pp.is_alive()}},{{quick}};")
            mp.Process(target=watcher).start()
            deadline = time.monotonic() + 5
            while "ready;" not in (open(LOG).read() if os.path.exists(LOG) else "") and time.monotonic() < deadline:
                time.sleep(0.01)
            os._exit(0)
        """, linger=2.0)
        return rc, log
    check(body, expect=(0, "True,None,True;ready;False,True;"))


@pytest.mark.clause("X-EXIT-5")
def test_parent_atexit_not_run_in_child(check):
    def body(mp):
        rc, log, dt, _ = script_with_log(mp, """
            import atexit
            atexit.register(lambda: record(LOG, "atexit;"))
            p = mp.Process(target=lambda: None)
            p.start()
            p.join()
        """)
        return rc, log
    check(body, expect=(0, "atexit;"))


@pytest.mark.clause("X-EXIT-13")
def test_child_stdio_flushed_at_exit(check):
    def body(mp):
        rc, out, err, _ = run_script(mp, """
            import sys
            p = mp.Process(target=lambda: (sys.stdout.write("child-out;"), sys.stderr.write("child-err;")))
            p.start()
            p.join()
        """)
        return rc, out, err
    check(body, expect=(0, "child-out;", "child-err;"))


@pytest.mark.clause("X-EXIT-6")
def test_child_traceback_on_its_stderr(check):
    def body(mp):
        code, name, err = stderr_of(mp, raise_value_error)
        lines = err.splitlines()
        return code, lines[0] == f"Process {name}:", lines[1], lines[-1]
    check(body, expect=(1, True, "Traceback (most recent call last):", "ValueError: boom"))
