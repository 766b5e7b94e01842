"""Login throttling: failed sign-ins are counted per account and per client address.

After ``limit`` failures within ``window`` the key is locked for ``window``; while either
the account key or the address key is locked, sign-in is refused *before* the password
is checked, with the same answer whether or not the account exists (the e-mail address
entered is counted, not the account), so the lock tells nobody which accounts exist.
The counts live in the database, so all workers and instances share them.
"""

from __future__ import annotations

import datetime as dt
import sqlite3

import asyncpg

from core.db.tables import LoginThrottle


def account_key(email: str) -> str:
    return f"account:{email.strip().lower()[:254]}"


def address_key(address: str) -> str:
    return f"address:{address[:64]}"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def locked_for(keys: list[str]) -> int:
    """Seconds until the longest lock among ``keys`` ends; 0 if none is locked."""
    now = _now()
    rows = await LoginThrottle.select(LoginThrottle.locked_until).where(
        LoginThrottle.key.is_in(keys) & LoginThrottle.locked_until.is_not_null()
    )
    remaining = [(row["locked_until"] - now).total_seconds() for row in rows]
    longest = max([r for r in remaining if r > 0], default=0.0)
    return int(longest) + (1 if longest else 0)


async def record_failure(key: str, limit: int, window: dt.timedelta) -> bool:
    """Count a failure for ``key``; True if this failure locks it."""
    now = _now()
    row = await LoginThrottle.select().where(LoginThrottle.key == key).first()
    if row is None:
        failures = 1
        try:
            await LoginThrottle.insert(
                LoginThrottle(key=key, failures=1, window_start=now, locked_until=None)
            )
        except (sqlite3.IntegrityError, asyncpg.UniqueViolationError):
            # Another request counted the first failure at the same moment.
            return await record_failure(key, limit, window)
    elif row["window_start"] + window <= now:  # an old window: start counting again
        failures = 1
        await LoginThrottle.update(
            {
                LoginThrottle.failures: 1,
                LoginThrottle.window_start: now,
                LoginThrottle.locked_until: None,
            }
        ).where(LoginThrottle.key == key)
    else:
        failures = row["failures"] + 1
        await LoginThrottle.update({LoginThrottle.failures: LoginThrottle.failures + 1}).where(
            LoginThrottle.key == key
        )
    if failures >= limit:
        await LoginThrottle.update({LoginThrottle.locked_until: now + window}).where(
            LoginThrottle.key == key
        )
        return True
    return False


async def clear(key: str) -> None:
    """Forget the failures of ``key`` (after a successful sign-in, or by an admin)."""
    await LoginThrottle.delete().where(LoginThrottle.key == key)


async def purge_old(window: dt.timedelta) -> None:
    """Drop counts whose window and lock are over."""
    cutoff = _now() - window
    await LoginThrottle.delete().where(
        (LoginThrottle.window_start < cutoff)
        & (LoginThrottle.locked_until.is_null() | (LoginThrottle.locked_until < _now()))
    )
