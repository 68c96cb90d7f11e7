"""Join: join() waits for each child to finish.

Three children sleep 0.1, 0.2 and 0.3 s, then mark their slot in a shared Array. After join()
every slot is marked, every exit code is 0, no child is alive and at least 0.3 s have passed;
a second join() of a finished child returns at once.
"""
import time

from ._util import LONG, Children

NAPS = (0.1, 0.2, 0.3)

EXPECTED = {"marked": [1, 1, 1], "exitcodes": [0, 0, 0], "alive": [False] * 3, "waited": True,
            "join_returns": [None] * 3, "rejoin_at_once": True, "active_children": 0}


def napper(marks, i, nap):
    time.sleep(nap)
    marks[i] = 1


def run(mp):
    marks = mp.Array("i", len(NAPS))
    t0 = time.monotonic()
    with Children(mp) as kids:
        procs = [kids.start(napper, marks, i, nap) for i, nap in enumerate(NAPS)]
        returns = [p.join(LONG) for p in procs]
        waited = time.monotonic() - t0 >= NAPS[-1] - 0.01
        t1 = time.monotonic()
        for p in procs:
            p.join(LONG)
        rejoin = time.monotonic() - t1 < 0.2
        out = {"marked": list(marks), "exitcodes": [p.exitcode for p in procs],
               "alive": [p.is_alive() for p in procs], "waited": waited,
               "join_returns": returns, "rejoin_at_once": rejoin,
               "active_children": len(mp.active_children())}
    return out
