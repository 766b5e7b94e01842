"""Headers every response carries, and a request id (``X-Request-ID``: the caller's, if it
looks like one, else a new one), kept in a context variable for log lines.

HTML pages set their own Content-Security-Policy (frame-ancestors per partner site, see
core.web.render); everything else gets a policy that allows nothing, except the API
documentation page under /schema, which gets what its viewer needs (``docs_csp``, handed
in by the app factory from core.api.docs).
Nothing under /schema may be framed.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from collections.abc import Mapping
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("mentoring40.access")
# Polled by load balancers and Prometheus: logged only at DEBUG.
QUIET_PATHS = frozenset({"/health", "/ready", "/metrics"})
REQUEST_ID_HEADER = "x-request-id"
# For paths that matched no route: whatever follows /results/ (one slash or several).
_TOKEN_IN_PATH = re.compile(r"(/results/+)[^/?]+")
# A path parameter with one of these names is a bearer secret (the result token): its
# value is masked wherever it appears in the logged path, whatever shape the path has
# (the router also matches /results//TOKEN, /results/TOKEN/ or %2F-encoded slashes).
SECRET_PATH_PARAMS = frozenset({"token"})
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{8,128}$")
request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")

API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
DEFAULTS: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-resource-policy", b"cross-origin"),
)


def security_headers(app: ASGIApp, *, docs_csp: str) -> ASGIApp:
    """ASGI middleware: request id in and out; default security headers on every response;
    one access log line per request (method, path with result tokens masked, status, time).
    ``docs_csp`` is the policy of the HTML pages under /schema (the API viewer)."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        incoming = scope_header(scope, REQUEST_ID_HEADER.encode())
        rid = incoming if incoming and _VALID_ID.match(incoming) else uuid.uuid4().hex
        token = request_id.set(rid)
        path: str = scope.get("path", "")
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before it answers

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                extra = [(k, v) for k, v in DEFAULTS if k not in present]
                docs = path.startswith("/schema")
                if b"content-security-policy" not in present:
                    html = _header_in(headers, b"content-type").startswith("text/html")
                    policy = docs_csp if docs and html else API_CSP
                    extra.append((b"content-security-policy", policy.encode()))
                if docs and b"x-frame-options" not in present:
                    extra.append((b"x-frame-options", b"DENY"))
                extra.append((REQUEST_ID_HEADER.encode(), rid.encode()))
                message = {**message, "headers": headers + extra}
            await send(message)

        try:
            await app(scope, receive, send_with_headers)
        finally:
            _log_access(scope, path, status, time.perf_counter() - started)
            request_id.reset(token)

    return middleware


def mask_path(path: str, path_params: Mapping[str, Any] | None = None) -> str:
    """``path`` with result tokens (bearer secrets) replaced by ``***``, for logs: the
    values of the matched route's secret parameters (``path_params``), and anything after
    ``/results/`` in a path no route matched."""
    for name in SECRET_PATH_PARAMS & set(path_params or {}):
        value = str((path_params or {})[name])
        if value:
            path = path.replace(value, "***")
    return _TOKEN_IN_PATH.sub(r"\1***", path)


def _log_access(scope: Scope, path: str, status: int, seconds: float) -> None:
    level = logging.DEBUG if path in QUIET_PATHS and status < 400 else logging.INFO
    if not access_log.isEnabledFor(level):
        return
    method = scope.get("method", "")
    # The router has filled in path_params by now (same scope), when a route matched.
    shown = mask_path(path, scope.get("path_params"))
    ms = round(seconds * 1000, 1)
    access_log.log(
        level,
        "%s %s %d %.1f ms",
        method,
        shown,
        status,
        ms,
        extra={"method": method, "path": shown, "status": status, "duration_ms": ms},
    )


def _header_in(headers: list[tuple[bytes, bytes]], name: bytes) -> str:
    return next((v.decode("latin-1") for k, v in headers if k.lower() == name), "")


def scope_header(scope: Scope, name: bytes) -> str | None:
    """The request header ``name`` (lower-case bytes) of an ASGI scope, or None."""
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            decoded: str = value.decode("latin-1")
            return decoded
    return None


__all__: list[Any] = ["mask_path", "request_id", "scope_header", "security_headers"]
