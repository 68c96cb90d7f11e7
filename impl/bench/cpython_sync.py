#!/usr/bin/python3
"""cpython_sync: CPython multiprocessing Lock and Value throughput; twin of bench_sync.cpp.

Output, one line per workload:  <workload>\t<metric>\t<value>
  lock.uncontended        acquire/release pairs per second, one process
  lock.contended2         pairs per second, two processes hammering one lock (total)
  value.increment_locked  `with v.get_lock(): v.value += 1` per second, one process
Each workload runs for about DURATION seconds (time-bounded, not count-bounded).
"""
import multiprocessing as mp
import sys
import time

DURATION = 0.4
BATCH = 1024
ctx = mp.get_context("fork")


def report(workload, per_s):
    print(f"{workload}\tper_s\t{per_s:.0f}", flush=True)


def lock_uncontended():
    lock = ctx.Lock()
    acquire, release = lock.acquire, lock.release
    n = 0
    t0 = time.monotonic()
    stop = t0 + DURATION
    while True:
        for _ in range(BATCH):
            acquire()
            release()
        n += BATCH
        t = time.monotonic()
        if t >= stop:
            break
    return n / (t - t0)


def _hammer(lock, counts, ends, p, start, stop):
    acquire, release = lock.acquire, lock.release
    time.sleep(max(0.0, start - time.monotonic()))
    n = 0
    while True:
        for _ in range(BATCH):
            acquire()
            release()
        n += BATCH
        t = time.monotonic()
        if t >= stop:
            break
    counts[p] = n
    ends[p] = t


def lock_contended2():
    lock = ctx.Lock()
    counts = ctx.RawArray("q", 2)
    ends = ctx.RawArray("d", 2)
    start = time.monotonic() + 0.05  # both begin together, after both starts
    stop = start + DURATION
    procs = [ctx.Process(target=_hammer, args=(lock, counts, ends, p, start, stop))
             for p in range(2)]
    for pr in procs:
        pr.start()
    for pr in procs:
        pr.join()
    if any(pr.exitcode != 0 for pr in procs):
        raise RuntimeError("a hammering process failed")
    return (counts[0] + counts[1]) / (max(ends[0], ends[1]) - start)


def value_increment_locked():
    v = ctx.Value("i", 0)
    n = 0
    t0 = time.monotonic()
    stop = t0 + DURATION
    while True:
        for _ in range(BATCH):
            with v.get_lock():
                v.value += 1
        n += BATCH
        t = time.monotonic()
        if t >= stop:
            break
    if v.value != n:
        raise RuntimeError("lost an update")
    return n / (t - t0)


def main():
    report("lock.uncontended", lock_uncontended())
    report("lock.contended2", lock_contended2())
    report("value.increment_locked", value_increment_locked())
    return 0


if __name__ == "__main__":
    sys.exit(main())
