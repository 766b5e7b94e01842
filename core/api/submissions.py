"""Quickcheck submissions answered without Litestar's router (issue 19, item 4).

``POST /api/v1/questionnaires/{id}/responses`` is the one write the toolbox takes at
volume. Its own work (validation, scoring, one statement on PostgreSQL) is a fraction
of what Litestar's router, middleware and handler plumbing cost around it, so this ASGI
layer answers the common case itself: a plain request (JSON body with its length
declared and within MENTORING40_MAX_BODY_BYTES, no query but ``lang``, no run code)
whose answers are accepted and stored. It does what the route and its middleware do,
in their order: the client's submission rate limit, the body, the decoding into
``ResponseIn``, ``service.submit_answers``, the Quickcheck submissions counter, the 201
with the route's headers and bytes, Litestar's request metrics.

Every other request goes on to the Litestar route unchanged (it stays the documented
route and the fallback), and so does every refusal, with the body read here handed on:
malformed or hostile JSON, unknown fields, wrong types, answers the Quickcheck refuses,
a questionnaire or version that does not exist or is closed, run codes, odd headers,
sizes or queries, and a client over its limit. The route finds the same and answers as
it always did; for a refusal nothing was stored here (``submit_answers`` stores nothing
when it refuses). The hit counted here against the rate limit is not counted again
(``COUNTED``), except for a client already over its limit: the route counts and answers
the 429 itself. A database error while storing is answered here by the app's handler
for unexpected errors (503 while the database is down), never retried: the statement
may have been stored.

It sits inside the security headers, request id, access log and CORS layers (core.app),
so those apply as before. tests/test_submissions_fast.py sends the same requests
through both paths and compares what the client gets.
"""

from __future__ import annotations

import re
import time
from typing import Any, cast

import msgspec
from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send

from core.api.questionnaires import NO_STORE, ResponseIn, ResultOne
from core.http.errors import EXCEPTION_HANDLERS
from core.http.metrics import QUICKCHECK_SUBMISSIONS
from core.http.ratelimit import COUNTED, Limiter
from core.http.route_metrics import RouteMetrics
from core.quickcheck import service
from core.quickcheck.model import DEFAULT_LANGUAGE
from core.quickcheck.service import QuickcheckError
from core.settings import Settings

PREFIX = "/api/v1/questionnaires/"
SUFFIX = "/responses"
TEMPLATE = "/api/v1/questionnaires/{questionnaire_id}/responses"
# Questionnaire ids are slugs; anything else (NUL, %2F, non-ASCII) is the route's to judge.
_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")
_LANG_QUERY = re.compile(rb"lang=([a-z]{2})")
JSON_TYPES = frozenset({b"application/json", b"application/json; charset=utf-8"})
_DECODER = msgspec.json.Decoder(ResponseIn)
_ENCODER = msgspec.json.Encoder()
_HEADER_NAMES = (b"content-type", b"content-length", b"transfer-encoding")


def _plain(scope: Scope, max_body: int) -> tuple[str, str] | None:
    """(questionnaire id, language) of a submission this layer may answer, or None."""
    path: str = scope["path"]
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
        return None
    qid = path[len(PREFIX) : -len(SUFFIX)]
    if not _ID.fullmatch(qid):
        return None
    query: bytes = scope.get("query_string", b"")
    lang = DEFAULT_LANGUAGE
    if query:
        found = _LANG_QUERY.fullmatch(query)
        if found is None:
            return None
        lang = found.group(1).decode()
    seen: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _HEADER_NAMES:
            if name in seen:
                return None
            seen[name] = value
    if b"transfer-encoding" in seen or seen.get(b"content-type", b"").lower() not in JSON_TYPES:
        return None
    length = seen.get(b"content-length", b"")
    if not length.isdigit() or not 0 < int(length) <= max_body:
        return None
    return qid, lang


def quickcheck_submissions(app: ASGIApp, settings: Settings) -> ASGIApp:
    """ASGI middleware: answer plain, valid Quickcheck submissions here (see the module)."""
    max_body = settings.max_body_bytes
    metrics = RouteMetrics("POST", TEMPLATE)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] != "POST":
            await app(scope, receive, send)
            return
        plain = _plain(scope, max_body)
        if plain is None:
            await app(scope, receive, send)
            return
        limiter: Limiter = scope["litestar_app"].state.limiter
        client = (scope.get("client") or ("unknown", 0))[0]
        if await limiter.retry_after("submit", client) is not None:
            await app(scope, receive, send)  # the route counts too, and answers the 429
            return
        started = time.perf_counter()
        metrics.started()
        status = 500
        try:
            status = await _submit(app, scope, receive, send, plain, max_body)
        finally:
            if cast(dict[str, Any], scope).get(COUNTED):  # handed on: the route counts it
                metrics.abandoned()
            else:
                metrics.finished(status, time.perf_counter() - started)

    return middleware


async def _submit(
    app: ASGIApp,
    scope: Scope,
    receive: Receive,
    send: Send,
    plain: tuple[str, str],
    max_body: int,
) -> int:
    """Answer the submission and return its status; 0 if the route answered it."""
    received: list[ReceiveMessage] = []
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        received.append(message)
        if message["type"] != "http.request":
            return await _route(app, scope, receive, send, received)
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if size > max_body:
            return await _route(app, scope, receive, send, received)
        if not message.get("more_body", False):
            break
    try:
        data = _DECODER.decode(b"".join(chunks))
    except (msgspec.DecodeError, RecursionError, UnicodeDecodeError):
        return await _route(app, scope, receive, send, received)
    if data.run is not None or data.pseudonym is not None:
        return await _route(app, scope, receive, send, received)
    qid, lang = plain
    try:
        doc = await service.submit_answers(
            qid,
            version=data.version,
            perspective=data.perspective,
            mode=data.mode,
            answers=data.answers,
            lang=lang,
        )
    except QuickcheckError:
        return await _route(app, scope, receive, send, received)
    except Exception as exc:
        # What Litestar's exception handling answers for the same error in the route.
        request: Request[Any, Any, Any] = Request(scope, receive)
        response = EXCEPTION_HANDLERS[Exception](request, exc)
        await response.to_asgi_response(app=None, request=request)(scope, receive, send)
        return int(response.status_code)
    QUICKCHECK_SUBMISSIONS.labels(doc.questionnaire.id, data.mode).inc()
    body = _ENCODER.encode(ResultOne(data=doc))
    await send(
        {
            "type": "http.response.start",
            "status": 201,
            "headers": [
                (b"cache-control", NO_STORE["Cache-Control"].encode()),
                (b"location", doc.url.encode()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})
    return 201


async def _route(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, received: list[ReceiveMessage]
) -> int:
    """Hand the request to the Litestar route, the body read so far first; its hit has
    been counted against the rate limit already."""
    pending = list(received)

    async def replay() -> ReceiveMessage:
        return pending.pop(0) if pending else await receive()

    cast(dict[str, Any], scope)[COUNTED] = True
    await app(scope, replay, send)
    return 0


__all__ = ["quickcheck_submissions"]
