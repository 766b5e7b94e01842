"""Stored read answers sent straight from memory, without Litestar's router.

An entry, the taxonomy and every list query already answered since the content last
changed are bytes in the worker's ``RenderedStore`` (core.content.rendered). For a GET or
HEAD of one of them this ASGI layer sends the stored bytes (or their gzip or brotli
variant, by ``Accept-Encoding``), or a 304 for a matching ``If-None-Match``, with the
status and headers the route handler sends for the same answer (core.api.caching
``stored_answer``; tests/test_rendered.py compares both). Everything else — another
path, an answer not stored yet, a query string on an entry or the taxonomy — goes on to
Litestar unchanged, which renders it and stores it for the next request.

It sits inside the security headers, request id, access log and CORS layers
(core.app), so those apply as before, and records the same request metrics as
Litestar's Prometheus middleware.
"""

from __future__ import annotations

import time

from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from core.api.caching import cache_control, matches_any_variant, variant
from core.content import rendered
from core.content.rendered import RenderedStore
from core.http.metrics import PROMETHEUS
from core.settings import Settings

ENTRIES = "/api/v1/entries"
ENTRY_PREFIX = ENTRIES + "/"
TAXONOMY = "/api/v1/taxonomy"
# The route templates Litestar's Prometheus middleware labels these paths with.
TEMPLATES = {"entry": "/api/v1/entries/{slug}", "list": "/api/v1/entries", "taxonomy": TAXONOMY}


def _lookup(scope: Scope) -> tuple[str, str] | None:
    """The store key and metrics route of a request this layer may answer, or None."""
    path: str = scope["path"]
    query: bytes = scope.get("query_string", b"")
    if path.startswith(ENTRY_PREFIX):
        slug = path[len(ENTRY_PREFIX) :]
        if query or not slug or "/" in slug:
            return None
        return rendered.ENTRY + slug, "entry"
    if path == ENTRIES:
        return rendered.LIST + query.decode("latin-1"), "list"
    if path == TAXONOMY and not query:
        return rendered.TAXONOMY, "taxonomy"
    return None


class _Metrics:
    """The counters of Litestar's Prometheus middleware, for the answers sent here."""

    def __init__(self) -> None:
        self._middleware = PrometheusMiddleware(app=_never, config=PROMETHEUS)

    def record(self, method: str, route: str, status: int, seconds: float) -> None:
        labels: dict[str, str | int | float] = {
            "method": method,
            "path": TEMPLATES[route],
            "status_code": status,
            "app_name": PROMETHEUS.app_name,
        }
        values = list(labels.values())
        self._middleware.request_count(labels).labels(*values).inc()
        self._middleware.request_time(labels).labels(*values).observe(seconds)


async def _never(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
    raise AssertionError("only the metrics of this middleware are used")


def stored_reads(app: ASGIApp, store: RenderedStore, settings: Settings) -> ASGIApp:
    """ASGI middleware: answer GET and HEAD of stored read answers from ``store``."""
    cache_header = cache_control(settings).encode()
    metrics = _Metrics()

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope["method"] not in ("GET", "HEAD"):
            await app(scope, receive, send)
            return
        found = _lookup(scope)
        doc = store.get(found[0]) if found else None
        if found is None or doc is None:
            await app(scope, receive, send)
            return
        started = time.perf_counter()
        accept_encoding = if_none_match = None
        for name, value in scope["headers"]:
            if name == b"accept-encoding":
                accept_encoding = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        body, etag, coding = variant(doc, accept_encoding)
        # Litestar's order for the same answer (core.api.caching.stored_answer).
        headers: list[tuple[bytes, bytes]] = [
            (b"etag", etag.encode()),
            (b"cache-control", cache_header),
            (b"vary", b"Accept-Encoding"),
        ]
        if if_none_match and matches_any_variant(if_none_match, doc.etag):
            status, body = 304, b""
        else:
            status = 200
            if coding is not None:
                headers.append((b"content-encoding", coding.encode()))
            headers.append((b"content-type", b"application/json"))
            headers.append((b"content-length", str(len(body)).encode()))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send(
            {
                "type": "http.response.body",
                "body": b"" if scope["method"] == "HEAD" else body,
                "more_body": False,
            }
        )
        metrics.record(scope["method"], found[1], status, time.perf_counter() - started)

    return middleware
