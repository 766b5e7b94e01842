"""API keys for protected routes (statistics, raw export, and plugin routes).

A key is a random token shown once by ``mentoring40 keys create``; the database keeps
only its SHA-256, its name, a short prefix to recognise it, its scopes and dates.
Requests send ``Authorization: Bearer <token>``. A missing, unknown, revoked or expired
key gets the same 401, so a caller learns nothing about which keys exist; a valid key
without the route's scope gets 403.

A route is protected by naming its scope in ``opt={"scope": ...}``: one app-wide guard
(``scope_guard``) checks every route, core and plugins alike, so a plugin cannot forget
to wire a check. Plugins declare their scopes with the ``api_scopes`` hook; a route that
names a scope nobody declared stops startup.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Reference, SecurityRequirement, SecurityScheme

from core.content.model import SLUG_RE
from core.db.tables import ApiKey
from core.http.problems import ProblemError

# The core's scopes, with what they allow. They reach the app like every plugin's, through
# the ``api_scopes`` hook (the built-in plugin ``core.api``); see ``known_scopes``.
SCOPES: dict[str, str] = {
    "stats:read": "aggregate questionnaire statistics (GET /api/v1/questionnaires/{id}/stats)",
    "responses:export": "raw anonymous responses as CSV (GET /api/v1/questionnaires/{id}/export)",
    "entries:write": "editorial operations on the entries of one content pack "
    "(/api/v1/redaktion/…); give it per pack: entries:write:<pack>, e.g. entries:write:nrw",
    "runs:read": "every run (Durchlauf), its company view and the programme dashboard "
    "(GET /api/v1/runs...)",
    "runs:write": "create, change and delete runs of every site (POST/DELETE /api/v1/runs...)",
}
# Scopes given per content pack: a key carries "<scope>:<pack>"; a route names the bare
# scope and its handler asks ``key_packs`` which packs the key may touch.
PACK_SCOPES = frozenset({"entries:write"})
# A partner site's key: read and manage the runs of that one site (``runs:site:<site id>``).
RUNS_SITE_SCOPE = "runs:site:"
TOKEN_PREFIX = "m40_"
SCOPE_OPT = "scope"  # a route's opt key naming the scope it needs
KEY_STATE = "api_key"  # where scope_guard leaves the accepted key (request.state)

# The OpenAPI document: the scheme (components) and what a protected route requires.
SECURITY_SCHEMES: dict[str, SecurityScheme | Reference] = {
    "apiKey": SecurityScheme(
        type="http",
        scheme="bearer",
        description="An API key from `mentoring40 keys create`, sent as "
        "`Authorization: Bearer <token>`; each protected route names the scope it needs.",
    )
}
API_KEY: list[SecurityRequirement] = [{"apiKey": []}]


class KeyInfo(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    prefix: str
    scopes: list[str]
    created_on: dt.date
    expires_on: dt.date | None
    revoked_on: dt.date | None

    def state(self, today: dt.date) -> str:
        if self.revoked_on is not None:
            return "revoked"
        if self.expires_on is not None and self.expires_on <= today:
            return "expired"
        return "active"


class ApiKeyError(ValueError):
    """A key command cannot be carried out; the message says why."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def known_scopes(registry: Any, settings: Any) -> dict[str, str]:
    """Every scope declared through the ``api_scopes`` hook: the core's (its built-in
    plugin) and each loaded plugin's."""
    from core.plugins import PluginError

    known: dict[str, str] = {}
    for plugin, scopes in registry.call("api_scopes", settings=settings):
        if not isinstance(scopes, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in scopes.items()
        ):
            raise PluginError(
                f"Plugin {plugin!r} returned {scopes!r} from hook 'api_scopes'; "
                "expected a dict of scope name -> description."
            )
        for scope, description in scopes.items():
            if scope in known:
                raise PluginError(f"Plugin {plugin!r} declares the scope {scope!r} again.")
            known[scope] = description
    return known


async def create_key(
    name: str,
    scopes: list[str],
    expires_on: dt.date | None = None,
    allowed: dict[str, str] | None = None,
) -> tuple[str, KeyInfo]:
    """Store a new key and return its token (the only time it exists in clear)."""
    allowed = SCOPES if allowed is None else allowed
    for scope in scopes:
        base, _sep, pack = scope.rpartition(":")
        if base in PACK_SCOPES and not SLUG_RE.match(pack):
            raise ApiKeyError(
                f"{scope!r}: a content pack name is lower-case letters, digits "
                "and single hyphens (e.g. entries:write:nrw)"
            )
        if scope in PACK_SCOPES:
            raise ApiKeyError(
                f"the scope {scope!r} is given per content pack: {scope}:<pack>, e.g. {scope}:core"
            )
    unknown = sorted(
        s for s in set(scopes) - set(allowed) if s.rpartition(":")[0] not in PACK_SCOPES
    )
    if unknown:
        raise ApiKeyError(f"unknown scope(s) {', '.join(unknown)}; allowed: {', '.join(allowed)}")
    if not scopes:
        raise ApiKeyError(f"give at least one --scope ({', '.join(allowed)})")
    if await ApiKey.exists().where(ApiKey.name == name):
        raise ApiKeyError(f"a key named {name!r} exists; choose another name or revoke it")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    today = dt.datetime.now(dt.UTC).date()
    info = KeyInfo(
        name=name,
        prefix=token[:10],
        scopes=sorted(set(scopes)),
        created_on=today,
        expires_on=expires_on,
        revoked_on=None,
    )
    await ApiKey.insert(
        ApiKey(
            name=name,
            prefix=info.prefix,
            token_hash=_hash(token),
            scopes=msgspec.json.encode(info.scopes).decode(),
            created_on=today,
            expires_on=expires_on,
        )
    )
    return token, info


async def list_keys() -> list[KeyInfo]:
    rows = await ApiKey.select().order_by(ApiKey.name).output(load_json=True)
    return [msgspec.convert(r, KeyInfo, strict=False) for r in rows]


async def revoke_key(name: str) -> None:
    if not await ApiKey.exists().where(ApiKey.name == name):
        raise ApiKeyError(f"there is no key named {name!r}; `mentoring40 keys list` shows them")
    await ApiKey.update({ApiKey.revoked_on: dt.datetime.now(dt.UTC).date()}).where(
        (ApiKey.name == name) & ApiKey.revoked_on.is_null()
    )


async def expire_key(name: str, on: dt.date) -> None:
    """Let the key ``name`` run out on ``on`` (today: from now on)."""
    if not await ApiKey.exists().where(ApiKey.name == name):
        raise ApiKeyError(f"there is no key named {name!r}; `mentoring40 keys list` shows them")
    await ApiKey.update({ApiKey.expires_on: on}).where(ApiKey.name == name)


async def key_for_token(token: str) -> KeyInfo | None:
    """The active key with this token, or None."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 200:
        return None
    row = (
        await ApiKey.select()
        .where(ApiKey.token_hash == _hash(token))
        .output(load_json=True)
        .first()
    )
    if row is None:
        return None
    info = msgspec.convert(row, KeyInfo, strict=False)
    return info if info.state(dt.datetime.now(dt.UTC).date()) == "active" else None


_UNAUTHORIZED = ProblemError(
    401,
    "This route needs a valid API key: send the header 'Authorization: Bearer <token>' "
    "(operators create keys with `mentoring40 keys create`).",
    headers={"WWW-Authenticate": 'Bearer realm="mentoring40"'},
)


def check_route_scopes(routes: list[Any], known: dict[str, str]) -> list[str]:
    """Return ``"<path>: <scope>"`` for each route handler whose ``opt`` names an unknown scope.
    Protected routes that do not say so in the OpenAPI document (plugin routes) are marked
    as needing the API key on the way."""
    bad = []
    for route in routes:
        for handler in getattr(route, "route_handlers", []):
            scope = handler.opt.get(SCOPE_OPT)
            if scope is None:
                continue
            if scope not in known:
                bad.append(f"{route.path}: {scope!r}")
            if not handler.security:
                handler.security = API_KEY
    return sorted(set(bad))


async def scope_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """App-wide guard: a route with ``opt={"scope": ...}`` needs an active key with it."""
    scope = handler.opt.get(SCOPE_OPT)
    if scope is None:
        return
    header = connection.headers.get("authorization", "")
    if not header and "roles" in handler.opt:
        return  # an editor route reached with a session: core.accounts.guard decides
    kind, _sep, token = header.partition(" ")
    if kind.lower() != "bearer" or not token.strip():
        raise _UNAUTHORIZED
    key = await key_for_token(token.strip())
    if key is None:
        raise _UNAUTHORIZED
    if scope in PACK_SCOPES:
        if not key_packs(key, scope):
            raise ProblemError(
                403, f"This API key does not have the scope {scope}:<pack> for any pack."
            )
    elif scope not in key.scopes:
        raise ProblemError(403, f"This API key does not have the scope {scope!r}.")
    connection.state[KEY_STATE] = key


def key_packs(key: KeyInfo, scope: str) -> frozenset[str]:
    """The packs a key's pack-scoped ``scope`` covers (``entries:write:nrw`` → nrw)."""
    prefix = f"{scope}:"
    return frozenset(s[len(prefix) :] for s in key.scopes if s.startswith(prefix))


def request_key(connection: ASGIConnection[Any, Any, Any, Any]) -> KeyInfo | None:
    """The API key ``scope_guard`` accepted for this request, if any."""
    key = connection.state.get(KEY_STATE)
    return key if isinstance(key, KeyInfo) else None
