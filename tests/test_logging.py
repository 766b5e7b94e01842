"""Logs: JSON lines in production with the request id in every line, readable text in
development; result tokens and secrets never reach the log. A real uvicorn process."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from core import logs
from core.app import create_app
from core.plugins import build_registry
from core.settings import Settings
from search.local_server import free_port
from tests.conftest import make_settings, sync
from tests.processes import App, wait_until

MASTER_KEY = "never-log-this-meilisearch-key-4711"
TOKEN = "never-log-this-result-token-0815"


def test_production_logs_are_json_lines_with_request_ids_and_no_secrets(
    tmp_path: Path, content_dir: Path, apps: Callable[..., App]
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", content_dir)
    sync(settings)
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MENTORING40_CONTENT_DIR": str(content_dir),
        "MENTORING40_LOAD_PLUGINS": "",
        "MENTORING40_LOG_FORMAT": "json",
        # Nothing listens there: the search worker logs warnings, which must be JSON too.
        "MEILI_URL": f"http://127.0.0.1:{free_port()}",
        "MEILI_MASTER_KEY": MASTER_KEY,
    }
    log_path = tmp_path / "server.log"
    app = apps(env, log_path, workers=1)
    listed = httpx.get(f"{app.url}/api/v1/entries", headers={"X-Request-ID": "lotse-req-0001"})
    assert listed.headers["x-request-id"] == "lotse-req-0001"
    assert httpx.get(f"{app.url}/api/v1/results/{TOKEN}").status_code == 404
    assert httpx.get(f"{app.url}/results/{TOKEN}").status_code == 404
    wait_until(
        "the search worker's warning about Meilisearch",
        lambda: "Search index not reachable" in log_path.read_text(encoding="utf-8"),
    )
    app.stop()  # its last lines are written on the way out

    text = log_path.read_text(encoding="utf-8")
    assert MASTER_KEY not in text
    assert TOKEN not in text
    lines = [json.loads(line) for line in text.splitlines() if line.strip()]  # all JSON
    assert all({"ts", "level", "logger", "message", "request_id"} <= set(e) for e in lines)
    access = [e for e in lines if e["logger"] == "mentoring40.access"]
    first = next(e for e in access if e["request_id"] == "lotse-req-0001")
    assert (first["method"], first["path"], first["status"]) == ("GET", "/api/v1/entries", 200)
    assert isinstance(first["duration_ms"], float)
    assert {e["path"] for e in access if e["status"] == 404} == {
        "/api/v1/results/***",
        "/results/***",
    }
    assert len({e["request_id"] for e in access}) == len(access)  # one id per request
    assert any(e["logger"] == "mentoring40.search" and e["level"] == "WARNING" for e in lines)
    assert any(e["logger"].startswith("uvicorn") for e in lines)  # the server's own lines


def test_development_logs_are_readable_lines_with_the_request_id(
    tmp_path: Path, content_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", content_dir)
    sync(settings)
    app = create_app(settings, build_registry(settings, load_installed=False))
    with TestClient(app) as client:
        client.get("/api/v1/entries", headers={"X-Request-ID": "lotse-req-0002"})
    logs._stop()  # flush the queue
    line = next(x for x in capfd.readouterr().err.splitlines() if "lotse-req-0002" in x)
    assert "INFO    mentoring40.access [lotse-req-0002] GET /api/v1/entries 200" in line


def test_settings_never_show_secrets() -> None:
    settings = Settings(
        database_url="postgresql://app:db-password-123@db/toolbox", meili_admin_key=MASTER_KEY
    )
    shown: Any = repr(settings) + str(settings)
    assert MASTER_KEY not in shown
    assert "db-password-123" not in shown
    assert "postgresql://app:***@db/toolbox" in shown
