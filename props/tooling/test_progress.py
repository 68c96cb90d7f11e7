"""The engine's progress line (harness/cli/progress.hpp): on a terminal (stderr), the elapsed time
and an estimate of the time left, redrawn in place; in a log, nothing (plain lines only).

Run: /usr/bin/python3 -m pytest -q props/tooling/test_progress.py
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

from ptyrun import run_on_a_terminal

ROOT = Path(__file__).resolve().parents[2]
_build = Path(os.environ.get("MPCONFORM_BUILD_DIR", ROOT / "build"))
BUILD = _build if _build.is_absolute() else ROOT / _build
MPCONFORM = BUILD / "harness" / "cli" / "mpconform"
# Two properties of 1.5 s each: the line is redrawn every 0.2 s at most, so several times.
ARGS = ["run", "--backend", "reference", "--property", "value", "--property", "pipe", "--seconds", "1.5",
        "--seed", "1"]


@pytest.fixture(autouse=True)
def built():
    if not MPCONFORM.exists():
        pytest.skip(f"{MPCONFORM} is not built (ci/setup; MPCONFORM_BUILD_DIR={BUILD})")


def test_a_terminal_shows_elapsed_time_and_time_left():
    code, out = run_on_a_terminal([str(MPCONFORM), *ARGS], cwd=ROOT, env=dict(os.environ, TERM="xterm"), timeout=60)
    assert code == 0, out
    lines = re.findall(r"\r\x1b\[K(\[[^\r\n]*)", out)
    assert len(lines) >= 3, out
    assert all(re.fullmatch(r"\[\d/2 (value|pipe): \d+ scenarios\] elapsed \d+s(, ~\d+s left)?", x) for x in lines), lines
    assert any("left" in x for x in lines)
    # the second property's lines say so, and their estimates shrink as the run goes on
    assert any(x.startswith("[2/2 pipe:") for x in lines)
    # the progress line is erased before each result line
    assert re.search(r"\r\x1b\[K(\r)?\n?value +\d+ ", out), out


def test_a_log_gets_plain_lines_only():
    r = subprocess.run([str(MPCONFORM), *ARGS], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "\r" not in r.stdout + r.stderr and "\x1b" not in r.stdout + r.stderr
    assert "elapsed" not in r.stdout + r.stderr
    assert re.search(r"^value +\d+ ", r.stdout, re.M) and re.search(r"^pipe +\d+ ", r.stdout, re.M)
