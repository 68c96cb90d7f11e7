"""The clause lint (ci/clauses) accepts the real catalogue and rejects broken ones."""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_lint(root: Path, *args):
    return subprocess.run([sys.executable, str(root / "ci" / "clauses"), *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def tree(tmp_path):
    """A copy of ci/clauses and spec/clauses with an empty props/, to break at will."""
    (tmp_path / "ci").mkdir()
    shutil.copy(ROOT / "ci" / "clauses", tmp_path / "ci" / "clauses")
    shutil.copytree(ROOT / "spec" / "clauses", tmp_path / "spec" / "clauses")
    (tmp_path / "props").mkdir()
    return tmp_path


def first_clause(tree):
    path = tree / "spec" / "clauses" / "queues.json"
    doc = json.loads(path.read_text())
    return path, doc


def test_real_catalogue_passes():
    r = run_lint(ROOT, "--quiet")
    assert r.returncode == 0, r.stderr
    assert "0 errors" in r.stdout


def test_duplicate_id_fails(tree):
    path, doc = first_clause(tree)
    doc["clauses"].append(dict(doc["clauses"][0]))
    path.write_text(json.dumps(doc))
    r = run_lint(tree, "--quiet")
    assert r.returncode == 1
    assert f"{doc['clauses'][0]['id']}: duplicate id" in r.stderr


def test_unknown_id_in_cpp_marker_fails(tree):
    # markers are spelled in two pieces here so that the lint does not read this file's fixtures
    (tree / "props" / "x_test.cpp").write_text('TEST(A, B) { MPC_' + 'CLAUSE("Q-NOPE-99"); }\n')
    r = run_lint(tree, "--quiet")
    assert r.returncode == 1
    assert "props/x_test.cpp:1: unknown clause id 'Q-NOPE-99'" in r.stderr


def test_unknown_id_in_pytest_marker_fails(tree):
    (tree / "props" / "test_x.py").write_text('import pytest\n\n@pytest.mark.' + 'clause("Z-1")\ndef test_a(): pass\n')
    r = run_lint(tree, "--quiet")
    assert r.returncode == 1
    assert "props/test_x.py:3: unknown clause id 'Z-1'" in r.stderr


def test_marker_counts_as_coverage(tree):
    path, doc = first_clause(tree)
    cid = doc["clauses"][0]["id"]
    before = run_lint(tree)
    (tree / "props" / "x_test.cpp").write_text(f'TEST(A, B) {{ MPC_' + f'CLAUSE("{cid}"); }}\n')
    after = run_lint(tree)
    assert before.returncode == 0 and after.returncode == 0, after.stderr
    row = lambda out: next(l for l in out.splitlines() if l.startswith("queues") and " cpp " in l)
    assert cid in row(before.stdout).split("%", 1)[1]
    assert cid not in row(after.stdout).split("%", 1)[1]


@pytest.mark.parametrize("mutation,message", [
    (lambda c: c.update(kind="sometimes"), "kind 'sometimes' is not one of"),
    (lambda c: c.update(id="q-full"), "malformed id"),
    (lambda c: c.pop("behaviour"), "field 'behaviour' missing"),
    (lambda c: c.update(kind="racy", allowed=[]), "a racy clause needs 'allowed'"),
    (lambda c: c.update(applies=["java"]), "'applies' must be a subset"),
    (lambda c: c.update(surprise=1), "unknown field 'surprise'"),
])
def test_malformed_clause_fails(tree, mutation, message):
    path, doc = first_clause(tree)
    mutation(doc["clauses"][0])
    path.write_text(json.dumps(doc))
    r = run_lint(tree, "--quiet")
    assert r.returncode == 1
    assert message in r.stderr


def test_missing_concept_file_fails(tree):
    (tree / "spec" / "clauses" / "connection.json").unlink()
    r = run_lint(tree, "--quiet")
    assert r.returncode == 1
    assert "connection.json: missing concept file" in r.stderr


def test_coverage_floor(tree):
    r = run_lint(tree, "--quiet", "--min-coverage", "queues:cpp=50")
    assert r.returncode == 1 and "queues:cpp coverage 0% < 50%" in r.stderr
    r = run_lint(tree, "--min-coverage", "bogus")
    assert r.returncode == 2 and "bad --min-coverage" in r.stderr


def test_model_and_checker_tests_do_not_count_as_coverage(tree):
    path, doc = first_clause(tree)
    cid = doc["clauses"][0]["id"]
    for sub in ("models", "checkers"):
        (tree / "props" / sub).mkdir()
        (tree / "props" / sub / "x_test.cpp").write_text(f'TEST(A, B) {{ MPC_' + f'CLAUSE("{cid}"); }}\n')
    r = run_lint(tree)
    assert r.returncode == 0, r.stderr
    row = next(l for l in r.stdout.splitlines() if l.startswith("queues") and " cpp " in l)
    assert cid in row.split("%", 1)[1]
    (tree / "props" / "models" / "x_test.cpp").write_text('TEST(A, B) { MPC_' + 'CLAUSE("Q-NOPE-1"); }\n')
    assert run_lint(tree, "--quiet").returncode == 1
