"""python3 -m seeds [IMPL ...]: run every seed on each implementation (default: multiprocessing)
and print whether its outcome is the expected one."""
import importlib
import sys
import time

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
