"""Password hashing with argon2id (argon2-cffi's defaults, RFC 9106's second choice).

Hashing takes tens of milliseconds of CPU on purpose; it runs in a thread so that the
event loop keeps serving other requests meanwhile.
"""

from __future__ import annotations

import asyncio
import threading

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
# Far longer than any passphrase; bounds the work a request can cause.
MAX_LENGTH = 200
_HASHER = PasswordHasher()
# Verified when the e-mail address has no account, so that a wrong address takes as long
# as a wrong password and the answer time tells nothing about which accounts exist.
_DUMMY_TEXT = "no account has this password, it only costs the same time"
# Made on the first sign-in attempt of the process, not at import: hashing takes argon2's
# 64 MiB for a moment, which every worker (the indexing worker too) would otherwise reach
# at start although most never check a password (docs/PERFORMANCE.md).
_DUMMY_HASH: str | None = None
_DUMMY_LOCK = threading.Lock()


def use_hasher(hasher: PasswordHasher) -> None:
    """Hash with other argon2 parameters from now on (the test suite uses the cheapest
    ones to stay fast; the app always runs with argon2-cffi's defaults)."""
    global _HASHER, _DUMMY_HASH
    with _DUMMY_LOCK:
        _HASHER = hasher
        _DUMMY_HASH = None


def _dummy_hash() -> str:
    """The hash verified for an address without an account (made once, on first use)."""
    global _DUMMY_HASH
    with _DUMMY_LOCK:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = _HASHER.hash(_DUMMY_TEXT)
        return _DUMMY_HASH


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
        # Asked for whether or not the account exists: the first attempt of a process pays
        # for making it either way, so even that one tells nothing about the address.
        dummy = _dummy_hash()
        try:
            return _HASHER.verify(stored_hash or dummy, password) and stored_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def needs_rehash(stored_hash: str) -> bool:
    """Whether the hash was made with older parameters than today's (rehash on sign-in)."""
    try:
        return _HASHER.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True
