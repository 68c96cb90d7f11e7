"""Queue demo: a Queue(3) through full and empty, with the non-blocking and timed errors.
"""
import time

from ._util import LONG, SHORT, raised

EXPECTED = {
    "fresh": {"empty": True, "full": False, "qsize": 0},
    "after_3_puts": {"full": True, "qsize": 3},
    "put_nowait": "queue.Full", "put_no_block": "queue.Full",
    "put_timeout": {"raised": "queue.Full", "waited": True},
    "gets": [0, 1, 2],
    "after_gets": {"empty": True, "full": False, "qsize": 0},
    "get_nowait": "queue.Empty", "get_no_block": "queue.Empty",
    "get_timeout": {"raised": "queue.Empty", "waited": True},
    "reused": "x",
}


def timed(fn):
    t0 = time.monotonic()
    r = raised(fn)
    return {"raised": r, "waited": time.monotonic() - t0 >= SHORT - 0.01}


def run(mp):
    q = mp.Queue(3)
    out = {"fresh": {"empty": q.empty(), "full": q.full(), "qsize": q.qsize()}}
    for i in range(3):
        q.put(i)
    out["after_3_puts"] = {"full": q.full(), "qsize": q.qsize()}
    out["put_nowait"] = raised(lambda: q.put_nowait(3))
    out["put_no_block"] = raised(lambda: q.put(3, False))
    out["put_timeout"] = timed(lambda: q.put(3, timeout=SHORT))
    out["gets"] = [q.get(timeout=LONG) for _ in range(3)]
    out["after_gets"] = {"empty": q.empty(), "full": q.full(), "qsize": q.qsize()}
    out["get_nowait"] = raised(q.get_nowait)
    out["get_no_block"] = raised(lambda: q.get(False))
    out["get_timeout"] = timed(lambda: q.get(timeout=SHORT))
    q.put("x")
    out["reused"] = q.get(timeout=LONG)
    q.close()
    q.join_thread()
    return out
