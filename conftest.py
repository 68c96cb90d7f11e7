"""pytest driver for mpconform.

Markers:
  @pytest.mark.clause("Q-FULL-1", ...)   the clauses a test checks (spec/clauses/README.md)

Every test gets a timeout (pytest-timeout) unless it sets its own: nothing may hang.
"""
import pytest

DEFAULT_TIMEOUT_S = 60


def pytest_configure(config):
    config.addinivalue_line("markers", "clause(*ids): the spec clause ids this test checks")
    if not config.pluginmanager.hasplugin("timeout"):
        raise pytest.UsageError("pytest-timeout is required (Debian: python3-pytest-timeout)")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(DEFAULT_TIMEOUT_S))
