"""The embedded default's Meilisearch: the pinned binary, started and stopped for real."""

from __future__ import annotations

import contextlib
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

import psutil
import pytest
from click.testing import CliRunner

from core.cli import main
from core.settings import PROJECT_ROOT, Settings
from search.local_server import (
    MEILISEARCH_VERSION,
    STATE_FILE,
    LocalMeilisearch,
    MeilisearchError,
    free_port,
    install_binary,
    master_key_for,
    running_embedded,
    running_state,
    verify_binary,
)
from tests.conftest import FIXTURE_CONTENT, make_settings, sync


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


def test_the_master_key_is_passed_in_the_environment_not_on_the_command_line(
    tmp_path: Path,
) -> None:
    """Every local user can read a process's command line (``ps``); only its owner can
    read its environment."""
    with LocalMeilisearch(tmp_path / "meili") as server:
        assert server.process is not None
        assert server.master_key is not None
        cmdline = Path(f"/proc/{server.process.pid}/cmdline").read_bytes()
        assert server.master_key.encode() not in cmdline
        assert b"master-key" not in cmdline
        assert get(f"{server.url}/version", server.master_key)[0] == 200  # the key applies
        assert get(f"{server.url}/version")[0] == 401


def test_a_state_file_whose_process_is_gone_is_ignored_and_removed(tmp_path: Path) -> None:
    data = tmp_path / "meili"
    data.mkdir()
    gone = subprocess.Popen(["true"])
    gone.wait()  # a PID that no longer runs
    state = {"url": "http://127.0.0.1:9", "pid": gone.pid, "owner_pid": os.getpid()}
    (data / STATE_FILE).write_text(json.dumps(state))
    (data / "url").write_text("http://127.0.0.1:9\n")  # an earlier version's state file
    assert running_embedded(data) is None
    assert sorted(p.name for p in data.iterdir()) == []


def test_a_second_server_on_the_same_data_folder_names_the_running_one(tmp_path: Path) -> None:
    with LocalMeilisearch(tmp_path / "meili") as first:
        assert first.process is not None
        with pytest.raises(MeilisearchError, match="already runs on the data folder") as info:
            LocalMeilisearch(tmp_path / "meili").start()
        assert f"PID {first.process.pid} on {first.url}" in str(info.value)
        assert running_embedded(tmp_path / "meili") == (first.url, first.master_key)
    assert not (tmp_path / "meili" / STATE_FILE).exists()  # stop() removes it


def test_search_status_finds_the_embedded_meilisearch_in_the_search_data_folder(
    tmp_path: Path, content_dir: Path
) -> None:
    """`search status` and `search reindex` find the embedded Meilisearch through
    MENTORING40_SEARCH_DATA (not always the checkout's var/), and only while it runs."""
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", content_dir)
    sync(settings)
    env = {
        "DATABASE_URL": settings.database_url,
        "MENTORING40_CONTENT_DIR": str(content_dir),
        "MENTORING40_LOAD_PLUGINS": "",
        "MENTORING40_SEARCH_DATA": str(tmp_path / "meili"),
        "MEILI_URL": None,
        "MEILI_ADMIN_KEY": None,
        "MEILI_MASTER_KEY": None,
        "MEILI_INDEX": "status_probe",
    }
    with LocalMeilisearch(tmp_path / "meili"):
        reindex = CliRunner().invoke(main, ["search", "reindex"], env=env)
        assert reindex.exit_code == 0, reindex.output
        status = CliRunner().invoke(main, ["search", "status"], env=env)
        assert "Documents in index 'status_probe': 3" in status.output, status.output
    status = CliRunner().invoke(main, ["search", "status"], env=env)
    assert "no MEILI_URL set and no embedded Meilisearch running" in status.output


def test_tests_keep_their_state_out_of_the_checkout() -> None:
    """With `make run` serving from var/, `make test` must not read or change that state
    (tests/conftest.py gives each test its own)."""
    settings = Settings.from_env()
    checkout_state = PROJECT_ROOT / "var"
    assert not Path(settings.database_url[len("sqlite:///") :]).is_relative_to(checkout_state)
    assert not settings.search_data.is_relative_to(checkout_state)


# -- what happens when a command that started Meilisearch is stopped or killed ------------


def command_env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite'}",
        "MENTORING40_CONTENT_DIR": str(FIXTURE_CONTENT),
        "MENTORING40_LOAD_PLUGINS": "",
    }
    for name in ("MEILI_URL", "MEILI_ADMIN_KEY", "MEILI_MASTER_KEY", "MEILI_SEARCH_KEY"):
        env.pop(name, None)
    return env


def start_command(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "core.cli", *args],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_running(
    process: subprocess.Popen[bytes], data: Path, log: Path, app_port: int | None = None
) -> int:
    """Wait until the command's Meilisearch (and app, if any) answer; its Meilisearch PID."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text(errors="replace")[-3000:]
        found = running_embedded(data)
        if found is not None and (app_port is None or answers(app_port)):
            state = running_state(data)
            assert state is not None
            return state.pid
        time.sleep(0.2)
    pytest.fail(f"not running within 90 s:\n{log.read_text(errors='replace')[-3000:]}")


def answers(port: int) -> bool:
    try:
        return get(f"http://127.0.0.1:{port}/health")[0] == 200
    except OSError:
        return False


def family(pid: int) -> list[psutil.Process]:
    """The process and everything it started (workers, Meilisearch, helpers)."""
    parent = psutil.Process(pid)
    return [parent, *parent.children(recursive=True)]


def wait_all_gone(processes: list[psutil.Process], timeout: float = 30) -> list[str]:
    """Wait until none of ``processes`` runs (a zombie has ended); what still runs."""
    deadline = time.monotonic() + timeout
    while True:
        left = []
        for p in processes:
            with contextlib.suppress(psutil.NoSuchProcess):
                if p.is_running() and p.status() != psutil.STATUS_ZOMBIE:
                    left.append(f"{p.pid} {' '.join(p.cmdline())[:120]}")
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.2)


def stop_for_good(processes: list[psutil.Process]) -> None:
    for p in processes:
        with contextlib.suppress(psutil.Error):
            p.kill()


def signal_and_check(
    process: subprocess.Popen[bytes], started: list[psutil.Process], sig: signal.Signals
) -> None:
    process.send_signal(sig)
    code = process.wait(timeout=60)
    if sig != signal.SIGKILL:
        assert code == 0
    assert wait_all_gone(started) == []


def named(value: object) -> str:
    return value.name if isinstance(value, signal.Signals) else f"{value}-workers"


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGKILL], ids=named)
def test_search_serve_leaves_nothing_behind_and_starts_again(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """Stopped (SIGTERM, Ctrl-C) or killed (SIGKILL), `search serve` takes its
    Meilisearch along, and a second start on the same port and data folder works."""
    data, port, env = tmp_path / "meili", free_port(), command_env(tmp_path)
    args = ["search", "serve", "--port", str(port), "--data-dir", str(data)]
    log = tmp_path / "search-serve.log"
    first = start_command(args, env, log)
    started = [psutil.Process(first.pid)]
    try:
        started.append(psutil.Process(wait_running(first, data, log)))
        signal_and_check(first, started, sig)
        if sig != signal.SIGKILL:  # SIGKILL leaves it; the next reader removes it
            assert not (data / STATE_FILE).exists()
        assert running_embedded(data) is None
        assert not (data / STATE_FILE).exists()

        second = start_command(args, env, log)
        started.append(psutil.Process(second.pid))
        started.append(psutil.Process(wait_running(second, data, log)))
        signal_and_check(second, started, signal.SIGTERM)
    finally:
        stop_for_good(started)


@pytest.mark.parametrize(
    ("sig", "workers"),
    [
        (signal.SIGTERM, 1),
        (signal.SIGINT, 1),
        (signal.SIGKILL, 1),
        (signal.SIGTERM, 2),
        (signal.SIGKILL, 2),
    ],
    ids=named,
)
def test_serve_leaves_nothing_behind_and_starts_again(
    tmp_path: Path, sig: signal.Signals, workers: int
) -> None:
    """A service manager stops `serve` with SIGTERM, a person with Ctrl-C, the OOM killer
    with SIGKILL: its Meilisearch and its uvicorn workers go too, its state file describes
    no dead process, and the next start on the same port and data folder works."""
    data, port, env = tmp_path / "meili", free_port(), command_env(tmp_path)
    args = ["serve", "--port", str(port), "--workers", str(workers), "--search-data", str(data)]
    log = tmp_path / "serve.log"
    first = start_command(args, env, log)
    started = [psutil.Process(first.pid)]
    try:
        wait_running(first, data, log, app_port=port)
        started = family(first.pid)
        assert len(started) >= 1 + workers  # serve and Meilisearch (and the workers)
        signal_and_check(first, started, sig)
        assert running_embedded(data) is None
        assert not (data / STATE_FILE).exists()
        assert not answers(port)

        second = start_command(args, env, log)
        started.append(psutil.Process(second.pid))
        wait_running(second, data, log, app_port=port)
        started = [*started, *family(second.pid)]
        signal_and_check(second, started, signal.SIGTERM)
    finally:
        stop_for_good(started)


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
