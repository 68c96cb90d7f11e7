#!/usr/bin/python3
"""Record sequential histories of real CPython multiprocessing objects, for the model tests.

Each output line is one JSON history: the object's constructor arguments and the calls made on
it, with what each call returned or raised. test_cpython_histories.cpp replays them through the
models of spec/models: a history CPython produced must be accepted.

The calls are drawn at random from a seed, one object per history. A call that would wait
forever is never made: the generator looks at CPython's own state (the semaphore count, the
pipe) first and skips it, so every run ends. Children are always reaped.

    /usr/bin/python3 props/models/cpython_histories.py --seed 1 --count 40 [--model queue]
"""
import argparse
import json
import multiprocessing
import os
import queue
import random
import signal
import sys
import threading

CTX = multiprocessing.get_context("fork")


def enc(v):
    if v is None:
        return {"t": "none"}
    if isinstance(v, bool):
        return {"t": "bool", "v": v}
    if isinstance(v, int):
        return {"t": "int", "v": str(v)}
    if isinstance(v, float):
        return {"t": "float", "v": repr(v)}
    if isinstance(v, (bytes, bytearray)):
        return {"t": "bytes", "v": bytes(v).hex()}
    if isinstance(v, str):
        return {"t": "str", "v": v}
    if isinstance(v, (list, tuple)):
        return {"t": "list", "v": [enc(x) for x in v]}
    raise TypeError(f"cannot encode {v!r}")


def exc_type(e):
    if isinstance(e, queue.Full):
        return "queue.Full"
    if isinstance(e, queue.Empty):
        return "queue.Empty"
    return type(e).__name__


def call(fn):
    try:
        return {"kind": "returned", "value": enc(fn())}
    except Exception as e:  # noqa: BLE001 - every exception is an observation
        return {"kind": "raised", "type": exc_type(e), "message": str(e)}


class History:
    def __init__(self, model, init):
        self.doc = {"model": model, "init": init, "steps": []}

    def step(self, op, fn):
        self.doc["steps"].append({"op": op, "result": call(fn)})

    def event(self, op):
        self.doc["steps"].append({"op": op, "result": {"kind": "returned", "value": enc(None)}})


def timeout_choice(rng, block):
    # None, zero, negative, small positive; a long timeout only where it cannot wait.
    choices = [None, 0.0, -1.0, 0.01]
    if not block:
        choices.append(5.0)
    return rng.choice(choices)


# --- synchronize ---

def gen_semlock(rng, n, kind):
    value = rng.choice([0, 1, 2]) if kind != "lock" else 1
    obj = {"lock": CTX.Lock, "semaphore": CTX.Semaphore,
           "bounded_semaphore": CTX.BoundedSemaphore}[kind]
    o = obj() if kind == "lock" else obj(value)
    h = History(kind, {"value": value})
    for _ in range(n):
        r = rng.random()
        if r < 0.45:
            block = rng.random() < 0.6
            timeout = timeout_choice(rng, block)
            if block and timeout is None and o._semlock._is_zero():
                continue  # would wait forever
            h.step({"name": "acquire", "block": block, "timeout": timeout},
                   lambda: o.acquire(block, timeout))
        elif r < 0.85 or kind == "lock":
            h.step({"name": "release"}, o.release)
        else:
            h.step({"name": "get_value"}, o.get_value)
    return h


class Worker:
    """A second thread that runs calls on request, so an RLock sees two owners."""

    def __init__(self):
        self.req = queue.SimpleQueue()
        self.res = queue.SimpleQueue()
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while True:
            fn = self.req.get()
            if fn is None:
                return
            self.res.put(call(fn))

    def call(self, fn):
        self.req.put(fn)
        return self.res.get(timeout=30)

    def stop(self):
        self.req.put(None)
        self.t.join(30)


def gen_rlock(rng, n):
    rl = CTX.RLock()
    h = History("rlock", {})
    w = Worker()
    try:
        for _ in range(n):
            thread = rng.choice([1, 2])
            count = rl._semlock._count()
            mine = rl._semlock._is_mine()  # asked by thread 1: does thread 1 own it?
            if rng.random() < 0.55:
                block = rng.random() < 0.6
                timeout = timeout_choice(rng, block)
                op = {"name": "acquire", "thread": thread, "block": block, "timeout": timeout}
                fn = lambda: rl.acquire(block, timeout)  # noqa: E731
                if block and timeout is None and rl._semlock._is_zero():
                    # Held: only its owner's acquire returns. The owner is thread 1 iff
                    # is_mine() in thread 1 (count > 0 here).
                    if not ((thread == 1 and mine) or (thread == 2 and count > 0 and not mine)):
                        continue
            else:
                op = {"name": "release", "thread": thread}
                fn = rl.release
            if thread == 1:
                h.step(op, fn)
            else:
                h.doc["steps"].append({"op": op, "result": w.call(fn)})
        # Leave no thread holding it (the worker is a daemon; release is not needed).
    finally:
        w.stop()
    return h


# --- queues ---

def gen_queue(rng, n, joinable):
    maxsize = rng.choice([0, 1, 2, 3, -2])
    q = CTX.JoinableQueue(maxsize) if joinable else CTX.Queue(maxsize)
    h = History("joinable_queue" if joinable else "queue", {"maxsize": maxsize})
    counter = 0
    for _ in range(n):
        r = rng.random()
        if r < 0.3:
            counter += 1
            item = counter
            nowait = rng.random() < 0.25
            block = False if nowait else rng.random() < 0.6
            timeout = None if nowait else timeout_choice(rng, block)
            if block and timeout is None and not q._closed and q.full():
                continue
            if nowait:
                h.step({"name": "put_nowait", "item": enc(item)}, lambda: q.put_nowait(item))
            else:
                h.step({"name": "put", "item": enc(item), "block": block, "timeout": timeout},
                       lambda: q.put(item, block, timeout))
        elif r < 0.55:
            nowait = rng.random() < 0.3
            block = False if nowait else rng.random() < 0.6
            timeout = None if nowait else timeout_choice(rng, block)
            if block and timeout is None and not q._closed and q.qsize() == 0:
                continue
            if nowait:
                h.step({"name": "get_nowait"}, q.get_nowait)
            else:
                h.step({"name": "get", "block": block, "timeout": timeout},
                       lambda: q.get(block, timeout))
        elif r < 0.62:
            h.step({"name": "qsize"}, q.qsize)
        elif r < 0.70:
            h.step({"name": "empty"}, q.empty)
        elif r < 0.75:
            h.step({"name": "full"}, q.full)
        elif r < 0.78:
            h.step({"name": "close"}, q.close)
        elif r < 0.81:
            h.step({"name": "join_thread"}, q.join_thread)
        elif r < 0.83:
            h.step({"name": "cancel_join_thread"}, q.cancel_join_thread)
        elif joinable and r < 0.93:
            h.step({"name": "task_done"}, q.task_done)
        elif joinable:
            if not q._unfinished_tasks._semlock._is_zero():
                continue
            h.step({"name": "join"}, q.join)
    q.close()
    q.join_thread()
    return h


def gen_simple_queue(rng, n):
    sq = CTX.SimpleQueue()
    h = History("simple_queue", {})
    counter = 0
    for _ in range(n):
        r = rng.random()
        if r < 0.4:
            counter += 1
            item = counter
            h.step({"name": "put", "item": enc(item)}, lambda: sq.put(item))
        elif r < 0.7:
            try:
                ready = sq._reader.poll()
            except OSError:
                ready = True  # closed: get() raises instead of waiting
            if not ready:
                continue
            h.step({"name": "get"}, sq.get)
        elif r < 0.9:
            h.step({"name": "empty"}, sq.empty)
        else:
            h.step({"name": "close"}, sq.close)
    sq.close()
    return h


# --- connection ---

def gen_pipe(rng, n):
    duplex = rng.random() < 0.6
    pickled = rng.random() < 0.3
    ends = CTX.Pipe(duplex)
    h = History("pipe", {"duplex": duplex})
    counter = 0
    for _ in range(n):
        e = rng.choice([0, 1])
        c = ends[e]
        r = rng.random()
        if r < 0.3:
            counter += 1
            if pickled:
                obj = [counter, "x" * rng.choice([0, 1, 3])]
                h.step({"name": "send", "end": e, "payload": enc(obj)}, lambda: c.send(obj))
            else:
                data = bytes(rng.choice([0, 1, 3, 5])) if rng.random() < 0.5 else b"m%d" % counter
                h.step({"name": "send_bytes", "end": e, "payload": enc(data)},
                       lambda: c.send_bytes(data))
        elif r < 0.55:
            try:
                ready = c.poll()
            except OSError:
                ready = True  # closed or write-only: receiving raises
            if not ready:
                continue
            if pickled:
                h.step({"name": "recv", "end": e}, c.recv)
            else:
                maxlength = rng.choice([None, None, -1, 0, 2, 3, 10])
                h.step({"name": "recv_bytes", "end": e, "maxlength": maxlength},
                       lambda: c.recv_bytes(maxlength))
        elif r < 0.75:
            timeout = rng.choice([0.0, -1.0, 0.01, None])
            if timeout is None:
                try:
                    if not c.poll():
                        continue
                except OSError:
                    pass
            h.step({"name": "poll", "end": e, "timeout": timeout}, lambda: c.poll(timeout))
        elif r < 0.85:
            h.step({"name": "close", "end": e}, c.close)
        else:
            attr = rng.choice(["closed", "readable", "writable"])
            h.step({"name": attr, "end": e}, lambda: getattr(c, attr))
    for c in ends:
        c.close()
    return h


# --- sharedctypes ---

INT_CODES = "bBhHiIlLqQ"


def rand_element(rng, tc):
    if tc == "c":
        return rng.choice([b"a", b"z", 0, 65, 255, 256, -1, b"ab", "x"])
    if tc in "fd":
        return rng.choice([0.1, -2.5, 1e30, 7, True])
    return rng.choice([0, 1, -1, 127, 128, 255, 256, 300, 2**15, 2**31, 2**32 + 7, 2**63,
                       2**64 - 1, 2**64 + 5, -(2**63) - 1, True])


def rand_slice(rng, n):
    def bound():
        return rng.choice([None, 0, 1, -1, n, n + 3, -n - 2])
    step = rng.choice([None, None, 1, 2, -1, -2, 0])
    return (bound(), bound(), step)


def slice_len(s, n):
    return len(range(*slice(*s).indices(n)))


def gen_register(rng, n_ops):
    tc = rng.choice(INT_CODES + "cfd")
    if rng.random() < 0.35:
        v = CTX.Value(tc)
        h = History("value", {"typecode": tc})
        for _ in range(n_ops):
            if rng.random() < 0.5:
                h.step({"name": "get_value"}, lambda: v.value)
            else:
                x = rand_element(rng, tc)

                def setv(x=x):
                    v.value = x
                h.step({"name": "set_value", "operand": enc(x)}, setv)
        return h
    length = rng.choice([0, 1, 3, 5])
    a = CTX.Array(tc, length)
    h = History("array", {"typecode": tc, "length": length})
    for _ in range(n_ops):
        r = rng.random()
        if r < 0.2:
            i = rng.randint(-length - 1, length)
            h.step({"name": "get_item", "index": i}, lambda: a[i])
        elif r < 0.45:
            i = rng.randint(-length - 1, length)
            x = rand_element(rng, tc)

            def seti(i=i, x=x):
                a[i] = x
            h.step({"name": "set_item", "index": i, "operand": enc(x)}, seti)
        elif r < 0.65:
            s = rand_slice(rng, length)
            h.step({"name": "get_slice", "slice": list(s)}, lambda: a[slice(*s)])
        elif r < 0.9:
            s = rand_slice(rng, length)
            want = slice_len(s, length) if s[2] != 0 else 1
            size = max(0, want + rng.choice([0, 0, 0, -1, 1]))
            if tc == "c" and rng.random() < 0.5:
                xs = bytes(rng.randrange(256) for _ in range(size))
            else:
                xs = [rand_element(rng, tc) for _ in range(size)]
                if tc != "c":
                    xs = [x for x in xs if not isinstance(x, bytes)]

            def sets(s=s, xs=xs):
                a[slice(*s)] = xs
            h.step({"name": "set_slice", "slice": list(s), "operand": enc(xs)}, sets)
        else:
            h.step({"name": "len"}, lambda: len(a))
    return h


# --- process ---

def child(conn):
    code = conn.recv()
    os._exit(code)


def gen_process(rng, n):
    daemon = rng.random() < 0.3
    r_end, w_end = CTX.Pipe(False)
    p = CTX.Process(target=child, args=(r_end,), daemon=daemon)
    h = History("process", {"daemon": daemon})
    exited = False

    def wait_exit():
        # Until waitpid can reap the child, is_alive() and exitcode still see it running (the
        # sentinel becomes readable a little earlier). Wait for that, without reaping it.
        os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)

    try:
        for _ in range(n):
            r = rng.random()
            started = p._popen is not None
            if r < 0.12:
                h.step({"name": "start"}, p.start)
            elif r < 0.25:
                timeout = rng.choice([0.0, -1.0, 0.01, None])
                if timeout is None and started and not exited:
                    continue
                h.step({"name": "join", "timeout": timeout}, lambda: p.join(timeout))
            elif r < 0.35:
                h.step({"name": "is_alive"}, p.is_alive)
            elif r < 0.45:
                h.step({"name": "exitcode"}, lambda: p.exitcode)
            elif r < 0.49:
                h.step({"name": "close"}, p.close)
            elif r < 0.62:
                flag = rng.random() < 0.5

                def setd(flag=flag):
                    p.daemon = flag
                h.step({"name": "set_daemon", "flag": flag}, setd)
            elif r < 0.66:
                h.step({"name": "get_daemon"}, lambda: p.daemon)
            elif r < 0.76:
                kill = rng.random() < 0.5
                fn = p.kill if kill else p.terminate
                h.step({"name": "kill" if kill else "terminate"}, fn)
                if started and not exited and not p._closed:
                    # Wait for the signal to land, so no later call races with it.
                    wait_exit()
                    exited = True
                    h.event({"name": "child_exits", "code": -9 if kill else -15})
            else:
                if started and not exited and not p._closed:
                    code = rng.choice([0, 1, 3, 255, 300])
                    w_end.send(code)
                    wait_exit()
                    exited = True
                    h.event({"name": "child_exits", "code": code & 0xFF})
    finally:
        if p._popen is not None and not p._closed:
            if not exited:
                try:
                    w_end.send(0)
                except OSError:
                    pass
            p.join(30)
        w_end.close()
        r_end.close()
    return h


GENERATORS = {
    "lock": lambda rng, n: gen_semlock(rng, n, "lock"),
    "semaphore": lambda rng, n: gen_semlock(rng, n, "semaphore"),
    "bounded_semaphore": lambda rng, n: gen_semlock(rng, n, "bounded_semaphore"),
    "rlock": gen_rlock,
    "queue": lambda rng, n: gen_queue(rng, n, False),
    "joinable_queue": lambda rng, n: gen_queue(rng, n, True),
    "simple_queue": gen_simple_queue,
    "pipe": gen_pipe,
    "register": gen_register,
    "process": gen_process,
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--count", type=int, default=20, help="histories per model")
    ap.add_argument("--length", type=int, default=25, help="calls per history (at most)")
    ap.add_argument("--model", action="append", choices=sorted(GENERATORS))
    args = ap.parse_args()
    signal.alarm(120)  # never outlive the test that runs us
    for name in args.model or sorted(GENERATORS):
        for i in range(args.count):
            rng = random.Random(f"{args.seed}/{name}/{i}")
            h = GENERATORS[name](rng, args.length)
            h.doc["seed"] = args.seed
            h.doc["index"] = i
            sys.stdout.write(json.dumps(h.doc) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
