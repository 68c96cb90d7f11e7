"""The dashboard page template (harness/cli/page/page.html) rendered by a real browser.

The template is filled the way `mpconform report` fills it (the page data JSON replaces the
placeholder, every `<` written `\\u003c`) with harness/cli/testdata/page-sample.json, then Debian's
Chromium runs it headless and these tests read what it RENDERED (`--dump-dom`), keyed by the
page's data-* attributes. Expected values are computed from the sample data, never hard-coded.

Run: /usr/bin/python3 -m pytest -q props/tooling/test_report_page.py
"""

import copy
import json
import os
import re
import shutil
import signal
import struct
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# MPCONFORM_PAGE_TEMPLATE: test another copy of the template (e.g. a deliberately broken one).
TEMPLATE = Path(os.environ.get("MPCONFORM_PAGE_TEMPLATE") or ROOT / "harness" / "cli" / "page" / "page.html")
SAMPLE = ROOT / "harness" / "cli" / "testdata" / "page-sample.json"
PLACEHOLDER = "/*MPCONFORM_DATA*/null"
STATUSES = ["pass", "fail", "xfail", "xpass", "skip", "n/a", "notrun"]


def render_page(template, data):
    """What `mpconform report` does (page.cpp render_page): the data JSON replaces the
    placeholder, every `<` written `\\u003c`, so no string in the data can end the script element
    or open a comment in it."""
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return template.replace(PLACEHOLDER, text, 1)


# ---- a small DOM built from Chromium's --dump-dom output ----

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.children = tag, dict(attrs), parent, []

    def iter(self):
        yield self
        for c in self.children:
            if isinstance(c, Node):
                yield from c.iter()

    def find_all(self, tag=None, cls=None, **attrs):
        """Descendants by tag, one class, and attributes (value None: just present)."""
        out = []
        for n in self.iter():
            if n is self or (tag and n.tag != tag) or (cls and cls not in n.classes):
                continue
            want = {k.replace("_", "-"): v for k, v in attrs.items()}
            if all(k in n.attrs and (v is None or n.attrs[k] == v) for k, v in want.items()):
                out.append(n)
        return out

    def find(self, tag=None, cls=None, **attrs):
        found = self.find_all(tag, cls, **attrs)
        return found[0] if found else None

    @property
    def classes(self):
        return (self.attrs.get("class") or "").split()

    def text(self):
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def shown(self):
        """No `hidden` attribute on it or any ancestor (the page hides with the attribute)."""
        n = self
        while n is not None:
            if "hidden" in n.attrs:
                return False
            n = n.parent
        return True

    def num(self, name):
        return float(self.attrs[name])


class DomBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {}, None)
        self.cur = self.root

    def handle_starttag(self, tag, attrs):
        node = Node(tag, [(k, "" if v is None else v) for k, v in attrs], self.cur)
        self.cur.children.append(node)
        if tag not in VOID:
            self.cur = node

    def handle_startendtag(self, tag, attrs):
        self.cur.children.append(Node(tag, [(k, "" if v is None else v) for k, v in attrs], self.cur))

    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent

    def handle_data(self, data):
        self.cur.children.append(data)


def parse_dom(html):
    b = DomBuilder()
    b.feed(html)
    b.close()
    return b.root


# ---- Chromium ----


def chromium_exe():
    exe = shutil.which("chromium") or ("/usr/bin/chromium" if os.access("/usr/bin/chromium", os.X_OK) else None)
    if not exe:
        pytest.skip("chromium not installed (Debian: apt-get install chromium)")
    return exe


def run_chromium(workdir, args, url, timeout=120):
    """Chromium headless in its own session (killed as a group on timeout), with a fresh profile."""
    profile = Path(workdir) / ("profile-%d" % len(list(Path(workdir).glob("profile-*"))))
    cmd = [chromium_exe(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
           "--virtual-time-budget=5000", "--user-data-dir=%s" % profile, *args, url]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail("chromium did not finish within %d s: %s" % (timeout, " ".join(cmd)))
    finally:
        try:  # helpers Chromium left behind (crashpad) are in its process group
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        shutil.rmtree(profile, ignore_errors=True)
    assert proc.returncode == 0, "chromium exited %d: %s" % (proc.returncode, err.decode(errors="replace")[-2000:])
    return out.decode("utf-8")


class Page:
    """A filled page on disk; dump(hash) renders it in Chromium and returns the DOM."""

    def __init__(self, workdir, data, name="page.html"):
        self.workdir = Path(workdir)
        self.path = self.workdir / name
        self.path.write_text(render_page(TEMPLATE.read_text(encoding="utf-8"), data), encoding="utf-8")

    def url(self, hash_=""):
        return self.path.as_uri() + (("#" + hash_) if hash_ else "")

    def dump(self, hash_=""):
        html = run_chromium(self.workdir, ["--dump-dom"], self.url(hash_))
        dom = parse_dom(html)
        body = dom.find("body")
        assert body is not None, html[:500]
        return dom


# ---- expectations computed from the sample data ----


@pytest.fixture(scope="module")
def sample():
    return json.loads(SAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def page(sample, tmp_path_factory):
    chromium_exe()
    return Page(tmp_path_factory.mktemp("page"), sample)


@pytest.fixture(scope="module")
def dom(page):
    return page.dump()


def matrix_impls(data):
    """The matrix columns: implementations with conformance results, the oracle first."""
    names = [i["name"] for i in data["implementations"]
             if "conformance" in i.get("kinds", []) or any(i["name"] in c for c in data["cells"].values())]
    return sorted(names, key=lambda n: n != data["oracle"])


def clause_order(data):
    return [c["id"] for concept in data["concepts"] for c in data["clauses"] if c["concept"] == concept]


def status(data, clause, impl):
    return data["cells"].get(clause, {}).get(impl, {}).get("status", "notrun")


def expected_rows(data, concept=(), impl=(), status_=(), q=""):
    """The page's filter semantics: concept in the set; text in id/behaviour/api; some SHOWN
    implementation (impl filter = which columns show) with a status in the set."""
    shown = [i for i in matrix_impls(data) if not impl or i in impl]
    rows = []
    for c in data["clauses"]:
        if concept and c["concept"] not in concept:
            continue
        if q and not any(q.lower() in c[k].lower() for k in ("id", "behaviour", "api")):
            continue
        if status_ and not any(status(data, c["id"], i) in status_ for i in shown):
            continue
        rows.append(c["id"])
    return sorted(rows, key=clause_order(data).index)


def body_of(dom):
    return dom.find("body")


def rendered_ok(dom):
    body = body_of(dom)
    err = dom.find(id="load-error")
    assert err is None, "the page shows an error: " + err.text()
    assert body.attrs.get("data-rendered") == "1"


# ---- the template itself ----


def test_template_is_self_contained_with_one_placeholder():
    text = TEMPLATE.read_text(encoding="utf-8")
    assert text.count(PLACEHOLDER) == 1
    element = '<script id="mpconform-data" type="application/json">%s</script>' % PLACEHOLDER
    assert element in text
    # no network: no external scripts, styles, fonts, images or imports
    assert not re.search(r"<(script|img|iframe)[^>]*\ssrc=", text, re.I)
    assert not re.search(r"<link\b", text, re.I)
    assert not re.search(r"@import|url\(\s*['\"]?(https?:)?//", text, re.I)
    assert len(text.splitlines()) < 1100


# ---- what the browser renders ----


def test_page_renders_header(dom, sample):
    rendered_ok(dom)
    assert dom.find("h1", data_title=None).text() == sample["title"]
    assert dom.find(data_oracle=sample["oracle"]) is not None
    assert sample["generated"] in dom.find("header").text()
    for name in ("summary", "matrix", "engine", "timelines", "cpython-tests"):
        assert dom.find(id=name) is not None, name


def test_matrix_has_one_row_per_clause_with_each_status(dom, sample):
    rendered_ok(dom)
    table = dom.find("table", cls="matrix")
    impls = matrix_impls(sample)
    assert [th.attrs["data-impl"] for th in table.find_all("th", data_impl=None)] == impls
    rows = table.find_all("tr", cls="clause-row")
    assert [r.attrs["data-clause"] for r in rows] == clause_order(sample)
    assert int(table.attrs["data-visible-rows"]) == len(sample["clauses"])
    by_id = {c["id"]: c for c in sample["clauses"]}
    seen = set()
    for r in rows:
        cid = r.attrs["data-clause"]
        assert r.shown() and r.attrs["data-concept"] == by_id[cid]["concept"]
        cells = r.find_all("td", cls="cell")
        assert [td.attrs["data-impl"] for td in cells] == impls
        for td in cells:
            want = status(sample, cid, td.attrs["data-impl"])
            assert td.attrs["data-status"] == want, (cid, td.attrs["data-impl"])
            seen.add(want)
        assert by_id[cid]["behaviour"] in r.text()
    assert seen == set(STATUSES), "the sample must exercise every status"
    groups = table.find_all("tr", cls="group-row")
    assert [g.attrs["data-concept"] for g in groups] == [c for c in sample["concepts"]
                                                         if any(x["concept"] == c for x in sample["clauses"])]
    # a cell whose clause an engine failure names carries the engine verdict
    for cid, per in sample["cells"].items():
        for impl, cell in per.items():
            if "engine" in cell:
                td = table.find("tr", data_clause=cid).find("td", data_impl=impl)
                flag = td.find(cls="engine-flag")
                assert flag is not None and cell["engine"]["verdict"] in flag.text()


def test_summary_pass_rates_per_implementation_and_concept(dom, sample):
    rendered_ok(dom)
    impls = matrix_impls(sample)
    rows = [r.attrs["data-summary-row"] for r in dom.find_all("tr", data_summary_row=None)]
    assert rows[0] == sample["oracle"] and set(rows) == {i["name"] for i in sample["implementations"]}
    for impl in impls:
        for concept in sample["concepts"] + ["all"]:
            st = [status(sample, c["id"], impl) for c in sample["clauses"] if concept in ("all", c["concept"])]
            passed = st.count("pass") + st.count("xpass")
            total = passed + st.count("fail") + st.count("xfail")
            td = dom.find("td", data_summary_impl=impl, data_concept=concept)
            assert td is not None, (impl, concept)
            got = {k: int(td.attrs["data-" + k]) for k in ("pass", "total", "fail", "xfail", "xpass", "na", "skip")}
            assert got == {"pass": passed, "total": total, "fail": st.count("fail"), "xfail": st.count("xfail"),
                           "xpass": st.count("xpass"), "na": st.count("n/a"), "skip": st.count("skip")}, (impl, concept)
            assert "%d/%d" % (passed, total) in td.text()
    # engine-only implementations have no clause counts
    for i in sample["implementations"]:
        if i["name"] not in impls:
            assert dom.find("td", data_summary_impl=i["name"]) is None


def op_rects(svg):
    return {int(r.attrs["data-index"]): r for r in svg.find_all("rect", cls="op")}


def span(rect):
    x, w = rect.num("x"), rect.num("width")
    return x, x + w


def test_timelines_lanes_ops_window_and_prefix(dom, sample):
    rendered_ok(dom)
    assert len(dom.find_all("svg", cls="timeline")) == len(sample["timelines"])
    checked_prefix = checked_info = checked_window = checked_class = False
    for i, tl in enumerate(sample["timelines"]):
        box = dom.find("details", id="timeline-%d" % i)
        svg = box.find("svg", cls="timeline")
        assert svg.attrs["data-mode"] == "order"
        procs = [p["process"] for p in tl["processes"]]
        assert int(svg.attrs["data-lanes"]) == len(procs)
        lanes = svg.find_all("g", cls="lane")
        assert [int(g.attrs["data-process"]) for g in lanes] == procs
        assert [g.attrs["data-role"] for g in lanes] == [p["role"] for p in tl["processes"]]
        labels = box.find("svg", cls="lane-labels").text()
        assert all(p["role"] in labels for p in tl["processes"])
        # one rectangle per op, inside its process's lane, with the op's text as its tooltip
        rects = op_rects(svg)
        ops = tl["ops"]
        assert sorted(rects) == list(range(len(ops)))
        lane_y = {int(g.attrs["data-process"]): g.find("rect", cls="lane-bg") for g in lanes}
        for k, op in enumerate(ops):
            r, bg = rects[k], lane_y[op["process"]]
            assert bg.num("y") <= r.num("y") and r.num("y") + r.num("height") <= bg.num("y") + bg.num("height")
            assert op["outcome"] in r.classes
            assert r.num("width") >= 6, "short ops stay visible"
            g = svg.find("g", cls="op-g", data_index=str(k))
            assert op["text"] in g.find("title").text()
        # event order: an op that returned before another was invoked is drawn entirely left of it
        done = [(op["return"], span(rects[k])[1]) for k, op in enumerate(ops) if op.get("return") is not None]
        for k, op in enumerate(ops):
            x0 = span(rects[k])[0]
            assert all(end < x0 for ret, end in done if ret < op["invoke"]), k
        # info ops: open to the plot's right edge, dashed, with an arrow
        end = svg.num("data-plot-end")
        for k, op in enumerate(ops):
            if op["outcome"] == "info":
                checked_info = True
                assert rects[k].attrs.get("data-open") == "1"
                assert abs(span(rects[k])[1] - end) <= 1.5, "an info op extends to the right edge"
                assert svg.find("path", cls="info-arrow", data_index=str(k)) is not None
            else:
                assert span(rects[k])[1] < end - 20
        # the checker's window: highlighted ops and a band over their time range
        window = set(tl["window"])
        assert {k for k, r in rects.items() if "in-window" in r.classes} == window
        band = svg.find("rect", cls="window-band")
        if window:
            checked_window = True
            lo, hi = span(band)
            assert all(lo <= span(rects[k])[0] and span(rects[k])[1] <= hi for k in window)
            assert any(span(r)[1] < lo or span(r)[0] > hi for r in rects.values()), "the band spans the window only"
        else:
            assert band is None
        # the accepted prefix: a vertical line between the events before until_ns and the rest
        line = svg.find("line", cls="accepted-prefix")
        if tl["accepted_prefix"]:
            checked_prefix = True
            until = tl["accepted_prefix"]["until_ns"]
            x = line.num("x1")
            assert line.num("x2") == x
            assert "checker accepts everything before this line" in svg.text()
            for k, op in enumerate(ops):
                if op.get("return") is not None and op["return"] < until:
                    assert span(rects[k])[1] <= x, k
                if op["invoke"] >= until:
                    assert span(rects[k])[0] >= x, k
            assert tl["message"] in box.find("dd", cls="tl-message").text()
        else:
            assert line is None
        if "class" in tl:
            checked_class = True
            assert tl["class"]["class"] in box.find("dd", cls="tl-class").text()
        assert box.find("code", cls="replay-cmd").text() == tl["replay"]
        assert box.find("button", cls="copy") is not None
        assert tl["clause"] in box.find("dd", cls="tl-clause").text()
    assert checked_prefix and checked_info and checked_window and checked_class


def test_timeline_real_time_axis(page, sample):
    dom = page.dump("x=time")
    rendered_ok(dom)
    for i, tl in enumerate(sample["timelines"]):
        svg = dom.find("svg", cls="timeline", data_timeline=str(i))
        assert svg.attrs["data-mode"] == "time"
        rects = op_rects(svg)
        ops = tl["ops"]
        first = min(range(len(ops)), key=lambda k: ops[k]["invoke"])
        last = max(range(len(ops)), key=lambda k: ops[k]["invoke"])
        scale = (rects[last].num("x") - rects[first].num("x")) / (ops[last]["invoke"] - ops[first]["invoke"])
        assert scale > 0
        for k, op in enumerate(ops):  # x proportional to the invoke time
            want = rects[first].num("x") + (op["invoke"] - ops[first]["invoke"]) * scale
            assert abs(rects[k].num("x") - want) <= 1.5, k
        ticks = [t.text() for t in svg.find("g", cls="axis").find_all("text")]
        assert len(ticks) >= 3 and all(re.search(r"\d (ns|µs|ms|s)$", t) for t in ticks), ticks


@pytest.mark.parametrize("hash_, filters", [
    ("status=fail&concept=queues&impl=billiard", dict(concept={"queues"}, impl={"billiard"}, status_={"fail"})),
    ("q=FULL", dict(q="FULL")),
    ("status=notrun", dict(status_={"notrun"})),
    # multiprocess fails and skips clauses too, but its column is not shown: those rows go
    ("status=fail,skip&impl=billiard,mpref", dict(impl={"billiard", "mpref"}, status_={"fail", "skip"})),
    ("status=xfail,xpass&impl=billiard,multiprocess",
     dict(impl={"billiard", "multiprocess"}, status_={"xfail", "xpass"})),
    ("concept=synchronize,sharedctypes&status=skip&impl=multiprocess",
     dict(concept={"synchronize", "sharedctypes"}, status_={"skip"}, impl={"multiprocess"})),
])
def test_hash_filters_leave_only_matching_rows(page, sample, hash_, filters):
    dom = page.dump(hash_)
    rendered_ok(dom)
    want = expected_rows(sample, **filters)
    assert want and len(want) < len(sample["clauses"]), "the filter must select something and leave something out"
    table = dom.find("table", cls="matrix")
    visible = [r.attrs["data-clause"] for r in table.find_all("tr", cls="clause-row") if r.shown()]
    assert visible == want
    assert int(table.attrs["data-visible-rows"]) == len(want)
    impls = filters.get("impl") or set(matrix_impls(sample))
    assert {th.attrs["data-impl"] for th in table.find_all("th", data_impl=None) if th.shown()} == impls
    for r in table.find_all("tr", cls="clause-row"):
        if r.shown():
            assert {td.attrs["data-impl"] for td in r.find_all("td", cls="cell") if td.shown()} == impls
    # the chips show the filter that is applied
    pressed = {(b.attrs["data-filter"], b.attrs["data-value"]) for b in dom.find_all("button", cls="chip")
               if b.attrs.get("aria-pressed") == "true"}
    applied = {("concept", v) for v in filters.get("concept", ())} | {("impl", v) for v in filters.get("impl", ())} | \
              {("status", v) for v in filters.get("status_", ())}
    assert pressed == applied


def test_detail_panel_racy_statistics(page, sample):
    cid, impl = next((c, i) for c, per in sample["cells"].items() for i, cell in per.items()
                     if "stats" in cell and cell["status"] == "fail")
    cell = sample["cells"][cid][impl]
    dom = page.dump("cell=%s/%s" % (cid, impl))
    rendered_ok(dom)
    panel = dom.find("aside", id="detail")
    assert panel.attrs["data-clause"] == cid and panel.attrs["data-impl"] == impl and panel.shown()
    assert panel.find(cls="detail-oracle").find(cls="what").text() == cell["oracle"]
    assert panel.find(cls="detail-impl").find(cls="what").text() == cell["impl"]
    assert cell["note"] in panel.find(cls="detail-note").text()
    assert panel.find(cls="detail-test").text() == cell["test"]
    st = cell["stats"]
    rows = panel.find("table", cls="stats").find_all("tr", cls="stats-row")
    outcomes = [o["outcome"] for o in st["outcomes"]] + (["outside"] if any(st["outside"].values()) else [])
    assert [r.attrs["data-outcome"] for r in rows] == outcomes
    for r, o in zip(rows, st["outcomes"]):
        tds = [td.text() for td in r.find_all("td")]
        assert tds[1].startswith("%d/%d [%.2f, %.2f]" % (o["oracle"], st["runs"], *o["oracle_ci"]))
        assert tds[2].startswith("%d/%d [%.2f, %.2f]" % (o["impl"], st["runs"], *o["impl_ci"]))
    assert "%d/%d" % (st["outside"]["impl"], st["runs"]) in rows[-1].text()


def test_detail_panel_expectation_and_engine_link(page, sample):
    cid, impl = next((c, i) for c, per in sample["cells"].items() for i, cell in per.items()
                     if cell.get("status") == "xfail" and cell.get("expected", {}).get("link"))
    exp = sample["cells"][cid][impl]["expected"]
    dom = page.dump("cell=%s/%s" % (cid, impl))
    dd = dom.find("aside", id="detail").find(cls="detail-expected")
    assert exp["reason"] in dd.text() and dd.find("a").attrs["href"] == exp["link"]
    cid, impl = next((c, i) for c, per in sample["cells"].items() for i, cell in per.items() if "engine" in cell)
    eng = sample["cells"][cid][impl]["engine"]
    dom = page.dump("cell=%s/%s" % (cid, impl))
    link = dom.find("aside", id="detail").find("a", cls="timeline-link")
    assert link.attrs["data-timeline"] == str(eng["timeline"])
    assert dom.find("details", id="timeline-%d" % eng["timeline"]) is not None


def test_engine_tables(dom, sample):
    rendered_ok(dom)
    kinds = set()
    for run in sample["engine"]:
        table = dom.find("table", cls="engine-table", data_impl=run["implementation"])
        rows = table.find_all("tr", cls="engine-row")
        assert [(r.attrs["data-property"], r.attrs["data-verdict"]) for r in rows] == \
               [(p["property"], p["verdict"]) for p in run["properties"]]
        for r, p in zip(rows, run["properties"]):
            kinds.add(p.get("expectation") or p["verdict"])
            assert r.attrs.get("data-expectation") == p.get("expectation")
            link = r.find("a", cls="timeline-link")
            if "timeline" in p:
                assert link.attrs["data-timeline"] == str(p["timeline"])
                assert dom.find("details", id="timeline-%d" % p["timeline"]) is not None
            else:
                assert link is None
            if p.get("message"):
                assert p["message"] in r.text()
            if p.get("expected"):
                assert p["expected"]["reason"] in r.text()
    assert {"pass", "n/a", "new failure", "expected failure", "unexpected pass"} <= kinds


def test_cpython_tests_section(dom, sample):
    rendered_ok(dom)
    for rep in sample["cpython_tests"]:
        card = dom.find("div", cls="cpython", data_impl=rep["implementation"])
        classes = []
        for t in rep["tests"]:
            if t["class"] not in classes:
                classes.append(t["class"])
        rows = card.find_all("tr", cls="cpython-class")
        assert [r.attrs["data-class"] for r in rows] == classes
        for r in rows:
            mine = [t for t in rep["tests"] if t["class"] == r.attrs["data-class"]]
            for st in ("pass", "fail", "error", "skip", "timeout", "xfail", "xpass"):
                assert int(r.attrs["data-" + st]) == sum(t["status"] == st for t in mine)
        bad = {t["id"]: t for t in rep["tests"] if t["status"] != "pass"}
        listed = card.find_all("tr", cls="cpython-test")
        assert {r.attrs["data-test"] for r in listed} == set(bad)
        for r in listed:
            t = bad[r.attrs["data-test"]]
            assert r.attrs["data-status"] == t["status"] and t.get("message", "") in r.text()


PROBE = """<script>
// Clicks what a reader clicks and records what the page did (read back from data-probe).
window.addEventListener("load", () => {
  const out = {};
  const q = (s) => document.querySelector(s);
  const table = q("table.matrix");
  q('tr.clause-row[data-clause="%(clause)s"] td.cell[data-impl="%(impl)s"]').click();
  out.detail = q("#detail") && q("#detail").dataset.clause + "/" + q("#detail").dataset.impl;
  out.hash1 = decodeURIComponent(location.hash);
  q("#detail button.close").click();
  out.closed = !q("#detail");
  q('.chip[data-filter="status"][data-value="fail"]').click();
  out.hash2 = decodeURIComponent(location.hash);
  out.visible2 = Number(table.dataset.visibleRows);
  q('tr.group-row[data-concept="%(concept)s"] button.group-toggle').click();
  out.collapsed = [...document.querySelectorAll('tr.clause-row[data-concept="%(concept)s"]')].every((r) => r.hidden);
  q('td.sum[data-summary-impl="%(impl)s"][data-concept="%(concept)s"]').click();
  out.hash3 = decodeURIComponent(location.hash);
  out.visible3 = Number(table.dataset.visibleRows);
  q('#timeline-0 button[data-xmode="time"]').click();
  out.mode = q("#timeline-0 svg.timeline").dataset.mode;
  out.ops = q("#timeline-0 svg.timeline").querySelectorAll("rect.op").length;
  q("a.timeline-link[data-timeline='1']").click();
  out.opened = q("#timeline-1").open;
  document.body.dataset.probe = JSON.stringify(out);
});
</script></body>"""


def test_clicks_select_cells_filter_collapse_and_switch_axes(sample, tmp_path):
    """The interactive parts, driven by a script added to the page: a cell click opens its detail
    panel and writes the hash; chips and summary cells filter; group headers collapse; the axis
    toggle redraws the timeline in real time."""
    cid, impl = next((c, i) for c, per in sample["cells"].items() for i, cell in per.items()
                     if cell.get("status") == "fail")
    concept = next(c["concept"] for c in sample["clauses"] if c["id"] == cid)
    page = Page(tmp_path, sample)
    html = page.path.read_text(encoding="utf-8")
    script = PROBE % dict(clause=cid, impl=impl, concept=concept)
    page.path.write_text(html.replace("</body>", script), encoding="utf-8")
    dom = page.dump()
    rendered_ok(dom)
    probe = json.loads(body_of(dom).attrs["data-probe"])
    assert probe["detail"] == "%s/%s" % (cid, impl) and probe["hash1"] == "#cell=%s/%s" % (cid, impl)
    assert probe["closed"]
    assert probe["hash2"] == "#status=fail" and probe["visible2"] == len(expected_rows(sample, status_={"fail"}))
    assert probe["collapsed"]
    assert probe["hash3"] == "#concept=%s&impl=%s" % (concept, impl)
    assert probe["visible3"] == len(expected_rows(sample, concept={concept}, impl={impl}))
    assert probe["mode"] == "time" and probe["ops"] == len(sample["timelines"][0]["ops"])
    assert probe["opened"] is True


def test_timeline_only_page(sample, tmp_path):
    """`mpconform timeline` writes a page with only timelines: it shows just them."""
    data = {"format": "mpconform-page/1", "title": "mpconform timeline", "timelines": [sample["timelines"][1]]}
    dom = Page(tmp_path, data).dump()
    rendered_ok(dom)
    assert dom.find("table", cls="matrix") is None and dom.find(id="summary") is None and dom.find(id="engine") is None
    svgs = dom.find_all("svg", cls="timeline")
    assert len(svgs) == 1 and int(svgs[0].attrs["data-lanes"]) == len(sample["timelines"][1]["processes"])
    assert len(op_rects(svgs[0])) == len(sample["timelines"][1]["ops"])


@pytest.mark.parametrize("data, words", [
    (PLACEHOLDER, "has no data"),
    ('{"format": "mpconform-page/1", ', "not valid JSON"),
    ({"format": "mpconform-report/1", "properties": []}, "Unsupported page data format"),
    ([1, 2], "not a JSON object"),
])
def test_bad_data_shows_one_clear_message(tmp_path, data, words):
    dom = Page(tmp_path, data).dump()
    err = dom.find(id="load-error")
    assert err is not None and words in err.text()
    assert body_of(dom).attrs.get("data-rendered") == "error"
    assert dom.find("table") is None


def test_data_cannot_close_the_script_element(sample, tmp_path):
    data = copy.deepcopy(sample)
    evil = "</script><img id=injected src=x> & <b>bold</b>"
    data["timelines"][0]["message"] = evil
    data["clauses"][0]["behaviour"] = evil
    dom = Page(tmp_path, data).dump()
    rendered_ok(dom)
    assert dom.find("img") is None and all(b.text() != "bold" for b in dom.find_all("b"))
    assert dom.find("dd", cls="tl-message").text() == evil
    assert evil in dom.find("tr", cls="clause-row").text()


def test_data_that_escapes_its_element_gives_a_message_not_a_blank_page(sample, tmp_path):
    """`<!--<script>` in a string would switch the HTML parser into a state where the data
    element's `</script>` does not end it (escaping `</` alone is not enough): with every `<`
    written as `\\u003c` the page renders the text as it is. (The page's script comes before the
    data, so data that did escape its element would end in a message, not a blank page.)"""
    data = copy.deepcopy(sample)
    data["timelines"][0]["message"] = "a <!--<script> b"
    dom = Page(tmp_path, data).dump()
    assert body_of(dom).attrs.get("data-rendered") == "1"
    assert dom.find("dd", cls="tl-message").text() == "a <!--<script> b"


def test_screenshot(page, tmp_path):
    shot = tmp_path / "page.png"
    run_chromium(tmp_path, ["--screenshot=%s" % shot, "--window-size=1400,1000"], page.url())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1400, 1000)
