"""GET and HEAD /api/v1/search answered before Litestar's router: the search's hot path.

The route (core.api.search) costs a few milliseconds of Python per search in Litestar's
router, its middlewares (exception handling, Prometheus, rate limit, input checks) and
its parameter parsing, on top of the search itself (docs/PERFORMANCE.md). This ASGI
layer answers the common case itself — a well-formed query that Meilisearch answers —
with the same status, headers and body as the route, and hands every other request on
to Litestar unchanged, so that every error and every database answer keeps coming from
one place:

- a parameter the route would refuse (unknown name, unknown filter value, bad sort,
  facets or number, a single-valued parameter given twice, NUL or lone surrogates): on
  to Litestar, which answers its 400 (the check here is the route's own,
  ``search_arguments``; numbers pass only in their plain form ``[1-9][0-9]*``); so does
  a failure while checking (the database gone while filter values are looked up);
- a client over its rate limit: on to Litestar, which counts the request once more (it
  stays over) and answers 429 with ``Retry-After``;
- no search engine configured, an index not ready, an engine unreachable or failing: on
  to Litestar with the finding (``ENGINE_ATTEMPT``, so the engine is not asked twice) and
  marked as counted for the rate limit (``COUNTED``); the route answers from the database.

It sits where the stored reads do (core.app): inside the security headers, request id,
access log and CORS, which apply as before; it records the request metrics of Litestar's
Prometheus middleware (a HEAD counts as the GET it is answered as, as Litestar counts
it behind core.http.head) and the search's own (``timed_search``). The route stays for
the OpenAPI document and every answer this layer does not send; tests/test_fast_search.py
sends the same requests both ways and compares the answers byte for byte.
"""

from __future__ import annotations

import re
import time
from typing import Any, cast

import msgspec
from litestar import Litestar, Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from core.api.search import (
    ENGINE_ATTEMPT,
    MEILISEARCH,
    SearchEngine,
    engine_search,
    search_answer,
    search_arguments,
)
from core.http.input_checks import UNSTORABLE
from core.http.ratelimit import COUNTED
from core.http.route_metrics import RouteMetrics

PATH = "/api/v1/search"
# The route's parameters that take one value (core.http.input_checks refuses repeats).
SINGLE = frozenset({"q", "sort", "facets", "page", "page_size"})
# What both Litestar's int parsing and core.http.numbers.whole_number read alike.
_PLAIN_NUMBER = re.compile(r"[1-9][0-9]{0,8}")
_encode = msgspec.json.Encoder().encode


class FastSearch:
    """ASGI middleware: answer well-formed searches that Meilisearch answers (see module)."""

    def __init__(self, app: ASGIApp, litestar: Litestar) -> None:
        self.app = app
        self.litestar = litestar
        self.metrics = RouteMetrics("GET", PATH)  # HEAD counts as GET, as in Litestar
        # Off: every search goes through Litestar (tests compare both ways; benchmarks).
        self.enabled = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method = scope.get("method")
        if (
            scope["type"] != ScopeType.HTTP
            or scope["path"] != PATH
            or method not in ("GET", "HEAD")
            or not self.enabled
        ):
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        args = await _arguments(Request(scope, receive))
        if args is None:
            await self.app(scope, receive, send)  # the route answers its 400
            return
        state = self.litestar.state
        client = (scope.get("client") or ("unknown", 0))[0]
        if await state.limiter.retry_after("search", client) is not None:
            await self.app(scope, receive, send)  # the route's 429 (counted once more)
            return
        # Litestar counts a HEAD as the GET that core.http.head runs in its place.
        self.metrics.started()
        status = 500
        try:
            found: SearchEngine | Exception
            try:
                result, found = await engine_search(getattr(state, "search", None), args)
            except Exception as exc:  # the engine refused our query: the route's 500
                result, found = None, exc
            if result is None:
                handed_on = cast("dict[str, Any]", scope)
                handed_on[ENGINE_ATTEMPT] = found
                handed_on[COUNTED] = True
                self.metrics.abandoned()  # Litestar's middleware counts it
                status = 0
                await self.app(scope, receive, send)
                return
            body = _encode(search_answer(result, MEILISEARCH))
            # The route's headers, in Litestar's order.
            headers = [
                (b"cache-control", b"no-store"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            status = 200
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send(
                {
                    "type": "http.response.body",
                    "body": body if method == "GET" else b"",
                    "more_body": False,
                }
            )
        finally:
            if status:
                self.metrics.finished(status, time.perf_counter() - started)


async def _arguments(request: Request[Any, Any, Any]) -> dict[str, Any] | None:
    """The search's arguments, or None for a request the route would refuse (or might
    read otherwise): Litestar answers it."""
    params = request.query_params
    seen: set[str] = set()
    for name, value in params.multi_items():
        if name in seen and name in SINGLE:
            return None
        seen.add(name)
        if UNSTORABLE.search(name) or UNSTORABLE.search(value):
            return None
    for name in ("page", "page_size"):
        raw = params.get(name)
        if raw is not None and not _PLAIN_NUMBER.fullmatch(raw):
            return None
    try:
        return await search_arguments(
            request, params.get("q"), params.get("sort"), params.get("facets")
        )
    except Exception:  # a 400 (ProblemError), or a failure the route answers as a 500
        return None


__all__ = ["PATH", "FastSearch"]
