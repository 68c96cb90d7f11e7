"""mpconform's time tiers for Python: harness/tiers.json read, and MPCONFORM_TIME_SCALE parsed,
exactly as the C++ harness does (mpconform/tiers.hpp).

    from mpconform_tiers import seconds
    WAIT = seconds("wait")      # tier("wait").base_seconds * time_scale()

- `all_tiers()`, `tier(name)` (KeyError for an unknown name), `tier_by_name(name)` (None);
- `parse_time_scale(text)`: 1.0 for None or ""; the value for a finite number > 0 written as
  C's strtod reads it in full (leading white space, decimal or hexadecimal); anything else
  ("0", "-1", "abc", "2x", "4 ", "nan", "1_0") raises ValueError: a mistyped scale is an error,
  never silently 1;
- `time_scale()`: parse_time_scale of the environment variable, read once and cached once valid
  (raises on every call while it is malformed);
- `seconds(tier)`, `nanoseconds(tier)`: scaled by time_scale().

The C++ side is generated from the same file by cmake/Tiers.cmake; props/tooling/test_tiers.py
checks that the two agree (tiers and scale parsing), props/checkers/test_tiers.cpp checks the
generated table against the JSON. Standard library only: the conformance suite imports this
from any interpreter.
"""
from __future__ import annotations

import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

TIERS_JSON = Path(__file__).resolve().parent.parent / "tiers.json"


@dataclass(frozen=True)
class Tier:
    """A named tolerance; `base_seconds` is unscaled: use seconds(tier)."""
    name: str
    base_seconds: float
    meaning: str


def load(path: str | os.PathLike = TIERS_JSON) -> tuple[str, tuple[Tier, ...]]:
    """(scale variable, tiers shortest first) from a tiers.json, checked as cmake/Tiers.cmake
    checks it. Raises ValueError for a malformed file."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)

    def bad(why):
        return ValueError(f"{path}: {why}")

    if not isinstance(doc, dict):
        raise bad("not a JSON object")
    var = doc.get("scale_variable")
    if not isinstance(var, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", var):
        raise bad(f"scale_variable must be an environment variable name, not {var!r}")
    entries = doc.get("tiers")
    if not isinstance(entries, list) or not entries:
        raise bad("tiers must be a non-empty list")
    out: list[Tier] = []
    for i, e in enumerate(entries):
        name = e.get("name") if isinstance(e, dict) else None
        if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise bad(f"tier {i}: name must be a lower-case identifier, not {name!r}")
        if any(t.name == name for t in out):
            raise bad(f"tier {name!r} is defined twice")
        base = e.get("base_seconds")
        if isinstance(base, bool) or not isinstance(base, (int, float)) or not base > 0:
            raise bad(f"tier {name!r}: base_seconds must be a number > 0, not {base!r}")
        if out and not base > out[-1].base_seconds:
            raise bad(f"tier {name!r} ({base} s) must be longer than {out[-1].name!r} "
                      f"({out[-1].base_seconds} s): tiers are listed shortest first")
        meaning = e.get("meaning")
        if not isinstance(meaning, str) or not meaning or re.search(r"[\r\n]|\\$", meaning):
            raise bad(f"tier {name!r}: meaning must be one non-empty line, not ending in a backslash")
        out.append(Tier(name, float(base), meaning))
    return var, tuple(out)


SCALE_VARIABLE, _TIERS = load()


def all_tiers() -> tuple[Tier, ...]:
    """Every tier, shortest first."""
    return _TIERS


def tier_by_name(name: str) -> Tier | None:
    """The tier called `name`, or None (as the C++ tier_by_name)."""
    for t in _TIERS:
        if t.name == name:
            return t
    return None


def tier(name: str) -> Tier:
    """The tier called `name`; KeyError for a name tiers.json does not define."""
    t = tier_by_name(name)
    if t is None:
        raise KeyError(f"no tier {name!r} in {TIERS_JSON} (known: {', '.join(t.name for t in _TIERS)})")
    return t


# What glibc's strtod reads (C locale), anchored at both ends: C++ parse_time_scale requires
# strtod to consume the whole text. Leading white space (C isspace) is skipped, trailing is not.
# inf/infinity/nan(...) parse but are not finite, so they are refused either way.
_STRTOD = re.compile(r"""
    [ \t\n\v\f\r]*
    (?P<num>
        [+-]?
        (?: (?P<hex> 0[xX] (?: [0-9a-fA-F]+ \.? [0-9a-fA-F]* | \. [0-9a-fA-F]+ ) (?: [pP] [+-]? [0-9]+ )? )
          | (?P<dec> (?: [0-9]+ \.? [0-9]* | \. [0-9]+ ) (?: [eE] [+-]? [0-9]+ )? )
          | (?P<special> (?i: inf (?:inity)? | nan (?: \( [0-9A-Za-z_]* \) )? ) )
        )
    )""", re.VERBOSE)


def parse_time_scale(text: str | None) -> float:
    """Mirror of the C++ parse_time_scale: 1.0 for None or ""; the value for a finite float > 0;
    ValueError for anything else."""
    if text is None or text == "":
        return 1.0
    m = _STRTOD.fullmatch(text)
    value = math.nan
    try:
        if m and m["hex"] is not None:
            sign = -1.0 if m["num"].startswith("-") else 1.0
            value = sign * float.fromhex(m["hex"])
        elif m and m["dec"] is not None:
            value = float(m["num"])  # correctly rounded, like glibc's strtod
    except OverflowError:  # float.fromhex("0x1p99999"); strtod gives inf: refused as well
        value = math.inf
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{SCALE_VARIABLE} must be a positive number, not '{text}'")
    return value


_scale: float | None = None


def time_scale() -> float:
    """The process-wide scale: parse_time_scale(os.environ.get(SCALE_VARIABLE)), cached once
    valid; raises ValueError on every call while the variable is malformed."""
    global _scale
    if _scale is None:
        _scale = parse_time_scale(os.environ.get(SCALE_VARIABLE))
    return _scale


def _as_tier(t: Tier | str) -> Tier:
    return tier(t) if isinstance(t, str) else t


def seconds(t: Tier | str) -> float:
    """tier.base_seconds * time_scale(); `t` is a Tier or a tier's name."""
    return _as_tier(t).base_seconds * time_scale()


def nanoseconds(t: Tier | str) -> int:
    """seconds(t) in nanoseconds, rounded half away from zero (as C++ llround)."""
    ns = seconds(t) * 1e9
    return int(math.floor(ns + 0.5)) if ns >= 0 else -int(math.floor(-ns + 0.5))
