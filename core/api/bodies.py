"""The JSON API reads JSON bodies only, declared as such.

A browser sends ``text/plain``, form-encoded and multipart bodies to any origin without
asking first (no CORS preflight); ``application/json`` it sends cross-origin only after
a preflight that our CORS allows for the partner sites' origins alone. Requiring the
JSON media type therefore keeps every other web page from submitting Quickcheck
answers through its visitors' browsers (and skewing the statistics).

A request without a body and without a Content-Type has nothing to misread; it passes,
and the route says what is missing.
"""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from core.http.problems import ProblemError

API_PREFIX = "/api/"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
JSON = "application/json"


async def json_body_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Litestar guard (on the app, so plugin routes get it too): a 415 problem for an API
    request with a body whose Content-Type is not ``application/json`` (UTF-8). Async
    although it never waits: Litestar runs a sync guard in its thread pool, a thread hop
    on every request of every route (issue 19)."""
    if connection.scope.get("method") not in BODY_METHODS:
        return
    if not connection.url.path.startswith(API_PREFIX):
        return
    declared = connection.headers.get("content-type")
    if declared is None and not _has_body(connection):
        return
    media_type, _sep, params = (declared or "").partition(";")
    charset = next(
        (
            value.strip().strip('"').lower()
            for name, _eq, value in (p.partition("=") for p in params.split(";"))
            if name.strip().lower() == "charset"
        ),
        "utf-8",
    )
    if media_type.strip().lower() == JSON and charset == "utf-8":
        return
    shown = repr(declared) if declared is not None else "none"
    raise ProblemError(
        415,
        f"The body must be JSON sent with Content-Type: {JSON} (UTF-8); "
        f"the request's Content-Type is {shown}.",
        headers={"Accept-Post": JSON} if connection.scope.get("method") == "POST" else {},
    )


def _has_body(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    length = connection.headers.get("content-length")
    return "transfer-encoding" in connection.headers or (length is not None and length != "0")


__all__ = ["json_body_guard"]
