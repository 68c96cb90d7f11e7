"""Producer and consumer: one producer puts 0..199 then the None sentinel; one consumer gets until
the sentinel and reports what it got. Everything arrives, once, in order (one producer: FIFO).
"""
from ._util import LONG, Children

N = 200

EXPECTED = {"count": N, "in_order": True, "exitcodes": [0, 0]}


def producer(q):
    for i in range(N):
        q.put(i)
    q.put(None)


def consumer(q, results):
    got = []
    while True:
        item = q.get(timeout=LONG)  # bounded: a lost sentinel fails the seed instead of hanging
        if item is None:
            break
        got.append(item)
    results.put(got)


def run(mp):
    q, results = mp.Queue(), mp.Queue()
    with Children(mp) as kids:
        kids.start(producer, q)
        kids.start(consumer, q, results)
        got = results.get(timeout=3 * LONG)
        codes = kids.join_all()
    return {"count": len(got), "in_order": got == list(range(N)), "exitcodes": codes}
