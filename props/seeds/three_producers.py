"""Three producers, two daemonic consumers: every item is consumed exactly once, the main ends
after collecting them, and no consumer is left behind.
"""
from ._util import LONG, Children, ended, run_main

PRODUCERS, CONSUMERS, ITEMS = 3, 2, 50

EXPECTED = {"main": ({"consumed": PRODUCERS * ITEMS, "exactly_once": True,
                      "producer_exitcodes": [0] * PRODUCERS, "consumers_daemonic": [True] * CONSUMERS}, 0),
            "consumers_ended": [True] * CONSUMERS}


def producer(q, who):
    for s in range(ITEMS):
        q.put((who, s))


def consumer(q, done, me):
    while True:
        done.put((q.get(), me))


def main(mp, pids):
    q, done = mp.Queue(), mp.Queue()
    consumers = []
    for c in range(CONSUMERS):
        p = mp.Process(target=consumer, args=(q, done, c), daemon=True)
        p.start()
        pids[c] = p.pid
        consumers.append(p)
    with Children(mp) as producers:
        for who in range(PRODUCERS):
            producers.start(producer, q, who)
        got = [done.get(timeout=LONG) for _ in range(PRODUCERS * ITEMS)]
        codes = producers.join_all()
    items = [item for item, _ in got]
    want = {(w, s) for w in range(PRODUCERS) for s in range(ITEMS)}
    return {"consumed": len(items), "exactly_once": len(set(items)) == len(items) and set(items) == want,
            "producer_exitcodes": codes, "consumers_daemonic": [p.daemon for p in consumers]}


def run(mp):
    pids = mp.Array("i", CONSUMERS)
    result = run_main(mp, main, pids)
    return {"main": result, "consumers_ended": ended(list(pids))}
