#!/usr/bin/python3
"""CPython twin of bench_queues.cpp: the same workloads on multiprocessing (fork context).

Prints <workload>\t<metric>\t<value> lines. Sizes are smaller than the C++ ones (CPython is
~50x slower) so each workload takes well under a second or two; the metrics are rates or
per-operation times, so the sizes do not enter the comparison. queue.reserve_rss_mib has no
twin (CPython's queue has no reserve).
"""
import multiprocessing as mp
import time

ctx = mp.get_context("fork")


def _consume(q, n):
    for _ in range(n):
        q.get(True, 60)


def _produce(q, n):
    for i in range(n):
        q.put(i)


def queue_rate(pairs, total):
    q = ctx.Queue()
    share = total // pairs
    t0 = time.monotonic()
    procs = [ctx.Process(target=_consume, args=(q, share)) for _ in range(pairs)]
    procs += [ctx.Process(target=_produce, args=(q, share)) for _ in range(pairs)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    t = time.monotonic() - t0
    assert all(p.exitcode == 0 for p in procs)
    return share * pairs / t


def _get_done(q, n):
    for _ in range(n):
        q.get(True, 60)
        q.task_done()


def joinable_rate(n):
    q = ctx.JoinableQueue()
    t0 = time.monotonic()
    p = ctx.Process(target=_get_done, args=(q, n))
    p.start()
    for i in range(n):
        q.put(i)
    q.join()
    t = time.monotonic() - t0
    p.join()
    assert p.exitcode == 0
    return n / t


def _echo(conn, n):
    buf = bytearray(64)
    for _ in range(n):
        k = conn.recv_bytes_into(buf)
        conn.send_bytes(buf, 0, k)


def pipe_roundtrip(n):
    a, b = ctx.Pipe()
    p = ctx.Process(target=_echo, args=(b, n))
    p.start()
    b.close()
    msg = (0x0102030405060708).to_bytes(8, "little")
    buf = bytearray(64)
    for _ in range(200):
        a.send_bytes(msg)
        a.recv_bytes_into(buf)
    t0 = time.monotonic()
    for _ in range(n - 200):
        a.send_bytes(msg)
        a.recv_bytes_into(buf)
    t = time.monotonic() - t0
    p.join()
    assert p.exitcode == 0
    return t / (n - 200)


def report(name, metric, value):
    print(f"{name}\t{metric}\t{value:.6g}", flush=True)


if __name__ == "__main__":
    report("queue.1to1", "per_s", queue_rate(1, 100_000))
    report("queue.4to4", "per_s", queue_rate(4, 100_000))
    report("joinable.put_get_task_done", "per_s", joinable_rate(30_000))
    report("pipe.roundtrip", "s", pipe_roundtrip(10_000))
