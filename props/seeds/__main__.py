"""python3 -m seeds [IMPL ...]: run every seed on each implementation (default: multiprocessing)
and print whether its outcome is the expected one. Like conftest.py, finds `mpref` in
$MPCONFORM_BUILD_DIR/impl/python (default build/), the time tiers in harness/python, and the
mutants in props/pymutants."""
import importlib
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
_build = Path(os.environ.get("MPCONFORM_BUILD_DIR", ROOT / "build"))
sys.path[:0] = [str(_build if _build.is_absolute() else ROOT / _build) + "/impl/python",
                str(ROOT / "harness" / "python"), str(ROOT / "props" / "pymutants")]

from . import SEEDS


def surface(name):
    mod = importlib.import_module(name)
    try:
        return mod.get_context("fork")
    except (AttributeError, ValueError):
        return mod


def main(argv):
    bad = 0
    for name in argv or ["multiprocessing"]:
        mp = surface(name)
        for seed in SEEDS:
            module = importlib.import_module(f"{__package__}.{seed}")
            t0 = time.monotonic()
            try:
                outcome = module.run(mp)
            except Exception as e:  # noqa: BLE001 - a seed that raises has that as its outcome
                outcome = f"raised {type(e).__name__}: {e}"
            ok = outcome == module.EXPECTED
            bad += not ok
            print(f"{name:20} {seed:18} {'ok' if ok else 'DIFFERS'} {time.monotonic() - t0:.2f}s"
                  + ("" if ok else f"\n  expected {module.EXPECTED}\n  got      {outcome}"))
    return 1 if bad else 0


sys.exit(main(sys.argv[1:]))
