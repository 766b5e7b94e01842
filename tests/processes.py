"""The app as it is deployed, as real processes for the tests: `python -m core.server
core.app:create_app_from_env --factory --workers N` on a free loopback port, started and
always stopped by the test (fixture ``apps``), and polling with a deadline."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from core.settings import PROJECT_ROOT
from search.local_server import free_port


def wait_until(
    what: str, check: Callable[[], Any], timeout: float = 60, interval: float = 0.2
) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except httpx.HTTPError as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    pytest.fail(f"{what}: not reached within {timeout:.0f} s (last: {last!r})")


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL after 20 s; always reaped."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
    process.wait(timeout=20)


class App:
    """The app (core.server, ``workers`` processes) on a free loopback port. With several
    workers, ``env`` must set PROMETHEUS_MULTIPROC_DIR (how ``served_by`` tells them apart)."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 2) -> None:
        self.metrics_dir = Path(env.get("PROMETHEUS_MULTIPROC_DIR", "."))
        self.expected_workers = workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    *(sys.executable, "-m", "core.server", "core.app:create_app_from_env"),
                    *("--factory", "--workers", str(workers), "--host", "127.0.0.1"),
                    *("--port", str(self.port), "--no-access-log"),
                ],
                env=env,
                cwd=PROJECT_ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def wait_healthy(self, timeout: float = 90) -> None:
        """Wait until the workers run and each has answered a request."""

        def healthy() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"uvicorn exited with {self.process.returncode}:\n{self.log_text()}")
            # A fresh connection each time, so that the kernel hands it to any worker.
            ok = httpx.get(f"{self.url}/health", timeout=5).status_code == 200
            if self.expected_workers == 1:
                return ok
            workers = self.workers()
            return (
                ok
                and len(workers) == self.expected_workers
                and all(self.served_by(w.pid) for w in workers)
            )

        wait_until("every worker answers /health with 200", healthy, timeout, interval=0.05)

    def workers(self) -> list[psutil.Process]:
        """The worker processes: children of the uvicorn master started by multiprocessing
        (not its resource tracker)."""
        try:
            children = psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []
        found = []
        for child in children:
            with contextlib.suppress(psutil.Error):
                spawned = any("spawn_main" in part for part in child.cmdline())
                if spawned and child.status() != psutil.STATUS_ZOMBIE:
                    found.append(child)
        return found

    def served_by(self, pid: int) -> bool:
        """Whether worker ``pid`` has answered a request. Every counter of the app has
        labels, so prometheus_client's multiprocess mode creates a worker's counter file
        only when the first request's metrics are recorded (the gauges' file at import)."""
        return (self.metrics_dir / f"counter_{pid}.db").exists()

    def log_text(self, tail: int | None = 5000) -> str:
        """The app's log, its last ``tail`` characters (None: all of it)."""
        text = self.log.read_text(errors="replace")
        return text if tail is None else text[-tail:]

    def stop(self) -> None:
        workers = self.workers()
        stop_process(self.process)
        for worker in workers:  # uvicorn stops its workers; make sure none outlives it
            with contextlib.suppress(psutil.Error):
                worker.kill()


@pytest.fixture
def apps() -> Iterator[Callable[..., App]]:
    """Start apps (``apps(env, log, workers=2)``); every one is stopped at the end, also
    when the test fails."""
    started: list[App] = []

    def start(env: dict[str, str], log: Path, workers: int = 2) -> App:
        app = App(env, log, workers)
        started.append(app)
        app.wait_healthy()
        return app

    yield start
    for app in started:
        app.stop()
