"""pytest driver for mpconform.

Options:
  --impl NAME         an importable module implementing the `multiprocessing` API, e.g.
                      `multiprocessing`, `mpref`, `billiard`, `multiprocess`; repeatable.
                      Default: `multiprocessing` and `mpref`. CPython's `multiprocessing` is
                      always the oracle, whatever is selected.
  --report-dir DIR    where the conformance report goes (default: reports/ at the repo root):
                      conformance.json and conformance.md, per clause and implementation.

Fixtures:
  impl_name   the name of the implementation under test (tests are parametrized over --impl)
  mp          the implementation under test, fork start method: `get_context('fork')` where the
              module has it, else the module itself (mpref); attributes the context lacks
              (`connection`, `process`, ...) come from the module. A module that cannot be
              imported makes the test skip, with the import error as the reason.
  oracle      CPython's `multiprocessing.get_context('fork')`, wrapped the same way.

Markers:
  @pytest.mark.clause("Q-FULL-1", ...)   the clauses a test checks (spec/clauses/README.md)

Every test gets a timeout (pytest-timeout) unless it sets its own: nothing may hang.
The build puts the `mpref` extension in $MPCONFORM_BUILD_DIR/impl/python (default build/),
which is added to sys.path; so is harness/python, for `mpconform_tiers` (the time tiers of
harness/tiers.json, scaled by MPCONFORM_TIME_SCALE: a malformed value is a usage error).
"""
from __future__ import annotations

import importlib
import json
import os
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
DEFAULT_TIMEOUT_S = 60
DEFAULT_IMPLS = ["multiprocessing", "mpref"]
ORACLE = "multiprocessing"

_build = Path(os.environ.get("MPCONFORM_BUILD_DIR", ROOT / "build"))
if not _build.is_absolute():
    _build = ROOT / _build
_mpref_dir = str(_build / "impl" / "python")
if _mpref_dir not in sys.path:
    sys.path.insert(0, _mpref_dir)
_tiers_dir = str(ROOT / "harness" / "python")
if _tiers_dir not in sys.path:
    sys.path.insert(0, _tiers_dir)

import mpconform_tiers  # noqa: E402 - needs the path above


def pytest_addoption(parser):
    group = parser.getgroup("mpconform")
    group.addoption("--impl", action="append", default=None, metavar="NAME",
                    help="module implementing the multiprocessing API to test (repeatable; "
                         f"default: {' '.join(DEFAULT_IMPLS)}); {ORACLE} is always the oracle")
    group.addoption("--report-dir", default=str(ROOT / "reports"), metavar="DIR",
                    help="directory for conformance.json and conformance.md (default: reports/)")


def pytest_configure(config):
    config.addinivalue_line("markers", "clause(*ids): the spec clause ids this test checks")
    if not config.pluginmanager.hasplugin("timeout"):
        raise pytest.UsageError("pytest-timeout is required (Debian: python3-pytest-timeout)")
    try:
        mpconform_tiers.time_scale()
    except ValueError as e:  # as `mpconform`: a mistyped scale must not silently become 1
        raise pytest.UsageError(str(e)) from None
    names = config.getoption("--impl") or list(DEFAULT_IMPLS)
    config._mpc_impls = list(dict.fromkeys(names))  # dedupe, keep order
    config._mpc_results = []  # one dict per (test, phase that decided it)
    config._mpc_started = time.time()


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT_S))


# --------------------------------------------------------------------------- implementations

class Surface:
    """One implementation as the tests see it: the fork context, falling back to the module.

    `mp.Queue`, `mp.Process`, `mp.current_process` ... come from the context when the module has
    `get_context('fork')`, else from the module (mpref). Anything else (`mp.connection`,
    `mp.process`, `mp.BufferTooShort`) is looked up on the module, then as a submodule.
    """

    def __init__(self, name: str, module, ctx):
        object.__setattr__(self, "_mpc_name", name)
        object.__setattr__(self, "_mpc_module", module)
        object.__setattr__(self, "_mpc_ctx", ctx)

    def __getattr__(self, attr):
        if attr.startswith("__"):
            raise AttributeError(attr)
        ctx = self._mpc_ctx
        if ctx is not None and hasattr(ctx, attr):
            return getattr(ctx, attr)
        mod = self._mpc_module
        if hasattr(mod, attr):
            return getattr(mod, attr)
        try:
            return importlib.import_module(f"{self._mpc_name}.{attr}")
        except ImportError:
            raise AttributeError(f"{self._mpc_name} has no attribute {attr!r}") from None

    def __setattr__(self, attr, value):
        raise AttributeError("Surface is read-only")

    def __repr__(self):
        return f"<implementation {self._mpc_name}{' (fork)' if self._mpc_ctx is not None else ''}>"


_surfaces: dict[str, Surface | str] = {}


def load_surface(name: str) -> Surface | str:
    """The Surface for module `name`, or the reason it cannot be used (a string)."""
    if name not in _surfaces:
        try:
            module = importlib.import_module(name)
        except Exception as e:  # ImportError, or a broken extension raising anything else
            _surfaces[name] = f"cannot import {name}: {type(e).__name__}: {e}"
        else:
            ctx = None
            get_context = getattr(module, "get_context", None)
            if callable(get_context):
                try:
                    ctx = get_context("fork")
                except (ValueError, TypeError, NotImplementedError):
                    ctx = None  # an implementation with only its own start method
            _surfaces[name] = Surface(name, module, ctx)
    return _surfaces[name]


def pytest_generate_tests(metafunc):
    if "impl_name" in metafunc.fixturenames:
        names = metafunc.config._mpc_impls
        metafunc.parametrize("impl_name", names, ids=names)


@pytest.fixture
def mp(impl_name) -> Surface:
    s = load_surface(impl_name)
    if isinstance(s, str):
        pytest.skip(s)
    return s


@pytest.fixture
def oracle() -> Surface:
    s = load_surface(ORACLE)
    assert not isinstance(s, str), s
    return s


# --------------------------------------------------------------------------- conformance report
#
# A test that compares outcomes (props/conformance/outcomes.py) appends
# ("conformance", {"oracle": ..., "impl": ..., "note": ...}) to item.user_properties on its first
# difference; the report keeps per clause and implementation the status and that first
# difference.

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    callspec = getattr(item, "callspec", None)
    if callspec is None or "impl_name" not in callspec.params:
        return
    clauses = [cid for m in item.iter_markers("clause") for cid in m.args]
    if not clauses:
        return
    # decide once per test: a failed or skipped setup, else the call phase
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        status = "pass" if rep.passed else ("skip" if rep.skipped else "fail")
        detail = None
        for key, value in item.user_properties:
            if key == "conformance":
                detail = value
                break
        if detail is None and status == "skip":
            reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
            detail = {"note": reason.removeprefix("Skipped: ")}
        elif detail is None and status == "fail":
            crash = getattr(rep.longrepr, "reprcrash", None)
            detail = {"note": (crash.message if crash else str(rep.longrepr)).splitlines()[0][:500]}
        item.config._mpc_results.append({
            "test": item.nodeid, "impl": callspec.params["impl_name"], "clauses": clauses,
            "status": status, "detail": detail})


def _load_catalogue():
    cat = {}
    for path in sorted((ROOT / "spec" / "clauses").glob("*.json")):
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        for c in doc.get("clauses", []):
            if isinstance(c, dict) and "id" in c:
                cat[c["id"]] = dict(c, concept=path.stem)
    return cat


_RANK = {"fail": 3, "pass": 2, "skip": 1}


def _summarise(results, impls):
    """clause id -> impl -> {status, tests, first difference}."""
    table: dict[str, dict[str, dict]] = {}
    for r in results:
        for cid in r["clauses"]:
            cell = table.setdefault(cid, {}).setdefault(
                r["impl"], {"status": "skip", "tests": {"pass": 0, "fail": 0, "skip": 0}, "first": None})
            cell["tests"][r["status"]] += 1
            if _RANK[r["status"]] > _RANK[cell["status"]]:
                cell["status"] = r["status"]
                cell["first"] = None
            if r["status"] == cell["status"] and cell["first"] is None and r["status"] != "pass":
                cell["first"] = dict(r["detail"] or {}, test=r["test"])
    return table


def _md_escape(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    results = getattr(config, "_mpc_results", None)
    if not results or hasattr(config, "workerinput"):
        return
    impls = config._mpc_impls
    catalogue = _load_catalogue()
    table = _summarise(results, impls)
    out_dir = Path(config.getoption("--report-dir"))
    out_dir.mkdir(parents=True, exist_ok=True)
    order = sorted(table, key=lambda cid: (catalogue.get(cid, {}).get("concept", "~"), cid))
    totals = {i: {"pass": 0, "fail": 0, "skip": 0} for i in impls}
    for cid in order:
        for i in impls:
            if i in table[cid]:
                totals[i][table[cid][i]["status"]] += 1
    doc = {
        "oracle": ORACLE,
        "python": sys.version.split()[0],
        "implementations": impls,
        "versions": {i: _version(i) for i in impls},
        "totals": totals,
        "clauses": [
            {"id": cid,
             "concept": catalogue.get(cid, {}).get("concept"),
             "api": catalogue.get(cid, {}).get("api"),
             "kind": catalogue.get(cid, {}).get("kind"),
             "behaviour": catalogue.get(cid, {}).get("behaviour"),
             "results": {i: table[cid].get(i, {"status": "not run"}) for i in impls}}
            for cid in order],
    }
    (out_dir / "conformance.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")

    lines = [f"# Conformance report", "",
             f"Oracle: CPython `{ORACLE}` {doc['python']} (fork). Implementations: "
             + ", ".join(f"`{i}` {doc['versions'][i] or ''}".rstrip() for i in impls) + ".", "",
             "| implementation | clauses passed | failed | skipped |", "|---|---|---|---|"]
    for i in impls:
        t = totals[i]
        lines.append(f"| `{i}` | {t['pass']} | {t['fail']} | {t['skip']} |")
    lines += ["", "## Per clause", "",
              "| clause | api | " + " | ".join(f"`{i}`" for i in impls) + " |",
              "|---|---|" + "---|" * len(impls)]
    for cid in order:
        cells = [table[cid].get(i, {}).get("status", "not run") for i in impls]
        lines.append(f"| {cid} | {_md_escape(catalogue.get(cid, {}).get('api', '?'))} | "
                     + " | ".join(cells) + " |")
    diffs = [(cid, i, table[cid][i]) for cid in order for i in impls
             if table[cid].get(i, {}).get("status") == "fail"]
    lines += ["", "## Differences (first per clause and implementation)", ""]
    if not diffs:
        lines.append("None.")
    for cid, i, cell in diffs:
        first = cell["first"] or {}
        lines.append(f"- **{cid}** on `{i}` ({first.get('test', '?')}):")
        if "oracle" in first or "impl" in first:
            lines.append(f"  - oracle: `{_md_escape(first.get('oracle'))}`")
            lines.append(f"  - {i}: `{_md_escape(first.get('impl'))}`")
        if first.get("note"):
            lines.append(f"  - {_md_escape(first['note'])}")
    (out_dir / "conformance.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _version(name):
    s = load_surface(name)
    if isinstance(s, str):
        return None
    return getattr(s._mpc_module, "__version__", None) or (sys.version.split()[0] if name == ORACLE else None)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if getattr(config, "_mpc_results", None):
        out = Path(config.getoption("--report-dir"))
        terminalreporter.write_line(f"conformance report: {out / 'conformance.md'} (and .json)")
