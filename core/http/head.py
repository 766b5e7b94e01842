"""HEAD wherever GET works (RFC 9110 9.3.2): link checkers and caches ask with HEAD.

Litestar answers HEAD only on routes that declare it (and 405 elsewhere). This ASGI
adapter, around the whole app, first lets the app answer HEAD itself (a plugin route
may declare it); when the app refuses the method (405, from its router, before any
handler ran), it runs the request as GET and sends the GET's status and headers
(Content-Length, ETag, Cache-Control, ...) without the body. Every HEAD answer goes out
without a body, whichever way it was made.
"""

from __future__ import annotations

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send


def answer_head(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: answer HEAD like GET, without the body."""

    async def adapter(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP or scope.get("method") != "HEAD":
            await app(scope, receive, send)
            return
        # The first try leaves Litestar's per-request state in scope["state"]: the GET
        # starts from the state the request came with.
        state = dict(scope.get("state", {}))
        refused = False

        async def send_unless_refused(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and message["status"] == 405:
                refused = True
            if not refused:
                await _send_without_body(send, message)

        async def send_head(message: Message) -> None:
            await _send_without_body(send, message)

        await app(scope, receive, send_unless_refused)
        if refused:
            as_get: Scope = {**scope, "method": "GET", "state": state}
            await app(as_get, receive, send_head)

    return adapter


async def _send_without_body(send: Send, message: Message) -> None:
    if message["type"] == "http.response.start":
        await send(message)
    elif not message.get("more_body", False):
        # The last part of the body (or a file sent by path): the end of an empty body.
        await send({"type": "http.response.body", "body": b"", "more_body": False})


__all__ = ["answer_head"]
