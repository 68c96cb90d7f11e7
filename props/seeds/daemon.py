"""Daemon: a program's daemonic children are ended when the program's main ends.

The main starts two daemonic children that would sleep for a long time and one non-daemonic
child that finishes after a short while, then returns. Its exit work must terminate the daemons
and wait for the non-daemonic child (CPython: util._exit_function at the end of _bootstrap).
"""
import time

from ._util import LONG, ended, run_main

WORK = 0.3

EXPECTED = {"main": ({"daemon": [True, True, False], "alive": [True, True, True]}, 0),
            "daemons_ended": [True, True], "worker_finished": True}


def sleeper():
    time.sleep(LONG * 3)


def worker(done):
    time.sleep(WORK)
    done.value = 1


def main(mp, done, pids):
    kids = [mp.Process(target=sleeper, daemon=True), mp.Process(target=sleeper, daemon=True),
            mp.Process(target=worker, args=(done,))]
    for i, p in enumerate(kids):
        p.start()
        pids[i] = p.pid
    return {"daemon": [p.daemon for p in kids], "alive": [p.is_alive() for p in kids]}


def run(mp):
    done = mp.Value("i", 0)
    pids = mp.Array("i", 3)
    result = run_main(mp, main, done, pids)
    # the main has been joined: its daemons must be gone, its worker must have finished
    return {"main": result, "daemons_ended": ended(list(pids)[:2]),
            "worker_finished": done.value == 1 and ended(list(pids)[2:], 0)[0]}
