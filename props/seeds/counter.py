"""Counter: four processes add 1 to a shared Value 500 times each under its lock; the total is
exactly 2000.
"""
from ._util import Children

WORKERS, ADDS = 4, 500

EXPECTED = {"total": WORKERS * ADDS, "exitcodes": [0] * WORKERS}


def add(v):
    for _ in range(ADDS):
        with v.get_lock():
            v.value += 1


def run(mp):
    v = mp.Value("i", 0)
    with Children(mp) as kids:
        for _ in range(WORKERS):
            kids.start(add, v)
        codes = kids.join_all()
    return {"total": v.value, "exitcodes": codes}
