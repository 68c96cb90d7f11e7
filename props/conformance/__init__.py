"""Conformance tests: the same bodies on CPython multiprocessing (the oracle) and on --impl."""
