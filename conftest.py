"""pytest driver for mpconform.

Options:
  --impl NAME         an importable module implementing the `multiprocessing` API, e.g.
                      `multiprocessing`, `mpref`, `billiard`, `multiprocess`; repeatable.
                      Default: `multiprocessing` and `mpref`. CPython's `multiprocessing` is
                      always the oracle, whatever is selected.
  --report-dir DIR    where the conformance report goes (default: reports/ at the repo root):
                      conformance.json and conformance.md, per clause and implementation.
  --expectations FILE an expectation file (props/expectations/<implementation>.json, format in
                      props/expectations/README.md); repeatable, each applies to the
                      implementation it names. A failing test of that implementation that
                      checks a listed clause is an expected failure (xfail); a listed clause
                      whose tests all passed is an unexpected pass and fails the session.
  --racy-runs N       how many times each racy clause's body runs on each side, to count its
                      outcomes (default 20; fewer when the time budget of props/conformance/
                      conftest.py runs out first).

Fixtures:
  impl_name   the name of the implementation under test (tests are parametrized over --impl)
  mp          the implementation under test, fork start method: `get_context('fork')` where the
              module has it, else the module itself (mpref); attributes the context lacks
              (`connection`, `process`, ...) come from the module. A module that cannot be
              imported makes the test skip, with the import error as the reason.
  oracle      CPython's `multiprocessing.get_context('fork')`, wrapped the same way.

Markers:
  @pytest.mark.clause("Q-FULL-1", ...)   the clauses a test checks (spec/clauses/README.md)

Every test gets a timeout (pytest-timeout) unless it sets its own: nothing may hang. On a
terminal, pytest's progress indicator also shows the elapsed time and an estimate of the time
left (`[ 42%] 1m03s, ~1m30s left`); in a log (not a tty) the output is pytest's own.
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
DEFAULT_RACY_RUNS = 20  # enough to see both outcomes of most races, cheap enough for CI
REPORT_FORMAT = "mpconform-conformance/1"

_build = Path(os.environ.get("MPCONFORM_BUILD_DIR", ROOT / "build"))
if not _build.is_absolute():
    _build = ROOT / _build
_mpref_dir = str(_build / "impl" / "python")
if _mpref_dir not in sys.path:
    sys.path.insert(0, _mpref_dir)
_tiers_dir = str(ROOT / "harness" / "python")
if _tiers_dir not in sys.path:
    sys.path.insert(0, _tiers_dir)

import mpconform_expectations  # noqa: E402 - needs the path above
import mpconform_tiers  # noqa: E402 - needs the path above


def pytest_addoption(parser):
    group = parser.getgroup("mpconform")
    group.addoption("--impl", action="append", default=None, metavar="NAME",
                    help="module implementing the multiprocessing API to test (repeatable; "
                         f"default: {' '.join(DEFAULT_IMPLS)}); {ORACLE} is always the oracle")
    group.addoption("--report-dir", default=str(ROOT / "reports"), metavar="DIR",
                    help="directory for conformance.json and conformance.md (default: reports/)")
    group.addoption("--expectations", action="append", default=[], metavar="FILE",
                    help="expectation file of one implementation (props/expectations/*.json): its "
                         "listed clauses' failures are expected (xfail), a listed clause that "
                         "passes fails the session; repeatable")
    group.addoption("--racy-runs", type=int, default=DEFAULT_RACY_RUNS, metavar="N",
                    help="runs of each racy clause's body per side, to count its outcomes "
                         f"(default {DEFAULT_RACY_RUNS}; fewer if its time budget runs out)")


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
    config._mpc_racy_runs = config.getoption("--racy-runs")
    if config._mpc_racy_runs < 1:
        raise pytest.UsageError(f"--racy-runs: must be at least 1, not {config._mpc_racy_runs}")
    config._mpc_expected = _load_expectation_files(config.getoption("--expectations"),
                                                   config._mpc_impls)
    config._mpc_unexpected = []  # messages, one per unexpected pass (pytest_sessionfinish)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT_S))


def _item_clauses(item) -> list[str]:
    return [cid for m in item.iter_markers("clause") for cid in m.args]


def _expected_hits(item) -> list[str]:
    """The clauses of this test that the expectation file of its implementation lists."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or "impl_name" not in callspec.params:
        return []
    exp = item.config._mpc_expected.get(callspec.params["impl_name"])
    return [cid for cid in _item_clauses(item) if cid in exp["clauses"]] if exp else []


# --------------------------------------------------------------------------- expectations
#
# An expectation file says which clauses an implementation is known to fail, and why, so that a
# third-party run passes while it does what it is known to do and fails on anything new: a new
# failure, or a listed clause that passes again (the entry is stale and must go). The same file
# carries the engine's (`properties`) and the CPython-tests command's (`cpython_tests`) entries;
# here all three sections are checked for shape, only `clauses` is applied.

load_expectations = mpconform_expectations.load
shown_path = mpconform_expectations.shown_path


def _load_expectation_files(paths, impls) -> dict[str, dict]:
    """implementation -> {"path", "clauses"}; a malformed file, two files for one
    implementation or a file for an implementation not under test (a mistake: the run would
    not be judged against it) is a usage error."""
    ids = set(_load_catalogue())
    out = {}
    for path in paths:
        try:
            doc = load_expectations(path, clauses=ids)
        except ValueError as e:
            raise pytest.UsageError(f"--expectations {e}") from None
        impl, shown = doc["implementation"], shown_path(path)
        if impl in out:
            raise pytest.UsageError(f"--expectations {shown}: field implementation: {impl} already "
                                    f"has the expectation file {out[impl]['path']}")
        if impl not in impls:
            raise pytest.UsageError(f"--expectations {shown}: field implementation: {impl} is not "
                                    f"under test (--impl {' --impl '.join(impls)})")
        out[impl] = {"path": shown, "clauses": doc["clauses"]}
    return out


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
# difference, and a racy check appends ("racy", stats) (outcomes.racy_stats); the report keeps
# per clause and implementation the status, that first difference and the racy statistics.

@pytest.hookimpl(hookwrapper=True, tryfirst=True)  # outermost: the last word on the report
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    callspec = getattr(item, "callspec", None)
    if callspec is None or "impl_name" not in callspec.params:
        return
    clauses = _item_clauses(item)
    if not clauses:
        return
    hits = _expected_hits(item)
    runxfail = getattr(item.config.option, "runxfail", False)  # pytest --runxfail: no xfail at all
    if hits and rep.when == "call" and rep.failed and not runxfail:
        # An expected failure, by pytest's own xfail protocol (as its skipping plugin marks
        # one): reported xfailed, the session passes. Not a marker: a passing test of the
        # implementation stays passed, not "xpassed" (a clause passes when all its tests do).
        exp = item.config._mpc_expected[callspec.params["impl_name"]]
        rep.outcome = "skipped"
        rep.wasxfail = f"{exp['path']}: " + "; ".join(
            f"{cid}: {exp['clauses'][cid]['reason']}" for cid in hits)
    # decide once per test: a failed or skipped setup, else the call phase
    if rep.when == "call" or (rep.when == "setup" and not rep.passed):
        if rep.skipped and hasattr(rep, "wasxfail"):
            status = "xfail"  # failed, and an expectation file says it would
        else:
            status = "pass" if rep.passed else ("skip" if rep.skipped else "fail")
        props = dict(reversed(item.user_properties))  # the first of each key
        detail = props.get("conformance")
        if detail is None and status == "skip":
            reason = rep.longrepr[2] if isinstance(rep.longrepr, tuple) else str(rep.longrepr)
            detail = {"note": reason.removeprefix("Skipped: ")}
        elif detail is None and status in ("fail", "xfail"):
            crash = getattr(rep.longrepr, "reprcrash", None)
            detail = {"note": (crash.message if crash else str(rep.longrepr)).splitlines()[0][:500]}
        item.config._mpc_results.append({
            "test": item.nodeid, "impl": callspec.params["impl_name"], "clauses": clauses,
            "status": status, "detail": detail, "stats": props.get("racy"),
            "expected": hits if status == "xfail" else []})


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


_RANK = {"fail": 4, "xfail": 3, "pass": 2, "skip": 1}
STATUSES = ("pass", "fail", "xfail", "xpass", "skip")  # of a clause on an implementation


def _summarise(results, expected):
    """clause id -> impl -> {status, tests, first difference, expected, stats}.

    A clause's status on an implementation comes from all tests naming it: fail if any failed,
    else xfail if any failed as expected, else pass if any passed, else skip. A passing clause
    its implementation's expectation file lists is an unexpected pass (xpass). `expected` is the
    file's entry; for a clause that is not listed but whose test failed as expected because of
    another clause it checks, that clause's entry plus its id (`clause`). `stats`: the racy
    statistics of the first test naming the clause that has them (one test per racy clause).
    """
    table: dict[str, dict[str, dict]] = {}
    for r in results:
        for cid in r["clauses"]:
            cell = table.setdefault(cid, {}).setdefault(
                r["impl"], {"status": "skip", "tests": {"pass": 0, "fail": 0, "xfail": 0, "skip": 0},
                            "first": None})
            cell["tests"][r["status"]] += 1
            if _RANK[r["status"]] > _RANK[cell["status"]]:
                cell["status"] = r["status"]
                cell["first"] = None
            if r["status"] == cell["status"] and cell["first"] is None and r["status"] != "pass":
                cell["first"] = dict(r["detail"] or {}, test=r["test"])
                if r["expected"] and cid not in r["expected"]:
                    cell["first"]["expected_by"] = r["expected"][0]
            if r["stats"] and "stats" not in cell:
                cell["stats"] = r["stats"]
    for cid, cells in table.items():
        for impl, cell in cells.items():
            listed = expected.get(impl, {}).get("clauses", {})
            via = (cell["first"] or {}).pop("expected_by", None) if cell["status"] == "xfail" else None
            if cid in listed:
                cell["expected"] = dict(listed[cid])
            elif via:
                cell["expected"] = dict(listed[via], clause=via)
            if cell["status"] == "pass" and cid in listed and not listed[cid].get("flaky"):
                cell["status"] = "xpass"
    return table


def _md_escape(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    results = getattr(config, "_mpc_results", None)
    if not results or hasattr(config, "workerinput"):
        return
    impls = config._mpc_impls
    expected = config._mpc_expected
    catalogue = _load_catalogue()
    table = _summarise(results, expected)
    out_dir = Path(config.getoption("--report-dir"))
    out_dir.mkdir(parents=True, exist_ok=True)
    order = sorted(table, key=lambda cid: (catalogue.get(cid, {}).get("concept", "~"), cid))
    totals = {i: dict.fromkeys(STATUSES, 0) for i in impls}
    for cid in order:
        for i in impls:
            if i in table[cid]:
                totals[i][table[cid][i]["status"]] += 1
    # A listed clause that passed: the entry is stale, and a run that leaves it would stop
    # noticing when the implementation breaks the clause again; so the session fails.
    config._mpc_unexpected = [
        f'{i}: clause {cid} passed but {expected[i]["path"]} expects it to fail; remove clauses."{cid}"'
        for cid in order for i in impls if table[cid].get(i, {}).get("status") == "xpass"]
    if config._mpc_unexpected and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    doc = {
        "format": REPORT_FORMAT,
        "oracle": ORACLE,
        "python": sys.version.split()[0],
        "implementations": impls,
        "versions": {i: _version(i) for i in impls},
        "expectations": {i: e["path"] for i, e in expected.items()},
        "racy_runs": config._mpc_racy_runs,
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
    (out_dir / "conformance.md").write_text(
        "\n".join(_markdown(doc, table, order, catalogue)) + "\n", encoding="utf-8")


def _markdown(doc, table, order, catalogue) -> list[str]:
    impls, totals = doc["implementations"], doc["totals"]
    lines = ["# Conformance report", "",
             f"Oracle: CPython `{ORACLE}` {doc['python']} (fork). Implementations: "
             + ", ".join(f"`{i}` {doc['versions'][i] or ''}".rstrip() for i in impls) + "."]
    if doc["expectations"]:
        lines.append("Expectation files: " + ", ".join(
            f"`{i}`: {path}" for i, path in doc["expectations"].items()) + ".")
    lines += ["", "| implementation | clauses passed | failed | expected failures | unexpected passes "
              "| skipped |", "|---|---|---|---|---|---|"]
    for i in impls:
        t = totals[i]
        lines.append(f"| `{i}` | {t['pass']} | {t['fail']} | {t['xfail']} | {t['xpass']} | {t['skip']} |")
    lines += ["", "## Per clause", "",
              "| clause | api | " + " | ".join(f"`{i}`" for i in impls) + " |",
              "|---|---|" + "---|" * len(impls)]
    for cid in order:
        cells = [table[cid].get(i, {}).get("status", "not run") for i in impls]
        lines.append(f"| {cid} | {_md_escape(catalogue.get(cid, {}).get('api', '?'))} | "
                     + " | ".join(cells) + " |")

    def cells_with(status):
        return [(cid, i, table[cid][i]) for cid in order for i in impls
                if table[cid].get(i, {}).get("status") == status]

    def difference(cid, i, cell):
        first = cell["first"] or {}
        out = [f"- **{cid}** on `{i}` ({first.get('test', '?')}):"]
        if cell.get("expected"):
            e = cell["expected"]
            out.append(f"  - expected{' (via ' + e['clause'] + ')' if 'clause' in e else ''}: "
                       f"{_md_escape(e['reason'])}{' <' + e['link'] + '>' if e.get('link') else ''}")
        if "oracle" in first or "impl" in first:
            out.append(f"  - oracle: `{_md_escape(first.get('oracle'))}`")
            out.append(f"  - {i}: `{_md_escape(first.get('impl'))}`")
        if first.get("note"):
            out.append(f"  - {_md_escape(first['note'])}")
        return out

    lines += ["", "## Differences (first per clause and implementation)", ""]
    diffs = cells_with("fail")
    if not diffs:
        lines.append("None.")
    for d in diffs:
        lines += difference(*d)
    if doc["expectations"]:
        lines += ["", "## Unexpected passes (listed in an expectation file, passed)", ""]
        xpass = cells_with("xpass")
        lines += [f'- **{cid}** on `{i}`: remove clauses."{cid}" from {doc["expectations"][i]}'
                  for cid, i, _ in xpass] or ["None."]
        lines += ["", "## Expected failures", ""]
        lines += [line for d in cells_with("xfail") for line in difference(*d)] or ["None."]
    racy: dict[str, list[str]] = {}  # statistics (JSON) -> the clauses that share them (one test)
    for cid in order:
        st = {i: table[cid][i]["stats"] for i in impls if table[cid].get(i, {}).get("stats")}
        if st:
            racy.setdefault(json.dumps(st, sort_keys=True), []).append(cid)
    if racy:
        lines += ["", "## Racy clauses: outcomes over repeated runs", "",
                  "Each racy body ran up to --racy-runs times on each side: count / runs, with the 95 % "
                  "Wilson interval of the proportion. An outcome outside the allowed set fails the "
                  "clause. CPython's column: its runs alongside the implementation with the most.", "",
                  "| clauses | outcome | CPython | " + " | ".join(f"`{i}`" for i in impls) + " |",
                  "|---|---|---|" + "---|" * len(impls)]
    for key, cids in racy.items():
        st = json.loads(key)
        most = max(st.values(), key=lambda s: s["runs"])
        rows = list(enumerate(o["outcome"] for o in most["outcomes"]))
        if any(s["outside"]["oracle"] or s["outside"]["impl"] for s in st.values()):
            rows.append((None, "outside the allowed set"))
        for j, outcome in rows:
            cells = [_racy_count(most, j, "oracle")] + [
                _racy_count(st[i], j, "impl") if i in st else "" for i in impls]
            lines.append(f"| {', '.join(cids)} | `{_md_escape(outcome)}` | " + " | ".join(cells) + " |")
    return lines


def _racy_count(stats, j, side) -> str:
    """`count/runs [low, high]` of allowed outcome j (None: outside the allowed set) on a side."""
    if j is None:
        return f"{stats['outside'][side]}/{stats['runs']}"
    o = stats["outcomes"][j]
    lo, hi = o[side + "_ci"]
    return f"{o[side]}/{stats['runs']} [{lo:.2f}, {hi:.2f}]"


def _version(name):
    s = load_surface(name)
    if isinstance(s, str):
        return None
    return getattr(s._mpc_module, "__version__", None) or (sys.version.split()[0] if name == ORACLE else None)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if getattr(config, "_mpc_results", None):
        out = Path(config.getoption("--report-dir"))
        terminalreporter.write_line(f"conformance report: {out / 'conformance.md'} (and .json)")
    unexpected = getattr(config, "_mpc_unexpected", None)
    if unexpected:
        terminalreporter.write_sep("=", "unexpected passes (the session fails)", red=True, bold=True)
        for line in unexpected:
            terminalreporter.write_line(line, red=True)
        # counted in pytest's last line, so it is not green
        terminalreporter.stats.setdefault("unexpected pass", []).extend(unexpected)


# --------------------------------------------------------------------------- progress

def _clock(seconds: float) -> str:
    s = int(round(seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s // 3600}h{s % 3600 // 60:02d}m"


class ProgressClock:
    """pytest's progress indicator (`[ 42%]`) plus the elapsed time and an estimate of the time
    left (`[ 42%] 1m03s, ~1m30s left`), on a terminal only: a third-party run takes minutes, and
    a CI log should stay as pytest writes it.

    It wraps TerminalReporter's progress message (a private method, stable since pytest 3.x);
    where the reporter lacks what it needs, pytest's output is left alone. The estimate assumes
    the tests left take as long on average as those done.
    """

    NEEDS = ("_get_progress_information_message", "_progress_nodeids_reported", "_screen_width",
             "_session", "_tw")
    WIDEST = len(" 59m59s, ~59m59s left")  # pytest wraps -q lines early by this much

    def __init__(self, reporter):
        self.reporter = reporter
        self.started = None
        self.inner = reporter._get_progress_information_message
        reporter._get_progress_information_message = self.message
        reporter._screen_width -= self.WIDEST

    @classmethod
    def install(cls, config):
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is None or not all(hasattr(reporter, a) for a in cls.NEEDS):
            return
        file = getattr(reporter._tw, "_file", None) or sys.stdout
        try:
            if not file.isatty():
                return
        except (AttributeError, ValueError):
            return
        config.pluginmanager.register(cls(reporter), "mpconform-progress-clock")

    def pytest_collection_finish(self, session):
        self.started = time.monotonic()

    def message(self) -> str:
        msg = self.inner()
        if self.started is None:
            return msg
        done = len(self.reporter._progress_nodeids_reported)
        total = self.reporter._session.testscollected
        elapsed = time.monotonic() - self.started
        msg += f" {_clock(elapsed)}"
        if 0 < done < total:
            msg += f", ~{_clock(elapsed * (total - done) / done)} left"
        return msg


def pytest_sessionstart(session):
    ProgressClock.install(session.config)
