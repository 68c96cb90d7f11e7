#!/usr/bin/python3
"""cpython_process: CPython multiprocessing Process start + join (fork context); twin of
bench_process.cpp.

Output, one line per workload:  <workload>\t<metric>\t<value>
  process.start_join   seconds per start()+join() of a child whose target does nothing
Time-bounded (about DURATION seconds), after a short warm-up.
"""
import multiprocessing as mp
import time

DURATION = 0.5
ctx = mp.get_context("fork")


def noop():
    pass


def start_join():
    for _ in range(5):  # warm-up
        p = ctx.Process(target=noop)
        p.start()
        p.join()
    n = 0
    t0 = time.monotonic()
    t = t0
    while t - t0 < DURATION:
        p = ctx.Process(target=noop)
        p.start()
        p.join()
        n += 1
        t = time.monotonic()
    return (t - t0) / n


if __name__ == "__main__":
    print(f"process.start_join\ts\t{start_join():.9f}", flush=True)
