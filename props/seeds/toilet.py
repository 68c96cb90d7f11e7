"""Toilet: three people share one toilet, serialised by one Lock; visits never overlap.

Each person makes VISITS visits; inside the critical section (with lock:) they note the
CLOCK_MONOTONIC times of entering and leaving (system-wide, so comparable across processes) and
stay a few milliseconds. The visits, sorted by entry, must not overlap.
"""
import time

from ._util import LONG, Children

PEOPLE, VISITS, STAY = 3, 5, 0.005

EXPECTED = {"visits": [VISITS] * PEOPLE, "overlaps": 0, "exitcodes": [0] * PEOPLE}


def person(lock, log, who):
    for _ in range(VISITS):
        with lock:
            enter = time.monotonic()
            time.sleep(STAY)
            leave = time.monotonic()
        log.put((who, enter, leave))


def run(mp):
    lock, log = mp.Lock(), mp.Queue()
    with Children(mp) as kids:
        for who in range(PEOPLE):
            kids.start(person, lock, log, who)
        visits = [log.get(timeout=LONG) for _ in range(PEOPLE * VISITS)]
        codes = kids.join_all()
    visits.sort(key=lambda v: v[1])
    overlaps = sum(1 for a, b in zip(visits, visits[1:]) if b[1] < a[2])
    return {"visits": [sum(1 for v in visits if v[0] == w) for w in range(PEOPLE)],
            "overlaps": overlaps, "exitcodes": codes}
