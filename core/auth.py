"""API keys for protected routes (statistics, raw export).

A key is a random token shown once by ``mentoring40 keys create``; the database keeps
only its SHA-256, its name, a short prefix to recognise it, its scopes and dates.
Requests send ``Authorization: Bearer <token>``. A missing, unknown, revoked or expired
key gets the same 401, so a caller learns nothing about which keys exist; a valid key
without the route's scope gets 403.
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

from core.api.errors import ProblemError
from core.db.tables import ApiKey

# Every scope a key can carry, with what it allows.
SCOPES: dict[str, str] = {
    "stats:read": "aggregate questionnaire statistics (GET /api/v1/questionnaires/{id}/stats)",
    "responses:export": "raw anonymous responses as CSV (GET /api/v1/questionnaires/{id}/export)",
}
TOKEN_PREFIX = "m40_"

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


async def create_key(
    name: str, scopes: list[str], expires_on: dt.date | None = None
) -> tuple[str, KeyInfo]:
    """Store a new key and return its token (the only time it exists in clear)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown:
        raise ApiKeyError(f"unknown scope(s) {', '.join(unknown)}; allowed: {', '.join(SCOPES)}")
    if not scopes:
        raise ApiKeyError(f"give at least one --scope ({', '.join(SCOPES)})")
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


def require_scope(scope: str) -> Any:
    """A Litestar guard: the request carries an active key with ``scope``."""
    if scope not in SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
    ) -> None:
        header = connection.headers.get("authorization", "")
        kind, _sep, token = header.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise _UNAUTHORIZED
        key = await key_for_token(token.strip())
        if key is None:
            raise _UNAUTHORIZED
        if scope not in key.scopes:
            raise ProblemError(403, f"This API key does not have the scope {scope!r}.")

    return guard
