"""The search's fast path (core.api.fast_search) answers exactly what the Litestar route
answers: the same requests sent both ways (the fast path switched on and off in one app)
get the same status, headers and body, byte for byte, against a real Meilisearch on
SQLite and PostgreSQL; the same rate limit and request metrics; and the fast path really
answers the well-formed searches itself (or this would compare the route with itself)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar.testing import TestClient
from litestar.types import Receive, Scope, Send
from prometheus_client import REGISTRY

from core.api.fast_search import FastSearch
from core.app import create_app
from core.plugins import build_registry
from core.settings import Settings
from core.settings_variables import RateLimit
from search.local_server import LocalMeilisearch
from tests.conftest import sync
from tests.test_search_api import wait_for_hits

Client = TestClient[Any]

# Well-formed searches: the fast path answers them itself.
ANSWERED = [
    "",
    "q=Liste",
    "q=Arbeitsablaf",  # a typo
    "q=%C3%9Cberblick",
    "q=ueberblick&facets=topic,kind",
    "q=wie+schreibe+ich+einen+Ablauf+auf",  # a question
    "q=Apfelkuchen+backen",  # words that find nothing: a second query, then empty
    "q=Rezept+f%C3%BCr+Kartoffelsalat",  # unknown words beside a stop word: empty too
    "q=%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "q=" + "Tandem+" * 60,
    "q=Liste&tag=",  # an empty filter is no filter
    "tag=dokumentation",
    "tag=%C3%9CBERBLICK,aufgaben",
    "tag=dokumentation&tag=aufgaben",  # repeated filters are OR
    "tag=gibt-es-nicht",
    "topic=barrieren&facets=topic,kind",
    "topic=barrieren,wissen-sichern",
    "topic=barrieren&topic=wissen-sichern&kind=methode",
    "sort=title",
    "sort=-updated_at,title",
    "sort=+title+,+-slug",
    "sort=",
    "q=Liste&sort=-title",
    "facets=,,topic,",
    "facets=topic,topic",
    "facets=",
    "page=2&page_size=2",
    "page=1&page_size=100",
    "page=9",
    "q=Liste&",
    "&&q=Liste",
    "q",  # a name without "=": an empty value
    "q=%FF%FE",  # not UTF-8: replacement characters, a valid query
]
# What the route refuses (400) or reads in a way the fast path leaves to it.
HANDED_ON = [
    "q=a&q=b",
    "page=1&page=2",
    "sort=title&sort=slug",
    "facets=topic&facets=kind",
    "page_size=1&page_size=2",
    "q=%00",
    "q=a%00b",
    "%00=1",
    "tag=a%00",
    "topic=fuehrung",
    "kind=methode,gibt-es-nicht",
    "sort=relevance",
    "sort=-",
    "sort=title,,slug",
    "facets=colour",
    "page=0",
    "page=-1",
    "page=abc",
    "page=01",
    "page=%2B1",
    "page=+1",
    "page=1.0",
    "page=",
    "page=99999999999999999999",
    "page=100000",
    "page_size=0",
    "page_size=101",
    "page_size=500",
    "page_size=",
    "foo=bar",
    "Q=Liste",
]
EXTRA_HEADERS: list[dict[str, str]] = [
    {},
    {"If-None-Match": "*"},
    {"If-None-Match": '"abc"', "If-Modified-Since": "Wed, 21 Oct 2015 07:28:00 GMT"},
    {"Origin": "https://example.org"},
    {"Accept": "text/html"},  # a browser: errors as the German page
    {"Accept-Encoding": "gzip, br"},
]


@pytest.fixture
def meili(tmp_path: Path) -> Iterator[LocalMeilisearch]:
    with LocalMeilisearch(tmp_path / "meili") as server:
        yield server


def _settings(fixture_settings: Settings, meili: LocalMeilisearch, **changes: Any) -> Settings:
    return msgspec.structs.replace(
        fixture_settings,
        meili_url=meili.url,
        meili_admin_key=meili.master_key,
        meili_index=f"test_{uuid.uuid4().hex[:10]}",
        **changes,
    )


@pytest.fixture
def both_ways(meili: LocalMeilisearch, fixture_settings: Settings) -> Iterator[Client]:
    settings = _settings(fixture_settings, meili, rate_limit_search=None)
    sync(settings)
    with TestClient(create_app(settings, build_registry(settings, load_installed=False))) as client:
        wait_for_hits(client, "", 3)
        yield client


class Spy:
    """Counts the requests the fast path hands on to Litestar."""

    def __init__(self, fast: FastSearch) -> None:
        self.handed_on = 0
        self._inner = fast.app
        fast.app = self

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.handed_on += 1
        await self._inner(scope, receive, send)


def _answer(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body, with what differs from one request to the next evened
    out: the request id, and the engine's own processing time (its digits change the
    Content-Length, which must still be the body's)."""
    body = response.content
    if response.request.method != "HEAD":
        assert int(response.headers.get("content-length", len(body))) == len(body)
    body = re.sub(rb'"processing_time_ms":\d+', b'"processing_time_ms":0', body)
    headers = [
        (name, "-" if name in ("x-request-id", "content-length") else value)
        for name, value in response.headers.multi_items()
    ]
    return response.status_code, headers, body


def _both(client: Client, method: str, url: str, headers: dict[str, str]) -> tuple[Any, Any]:
    fast: FastSearch = client.app.state.fast_search
    answers = []
    for enabled in (True, False):
        fast.enabled = enabled
        answers.append(_answer(client.request(method, url, headers=headers)))
    fast.enabled = True
    return answers[0], answers[1]


def test_every_answer_is_the_routes_byte_for_byte(both_ways: Client) -> None:
    spy = Spy(both_ways.app.state.fast_search)
    compared = 0
    for query in ANSWERED + HANDED_ON:
        for method in ("GET", "HEAD"):
            for headers in EXTRA_HEADERS if method == "GET" else EXTRA_HEADERS[:2]:
                url = f"/api/v1/search?{query}" if query else "/api/v1/search"
                before = spy.handed_on
                fast, route = _both(both_ways, method, url, headers)
                assert fast == route, (method, url, headers)
                # The route answered the fast path's way too when it was handed on (the
                # way with the fast path off always goes to the route).
                handed_on = spy.handed_on - before - 1
                assert handed_on == (1 if query in HANDED_ON else 0), (method, url, handed_on)
                if query in ANSWERED:
                    assert fast[0] == 200, (url, fast)
                    assert (fast[2] == b"") == (method == "HEAD"), (url, fast)
                compared += 1
    assert compared == (len(ANSWERED) + len(HANDED_ON)) * (len(EXTRA_HEADERS) + 2)
    # The answers are what a user should see (not two equal failures).
    refused = both_ways.get("/api/v1/search", params={"topic": "fuehrung"})
    assert refused.status_code == 400
    assert "Unknown topic 'fuehrung'" in refused.json()["detail"]
    found = both_ways.get("/api/v1/search", params={"q": "Arbeitsablaf"}).json()
    assert found["data"][0]["slug"] == "arbeitsablauf"
    assert found["meta"]["search"] == {"engine": "meilisearch", "reason": None}
    head = both_ways.head("/api/v1/search", params={"q": "Liste"})
    assert head.status_code == 200
    assert head.content == b""
    assert head.headers["cache-control"] == "no-store"


def test_other_paths_and_methods_are_left_to_litestar(both_ways: Client) -> None:
    spy = Spy(both_ways.app.state.fast_search)
    for method, url in [
        ("GET", "/api/v1/search/"),
        ("GET", "/api/v1/search/x"),
        ("GET", "/api/v1/searc"),
        ("POST", "/api/v1/search"),
        ("OPTIONS", "/api/v1/search"),
        ("DELETE", "/api/v1/search?q=Liste"),
    ]:
        before = spy.handed_on
        fast, route = _both(both_ways, method, url, {"Origin": "https://example.org"})
        assert fast == route, (method, url)
        assert spy.handed_on - before == 2, (method, url)


def _sample(client: Client, name: str, **labels: str) -> float:
    """A sample of what /metrics shows (this process's registry; 0 when absent)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_request_and_search_metrics_count_each_search_once(both_ways: Client) -> None:
    labels = {
        "app_name": "mentoring40",
        "method": "GET",
        "path": "/api/v1/search",
        "status_code": "200",
    }
    fast: FastSearch = both_ways.app.state.fast_search
    for enabled in (True, False):
        fast.enabled = enabled
        requests = _sample(both_ways, "mentoring40_requests_total", **labels)
        timed = _sample(both_ways, "mentoring40_request_duration_seconds_count", **labels)
        searches = _sample(both_ways, "mentoring40_search_seconds_count", caller="api")
        both_ways.get("/api/v1/search", params={"q": "Liste"})
        both_ways.head("/api/v1/search", params={"q": "Liste"})  # counted as its GET
        assert _sample(both_ways, "mentoring40_requests_total", **labels) == requests + 2
        timed_after = _sample(both_ways, "mentoring40_request_duration_seconds_count", **labels)
        assert timed_after == timed + 2
        assert _sample(both_ways, "mentoring40_search_seconds_count", caller="api") == (
            searches + 2
        )
        assert _sample(both_ways, "mentoring40_requests_in_progress", **labels) == 0
    fast.enabled = True


def test_engine_down_the_database_answers_once_per_request(
    meili: LocalMeilisearch, fixture_settings: Settings
) -> None:
    """With the engine gone, the fast path hands on what it found (the engine is not asked
    twice: one failure counted per search) and the request is rate-limited once."""
    settings = _settings(fixture_settings, meili, rate_limit_search=RateLimit(3, 60))
    sync(settings)
    with TestClient(create_app(settings, build_registry(settings, load_installed=False))) as client:
        fast: FastSearch = client.app.state.fast_search
        limiter = client.app.state.limiter
        limiter.limits["search"] = None  # while waiting for the index
        wait_for_hits(client, "", 3)
        limiter.limits["search"] = RateLimit(3, 60)
        meili.stop()
        for enabled in (True, False):
            fast.enabled = enabled
            limiter._counts.clear()  # a fresh window for each way
            failures = _sample(client, "mentoring40_search_failures_total", caller="api")
            answers = [client.get("/api/v1/search", params={"q": "Liste"}) for _ in range(4)]
            assert [a.status_code for a in answers] == [200, 200, 200, 429], enabled
            assert answers[0].json()["meta"]["search"] == {
                "engine": "database",
                "reason": "unreachable",
            }
            assert [hit["slug"] for hit in answers[0].json()["data"]] == ["aufgabenliste"]
            assert "Retry-After" in answers[3].headers
            assert "Too many searches" in answers[3].json()["detail"]
            after = _sample(client, "mentoring40_search_failures_total", caller="api")
            assert after == failures + 3, enabled
        fast.enabled = True
        limiter.limits["search"] = None
        pairs = [
            _both(client, "GET", "/api/v1/search?q=Liste&facets=topic", {}),
            _both(client, "HEAD", "/api/v1/search?q=Liste", {}),
        ]
        for fast_answer, route_answer in pairs:
            assert fast_answer == route_answer


def test_rate_limit_counts_each_search_once_and_refuses_like_the_route(
    both_ways: Client,
) -> None:
    limiter = both_ways.app.state.limiter
    limiter.limits["search"] = RateLimit(3, 60)
    fast: FastSearch = both_ways.app.state.fast_search
    answers: dict[bool, list[Any]] = {}
    for enabled in (True, False):
        fast.enabled = enabled
        limiter._counts.clear()
        sent = [both_ways.get("/api/v1/search", params={"q": "Liste"}) for _ in range(3)]
        sent.append(both_ways.get("/api/v1/search", params={"page": "abc"}))  # counted too
        sent.append(both_ways.get("/api/v1/search", params={"q": "Liste"}))
        answers[enabled] = [(a.status_code, "retry-after" in a.headers) for a in sent]
        last = sent[-1]
        assert "Too many searches from your address" in last.json()["detail"]
    assert (
        answers[True]
        == answers[False]
        == [
            (200, False),
            (200, False),
            (200, False),
            (429, True),
            (429, True),
        ]
    )


def test_without_a_search_engine_both_ways_answer_from_the_database(
    fixture_client: Client,
) -> None:
    for url in ("/api/v1/search?q=Liste", "/api/v1/search?topic=barrieren&facets=topic"):
        fast, route = _both(fixture_client, "GET", url, {})
        assert fast == route
        assert fast[0] == 200
        assert b'"reason":"not_configured"' in fast[2]
