"""Python mutants: CPython `multiprocessing` (fork context) with exactly one deliberate bug each.

Each `mpc_mutant_<bug>.py` is a drop-in for `multiprocessing` (module-level names, the fork
context from `get_context('fork')`, submodules such as `connection` delegating to CPython), so the
conformance suite can be pointed at it:

    PYTHONPATH=props/pymutants /usr/bin/python3 -m pytest props/conformance --impl mpc_mutant_lost_item

The suite must catch every one of them: test_mutants_caught.py runs the relevant conformance tests
on each mutant and on plain `multiprocessing` and asserts the mutant fails the expected clauses
while CPython passes them. The mutants are importable both top-level (props/pymutants on
sys.path) and as `pymutants.mpc_mutant_<bug>` (props/ on sys.path).
"""
