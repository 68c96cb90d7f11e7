"""Run a command on a pseudo-terminal and collect what it wrote (progress lines are drawn only
on a terminal; tests of them run the command here)."""

import os
import pty
import select
import subprocess
import time


def run_on_a_terminal(cmd, *, cwd, env, timeout=120):
    """(exit code, everything the command wrote to the terminal, as text); killed after `timeout`."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdin=slave, stdout=slave, stderr=slave)
    os.close(slave)
    chunks, deadline = [], time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 1.0)[0]:
                try:
                    data = os.read(master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    break
                if not data:
                    break
                chunks.append(data)
            elif proc.poll() is not None:
                break
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
    return proc.returncode, b"".join(chunks).decode(errors="replace")
