"""Quickcheck submissions answered before Litestar's router (issue 19, item 4;
core.api.submissions): a client gets the same status, headers and body as from the route
— for valid, invalid, hostile, oversized, wrongly typed and rate-limited requests — and
the same rate limit, request metrics and access log line, on SQLite and PostgreSQL.

Each request goes to two apps on the same database: the app as built (the layer in front)
and the same app with the layer left out, the route alone (the reference). A spy on the
route's own input-check middleware shows which path answered."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from prometheus_client import REGISTRY

import core.app
from core.app import create_app
from core.db.tables import QuestionnaireResponse
from core.http import input_checks
from core.plugins import build_registry
from core.settings import Settings
from core.settings_variables import RateLimit
from tests.conftest import run, sync


class Client(httpx.AsyncClient):
    """An app served in the test's event loop (the loop of its database pool; Litestar's
    test clients run each app in a loop of its own, and two apps share one engine)."""

    def __init__(self, app: Litestar) -> None:
        super().__init__(transport=httpx.ASGITransport(app=app), base_url="http://testserver")
        self._lifespan = app.lifespan()  # type: ignore[attr-defined]

    async def __aenter__(self) -> Client:
        await self._lifespan.__aenter__()
        await super().__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await super().__aexit__(*exc)
        await self._lifespan.__aexit__(*exc)
        # A SQLite query of a background task cancelled at shutdown finishes in its
        # aiosqlite thread a moment later; it needs the loop still open to report to.
        await asyncio.sleep(0.2)


URL = "/api/v1/questionnaires/probe/responses"
JSON = {"Content-Type": "application/json"}
ANSWERS = {"geraete": "voll", "chaos": "nicht", "wlan": "ja", "programm": "nein"}
ANSWERS |= {"offenheit": "teils"}
VALID = {"version": 1, "perspective": "mitarbeitende", "answers": ANSWERS}
MAX_BODY = 300_000


def body(**changes: Any) -> bytes:
    return json.dumps({**VALID, **changes}).encode()


# (name, query, headers, body, answered by the layer in front)
REQUESTS: list[tuple[str, str, dict[str, str], bytes, bool]] = [
    ("valid", "", JSON, body(), True),
    ("valid, charset", "", {"Content-Type": "application/json; charset=utf-8"}, body(), True),
    ("valid, English", "?lang=en", JSON, body(), True),
    ("valid, test mode", "", JSON, body(mode="test"), True),
    (
        "valid, browser",
        "",
        {**JSON, "Accept": "text/html", "Origin": "https://x.test"},
        body(),
        True,
    ),
    ("invalid answers", "", JSON, body(answers={**ANSWERS, "geraete": "super"}), False),
    ("missing answers", "", JSON, body(answers={"geraete": "voll"}), False),
    ("unknown item", "", JSON, body(answers={**ANSWERS, "gibtsnicht": 1}), False),
    ("no perspective", "", JSON, body(perspective=None), False),
    ("unknown perspective", "", JSON, body(perspective="chef"), False),
    ("unknown version", "", JSON, body(version=3), False),
    ("version as text", "", JSON, body(version="1"), False),
    ("wrong mode", "", JSON, body(mode="echt"), False),
    ("unknown field", "", JSON, body(extra=1), False),
    ("no version", "", JSON, json.dumps({"answers": ANSWERS}).encode(), False),
    ("not JSON", "", JSON, b"{not json", False),
    ("JSON null", "", JSON, b"null", False),
    ("a list", "", JSON, b"[1, 2]", False),
    (
        "deep",
        "",
        JSON,
        b'{"version": 1, "answers": {"a": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}",
        False,
    ),
    ("not UTF-8", "", JSON, b'{"version": 1, "perspective": "\xff\xfe", "answers": {}}', False),
    ("NUL in text", "", JSON, body(perspective="mit\x00arbeitende"), False),
    ("too many answers", "", JSON, body(answers={f"i{n}": 1 for n in range(201)}), False),
    ("duplicate keys", "", JSON, body()[:-1] + b', "version": 2}', False),
    ("oversized", "", JSON, body(answers={**ANSWERS, "note": "x" * MAX_BODY}), False),
    ("text/plain", "", {"Content-Type": "text/plain"}, body(), False),
    ("latin-1", "", {"Content-Type": "application/json; charset=latin-1"}, body(), False),
    ("no content type", "", {}, body(), False),
    ("form", "", {"Content-Type": "application/x-www-form-urlencoded"}, b"version=1", False),
    ("empty body", "", JSON, b"", False),
    ("bad language", "?lang=EN", JSON, body(), False),
    ("language twice", "?lang=en&lang=de", JSON, body(), False),
    ("other query", "?x=1", JSON, body(), False),
    ("NUL in query", "?lang=%00", JSON, body(), False),
    ("unknown run code", "", JSON, body(run="nope"), False),
    ("pseudonym without run", "", JSON, body(pseudonym="Kim"), False),
]
PATHS: list[tuple[str, str]] = [
    ("unknown questionnaire", "/api/v1/questionnaires/gibtsnicht/responses"),
    ("NUL in the path", "/api/v1/questionnaires/pro%00be/responses"),
    ("trailing slash", URL + "/"),
    ("odd id", "/api/v1/questionnaires/pro.be/responses"),
]


@pytest.fixture
def settings(fixture_settings: Settings) -> Settings:
    settings = msgspec.structs.replace(
        fixture_settings, rate_limit_submit=RateLimit(1000, 60), max_body_bytes=MAX_BODY
    )
    sync(settings)
    return settings


def clients(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> tuple[Client, Client]:
    """The app as built, and the same app with the route alone answering."""
    fast = create_app(settings, build_registry(settings, load_installed=False))
    with monkeypatch.context() as patch:
        patch.setattr(core.app, "quickcheck_submissions", lambda app, settings: app)
        route = create_app(settings, build_registry(settings, load_installed=False))
    return Client(fast), Client(route)


@pytest.fixture
def routed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The paths of the requests Litestar's routed middleware saw."""
    seen: list[str] = []
    check = input_checks._check

    def spy(request: Any, scope: Any) -> None:
        seen.append(scope["path"])
        check(request, scope)

    monkeypatch.setattr(input_checks, "_check", spy)
    return seen


def comparable(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    """Status, headers and body, with the (random) result token replaced."""
    content = response.content
    headers = list(response.headers.multi_items())
    if response.status_code == 201:
        token = response.json()["data"]["token"]
        content = content.replace(token.encode(), b"TOKEN")
        headers = [(k, v.replace(token, "TOKEN")) for k, v in headers]
    return response.status_code, headers, content


def test_every_request_is_answered_the_same_by_both_paths(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, routed: list[str]
) -> None:
    fast, route = clients(settings, monkeypatch)
    cases = [(n, URL + q, h, b, f) for n, q, h, b, f in REQUESTS]
    cases += [(n, p, JSON, body(), False) for n, p in PATHS]
    statuses = {}

    async def go() -> None:
        async with fast, route:
            for name, url, headers, content, answered_in_front in cases:
                headers = {**headers, "X-Request-ID": "compare-0001"}
                routed.clear()
                got = await fast.post(url, content=content, headers=headers)
                assert bool(routed) != answered_in_front, (name, routed)
                want = await route.post(url, content=content, headers=headers)
                assert comparable(got) == comparable(want), name
                statuses[name] = got.status_code
        # The requests mean what their names say (the comparison alone would pass on two 500s).
        assert {n for n, s in statuses.items() if s == 201} == {
            "valid",
            "valid, charset",
            "valid, English",
            "valid, test mode",
            "valid, browser",
            "pseudonym without run",
            # Taken by the route, not in front: "1" read as a number, a query parameter it
            # does not know ignored, a slash at the end.
            "version as text",
            "other query",
            "trailing slash",
        }, statuses
        assert statuses["duplicate keys"] == 404  # the last "version" counts: 2 does not exist
        assert statuses["oversized"] == 413
        assert statuses["text/plain"] == statuses["no content type"] == 415
        assert statuses["not JSON"] == statuses["deep"] == statuses["not UTF-8"] == 400
        assert statuses["invalid answers"] == statuses["unknown run code"] == 422
        assert statuses["unknown questionnaire"] == 404
        assert 500 not in statuses.values()

    run(go())


def test_a_refused_submission_stores_nothing_and_a_valid_one_is_stored_once(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, _route = clients(settings, monkeypatch)

    async def go() -> None:
        async with fast:
            before = await QuestionnaireResponse.count()
            refused = await fast.post(URL, content=body(answers={"geraete": "super"}), headers=JSON)
            assert refused.status_code == 422
            assert await QuestionnaireResponse.count() == before
            stored = await fast.post(URL, content=body(), headers=JSON)
            assert stored.status_code == 201
            assert await QuestionnaireResponse.count() == before + 1
            shown = await fast.get(stored.headers["location"])
            assert shown.json()["data"] == stored.json()["data"]

    run(go())


def test_the_rate_limit_counts_each_submission_once_on_both_paths(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    limited = msgspec.structs.replace(settings, rate_limit_submit=RateLimit(3, 60))
    fast, route = clients(limited, monkeypatch)
    invalid = body(answers={"geraete": "super"})
    sequence = [body(), invalid, body(), body(), invalid, b"{not json"]
    answers: dict[str, list[tuple[int, list[tuple[str, str]], bytes]]] = {}

    async def go() -> None:
        async with fast, route:
            for name, client in (("fast", fast), ("route", route)):
                answers[name] = []
                for content in sequence:
                    got = await client.post(
                        URL, content=content, headers={**JSON, "X-Request-ID": "r-000001"}
                    )
                    status, headers, text = comparable(got)
                    # The seconds to wait may differ by one between the two apps' requests.
                    headers = [(k, "N" if k == "retry-after" else v) for k, v in headers]
                    text = re.sub(rb"try again in \d+ s", b"try again in N s", text)
                    answers[name].append((status, headers, text))
        assert [a[0] for a in answers["fast"]] == [201, 422, 201, 429, 429, 429]
        assert answers["fast"] == answers["route"]
        assert ("retry-after", "N") in answers["fast"][3][1]

    run(go())


def sample(name: str, status: int) -> float:
    labels = {
        "method": "POST",
        "path": "/api/v1/questionnaires/{questionnaire_id}/responses",
        "status_code": str(status),
        "app_name": "mentoring40",
    }
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_request_metrics_and_access_log_are_the_same(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    fast, route = clients(settings, monkeypatch)
    names = ("mentoring40_requests_total", "mentoring40_request_duration_seconds_count")
    submitted = ("mentoring40_quickcheck_submissions_total", {"questionnaire": "probe"})
    caplog.set_level(logging.INFO, logger="mentoring40.access")

    async def go() -> None:
        async with fast, route:
            for client in (fast, route):
                before = [sample(n, 201) for n in names]
                count = REGISTRY.get_sample_value(submitted[0], {**submitted[1], "mode": "real"})
                caplog.clear()
                assert (await client.post(URL, content=body(), headers=JSON)).status_code == 201
                assert [sample(n, 201) - b for n, b in zip(names, before, strict=True)] == [1, 1]
                after = REGISTRY.get_sample_value(submitted[0], {**submitted[1], "mode": "real"})
                assert (after or 0) - (count or 0) == 1
                lines = [r.getMessage() for r in caplog.records if r.name == "mentoring40.access"]
                assert len(lines) == 1, lines
                assert lines[0].startswith(f"POST {URL} 201 "), lines
            in_progress = REGISTRY.get_sample_value(
                "mentoring40_requests_in_progress",
                {"method": "POST", "path": "/api/v1/questionnaires/{questionnaire_id}/responses",
                 "status_code": "200", "app_name": "mentoring40"},
            )  # fmt: skip
            assert in_progress == 0

    run(go())


def test_the_route_is_still_documented(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, _route = clients(settings, monkeypatch)

    async def go() -> None:
        async with fast:
            schema = (await fast.get("/schema/openapi.json")).json()
        post = schema["paths"]["/api/v1/questionnaires/{questionnaire_id}/responses"]["post"]
        assert {"201", "400", "404", "413", "415", "422", "429"} <= set(post["responses"])

    run(go())
