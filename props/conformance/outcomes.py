"""Outcomes of a conformance body, normalised so that two implementations can be compared.

A body is `def body(mp): ...`; it runs on the oracle (CPython `multiprocessing`, fork) and on the
implementation under test, and its *outcome* is either the value it returned or the exception it
raised, both made canonical:

- an exception is its class's public name plus `str(exc)`: builtins by name (`ValueError`),
  `queue.Full` / `queue.Empty` (whatever private module defines them), a class exported by the
  implementation's top-level module as `multiprocessing.<Name>`, anything else module-qualified
  with the implementation's package name replaced by `multiprocessing`;
- text (strings, messages, reprs of other objects) has addresses (`0x…`), pids (`pid=<pid>`) and
  module paths in object reprs (`<multiprocessing.queues.Queue object at 0x…>` → `<Queue object
  at 0x…>`) normalised, and the implementation's package name replaced by `multiprocessing`;
- containers are canonicalised element by element; two outcomes are equal when their canonical
  reprs are equal (so `1` and `True` differ).

A test states what the clause says (`expect=`, or `allowed=` for a racy clause) and the checker
asserts (a) that the oracle's outcome matches it, so a CPython change is caught, and (b) that the
implementation's outcome equals the oracle's (or, for racy clauses, is allowed too).

A racy clause's body runs many times on each side; `racy_stats` counts how often each allowed
outcome occurred, with 95 % Wilson intervals (`wilson`), for the report.
"""
from __future__ import annotations

import builtins
import importlib
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[2]
ORACLE = "multiprocessing"

# --------------------------------------------------------------------------- text normalisation

_OBJ_RE = re.compile(r"<(?:[A-Za-z_][\w]*\.)+([A-Za-z_]\w*) object at 0x(?:[0-9a-fA-F]+|…)>")
_ADDR_RE = re.compile(r"0x[0-9a-fA-F]+")
_PIDKEY_RE = re.compile(r"\b(pid|parent)=\d+")
known_pids: set[int] = set()  # pids seen in this run (ours and children's), replaced by <pid>


def norm_text(text: str, impl: str = ORACLE) -> str:
    if impl != ORACLE:
        text = re.sub(rf"\b{re.escape(impl)}\.", "multiprocessing.", text)
    text = _OBJ_RE.sub(r"<\1 object at 0x…>", text)
    text = _ADDR_RE.sub("0x…", text)
    text = _PIDKEY_RE.sub(r"\1=<pid>", text)
    pids = known_pids | {os.getpid()}
    if pids and any(str(p) in text for p in pids):
        text = re.sub(r"\b(" + "|".join(str(p) for p in sorted(pids, reverse=True)) + r")\b",
                      "<pid>", text)
    return text


def type_name(cls: type, module=None) -> str:
    """The public name of an exception class, as the clauses write it."""
    if cls.__module__ == "builtins":
        return cls.__qualname__
    if module is not None and getattr(module, cls.__name__, None) is cls:
        return f"multiprocessing.{cls.__name__}"
    mod = cls.__module__
    if mod.startswith("_"):  # _queue.Empty -> queue.Empty, _pickle.PicklingError -> pickle....
        try:
            if getattr(importlib.import_module(mod[1:]), cls.__name__, None) is cls:
                mod = mod[1:]
        except ImportError:
            pass
    if module is not None:
        impl = module.__name__.split(".")[0]
        if impl != ORACLE and (mod == impl or mod.startswith(impl + ".")):
            mod = ORACLE + mod[len(impl):]
    return f"{mod}.{cls.__qualname__}"


def resolve_type_name(name: str) -> str:
    """Canonical form of a type written in a clause (`queue.Empty`, `_pickle.PicklingError`)."""
    if "." not in name:
        return name if isinstance(getattr(builtins, name, None), type) else name
    mod, _, attr = name.rpartition(".")
    try:
        cls = getattr(importlib.import_module(mod), attr)
    except (ImportError, AttributeError):
        return name
    return type_name(cls, importlib.import_module(ORACLE))


# --------------------------------------------------------------------------- canonical values

@dataclass(frozen=True)
class Exc:
    """A canonical exception: public class name and normalised str()."""
    type: str
    message: str

    def __repr__(self):
        return f"{self.type}({self.message!r})"


@dataclass(frozen=True)
class Repr:
    """A canonical object that is not a plain value: its normalised repr."""
    text: str

    def __repr__(self):
        return self.text


def canon(value: Any, module=None) -> Any:
    impl = module.__name__.split(".")[0] if module is not None else ORACLE
    if value is None or isinstance(value, (bool, int, float, Exc, Repr, Outcome)):
        return value
    if isinstance(value, str):
        return norm_text(value, impl)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, tuple):
        return tuple(canon(v, module) for v in value)
    if isinstance(value, list):
        return [canon(v, module) for v in value]
    if isinstance(value, (set, frozenset)):
        return sorted((canon(v, module) for v in value), key=repr)
    if isinstance(value, dict):
        return {repr(canon(k, module)): canon(v, module) for k, v in value.items()}
    if isinstance(value, BaseException):
        return Exc(type_name(type(value), module), norm_text(str(value), impl))
    return Repr(norm_text(repr(value), impl))


@dataclass(frozen=True)
class Outcome:
    raised: bool
    value: Any  # canonical: Exc when raised

    @classmethod
    def of(cls, fn: Callable[[], Any], module=None) -> "Outcome":
        try:
            v = fn()
        except Exception as e:  # noqa: BLE001 - the exception is the outcome
            return cls(True, canon(e, module))
        return cls(False, canon(v, module))

    def key(self) -> str:
        return ("raised " if self.raised else "returned ") + repr(self.value)

    def __eq__(self, other):
        return isinstance(other, Outcome) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())

    def __repr__(self):
        return self.key()


# --------------------------------------------------------------------------- expectations

_catalogue: dict[str, dict] | None = None


def clause(cid: str) -> dict:
    global _catalogue
    if _catalogue is None:
        _catalogue = {}
        for path in sorted((ROOT / "spec" / "clauses").glob("*.json")):
            for c in json.loads(path.read_text(encoding="utf-8")).get("clauses", []):
                _catalogue[c["id"]] = c
    return _catalogue[cid]


class Expect:
    def matches(self, outcome: Outcome) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class Raises(Expect):
    """The body raises this class (as a clause writes it) with this exact str()."""
    type: str
    message: str | None = None  # None: any message

    @classmethod
    def clause(cls, cid: str) -> "Raises":
        """The exception the clause's `raises` field states."""
        r = clause(cid)["raises"]
        return cls(r["type"], r["message"])

    def matches(self, outcome):
        if not outcome.raised or outcome.value.type != resolve_type_name(self.type):
            return False
        return self.message is None or outcome.value.message == norm_text(self.message)

    def __repr__(self):
        return f"raised {resolve_type_name(self.type)}({'…' if self.message is None else repr(norm_text(self.message))})"


@dataclass(frozen=True)
class Returns(Expect):
    """The body returns this value (compared canonically)."""
    value: Any

    def matches(self, outcome):
        return outcome == Outcome(False, canon(self.value))

    def __repr__(self):
        return f"returned {canon(self.value)!r}"


@dataclass(frozen=True)
class That(Expect):
    """The outcome satisfies a predicate; `what` says which, for the failure message."""
    predicate: Callable[[Outcome], bool]
    what: str

    def matches(self, outcome):
        try:
            return bool(self.predicate(outcome))
        except Exception:  # noqa: BLE001
            return False

    def __repr__(self):
        return self.what


def as_expect(x) -> Expect:
    if isinstance(x, Expect):
        return x
    if isinstance(x, type) and issubclass(x, BaseException):
        return Raises(x.__name__)
    if isinstance(x, BaseException):
        return Raises(type_name(type(x)), str(x))
    return Returns(x)


def raised(cid: str) -> Exc:
    """The clause's `raises` as a canonical Exc, for expected values that contain exceptions."""
    r = clause(cid)["raises"]
    return Exc(resolve_type_name(r["type"]), norm_text(r["message"]))


def exc(type_: str, message: str) -> Exc:
    return Exc(resolve_type_name(type_), norm_text(message))


# --------------------------------------------------------------------------- racy statistics

Z95 = 1.959963984540054  # the standard normal's 97.5 % quantile: two-sided 95 %


def wilson(k: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval of the proportion k/n (95 % by default).

    Unlike p ± z·sqrt(p(1-p)/n) it stays within [0, 1] and is not empty at 0 or n, which is
    where racy counts sit (an outcome seen 0 or 20 times out of 20). (0, 1) when n is 0.
    """
    if n <= 0:
        return (0.0, 1.0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return (max(0.0, round(centre - half, 4)), min(1.0, round(centre + half, 4)))


def racy_stats(allowed: list[Expect], oracle: list[Outcome], impl: list[Outcome]) -> dict:
    """How often each allowed outcome occurred over the runs of a racy body on each side.

    `oracle[j]` and `impl[j]` are the outcomes of run j (as many runs on each side). An outcome
    counts for the first allowed expectation it matches; one matching none counts as `outside`
    (the clause fails). The format is conformance.json's `stats` (props/conformance/README.md).
    """
    assert len(oracle) == len(impl), "as many runs on each side"
    n = len(oracle)

    def tally(outcomes):
        counts = [0] * len(allowed)
        outside = 0
        for o in outcomes:
            j = next((j for j, e in enumerate(allowed) if e.matches(o)), None)
            if j is None:
                outside += 1
            else:
                counts[j] += 1
        return counts, outside

    (oc, oo), (ic, io) = tally(oracle), tally(impl)
    return {"runs": n, "allowed": [repr(e) for e in allowed],
            "outcomes": [{"outcome": repr(e), "oracle": oc[j], "impl": ic[j],
                          "oracle_ci": list(wilson(oc[j], n)), "impl_ci": list(wilson(ic[j], n))}
                         for j, e in enumerate(allowed)],
            "outside": {"oracle": oo, "impl": io}}
