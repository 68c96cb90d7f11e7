"""Tickets: ten buyers, one JSON "database" file {"count": N}, tickets bought under a Lock.

Each buyer, under the lock, reads the count, and if it is positive waits a moment (the payment)
and writes count - 1. With the lock exactly min(N, 10) tickets are sold and the count is never
seen negative, whatever N. Without it (`lockless`, run on CPython only: it is racy) the same
program oversells: several buyers read the last ticket before any of them writes.
The file is replaced atomically (os.replace), so a reader never sees a half-written file.
"""
import json
import os
import shutil
import tempfile
import time

from ._util import LONG, Children

BUYERS = 10
STOCKS = (3, 10, 25)
PAY = 0.002

EXPECTED = {f"N={n}": {"sold": min(n, BUYERS), "left": n - min(n, BUYERS), "never_negative": True,
                       "exitcodes": [0] * BUYERS} for n in STOCKS}


def _read(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)["count"]


def _write(path, count):
    tmp = f"{path}.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump({"count": count}, f)
    os.replace(tmp, path)


def _grab(path, out, pay):
    seen = _read(path)
    if seen > 0:
        time.sleep(pay)
        _write(path, seen - 1)
    out.put((seen > 0, seen))


def buyer(lock, path, out, gate, pay):
    if gate is not None:
        gate.wait(LONG)
    if lock is None:
        _grab(path, out, pay)
    else:
        with lock:
            _grab(path, out, pay)


def sale(mp, stock, lock, gate=None, pay=PAY):
    """One sale of `stock` tickets to BUYERS buyers: (sold, count left, counts seen, exit codes)."""
    tmpdir = tempfile.mkdtemp(prefix="mpc-tickets-")
    try:
        path = os.path.join(tmpdir, "db.json")
        _write(path, stock)
        out = mp.Queue()
        with Children(mp) as kids:
            for _ in range(BUYERS):
                kids.start(buyer, lock, path, out, gate, pay)
            if gate is not None:
                gate.set()
            results = [out.get(timeout=LONG) for _ in range(BUYERS)]
            codes = kids.join_all()
        return sum(1 for ok, _ in results if ok), _read(path), [s for _, s in results], codes
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def run(mp):
    out = {}
    for n in STOCKS:
        sold, left, seen, codes = sale(mp, n, mp.Lock())
        out[f"N={n}"] = {"sold": sold, "left": left, "never_negative": min(seen + [left]) >= 0,
                         "exitcodes": codes}
    return out


def lockless(mp, tries=5):
    """The same sale of one ticket without the lock, all buyers released at once by an Event:
    True when some try sold more than one ticket."""
    for _ in range(tries):
        sold, _, _, _ = sale(mp, 1, None, gate=mp.Event(), pay=0.02)
        if sold > 1:
            return True
    return False
