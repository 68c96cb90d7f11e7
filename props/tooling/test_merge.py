"""Campaigns that scale out: `mpconform run --shard i/N` runs disjoint parts of one run, and
`mpconform merge` combines their JSON reports into the verdicts a single run gives.

- the shards of a run cover its scenarios exactly once (the counts add up to a single run's);
- a mutant's first failure (seed, verdict, clause) is the same merged as in a single run (PCT
  schedules, so the failing scenario is the same one on every run);
- reports that are not shards of one run, a shard given twice, and files that are not reports
  are refused with one line naming the file and the field (exit 2); a missing shard makes the
  merged report incomplete (exit 1).
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_build = Path(os.environ.get("MPCONFORM_BUILD_DIR", ROOT / "build"))
BUILD = _build if _build.is_absolute() else ROOT / _build
MPCONFORM = BUILD / "harness" / "cli" / "mpconform"


@pytest.fixture(autouse=True)
def built():
    if not MPCONFORM.exists():
        pytest.skip(f"{MPCONFORM} is not built (ci/setup; MPCONFORM_BUILD_DIR={BUILD})")


def mpc(*args, check_rc=None):
    r = subprocess.run([str(MPCONFORM), *map(str, args)], capture_output=True, text=True, timeout=600)
    if check_rc is not None:
        assert r.returncode == check_rc, (r.returncode, r.stdout[-2000:], r.stderr)
    return r


def run(tmp_path, name, *args):
    out = tmp_path / f"{name}.json"
    mpc("run", *args, "--no-shrink", "--json", out)
    return out


@pytest.mark.timeout(300)
def test_shards_cover_the_run_once_and_merge_to_its_verdicts(tmp_path):
    common = ["--backend", "reference", "--property", "lock", "--property", "value", "--scenarios", 10, "--seed", 5]
    single = json.loads(run(tmp_path, "single", *common).read_text())
    shards = [run(tmp_path, f"s{i}", *common, "--shard", f"{i}/3") for i in (1, 2, 3)]
    per_shard = [{p["property"]: p["scenarios"] for p in json.loads(s.read_text())["properties"]} for s in shards]
    assert [d["lock"] for d in per_shard] == [4, 3, 3]  # k = 0,3,6,9 / 1,4,7 / 2,5,8
    merged_file = tmp_path / "merged.json"
    r = mpc("merge", *shards, "--json", merged_file, "--junit", tmp_path / "merged.xml", check_rc=0)
    assert "3 of 3 shards" in r.stdout
    merged = json.loads(merged_file.read_text())
    assert merged["complete"] and merged["passed"]
    assert [(p["property"], p["scenarios"], p["verdict"]) for p in merged["properties"]] == \
           [(p["property"], p["scenarios"], p["verdict"]) for p in single["properties"]]
    assert "<testsuite" in (tmp_path / "merged.xml").read_text()


@pytest.mark.timeout(300)
def test_a_mutants_first_failure_is_the_same_merged(tmp_path):
    common = ["--backend", "mutant:queue-reorder", "--property", "queue", "--scenarios", 30, "--seed", 1,
              "--mode", "pct"]
    single = json.loads(run(tmp_path, "single", *common).read_text())["properties"][0]
    shards = [run(tmp_path, f"s{i}", *common, "--shard", f"{i}/4") for i in (1, 2, 3, 4)]
    merged_file = tmp_path / "merged.json"
    mpc("merge", *reversed(shards), "--json", merged_file, check_rc=1)  # order does not matter
    merged = json.loads(merged_file.read_text())["properties"][0]
    assert single["verdict"] == "fail"
    key = lambda p: (p["verdict"], p["first_failure"]["seed"], p["first_failure"]["result"]["clause"])
    assert key(merged) == key(single)


@pytest.mark.timeout(300)
def test_what_cannot_be_merged_is_refused(tmp_path):
    common = ["--backend", "reference", "--property", "value", "--scenarios", 2]
    a1 = run(tmp_path, "a1", *common, "--seed", 1, "--shard", "1/2")
    a2 = run(tmp_path, "a2", *common, "--seed", 1, "--shard", "2/2")
    b2 = run(tmp_path, "b2", *common, "--seed", 2, "--shard", "2/2")
    (tmp_path / "empty.json").write_text("{}")
    (tmp_path / "junk.json").write_text("not json")
    cases = {
        (a1, b2): f"{b2}: seed: 2 differs from {a1}'s 1",
        (a1, a1): f"{a1}: shard.index: shard 1 is given twice",
        (a1, tmp_path / "empty.json"): f"{tmp_path / 'empty.json'}: format: not a mpconform-report/1 report",
        (a1, tmp_path / "junk.json"): f"{tmp_path / 'junk.json'}: not JSON",
        (a1, tmp_path / "missing.json"): f"{tmp_path / 'missing.json'}: cannot read the file",
    }
    for files, message in cases.items():
        r = mpc("merge", *files)
        assert r.returncode == 2 and r.stderr.count("\n") == 1 and message in r.stderr, (files, r.stderr)
    r = mpc("merge", a2)
    assert r.returncode == 1 and "incomplete: shard(s) 1 of 2 missing" in r.stdout
    mpc("merge", a1, a2, check_rc=0)
    for bad in ("0/2", "3/2", "x", "1/0", "1/2/3"):
        r = mpc("run", "--shard", bad, "--scenarios", 1)
        assert r.returncode == 2 and "--shard" in r.stderr, (bad, r.stderr)
