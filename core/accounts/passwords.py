"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106's second choice).

Hashing takes tens of milliseconds of CPU on purpose; it runs in a thread so that the
event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
# Far longer than any passphrase; bounds the work a request can cause.
MAX_LENGTH = 200
_HASHER = PasswordHasher()
# Verified when the e-mail address has no account, so that a wrong address takes as long
# as a wrong password and the answer time tells nothing about which accounts exist.
_DUMMY_TEXT = "no account has this password, it only costs the same time"
_DUMMY_HASH = _HASHER.hash(_DUMMY_TEXT)


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash with other argon2 parameters from now on (the test suite uses the cheapest
    ones to stay fast; the app always runs with argon2-cffi's defaults)."""
    global _HASHER, _DUMMY_HASH
    _HASHER = hasher
    _DUMMY_HASH = hasher.hash(_DUMMY_TEXT)


def password_problem(password: str) -> str | None:
    """Why ``password`` cannot be used (a code: "short", "long", "blank"), or None."""
    if not password.strip():
        return "blank"
    if len(password) < MIN_LENGTH:
        return "short"
    if len(password) > MAX_LENGTH:
        return "long"
    return None


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash`` (None: no account; still costs the time)."""
    if len(password) > MAX_LENGTH:
        return False

    def check() -> bool:
        try:
            return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with older parameters than today's (rehash on sign-in)."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
