"""CORS for the partner sites' origins: browsers on a page of a listed origin may call the
API and fetch fragments; no other origin gets an ``Access-Control-Allow-Origin``.

Our own middleware rather than Litestar's CORSConfig, for the caches in between: every
response says ``Vary: Origin`` (added to any ``Vary`` already there, never replacing
it), also when the request had no ``Origin``, because the same URL is answered with or
without CORS headers depending on it. A cache that keyed such a response without the
Origin would hand one partner's answer (or one without CORS headers) to another.

The origins come from the site files, already checked and normalised by
``core.web.origins``; the comparison is exact, as the ``Origin`` header is.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from litestar import Request, Response
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from core.http.problems import problem_response
from core.http.security import scope_header

ALLOW_METHODS = "GET, HEAD, POST, OPTIONS"
# The only request header beyond the CORS-safelisted ones that our routes read.
ALLOW_HEADERS = frozenset({"content-type"})
SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language"})
MAX_AGE_SECONDS = "600"


def cors(app: ASGIApp, origins: Collection[str] | Callable[[], Collection[str]]) -> ASGIApp:
    """ASGI middleware: CORS headers for ``origins`` and ``Vary: Origin`` on every answer.
    ``origins`` may be a function asked on every request (partner sites an admin changes
    while the app runs, core.web.site_store); a fixed empty list allows nothing, and the
    app is returned as it is."""
    if not callable(origins) and not origins:
        return app
    fixed = None if callable(origins) else frozenset(origins)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        allowed = fixed if fixed is not None else frozenset(origins())  # type: ignore[operator]
        origin = scope_header(scope, b"origin")
        if (
            scope["method"] == "OPTIONS"
            and origin is not None
            and scope_header(scope, b"access-control-request-method") is not None
        ):
            await _preflight(scope, receive, send, origin, allowed)
            return
        grant = origin if origin in allowed else None

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = _with_vary_origin(list(message.get("headers", [])))
                present = {name.lower() for name, _ in headers}
                if grant and b"access-control-allow-origin" not in present:
                    headers.append((b"access-control-allow-origin", grant.encode()))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_cors)

    return middleware


async def _preflight(
    scope: Scope, receive: Receive, send: Send, origin: str, allowed: Collection[str]
) -> None:
    method = scope_header(scope, b"access-control-request-method") or ""
    asked = {
        h.strip().lower()
        for h in (scope_header(scope, b"access-control-request-headers") or "").split(",")
        if h.strip()
    }
    refused = asked - ALLOW_HEADERS - SAFELISTED_HEADERS
    request: Request[Any, Any, Any] = Request(scope, receive)
    if origin not in allowed:
        reason = f"The origin {origin!r} is not one that a partner site lists."
    elif method not in ALLOW_METHODS.split(", "):
        reason = f"The method {method!r} is not allowed; allowed: {ALLOW_METHODS}."
    elif refused:
        reason = (
            f"The request headers {', '.join(sorted(refused))} are not allowed; "
            "allowed: Content-Type."
        )
    else:
        headers = {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": "Content-Type",
            "Access-Control-Max-Age": MAX_AGE_SECONDS,
            "Vary": "Origin",
        }
        allow = Response(content=None, status_code=204, headers=headers)
        await allow.to_asgi_response(app=None, request=request)(scope, receive, send)
        return
    refusal = problem_response(request, 403, f"CORS preflight refused: {reason}")
    refusal.headers["Vary"] = "Origin"
    await refusal.to_asgi_response(app=None, request=request)(scope, receive, send)


def _with_vary_origin(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` whose ``Vary`` names Origin: added to the first Vary header, or new."""
    for i, (name, value) in enumerate(headers):
        if name.lower() == b"vary":
            tokens = {t.strip().lower() for t in value.split(b",")}
            if b"origin" in tokens or b"*" in tokens:
                return headers
            headers[i] = (name, value + b", Origin")
            return headers
    return [*headers, (b"vary", b"Origin")]


__all__ = ["cors"]
