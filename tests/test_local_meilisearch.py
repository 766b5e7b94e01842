"""The embedded default's Meilisearch: the pinned binary, started and stopped for real."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from core.settings import PROJECT_ROOT
from search.local_server import (
    MEILISEARCH_VERSION,
    LocalMeilisearch,
    MeilisearchError,
    free_port,
    install_binary,
    master_key_for,
    verify_binary,
)
from tests.conftest import FIXTURE_CONTENT


def get(url: str, key: str | None = None) -> tuple[int, dict[str, object]]:
    request = urllib.request.Request(url)
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_pinned_binary_installs_and_passes_its_checksum() -> None:
    binary = install_binary()
    verify_binary(binary)  # raises on a mismatch
    assert binary.stat().st_mode & 0o100


def test_a_tampered_binary_is_refused(tmp_path: Path) -> None:
    copy = tmp_path / "meilisearch"
    shutil.copy(install_binary(), copy)
    with copy.open("ab") as handle:
        handle.write(b"\0")
    with pytest.raises(MeilisearchError, match=f"Meilisearch {MEILISEARCH_VERSION} must have"):
        verify_binary(copy)


def test_local_server_starts_answers_with_key_and_stops(tmp_path: Path) -> None:
    with LocalMeilisearch(tmp_path / "meili") as server:
        assert server.master_key is not None
        status, health = get(f"{server.url}/health")
        assert (status, health) == (200, {"status": "available"})
        status, version = get(f"{server.url}/version", server.master_key)
        assert status == 200
        assert version["pkgVersion"] == MEILISEARCH_VERSION
        status, _ = get(f"{server.url}/version")  # no key: refused
        assert status == 401
        port = server.port
    assert server.process is not None
    assert server.process.poll() is not None  # the process is gone
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", port or 0)) != 0


def test_master_key_is_created_once_and_kept_private(tmp_path: Path) -> None:
    key = master_key_for(tmp_path)
    assert len(key) >= 32
    assert master_key_for(tmp_path) == key
    assert (tmp_path / "master.key").stat().st_mode & 0o077 == 0


def test_a_taken_port_is_refused_before_starting(tmp_path: Path) -> None:
    with LocalMeilisearch(tmp_path / "first") as first:
        second = LocalMeilisearch(tmp_path / "second", port=first.port)
        with pytest.raises(MeilisearchError, match=f"Port {first.port} on 127.0.0.1 is already"):
            second.start()
        assert second.process is None


def test_a_server_that_cannot_start_says_why(tmp_path: Path) -> None:
    data_dir = tmp_path / "meili"
    data_dir.mkdir()
    (data_dir / "data.ms").write_text("not a database")  # a real fault: the db path is a file
    server = LocalMeilisearch(data_dir, startup_timeout=20)
    with pytest.raises(MeilisearchError, match="exited with status") as info:
        server.start()
    assert "meilisearch.log" in str(info.value)


def test_serve_stops_its_embedded_meilisearch_on_sigterm(tmp_path: Path) -> None:
    """A service manager stops `serve` with SIGTERM: the Meilisearch it started must go too
    (uvicorn re-raises SIGTERM after shutting down, which used to skip our cleanup)."""
    data = tmp_path / "meili"
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}",
        "MENTORING40_CONTENT_DIR": str(FIXTURE_CONTENT),
        "MENTORING40_LOAD_PLUGINS": "",
    }
    env.pop("MEILI_URL", None)
    command = [sys.executable, "-m", "core.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--search-data", str(data)],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, _ = get(f"http://127.0.0.1:{port}/health")
                if status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        assert meilisearch_pids(data), "serve did not start its Meilisearch"
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0
        deadline = time.monotonic() + 15
        while meilisearch_pids(data) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert meilisearch_pids(data) == []
    finally:
        if server.poll() is None:
            server.kill()
        for pid in meilisearch_pids(data):
            os.kill(pid, signal.SIGKILL)


def meilisearch_pids(data: Path) -> list[int]:
    """Processes whose command line names this data folder (read from /proc)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "meilisearch" in cmdline and f"--db-path {data}" in cmdline:
            pids.append(int(entry.name))
    return pids
