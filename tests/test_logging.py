"""Logs: JSON lines in production with the request id in every line, readable text in
development; result tokens and secrets never reach the log. A real uvicorn process."""

from __future__ import annotations

import json
import logging
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
from tests.test_quickcheck_api import ANSWERS

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


def logged_lines(
    settings: Settings, capfd: pytest.CaptureFixture[str], requests: Callable[[Any], None]
) -> list[str]:
    """The lines the app writes to stderr while ``requests`` runs against it."""
    app = create_app(settings, build_registry(settings, load_installed=False))
    capfd.readouterr()
    with TestClient(app) as client:
        requests(client)
    logs._stop()  # flush the queue
    return capfd.readouterr().err.splitlines()


FORGED = "2026-11-30 12:00:00,000 INFO    mentoring40.access [lotse-req-0003] GET /admin 200"


def test_a_request_cannot_forge_log_lines_or_drive_the_terminal(
    tmp_path: Path, content_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", content_dir)
    sync(settings)
    forged = FORGED.replace(" ", "%20")

    def requests(client: Any) -> None:
        client.get(f"/entries/x%0a{forged}", headers={"X-Request-ID": "lotse-req-0004"})
        client.get("/entries/%1b[2J%1b[31mrot%e2%80%a8%e2%80%aeumgedreht")

    lines = logged_lines(settings, capfd, requests)
    assert not any(line.startswith(FORGED) for line in lines)  # no line of the caller's
    first = next(line for line in lines if "lotse-req-0004" in line)
    assert first.endswith(f"GET /entries/x\\n{FORGED} 404 " + first.split(" 404 ")[-1])
    second = next(line for line in lines if "rot" in line)
    assert "GET /entries/\\x1b[2J\\x1b[31mrot\\u2028\\u202eumgedreht 404" in second
    assert not any(char in "".join(lines) for char in "\x1b\u2028\u202e")


def test_a_traceback_cannot_forge_log_lines_either(
    tmp_path: Path, content_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", content_dir)
    logs.configure_logging(settings)
    capfd.readouterr()
    try:  # an exception whose message carries what a caller sent
        raise ValueError(f"kein Eintrag x\n{FORGED}\x1b[2J")
    except ValueError:
        logging.getLogger("mentoring40.plugins").exception("Plugin nrw failed")
    logs._stop()  # flush the queue
    lines = capfd.readouterr().err.splitlines()

    assert lines[0].endswith("ERROR   mentoring40.plugins [-] Plugin nrw failed")
    assert lines[1] == "  | Traceback (most recent call last):"
    assert all(line.startswith("  | ") for line in lines[1:])
    assert lines[-2:] == ["  | ValueError: kein Eintrag x", f"  | {FORGED}\\x1b[2J"]
    assert not any(line.startswith(FORGED) for line in lines)


def test_json_logs_escape_c1_controls_and_line_separators_too(
    tmp_path: Path, content_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", content_dir, log_format="json")
    sync(settings)
    lines = logged_lines(
        settings, capfd, lambda client: client.get("/entries/a%c2%9b31mb%e2%80%a8c%0ad")
    )
    access = [json.loads(line) for line in lines if "mentoring40.access" in line]
    assert [e["path"] for e in access] == ["/entries/a\\x9b31mb\\u2028c\\nd"]
    assert all(char not in "".join(lines) for char in "\x9b\u2028")


def test_a_result_token_is_masked_in_any_path_shape_that_reaches_the_result(
    tmp_path: Path, content_dir: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """The router collapses repeated slashes (as nginx does), so /api/v1/results//TOKEN
    answers like /api/v1/results/TOKEN; the token is masked by the route it matched."""
    settings = make_settings(f"sqlite:///{tmp_path / 'db.sqlite'}", content_dir)
    sync(settings)
    tokens: list[str] = []

    def requests(client: Any) -> None:
        body = {"version": 1, "perspective": "mitarbeitende", "answers": ANSWERS}
        created = client.post("/api/v1/questionnaires/probe/responses", json=body)
        tokens.append(created.json()["data"]["token"])
        token = tokens[0]
        for path in (
            f"/api/v1/results//{token}",
            f"/api/v1/results/{token}/",
            f"/api//v1/results/{token}",
            f"/api/v1/results/%2F{token}",
            f"/results//{token}",
        ):
            assert client.get(path).status_code in {200, 404}, path
        assert client.get(f"/api/v1/results//{token}").status_code == 200

    lines = logged_lines(settings, capfd, requests)
    (token,) = tokens
    assert not any(token in line for line in lines), [x for x in lines if token in x]
    access = [line.split("] ", 1)[1] for line in lines if "mentoring40.access" in line]
    assert any(line.startswith("GET /api/v1/results//*** 200") for line in access), access
    assert any(line.startswith("GET /results//*** ") for line in access), access


def test_settings_never_show_secrets() -> None:
    settings = Settings(
        database_url="postgresql://app:db-password-123@db/toolbox", meili_admin_key=MASTER_KEY
    )
    shown: Any = repr(settings) + str(settings)
    assert MASTER_KEY not in shown
    assert "db-password-123" not in shown
    assert "postgresql://app:***@db/toolbox" in shown
