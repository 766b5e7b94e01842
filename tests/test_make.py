"""The README's two commands: `make run` installs only what running needs (no test tools,
nothing with apt); `make test` installs the test tools as well. Checked with make's dry
run from scratch, which prints every command it would run and runs none."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from core.settings import PROJECT_ROOT

# What only the tests need: the dev extra (pytest, ruff, mypy, playwright, locust), the
# browser tests' npm packages, Chromium and nginx from apt, Docker Compose.
TEST_TOOLS = ("[dev]", "tests/browser", "apt-get", "chromium", "nginx", "compose")


def planned(target: str) -> str:
    """The commands ``make target`` would run on a fresh clone (nothing is run)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    result = subprocess.run(
        ["make", "--dry-run", "--always-make", "-C", str(PROJECT_ROOT), target],
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_make_run_installs_only_what_running_needs() -> None:
    commands = planned("run")
    assert [tool for tool in TEST_TOOLS if tool in commands] == []
    assert "-e . -e plugins/nrw" in commands  # the app and the NRW plugin
    assert "install_binary" in commands  # the pinned Meilisearch
    assert "mentoring40 serve" in commands


def test_make_test_installs_the_test_tools_too() -> None:
    commands = planned("test")
    assert "install_binary" in commands
    assert [tool for tool in TEST_TOOLS if tool not in commands] == []
    assert "pytest" in commands


def test_make_help_lists_both_install_targets() -> None:
    listed = subprocess.run(
        ["make", "-C", str(PROJECT_ROOT), "--no-print-directory", "help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "make install " in listed
    assert "make install-test" in listed
