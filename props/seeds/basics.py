"""Basics: a Process's name, pid, is_alive, terminate and exit code through its life.

Before start: no pid, not alive, no exit code. After start: alive, its pid is the child's
os.getpid(), its name the child's current_process().name (a given name; a default name has the
form '<Class>-<n>'). terminate() returns None at once; after join the child is dead with exit
code -SIGTERM. A child whose target returns exits with 0.
"""
import os
import re
import signal
import time

from ._util import LONG, Children

EXPECTED = {
    "before": {"pid": None, "alive": False, "exitcode": None},
    "started": {"alive": True, "exitcode": None, "pid_is_childs": True, "name": "worker",
                "childs_name": "worker", "parent_is_us": True},
    "default_name": True,
    "terminate": {"returned": None, "at_once": True},
    "after_join": {"alive": False, "exitcode": -signal.SIGTERM},
    "normal": {"exitcode": 0, "alive": False},
}


def child(conn, current_process):
    conn.send((os.getpid(), os.getppid(), current_process().name))
    conn.close()
    time.sleep(LONG * 3)  # until terminated


def run(mp):
    out = {}
    reader, writer = mp.Pipe(duplex=False)
    try:
        with Children(mp) as kids:
            p = mp.Process(target=child, args=(writer, mp.current_process), name="worker")
            kids.procs.append(p)
            out["before"] = {"pid": p.pid, "alive": p.is_alive(), "exitcode": p.exitcode}
            p.start()
            writer.close()
            pid, ppid, name = reader.recv() if reader.poll(LONG) else (None, None, None)
            out["started"] = {"alive": p.is_alive(), "exitcode": p.exitcode,
                              "pid_is_childs": pid == p.pid, "name": p.name,
                              "childs_name": name, "parent_is_us": ppid == os.getpid()}
            d = mp.Process()
            out["default_name"] = bool(re.fullmatch(re.escape(type(d).__name__) + r"-\d+", d.name))
            t0 = time.monotonic()
            returned = p.terminate()
            out["terminate"] = {"returned": returned, "at_once": time.monotonic() - t0 < 1.0}
            p.join(LONG)
            out["after_join"] = {"alive": p.is_alive(), "exitcode": p.exitcode}
            q = kids.start(int)
            q.join(LONG)
            out["normal"] = {"exitcode": q.exitcode, "alive": q.is_alive()}
    finally:
        reader.close()
        writer.close()
    return out
