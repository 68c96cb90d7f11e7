"""Seed programs: small multiprocessing programs that check their own outcome.

Each seed module has `run(mp)`, the program written against a `multiprocessing`-like module `mp`
(CPython's fork context, mpref, billiard, ...), returning its checked outcome (plain data that
does not depend on the implementation, pids or timing), and `EXPECTED`, the outcome a correct
implementation gives. test_seeds.py runs each seed on CPython (the oracle) and on every --impl and
asserts the same outcome. Run them by hand with:

    cd props && /usr/bin/python3 -m seeds [IMPL ...]      (default: multiprocessing)
"""

SEEDS = ("toilet", "tickets", "daemon", "join", "basics", "producer_consumer", "joinable",
         "three_producers", "queue_demo", "counter")
