"""The one mechanism that checks roles and CSRF on every editorial route.

A route declares who may use it in its opt, core and plugins alike::

    @get("/redaktion/…", opt={"roles": ("freigabe", "admin")})   # these roles (admin: always)
    @get("/redaktion/…", opt={"roles": "any"})                   # any signed-in account
    @get("/anmelden", opt={"account": True})                     # public, but knows who is in

``role_guard`` runs for every route of the app (like ``core.auth.scope_guard``). For a
route with ``roles``:

- nobody signed in: ``SignInRequired`` (pages: 303 to ``/anmelden?next=<path>``; paths
  under /api/: a 401 problem), answered by the handler the app factory registers;
- signed in with another role: ``RoleRefused`` (403, a German page or a problem);
- an unsafe method (POST, PUT, PATCH, DELETE) without the session's CSRF token, sent as
  the form field ``csrf_token`` or the header ``X-CSRF-Token``: ``CsrfRefused`` (403).

A JSON route that also names an API-key scope (``opt={"roles": …, "scope": …}``) may
instead be called with ``Authorization: Bearer <key>``; then ``scope_guard`` checks the
key and this guard stands aside (no cookie, so no CSRF to fear).
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar.connection import ASGIConnection
from litestar.exceptions import ClientException
from litestar.handlers.base import BaseRouteHandler
from markupsafe import Markup, escape

from core.accounts import ANY_ROLE, ROLES, ROLES_OPT, STATE_KEY, AccountInfo
from core.accounts.sessions import COOKIE, find_session

ACCOUNT_OPT = "account"  # opt={"account": True}: read the session on a public route
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
CSRF_STATE_KEY = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SIGN_IN_PATH = "/anmelden"


class SignInRequired(Exception):
    """Nobody is signed in on a route that needs an account."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class RoleRefused(Exception):
    """The signed-in account's role may not use this route."""

    def __init__(self, account: AccountInfo, roles: tuple[str, ...]) -> None:
        super().__init__(account.role)
        self.account = account
        self.roles = roles


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token."""


def route_roles(opt: dict[str, Any]) -> tuple[str, ...] | None:
    """The roles a route allows (every role for "any"); None: a public route."""
    roles = opt.get(ROLES_OPT)
    if roles is None:
        return None
    if roles == ANY_ROLE:
        return ROLES
    return (roles,) if isinstance(roles, str) else tuple(roles)


def check_route_roles(routes: list[Any]) -> list[str]:
    """``"<path>: <roles>"`` for each handler whose opt names unknown roles (the app
    factory refuses to start with one: a typo would lock everybody out, or in)."""
    bad = []
    for route in routes:
        for handler in getattr(route, "route_handlers", []):
            roles = handler.opt.get(ROLES_OPT)
            if roles is None or roles == ANY_ROLE:
                continue
            listed = (roles,) if isinstance(roles, str) else tuple(roles)
            if not listed or any(r not in ROLES for r in listed):
                bad.append(f"{route.path}: {roles!r}")
    return sorted(set(bad))


def _bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> bool:
    kind, _sep, token = connection.headers.get("authorization", "").partition(" ")
    return kind.lower() == "bearer" and bool(token.strip())


async def role_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """App-wide guard: see the module's docstring."""
    roles = route_roles(handler.opt)
    if roles is None and not handler.opt.get(ACCOUNT_OPT):
        return
    if roles is not None and "scope" in handler.opt and _bearer(connection):
        return  # an API key: core.auth.scope_guard decides
    settings = connection.app.state.settings
    found = await find_session(connection.cookies.get(COOKIE, ""), settings.session_idle_minutes)
    connection.state[STATE_KEY] = found.account if found else None
    connection.state[CSRF_STATE_KEY] = found.csrf_token if found else ""
    if roles is None:
        return
    if found is None:
        raise SignInRequired(connection.url.path)
    if not found.account.has_role(*roles):
        raise RoleRefused(found.account, roles)
    if connection.scope.get("method", "GET") not in SAFE_METHODS:
        sent = connection.headers.get(CSRF_HEADER) or await _form_token(connection)
        if not sent or not hmac.compare_digest(sent.encode(), found.csrf_token.encode()):
            raise CsrfRefused()


async def _form_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    content_type = connection.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in {"application/x-www-form-urlencoded", "multipart/form-data"}:
        return ""
    form = getattr(connection, "form", None)
    if form is None:
        return ""
    try:
        value = (await form()).get(CSRF_FIELD)
    except (ClientException, ValueError, UnicodeDecodeError):
        return ""
    return value if isinstance(value, str) else ""


def csrf_token(request: Any) -> str:
    """The CSRF token of the request's session ("" when nobody is signed in)."""
    token = request.state.get(CSRF_STATE_KEY, "") if hasattr(request, "state") else ""
    return token if isinstance(token, str) else ""


def csrf_field(request: Any) -> Markup:
    """The hidden form field every state-changing form of a signed-in page carries."""
    return Markup('<input type="hidden" name="{}" value="{}">').format(
        CSRF_FIELD, escape(csrf_token(request))
    )


__all__ = [
    "ACCOUNT_OPT",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SIGN_IN_PATH",
    "CsrfRefused",
    "RoleRefused",
    "SignInRequired",
    "check_route_roles",
    "csrf_field",
    "csrf_token",
    "role_guard",
    "route_roles",
]
