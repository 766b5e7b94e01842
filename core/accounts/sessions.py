"""Server-side sessions of the editor, kept in the database.

The browser holds a random token in an HttpOnly, SameSite=Lax cookie (Secure with
MENTORING40_SECURE_COOKIES); the database keeps only its SHA-256, so a copy of the
database signs nobody in. Each session has its own CSRF token (the synchronizer token
pattern): every state-changing form of a signed-in page sends it back.

A session ends ``session_hours`` after sign-in, after ``session_idle_minutes`` without a
request, on sign-out, when its account is disabled, and on "überall abmelden". Signing in
always starts a new session (the old cookie's session is ended): rotation against
session fixation.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from core.accounts import AccountInfo
from core.db.tables import AccountSession

COOKIE = "m40_redaktion"
# last_seen_at is written at most this often per session (not on every request).
TOUCH_EVERY = dt.timedelta(seconds=60)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def start_session(account_id: int, hours: int) -> tuple[str, str]:
    """A new session for the account: (cookie token, CSRF token)."""
    now = _now()
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    await AccountSession.delete().where(AccountSession.expires_at < now)
    await AccountSession.insert(
        AccountSession(
            token_hash=token_hash(token),
            account=account_id,
            csrf_token=csrf,
            created_at=now,
            last_seen_at=now,
            expires_at=now + dt.timedelta(hours=hours),
        )
    )
    return token, csrf


class ActiveSession:
    """A session found for a cookie: the account and the session's CSRF token."""

    __slots__ = ("account", "csrf_token", "session_id")

    def __init__(self, account: AccountInfo, csrf_token: str, session_id: int) -> None:
        self.account = account
        self.csrf_token = csrf_token
        self.session_id = session_id


async def find_session(token: str, idle_minutes: int) -> ActiveSession | None:
    """The live session of this cookie token, or None (unknown, expired, idle too long,
    or its account disabled); an expired one is deleted on the way."""
    if not token or len(token) > 100:
        return None
    row = (
        await AccountSession.select(
            AccountSession.id,
            AccountSession.csrf_token,
            AccountSession.last_seen_at,
            AccountSession.expires_at,
            AccountSession.account.id.as_alias("account_id"),
            AccountSession.account.email.as_alias("email"),
            AccountSession.account.role.as_alias("role"),
            AccountSession.account.sources.as_alias("sources"),
            AccountSession.account.display_name.as_alias("display_name"),
            AccountSession.account.disabled_at.as_alias("disabled_at"),
        )
        .where(AccountSession.token_hash == token_hash(token))
        .output(load_json=True)
        .first()
    )
    if row is None:
        return None
    now = _now()
    idle_until = row["last_seen_at"] + dt.timedelta(minutes=idle_minutes)
    if row["expires_at"] <= now or idle_until <= now or row["disabled_at"] is not None:
        await AccountSession.delete().where(AccountSession.id == row["id"])
        return None
    if now - row["last_seen_at"] >= TOUCH_EVERY:
        await AccountSession.update({AccountSession.last_seen_at: now}).where(
            AccountSession.id == row["id"]
        )
    account = AccountInfo(
        id=row["account_id"],
        email=row["email"],
        role=row["role"],
        sources=list(row["sources"] or []),
        display_name=row["display_name"] or "",
    )
    return ActiveSession(account, row["csrf_token"], row["id"])


async def end_session(token: str) -> None:
    await AccountSession.delete().where(AccountSession.token_hash == token_hash(token))


async def end_all_sessions(account_id: int) -> int:
    """End every session of the account ("überall abmelden"); how many there were."""
    count: int = await AccountSession.count().where(AccountSession.account == account_id)
    await AccountSession.delete().where(AccountSession.account == account_id)
    return count


async def session_count(account_id: int) -> int:
    now = _now()
    count: int = await AccountSession.count().where(
        (AccountSession.account == account_id) & (AccountSession.expires_at > now)
    )
    return count


__all__ = [
    "COOKIE",
    "ActiveSession",
    "end_all_sessions",
    "end_session",
    "find_session",
    "session_count",
    "start_session",
]
