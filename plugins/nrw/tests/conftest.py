"""The NRW plugin's tests use mentoring40's test kit (core/testing.py, a pytest plugin
installed with mentoring40): it only needs the plugin's entry-point name."""

import pytest


@pytest.fixture(scope="session")
def mentoring40_plugin() -> str:
    return "nrw"
