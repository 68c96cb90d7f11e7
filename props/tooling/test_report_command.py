"""`mpconform report` and `mpconform timeline` end to end: real runs (a mutant the engine
catches, the reference, a small pytest conformance run), the page the command writes, and what
Chromium renders of it. test_report_page.py tests the page on sample data; this tests that the
command's data is what the page needs, and that a failure's highlighted window is the checker's.

Run: /usr/bin/python3 -m pytest -q props/tooling/test_report_command.py
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from test_report_page import body_of, chromium_exe, parse_dom, rendered_ok, run_chromium

ROOT = Path(__file__).resolve().parents[2]
_build = Path(os.environ.get("MPCONFORM_BUILD_DIR", ROOT / "build"))
BUILD = _build if _build.is_absolute() else ROOT / _build
MPCONFORM = BUILD / "harness" / "cli" / "mpconform"
ENV = dict(os.environ, MPCONFORM_BUILD_DIR=str(BUILD))


def mpconform(*args, check=True, timeout=240):
    if not MPCONFORM.exists():
        pytest.skip(f"{MPCONFORM} is not built (ci/setup; MPCONFORM_BUILD_DIR={BUILD})")
    r = subprocess.run([str(MPCONFORM), *map(str, args)], capture_output=True, text=True, env=ENV,
                       cwd=ROOT, timeout=timeout)
    if check:
        assert r.returncode in (0, 1), r.stdout + r.stderr
    return r


def dump(workdir, page, hash_=""):
    return parse_dom(run_chromium(workdir, ["--dump-dom"], Path(page).as_uri() + ("#" + hash_ if hash_ else "")))


def embedded_data(page):
    """The page data the command embedded (to compare with what the browser shows)."""
    html = Path(page).read_text(encoding="utf-8")
    start = html.index('<script id="mpconform-data" type="application/json">') + len(
        '<script id="mpconform-data" type="application/json">')
    return json.loads(html[start:html.index("</script>", start)])


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """reports/: a mutant's failing run (with its history), a passing reference run, and a pytest
    conformance run on two implementations."""
    chromium_exe()
    d = tmp_path_factory.mktemp("runs")
    reports, hist = d / "reports", d / "hist"
    reports.mkdir()
    r = mpconform("run", "--backend", "mutant:queue-reorder", "--property", "queue", "--scenarios", 50, "--seed", 1,
                  "--json", reports / "mutant.json", "--history-dir", hist)
    assert r.returncode == 1 and "queue fail: Q-ORDER-2" in r.stdout, r.stdout
    r = mpconform("run", "--backend", "reference", "--property", "value", "--property", "pipe", "--scenarios", 3,
                  "--seed", 1, "--json", reports / "reference.json")
    assert r.returncode == 0, r.stdout
    p = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "props/conformance/test_sharedctypes.py", "--impl", "multiprocessing", "--impl", "mpref",
                        f"--report-dir={reports}"], cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout[-3000:]
    return d


def test_timeline_highlights_the_checkers_window(runs, tmp_path):
    report = json.loads((runs / "reports" / "mutant.json").read_text())
    failure = report["properties"][0]["first_failure"]
    # The timeline draws the shrunk run; its window is the checker's verdict on that run.
    checker_window = (failure.get("shrunk_result") or failure["result"])["window"]
    history = next((runs / "hist").glob("queue-seed*.jsonl"))
    page = tmp_path / "timeline.html"
    r = mpconform("timeline", history, "-o", page)
    assert r.returncode == 0 and str(page) in r.stdout, r.stdout + r.stderr
    data = embedded_data(page)
    assert data["timelines"][0]["window"] == checker_window  # judged again: the same window
    assert data["timelines"][0]["clause"] == "Q-ORDER-2"
    dom = dump(tmp_path, page)
    rendered_ok(dom)
    svg = dom.find("svg", cls="timeline")
    rects = {int(r.attrs["data-index"]): r for r in svg.find_all("rect", cls="op")}
    assert sorted(rects) == list(range(len(data["timelines"][0]["ops"])))
    assert sorted(k for k, r in rects.items() if "in-window" in r.classes) == checker_window
    assert svg.find("rect", cls="window-band") is not None
    assert svg.find("line", cls="accepted-prefix") is not None  # the checker accepted a prefix
    assert int(svg.attrs["data-lanes"]) == len(data["timelines"][0]["processes"])
    assert "Q-ORDER-2" in dom.find("dd", cls="tl-clause").text()
    assert failure["replay"] == dom.find("code", cls="replay-cmd").text()


def test_a_failure_is_classified(runs):
    """The JSON report says where the mutant's failing history stands (classify() over the
    queue model): a reordering consumer breaks every interleaving, so it is illegal."""
    report = json.loads((runs / "reports" / "mutant.json").read_text())
    cls = report["properties"][0]["first_failure"]["timeline"]["class"]
    assert cls["class"] == "illegal", cls
    assert "object 0 (queue)" in cls["message"]


def test_report_over_real_runs(runs, tmp_path):
    page = tmp_path / "dashboard.html"
    r = mpconform("report", runs / "reports", "-o", page)
    assert r.returncode == 0, r.stdout + r.stderr
    data = embedded_data(page)
    conformance = json.loads((runs / "reports" / "conformance.json").read_text())
    names = [i["name"] for i in data["implementations"]]
    assert names[0] == "multiprocessing"  # the oracle first
    assert {"mpref", "mutant:queue-reorder", "reference"} <= set(names)
    dom = dump(tmp_path, page)
    rendered_ok(dom)
    rows = dom.find_all("tr", cls="clause-row")
    assert [r.attrs["data-clause"] for r in rows] == [c["id"] for c in data["clauses"]]
    # every conformance result is in its cell, as the run reported it
    for clause in conformance["clauses"]:
        row = dom.find("tr", cls="clause-row", data_clause=clause["id"])
        for impl, res in clause["results"].items():
            cell = row.find("td", cls="cell", data_impl=impl)
            assert cell.attrs["data-status"] == res["status"], (clause["id"], impl)
    # the engine's failure fails its clause for the mutant and links to its timeline
    q = dom.find("tr", cls="clause-row", data_clause="Q-ORDER-2").find("td", cls="cell",
                                                                       data_impl="mutant:queue-reorder")
    assert q.attrs["data-status"] == "fail"
    assert len(dom.find_all("svg", cls="timeline")) == len(data["timelines"]) == 1
    # the reference's passing properties mark the clauses they check
    v = dom.find("tr", cls="clause-row", data_clause="V-ATOM-3").find("td", cls="cell", data_impl="reference")
    assert v.attrs["data-status"] == "pass"
    # a filter in the address leaves only the failing clause
    dom = dump(tmp_path, page, "status=fail")
    shown = [r.attrs["data-clause"] for r in dom.find_all("tr", cls="clause-row") if r.shown()]
    assert shown == ["Q-ORDER-2"]
    assert body_of(dom).attrs.get("data-rendered") == "1"


def test_report_reads_cpython_tests_reports(runs, tmp_path):
    out = tmp_path / "cpython-tests.json"
    r = mpconform("cpython-tests", "--module", "multiprocessing", "--class", "_TestLock", "--json", out)
    assert r.returncode == 0, r.stdout + r.stderr
    page = tmp_path / "page.html"
    assert mpconform("report", out, "-o", page).returncode == 0
    data = embedded_data(page)
    assert data["cpython_tests"][0]["implementation"] == "multiprocessing"
    assert len(data["cpython_tests"][0]["tests"]) == json.loads(out.read_text())["totals"]["pass"] + \
        sum(v for k, v in json.loads(out.read_text())["totals"].items() if k != "pass")
