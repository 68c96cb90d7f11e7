"""Expectation files (props/expectations/<implementation>.json): reading and checking them.

One definition for the Python side (the pytest driver, conftest.py, applies `clauses`; the
CPython-tests command, mpconform_cpython_tests.py, applies `cpython_tests`); the engine's C++
reader (harness/cli/expectations.cpp) checks the same things with the same wording. The format
is in harness/INTERPRETING.md ("Expectation files"):

    {"format": "mpconform-expectations/1", "implementation": "billiard", "about": "...",
     "clauses": {"Q-FULL-1": {"reason": "...", "link": "...", "flaky": false}},
     "properties": {"queue": {"reason": "...", "clause": "Q-ORDER-2"}},
     "cpython_tests": {"_TestQueue.test_fork": {"reason": "..."}}}

`flaky: true` marks an entry that fails in some runs only: its passing is not an unexpected pass.
"""
from __future__ import annotations

import json
from pathlib import Path

FORMAT = "mpconform-expectations/1"
ROOT = Path(__file__).resolve().parents[2]
TOP_KEYS = ("format", "implementation", "about", "clauses", "properties", "cpython_tests")
ENTRY_KEYS = {"clauses": ("reason", "link", "flaky"),
              "properties": ("reason", "link", "clause", "flaky"),
              "cpython_tests": ("reason", "link", "flaky")}


def shown_path(path) -> str:
    """A path as messages show it: relative to the repository when it is inside it."""
    p = Path(path).resolve()
    try:
        return str(p.relative_to(ROOT))
    except ValueError:
        return str(path)


def clause_ids() -> set[str]:
    """Every clause id of spec/clauses."""
    ids = set()
    for path in sorted((ROOT / "spec" / "clauses").glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        ids.update(c["id"] for c in doc.get("clauses", []) if isinstance(c, dict) and "id" in c)
    return ids


def load(path, *, clauses: set[str] | None = None, known_tests=None) -> dict:
    """The file at `path`, checked, with every section present (empty when absent).

    Raises ValueError "<file>: field <field>: <why>" (fields named as in the file:
    `clauses."Q-FULL-1".reason`) for anything but a well-formed file: unknown keys, a missing or
    multi-line reason, a clause id not in `clauses` (default: spec/clauses), a `cpython_tests`
    id not in `known_tests` (when given). Property names are the engine's to check.
    """
    shown = shown_path(path)

    def bad(field, why):
        return ValueError(f"{shown}: field {field}: {why}")

    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as e:
        raise ValueError(f"{shown}: cannot read: {e.strerror or e}") from None
    except ValueError as e:
        raise ValueError(f"{shown}: not JSON: {e}") from None
    if not isinstance(doc, dict):
        raise ValueError(f"{shown}: not a JSON object")
    for key in doc:
        if key not in TOP_KEYS:
            raise bad(key, f"unknown key (known: {', '.join(TOP_KEYS)})")
    if doc.get("format") != FORMAT:
        raise bad("format", f"must be {FORMAT!r}, not {doc.get('format')!r}")
    if not isinstance(doc.get("implementation"), str) or not doc["implementation"]:
        raise bad("implementation", "missing: the implementation's name (e.g. billiard)")
    if not isinstance(doc.get("about", ""), str):
        raise bad("about", "must be a string")
    ids = clause_ids() if clauses is None else clauses
    for section, keys in ENTRY_KEYS.items():
        entries = doc.setdefault(section, {})
        if not isinstance(entries, dict):
            raise bad(section, "must be an object")
        for name, entry in entries.items():
            field = f'{section}."{name}"'
            if not isinstance(entry, dict):
                raise bad(field, "must be an object with a reason")
            for k in entry:
                if k not in keys:
                    raise bad(f"{field}.{k}", f"unknown key (known: {', '.join(keys)})")
            if "reason" not in entry:
                raise bad(f"{field}.reason", "missing: one line saying what it does instead")
            for k, v in entry.items():
                if k == "flaky":
                    if not isinstance(v, bool):
                        raise bad(f"{field}.flaky", "must be true or false")
                elif not isinstance(v, str) or not v.strip() or "\n" in v:
                    raise bad(f"{field}.{k}", "must be a non-empty string on one line")
            if section == "clauses" and name not in ids:
                raise bad(field, "no such clause in spec/clauses")
            if "clause" in entry and entry["clause"] not in ids:
                raise bad(f"{field}.clause", f"no such clause in spec/clauses: {entry['clause']!r}")
            if section == "cpython_tests" and known_tests is not None and name not in known_tests:
                raise bad(field, "no such test (Class.test_name of an in-scope class; see --list)")
    return doc
