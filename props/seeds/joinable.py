"""JoinableQueue with a daemonic consumer: the main puts 20 tasks, join() returns once the
consumer has called task_done() for each; the results are all there; when the main ends, the
daemonic consumer (still waiting in get()) is ended with it.
"""
import threading

from ._util import LONG, ended, run_main

N = 20

EXPECTED = {"main": ({"joined": True, "results": [i * i for i in range(N)], "daemon": True}, 0),
            "consumer_ended": [True]}


def consumer(tasks, results):
    while True:
        item = tasks.get()
        results.put(item * item)
        tasks.task_done()


def main(mp, pid):
    tasks, results = mp.JoinableQueue(), mp.Queue()
    c = mp.Process(target=consumer, args=(tasks, results), daemon=True)
    c.start()
    pid.value = c.pid
    for i in range(N):
        tasks.put(i)
    # join() takes no timeout: bound it with a thread (a daemon thread dies with the main)
    t = threading.Thread(target=tasks.join, daemon=True)
    t.start()
    t.join(LONG)
    joined = not t.is_alive()
    got = sorted(results.get(timeout=LONG) for _ in range(N)) if joined else []
    return {"joined": joined, "results": got, "daemon": c.daemon}


def run(mp):
    pid = mp.Value("i", 0)
    result = run_main(mp, main, pid)
    return {"main": result, "consumer_ended": ended([pid.value])}
