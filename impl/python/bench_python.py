#!/usr/bin/python3
"""bench_python: the Python module `mpref` against CPython's multiprocessing (fork), from Python.

Run with Debian's interpreter, after building the target mpref_python:
    /usr/bin/python3 impl/python/bench_python.py [--build DIR] [--runs N]
DIR defaults to $MPCONFORM_BUILD_DIR, else build/ at the repository root.

Workloads (each run takes ~0.2-1 s; the median of --runs runs, 5 by default, is reported):
  queue.one_to_one   Queue items per second, one producer process -> one consumer process
                     (small ints; the consumer uses get(True, 60))     target: >= 3x CPython
  lock.uncontended   Lock acquire()/release() pairs per second, one process (bound methods)
                                                                        target: >= 1x CPython
  process.start_join seconds per Process(target=f).start(); join() of an empty target
                                                                        target: no slower
Output: one line per workload and implementation, `<workload>\t<impl>\t<metric>\t<median>`,
then a table with the ratio (mpref over CPython for per_s, CPython over mpref for s, so > 1 is
always "mpref better") and whether the target is met. Exit status 0 either way.
"""
import argparse
import importlib
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _consume(q, n):
    get = q.get
    for _ in range(n):
        get(True, 60)


def _produce(q, n):
    put = q.put
    for i in range(n):
        put(i)


def queue_one_to_one(ctx, n):
    q = ctx.Queue()
    t0 = time.monotonic()
    procs = [ctx.Process(target=_consume, args=(q, n)), ctx.Process(target=_produce, args=(q, n))]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    t = time.monotonic() - t0
    assert all(p.exitcode == 0 for p in procs), [p.exitcode for p in procs]
    return n / t


def lock_uncontended(ctx, n):
    lock = ctx.Lock()
    acquire, release = lock.acquire, lock.release
    t0 = time.perf_counter()
    for _ in range(n):
        acquire()
        release()
    return n / (time.perf_counter() - t0)


def _nothing():
    pass


def process_start_join(ctx, n):
    t0 = time.perf_counter()
    for _ in range(n):
        p = ctx.Process(target=_nothing)
        p.start()
        p.join()
        assert p.exitcode == 0
    return (time.perf_counter() - t0) / n


# workload -> (function, metric, size for CPython, size for mpref, target ratio)
WORKLOADS = {
    "queue.one_to_one": (queue_one_to_one, "per_s", 40_000, 200_000, 3.0),
    "lock.uncontended": (lock_uncontended, "per_s", 2_000_000, 2_000_000, 1.0),
    "process.start_join": (process_start_join, "s", 50, 50, 1.0),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.environ.get("MPCONFORM_BUILD_DIR", str(ROOT / "build")))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("workloads", nargs="*", default=list(WORKLOADS))
    args = ap.parse_args()

    build = Path(args.build)
    if not build.is_absolute():
        build = ROOT / build
    sys.path.insert(0, str(build / "impl" / "python"))
    impls = {"cpython": importlib.import_module("multiprocessing").get_context("fork"),
             "mpref": importlib.import_module("mpref").get_context("fork")}

    results = {}
    for name in args.workloads:
        fn, metric, n_cpython, n_mpref, target = WORKLOADS[name]
        size = {"cpython": n_cpython, "mpref": n_mpref}
        runs = {impl: [] for impl in impls}
        for impl, ctx in impls.items():
            fn(ctx, max(1, size[impl] // 10))  # warm-up
        for _ in range(args.runs):  # interleaved, so that load drift hits both alike
            for impl, ctx in impls.items():
                runs[impl].append(fn(ctx, size[impl]))
        for impl in impls:
            results[name, impl] = med = statistics.median(runs[impl])
            print(f"{name}\t{impl}\t{metric}\t{med:.6g}", flush=True)

    print()
    print(f"{'workload':<20} {'metric':<6} {'cpython':>12} {'mpref':>12} {'ratio':>7} {'target':>7}  ok")
    for name in args.workloads:
        fn, metric, _, _, target = WORKLOADS[name]
        c, m = results[name, "cpython"], results[name, "mpref"]
        ratio = m / c if metric == "per_s" else c / m
        print(f"{name:<20} {metric:<6} {c:>12.6g} {m:>12.6g} {ratio:>6.2f}x {target:>6.1f}x  "
              f"{'yes' if ratio >= target else 'NO'}")


if __name__ == "__main__":
    main()
