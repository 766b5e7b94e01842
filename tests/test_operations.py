"""Operations: /ready says what is wrong, every response carries security headers and a
request id, and request bodies have a size limit. Real databases and a real Meilisearch."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import TestClient
from piccolo.apps.migrations.tables import Migration

from core.app import create_app
from core.db.engine import engine_from_url, use_engine
from core.db.tables import SearchOutbox
from core.http.security import API_CSP
from core.plugins import build_registry
from core.settings import Settings
from core.settings_variables import SettingsError
from search.local_server import LocalMeilisearch
from tests.conftest import on_meilisearch, run, sync

Client = TestClient[Any]


def app_client(settings: Settings) -> TestClient[Any]:
    return TestClient(create_app(settings, build_registry(settings, load_installed=False)))


def wait_for_ready(client: Client, timeout: float = 30) -> dict[str, Any]:
    """Until ready with nothing left in the outbox (the worker indexes in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get("/ready")
        outbox = response.json()["checks"].get("outbox", {})
        if response.status_code == 200 and outbox.get("detail") == "nothing waiting":
            body: dict[str, Any] = response.json()
            return body
        if time.monotonic() > deadline:
            raise AssertionError(f"/ready stayed {response.status_code}: {response.text}")
        time.sleep(0.2)


def test_ready_without_search_lists_its_checks(fixture_client: Client) -> None:
    response = fixture_client.get("/ready")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"ok": True, "detail": "reachable; 3 published entries"}
    assert body["checks"]["migrations"] == {"ok": True, "detail": "current"}
    assert body["checks"]["search"]["ok"] is True
    assert "no MEILI_URL" in body["checks"]["search"]["detail"]


def test_ready_names_a_pending_migration(fixture_settings: Settings) -> None:
    sync(fixture_settings)
    use_engine(engine_from_url(fixture_settings.database_url))
    newest = run(
        Migration.select(Migration.name).order_by(Migration.id, ascending=False).first().run()
    )
    assert newest is not None
    run(Migration.delete().where(Migration.name == newest["name"]).run())
    with app_client(fixture_settings) as client:
        response = client.get("/ready")
        assert client.get("/health").status_code == 200  # alive, but not ready
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "not_ready"
    migrations = body["checks"]["migrations"]
    assert migrations["ok"] is False
    assert newest["name"] in migrations["detail"]
    assert "mentoring40 migrate" in migrations["detail"]


def test_ready_and_health_fail_when_the_database_is_unreachable(
    tmp_path: Path, content_dir: Path
) -> None:
    # A SQLite path whose folder does not exist: every query fails, as on a lost volume.
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'missing' / 'db.sqlite'}", content_dir=content_dir
    )
    with app_client(settings) as client:
        ready = client.get("/ready")
        health = client.get("/health")
    assert ready.status_code == 503
    assert ready.json()["checks"]["database"]["ok"] is False
    assert "migrations" not in ready.json()["checks"]
    assert health.status_code == 503


@pytest.fixture
def meili(tmp_path: Path) -> Iterator[LocalMeilisearch]:
    with LocalMeilisearch(tmp_path / "meili") as server:
        yield server


def test_ready_follows_the_search_engine_and_the_outbox(
    meili: LocalMeilisearch, fixture_settings: Settings
) -> None:
    settings = on_meilisearch(fixture_settings, meili, ready_max_outbox_age=60)
    sync(settings)
    with app_client(settings) as client:
        body = wait_for_ready(client)
        assert body["checks"]["search"] == {
            "ok": True,
            "detail": "Meilisearch reachable; index set up (this worker indexes)",
        }
        assert body["checks"]["outbox"] == {"ok": True, "detail": "nothing waiting"}

        # A change that has waited ten minutes (held back from the worker) makes the
        # instance not ready, and the answer says how long it waited.
        long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        # On the app's event loop: PostgreSQL's pool belongs to it.
        client.blocking_portal.call(
            SearchOutbox.insert(
                SearchOutbox(entry_slug="aufgabenliste", created_at=long_ago, next_attempt_at=later)
            ).run
        )
        stale = client.get("/ready")
        assert stale.status_code == 503
        outbox = stale.json()["checks"]["outbox"]
        assert outbox["ok"] is False
        assert "1 change(s) waiting, oldest 600 s" in outbox["detail"]
        assert "limit 60 s" in outbox["detail"]
        client.blocking_portal.call(
            SearchOutbox.delete().where(SearchOutbox.entry_slug == "aufgabenliste").run
        )

        meili.stop()
        down = client.get("/ready")
        assert down.status_code == 503
        assert down.json()["checks"]["search"]["ok"] is False
        assert "Meilisearch unreachable" in down.json()["checks"]["search"]["detail"]
        assert client.get("/health").status_code == 200  # reads go on without search


def test_every_response_carries_security_headers_and_a_request_id(
    fixture_client: Client,
) -> None:
    api = fixture_client.get("/api/v1/entries")
    assert api.headers["content-security-policy"] == API_CSP
    assert api.headers["x-content-type-options"] == "nosniff"
    assert api.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    generated = api.headers["x-request-id"]
    assert len(generated) == 32
    assert fixture_client.get("/api/v1/entries").headers["x-request-id"] != generated

    problem = fixture_client.get("/api/v1/entries/gibt-es-nicht")
    assert problem.status_code == 404
    assert problem.headers["content-security-policy"] == API_CSP

    # A page keeps its own policy (frame-ancestors per site), only one CSP header is sent.
    page = fixture_client.get("/")
    assert page.headers.get_list("content-security-policy") == [
        page.headers["content-security-policy"]
    ]
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'self'" in page.headers["content-security-policy"]

    # The API docs page has its own policy (tests/test_api_docs.py), again only one.
    assert len(fixture_client.get("/schema").headers.get_list("content-security-policy")) == 1


def test_a_caller_request_id_is_kept_and_a_bad_one_replaced(fixture_client: Client) -> None:
    kept = fixture_client.get("/health", headers={"X-Request-ID": "lb-4711-abcdef"})
    assert kept.headers["x-request-id"] == "lb-4711-abcdef"
    bad = fixture_client.get("/health", headers={"X-Request-ID": "<script>"})
    assert bad.headers["x-request-id"] != "<script>"
    assert len(bad.headers["x-request-id"]) == 32


def test_a_request_body_over_the_limit_is_refused_with_413(fixture_settings: Settings) -> None:
    settings = msgspec.structs.replace(fixture_settings, max_body_bytes=2048)
    sync(settings)
    with app_client(settings) as client:
        big = {"version": 1, "perspective": "mitarbeitende", "answers": {"x": "a" * 4000}}
        response = client.post("/api/v1/questionnaires/probe/responses", json=big)
        small = client.post(
            "/api/v1/questionnaires/probe/responses",
            json={"version": 1, "perspective": "mitarbeitende", "answers": {}},
        )
    assert response.status_code == 413
    assert small.status_code == 422  # read and validated: the limit let it through


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("MENTORING40_MAX_BODY_BYTES", "10", "at least 1024"),
        ("MENTORING40_MAX_BODY_BYTES", "1MB", "not a whole number"),
        ("MENTORING40_READY_MAX_OUTBOX_AGE", "-5", "not a whole number of at least 1"),
    ],
)
def test_operation_settings_are_checked(variable: str, value: str, words: str) -> None:
    with pytest.raises(SettingsError, match=variable) as info:
        Settings.from_env({variable: value})
    assert words in str(info.value)


def test_operation_settings_are_read() -> None:
    settings = Settings.from_env(
        {"MENTORING40_MAX_BODY_BYTES": "4096", "MENTORING40_READY_MAX_OUTBOX_AGE": "90"}
    )
    assert (settings.max_body_bytes, settings.ready_max_outbox_age) == (4096, 90)


def metric(text: str, name: str, **labels: str) -> float:
    """One sample's value from the Prometheus text format (0 if absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{wanted}}} " if labels else f"{name} "
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


METRICS_TOKEN = "scrape-token-0123456789"
SCRAPER = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
def metrics_client(fixture_settings: Settings) -> Iterator[Client]:
    """The fixture content's app with a metrics token (the test client is not loopback)."""
    settings = msgspec.structs.replace(fixture_settings, metrics_token=METRICS_TOKEN)
    sync(settings)
    with TestClient(create_app(settings, build_registry(settings, load_installed=False))) as c:
        yield c


def test_metrics_count_requests_by_route_quickcheck_submissions_and_the_outbox(
    metrics_client: Client,
) -> None:
    fixture_client = metrics_client
    before = fixture_client.get("/metrics", headers=SCRAPER).text
    for slug in ("aufgabenliste", "gibt-es-nicht"):
        fixture_client.get(f"/api/v1/entries/{slug}")
    answers = {"version": 1, "perspective": "mitarbeitende", "mode": "test", "answers": {}}
    fixture_client.post("/api/v1/questionnaires/probe/responses", json=answers)  # 422
    response = fixture_client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    after = response.text
    # Paths are grouped by their route, so a slug does not make a new series.
    route = {"app_name": "mentoring40", "method": "GET", "path": "/api/v1/entries/{slug}"}
    by_route = [line for line in after.splitlines() if "/api/v1/entries/aufgabenliste" in line]
    assert by_route == []
    delta = sum(
        metric(after, "mentoring40_requests_total", **route, status_code=code)
        - metric(before, "mentoring40_requests_total", **route, status_code=code)
        for code in ("200", "404")
    )
    assert delta == 2
    assert "mentoring40_request_duration_seconds_bucket" in after
    # The 422 stored nothing, so no submission was counted; the outbox gauge is there.
    submissions = {"questionnaire": "probe", "mode": "test"}
    assert metric(after, "mentoring40_quickcheck_submissions_total", **submissions) == metric(
        before, "mentoring40_quickcheck_submissions_total", **submissions
    )
    assert "mentoring40_outbox_pending " in after


def test_metrics_need_the_token_when_one_is_set(metrics_client: Client) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong-token-0123456789"},
        {"Authorization": METRICS_TOKEN},
    ):
        response = metrics_client.get("/metrics", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "MENTORING40_METRICS_TOKEN" in response.json()["detail"]
        assert "mentoring40_requests_total" not in response.text
    assert metrics_client.get("/metrics", headers=SCRAPER).status_code == 200


async def _metrics_from(settings: Settings, client_host: str) -> httpx.Response:
    # The client address is what the server saw; the test client cannot choose it, an
    # ASGI transport can (the app itself is real).
    app = create_app(settings, build_registry(settings, load_installed=False))
    transport = httpx.ASGITransport(app=app, client=(client_host, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
        return await client.get("/metrics")


def test_metrics_without_a_token_answer_only_clients_on_this_machine(
    fixture_settings: Settings,
) -> None:
    sync(fixture_settings)
    assert fixture_settings.metrics_token is None  # the default
    for host in ("127.0.0.1", "::1"):
        response = asyncio.run(_metrics_from(fixture_settings, host))
        assert response.status_code == 200, host
        assert "mentoring40_outbox_pending" in response.text
    for host in ("203.0.113.9", "2001:db8::1", "10.0.0.2", "testclient"):
        response = asyncio.run(_metrics_from(fixture_settings, host))
        assert response.status_code == 403, host
        assert "only clients on this machine" in response.json()["detail"]


@pytest.mark.parametrize("value", ["short", "with space in the token", "ünïcödé-token-0123456"])
def test_a_weak_metrics_token_stops_startup(value: str) -> None:
    with pytest.raises(SettingsError, match=r"MENTORING40_METRICS_TOKEN=.*at least 16"):
        Settings.from_env({"MENTORING40_METRICS_TOKEN": value})


def test_commands_say_plainly_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from core.cli import main
    from search.local_server import free_port

    url = f"postgresql://app:secret-pw-42@127.0.0.1:{free_port()}/toolbox"
    env = {"DATABASE_URL": url, "MENTORING40_LOAD_PLUGINS": ""}
    for args in (
        ["content", "export", "-o", str(tmp_path / "export")],
        ["keys", "list"],
        ["migrate"],
        ["backup", "create", "-o", str(tmp_path / "b.tar.gz")],
    ):
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 1, (args, result.output)
        assert "Traceback" not in result.output
        assert "secret-pw-42" not in result.output
        assert "postgresql://app:***@127.0.0.1" in result.output, (args, result.output)
