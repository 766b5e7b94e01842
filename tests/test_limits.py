"""Rate limits on searches and Quickcheck submissions (429 with Retry-After), counted in
the process or shared through a real Redis; themed HTML error pages for browsers."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import TestClient

from core.app import create_app
from core.db.engine import engine_from_url, use_engine
from core.db.tables import QuestionnaireResponse
from core.http.proxies import TrustedProxies, forwarded
from core.plugins import build_registry
from core.settings import Settings
from core.settings_variables import RateLimit
from search.local_server import free_port
from tests.conftest import make_settings, run, sync
from tests.processes import App
from tests.test_quickcheck_api import submit
from tests.test_web_quickcheck import COMPLETE
from tests.web_support import page_of

Client = TestClient[Any]
REDIS_URL = os.environ.get("MENTORING40_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
HTML = {"Accept": "text/html,application/xhtml+xml"}


@pytest.fixture
def settings(tmp_path: Path, content_dir: Path) -> Settings:
    """SQLite only: the limiter does not touch the database, and a fresh file per test
    gives each test its own counters (they are namespaced by the database)."""
    settings = make_settings(
        f"sqlite:///{tmp_path / 'db.sqlite'}",
        content_dir,
        rate_limit_submit=RateLimit(3, 60),
        rate_limit_search=RateLimit(2, 3600),
    )
    sync(settings)
    return settings


def client_for(settings: Settings) -> Client:
    return TestClient(create_app(settings, build_registry(settings, load_installed=False)))


def stored(settings: Settings) -> int:
    use_engine(engine_from_url(settings.database_url))
    return run(QuestionnaireResponse.count().run())


def assert_limited(response: Any, kind: str, window: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert 1 <= int(response.headers["retry-after"]) <= window
    assert response.json()["detail"].startswith(f"Too many {kind} from your address")
    assert response.headers["x-request-id"]  # answered inside the usual middleware


def test_submissions_over_the_limit_get_429_and_are_not_stored(settings: Settings) -> None:
    with client_for(settings) as client:
        assert [submit(client).status_code for _ in range(3)] == [201, 201, 201]
        assert_limited(submit(client), "questionnaire submissions", 60)
        # The tandem check counts as a submission too; searches have their own budget.
        tandem = client.post("/api/v1/tandem-checks", json={"mentor": "x", "mentee": "y"})
        assert_limited(tandem, "questionnaire submissions", 60)
        assert client.get("/api/v1/search", params={"q": "Aufgaben"}).status_code == 200
    assert stored(settings) == 3  # the refused ones left nothing behind


def test_searches_over_the_limit_get_429_in_the_api_and_a_page_in_the_browser(
    settings: Settings,
) -> None:
    with client_for(settings) as client:
        # Without Meilisearch the API answers from the database, the page lists entries:
        # both count.
        assert client.get("/api/v1/search", params={"q": "Liste"}).status_code == 200
        assert client.get("/", params={"q": "Liste"}, headers=HTML).status_code == 200
        assert_limited(client.get("/api/v1/search", params={"q": "Liste"}), "searches", 3600)

        page = page_of(client.get("/", params={"q": "Liste"}, headers=HTML), 429)
        assert page.find("h1").text() == "Zu viele Anfragen"
        assert "Bitte versuchen Sie es in" in page.text()
        # Other pages and submissions are not searches.
        assert client.get("/entries/aufgabenliste", headers=HTML).status_code == 200
        assert submit(client).status_code == 201


def test_a_browser_form_over_the_limit_gets_a_german_page(settings: Settings) -> None:
    with client_for(settings) as client:
        for _ in range(3):
            done = client.post("/quickcheck/probe", data=COMPLETE, follow_redirects=False)
            assert done.status_code == 303
        page = page_of(client.post("/quickcheck/probe", data=COMPLETE, headers=HTML), 429)
        assert page.find("h1").text() == "Zu viele Anfragen"
    assert stored(settings) == 3


def test_off_means_no_limit(settings: Settings) -> None:
    unlimited = msgspec.structs.replace(settings, rate_limit_submit=None)
    with client_for(unlimited) as client:
        assert {submit(client).status_code for _ in range(8)} == {201}


def test_a_forged_forwarded_for_does_not_escape_the_limit_unless_a_proxy_is_trusted(
    settings: Settings, tmp_path: Path, apps: Callable[..., App]
) -> None:
    """Real servers on loopback, as deployed (core.server): a program on the same host
    cannot choose its address by sending X-Forwarded-For; a configured proxy can."""
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MENTORING40_CONTENT_DIR": str(settings.content_dir),
        "MENTORING40_LOAD_PLUGINS": "",
        "MENTORING40_RATE_LIMIT_SEARCH": "2/hour",
    }
    for name in ("MEILI_URL", "MEILI_ADMIN_KEY", "MEILI_MASTER_KEY", "MENTORING40_SETTINGS_FILE"):
        env.pop(name, None)  # without Meilisearch the database answers a search (200)
    env.pop("MENTORING40_TRUSTED_PROXIES", None)

    app = apps(env, tmp_path / "default.log", workers=1)

    def search(url: str, forwarded_for: str) -> int:
        headers = {"X-Forwarded-For": forwarded_for}
        return httpx.get(f"{url}/api/v1/search?q=Liste", headers=headers).status_code

    # By default the header is ignored: three "different" clients are one, on 127.0.0.1.
    assert [search(app.url, f"203.0.113.{i}") for i in (1, 2, 3)] == [200, 200, 429]
    app.stop()

    proxied = apps({**env, "MENTORING40_TRUSTED_PROXIES": "127.0.0.1"}, tmp_path / "p.log", 1)
    assert [search(proxied.url, "203.0.113.7") for _ in range(3)] == [200, 200, 429]
    assert search(proxied.url, "203.0.113.8") == 200  # another client, its own budget
    # Only the right-most address that is not the proxy counts; the client's own part of
    # the header (on the left) cannot move it to a fresh budget.
    assert search(proxied.url, "198.51.100.1, 203.0.113.7") == 429
    assert search(proxied.url, "203.0.113.9, 127.0.0.1") == 200  # a second hop of ours


@pytest.mark.parametrize(
    ("peer", "forwarded_for", "client"),
    [
        ("127.0.0.1", ["203.0.113.7"], "203.0.113.7"),
        ("127.0.0.1", ["1.1.1.1, 203.0.113.7, 10.0.0.5"], "203.0.113.7"),  # two hops of ours
        ("127.0.0.1", ["1.1.1.1", "203.0.113.7"], "203.0.113.7"),  # two header lines
        ("127.0.0.1", ["203.0.113.7:50123"], "203.0.113.7"),  # a port is not a new client
        ("::ffff:127.0.0.1", ["[2001:DB8::1]:443"], "2001:db8::1"),
        ("127.0.0.1", ["10.0.0.9, 127.0.0.1"], "10.0.0.9"),  # all ours: the first named
        ("127.0.0.1", [], "127.0.0.1"),
        ("198.51.100.2", ["203.0.113.7"], "198.51.100.2"),  # not a proxy of ours
    ],
)
def test_the_client_is_the_right_most_address_not_written_by_the_client(
    peer: str, forwarded_for: list[str], client: str
) -> None:
    assert TrustedProxies(["127.0.0.1", "10.0.0.0/8"]).client(peer, forwarded_for) == client
    assert TrustedProxies([]).client(peer, forwarded_for) == peer


@pytest.mark.parametrize(
    ("peer", "proto", "seen"),
    [
        ("127.0.0.1", b"https", (("203.0.113.7", 0), "https")),
        ("127.0.0.1", b"gopher", (("203.0.113.7", 0), "http")),  # not a scheme: ignored
        ("198.51.100.2", b"https", (("198.51.100.2", 4711), "http")),  # not our proxy
    ],
)
def test_only_a_trusted_proxy_sets_client_and_scheme_for_the_app(
    peer: str, proto: bytes, seen: tuple[tuple[str, int], str]
) -> None:
    """What every layer of the app sees (rate limits, base_url of pages behind TLS)."""
    found: dict[str, Any] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        found.update(scope)

    headers = [(b"x-forwarded-for", b"203.0.113.7"), (b"x-forwarded-proto", proto)]
    scope = {"type": "http", "client": (peer, 4711), "scheme": "http", "headers": headers}
    run(forwarded(app, TrustedProxies(["127.0.0.1"]))(scope, None, None))  # type: ignore[arg-type]
    assert (found["client"], found["scheme"]) == seen


def redis_reachable() -> None:
    host, port = "127.0.0.1", 6379
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError as exc:
        reason = f"Redis at {REDIS_URL} is not reachable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI requires the shared rate-limit store)")
        pytest.skip(reason)


@pytest.fixture
def shared(settings: Settings) -> Settings:
    redis_reachable()
    return msgspec.structs.replace(settings, rate_limit_store=REDIS_URL)


def test_workers_sharing_redis_share_one_budget(shared: Settings) -> None:
    """Two apps stand for two workers (or instances): what one counted, the other sees."""
    with client_for(shared) as first, client_for(shared) as second:
        assert submit(first).status_code == 201
        assert submit(second).status_code == 201
        assert submit(first).status_code == 201
        assert_limited(submit(second), "questionnaire submissions", 60)
        assert_limited(submit(first), "questionnaire submissions", 60)
    # With the in-process store, the same sequence would have let all five through:
    local = msgspec.structs.replace(shared, rate_limit_store="memory")
    with client_for(local) as first, client_for(local) as second:
        codes = [submit(c).status_code for c in (first, second, first, second, first)]
    assert codes == [201, 201, 201, 201, 201]


def test_an_unreachable_redis_does_not_stop_submissions(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    gone = msgspec.structs.replace(settings, rate_limit_store=f"redis://127.0.0.1:{free_port()}/0")
    with client_for(gone) as client:
        assert {submit(client).status_code for _ in range(5)} == {201}
    assert "Rate limit store unreachable, not limiting" in caplog.text


def test_unknown_paths_and_failures_get_themed_pages_in_the_browser(
    settings: Settings, tmp_path: Path
) -> None:
    with client_for(settings) as client:
        missing = client.get("/gibt-es-nicht", headers=HTML)
        page = page_of(missing, 404)
        assert page.find("h1").text() == "Nicht gefunden"
        assert missing.headers["x-request-id"]
        assert "frame-ancestors 'none'" in missing.headers["content-security-policy"]
        # The API keeps its problem documents whatever the Accept header says.
        api = client.get("/api/v1/gibt-es-nicht", headers=HTML)
        assert api.status_code == 404
        assert api.headers["content-type"] == "application/problem+json"
    # The database is gone (a lost volume): the browser gets a page, not a traceback.
    broken = msgspec.structs.replace(
        settings, database_url=f"sqlite:///{tmp_path / 'lost' / 'db.sqlite'}"
    )
    with client_for(broken) as client:
        failed = client.get("/entries/aufgabenliste", headers=HTML)
    assert failed.status_code >= 500
    page = page_of(failed, failed.status_code)
    assert page.find("h1").text() in {"Unerwarteter Fehler", "Vorübergehend nicht erreichbar"}
    assert "Traceback" not in failed.text


def test_deep_json_and_too_many_answers_are_refused_before_any_work(settings: Settings) -> None:
    unlimited = msgspec.structs.replace(settings, rate_limit_submit=None)
    url = "/api/v1/questionnaires/probe/responses"
    head = '{"version": 1, "perspective": "mitarbeitende", "answers": {"geraete": '
    with client_for(unlimited) as client:
        deep = client.post(
            url,
            content=head + "[" * 100_000 + "]" * 100_000 + "}}",
            headers={"Content-Type": "application/json"},
        )
        assert deep.status_code == 400
        assert deep.json()["detail"] == (
            "The JSON body is nested too deeply; send answers as flat values."
        )
        many = submit(client, answers={f"frage-{i}": "ja" for i in range(201)})
        assert many.status_code == 400
        assert "answers" in many.json()["detail"]
        assert "200" in many.json()["detail"]
        # The form reads only the fields of the items it asks; anything else is ignored.
        fields = {**COMPLETE, **{f"a.frage-{i}": ["ja"] for i in range(300)}}
        form = client.post("/quickcheck/probe", data=fields, follow_redirects=False)
        assert form.status_code == 303
        assert submit(client).status_code == 201  # and a normal submission still works
    assert stored(settings) == 2


def test_uploads_are_refused_unread(settings: Settings) -> None:
    with client_for(settings) as client:
        upload = client.post(
            "/quickcheck/probe",
            data={"perspective": "mitarbeitende"},
            files={"anhang": ("liste.csv", b"a;b\n1;2\n", "text/csv")},
            headers=HTML,
        )
        page = page_of(upload, 415)
        assert page.find("h1").text() == "Nicht unterstützt"
        assert "keine Dateien" in page.text()
    assert stored(settings) == 0
