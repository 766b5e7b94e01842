"""Accounts: create, change, disable; and signing in with throttling.

Errors are ``AccountError`` with a code and the field concerned; each front end says it
in its own words (the CLI in English, the pages in German).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

import msgspec

from core.accounts import ROLES, AccountInfo, passwords, sessions, throttle
from core.db.tables import Account

EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MAX_DISPLAY_NAME = 120
# Source (content pack) names as core.content.packs accepts them.
SOURCE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,59}$")


class AccountError(ValueError):
    """An account operation cannot be carried out. ``code`` says why:
    email_invalid, email_taken, password_blank/short/long, role_unknown, source_unknown,
    name_long, not_found, last_admin."""

    def __init__(self, code: str, field: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.field = field


class AccountRecord(msgspec.Struct, frozen=True, kw_only=True):
    """An account as the admin list shows it."""

    id: int
    email: str
    role: str
    sources: list[str]
    display_name: str
    created_at: dt.datetime
    disabled_at: dt.datetime | None

    @property
    def info(self) -> AccountInfo:
        return AccountInfo(
            id=self.id,
            email=self.email,
            role=self.role,
            sources=self.sources,
            display_name=self.display_name,
        )


class SignInRefused(Exception):
    """Sign-in refused: ``retry_after`` > 0 means throttled for that many seconds;
    0 means the address or password is wrong (or the account disabled: the same answer)."""

    def __init__(self, retry_after: int = 0) -> None:
        super().__init__("throttled" if retry_after else "invalid")
        self.retry_after = retry_after


def normalise_email(text: str) -> str:
    email = text.strip().lower()
    if len(email) > 254 or not EMAIL_RE.match(email):
        raise AccountError("email_invalid", "email", f"{text!r} is not an e-mail address")
    return email


def _checked_role(role: str) -> str:
    if role not in ROLES:
        raise AccountError(
            "role_unknown", "role", f"unknown role {role!r}; roles: {', '.join(ROLES)}"
        )
    return role


def _checked_sources(sources: Iterable[str], known: set[str] | None) -> list[str]:
    cleaned = sorted({s.strip() for s in sources if s.strip()})
    for source in cleaned:
        if not SOURCE_RE.match(source) or (known is not None and source not in known):
            shown = ", ".join(sorted(known)) if known is not None else "a-z, 0-9, - and _"
            raise AccountError(
                "source_unknown", "sources", f"unknown source {source!r}; sources: {shown}"
            )
    return cleaned


def _checked_password(password: str) -> str:
    if problem := passwords.password_problem(password):
        raise AccountError(
            f"password_{problem}",
            "password",
            f"the password must have {passwords.MIN_LENGTH} to {passwords.MAX_LENGTH} "
            "characters and not be blank",
        )
    return password


def _checked_name(name: str) -> str:
    name = " ".join(name.split())
    if len(name) > MAX_DISPLAY_NAME:
        raise AccountError(
            "name_long", "display_name", f"the name has more than {MAX_DISPLAY_NAME} characters"
        )
    return name


def _record(row: dict[str, object]) -> AccountRecord:
    return msgspec.convert(row, AccountRecord, strict=False)


_FIELDS = (
    Account.id,
    Account.email,
    Account.role,
    Account.sources,
    Account.display_name,
    Account.created_at,
    Account.disabled_at,
)


async def create_account(
    email: str,
    password: str,
    role: str,
    *,
    sources: Iterable[str] = (),
    display_name: str = "",
    known_sources: set[str] | None = None,
) -> AccountRecord:
    """Store a new account (its password only as an argon2 hash)."""
    email = normalise_email(email)
    role = _checked_role(role)
    source_list = _checked_sources(sources, known_sources)
    name = _checked_name(display_name)
    _checked_password(password)
    if await Account.exists().where(Account.email == email):
        raise AccountError("email_taken", "email", f"an account for {email} exists")
    hashed = await passwords.hash_password(password)
    await Account.insert(
        Account(
            email=email,
            password_hash=hashed,
            role=role,
            sources=source_list,
            display_name=name,
            created_at=dt.datetime.now(dt.UTC),
        )
    )
    return await get_account(email)


async def list_accounts() -> list[AccountRecord]:
    rows = await Account.select(*_FIELDS).order_by(Account.email).output(load_json=True)
    return [_record(r) for r in rows]


async def find_account(email_or_id: str | int) -> AccountRecord | None:
    if isinstance(email_or_id, int):
        where = Account.id == email_or_id
    else:
        where = Account.email == email_or_id.strip().lower()
    row = await Account.select(*_FIELDS).where(where).output(load_json=True).first()
    return _record(row) if row else None


async def get_account(email_or_id: str | int) -> AccountRecord:
    found = await find_account(email_or_id)
    if found is None:
        raise AccountError("not_found", "email", f"there is no account {email_or_id!r}")
    return found


async def _active_admins() -> int:
    count: int = await Account.count().where(
        (Account.role == "admin") & Account.disabled_at.is_null()
    )
    return count


async def _keep_an_admin(account: AccountRecord) -> None:
    """Refuse to demote or disable the last active admin (nobody could manage accounts)."""
    if account.role == "admin" and account.disabled_at is None and await _active_admins() <= 1:
        raise AccountError(
            "last_admin", "role", "this is the last active admin account; create another first"
        )


async def update_account(
    email_or_id: str | int,
    *,
    role: str | None = None,
    sources: Iterable[str] | None = None,
    display_name: str | None = None,
    known_sources: set[str] | None = None,
) -> tuple[AccountRecord, dict[str, list[object]]]:
    """Change role, sources or name; the account afterwards and what changed
    (field -> [before, after]), for the audit log."""
    account = await get_account(email_or_id)
    values: dict[object, object] = {}
    changed: dict[str, list[object]] = {}
    if role is not None and _checked_role(role) != account.role:
        await _keep_an_admin(account)
        values[Account.role] = role
        changed["role"] = [account.role, role]
    if sources is not None:
        new_sources = _checked_sources(sources, known_sources)
        if new_sources != account.sources:
            values[Account.sources] = new_sources
            changed["sources"] = [account.sources, new_sources]
    if display_name is not None:
        name = _checked_name(display_name)
        if name != account.display_name:
            values[Account.display_name] = name
            changed["display_name"] = [account.display_name, name]
    if values:
        await Account.update(values).where(Account.id == account.id)  # type: ignore[arg-type]
    return await get_account(account.id), changed


async def set_password(email_or_id: str | int, password: str) -> AccountRecord:
    """A new password; every session of the account ends (sign in again)."""
    account = await get_account(email_or_id)
    hashed = await passwords.hash_password(_checked_password(password))
    await Account.update({Account.password_hash: hashed}).where(Account.id == account.id)
    await sessions.end_all_sessions(account.id)
    return account


async def disable_account(email_or_id: str | int) -> AccountRecord:
    """The account can no longer sign in; its sessions end now. Its audit trail stays."""
    account = await get_account(email_or_id)
    if account.disabled_at is None:
        await _keep_an_admin(account)
        await Account.update({Account.disabled_at: dt.datetime.now(dt.UTC)}).where(
            Account.id == account.id
        )
    await sessions.end_all_sessions(account.id)
    return await get_account(account.id)


async def enable_account(email_or_id: str | int) -> AccountRecord:
    account = await get_account(email_or_id)
    await Account.update({Account.disabled_at: None}).where(Account.id == account.id)
    return await get_account(account.id)


class Limits(msgspec.Struct, frozen=True, kw_only=True):
    """Throttling limits (from the settings)."""

    per_account: int = 5
    per_address: int = 20
    lock_minutes: int = 15


async def authenticate(email: str, password: str, address: str, limits: Limits) -> AccountInfo:
    """The account for these credentials, or SignInRefused. Throttled per account (the
    address entered) and per client address; a wrong address, a wrong password and a
    disabled account are refused alike, in the same time."""
    keys = [throttle.account_key(email), throttle.address_key(address)]
    if wait := await throttle.locked_for(keys):
        raise SignInRefused(retry_after=wait)
    row = (
        await Account.select(Account.id, Account.password_hash, Account.disabled_at)
        .where(Account.email == email.strip().lower()[:254])
        .first()
    )
    ok = await passwords.verify_password(row["password_hash"] if row else None, password)
    if not ok or row is None or row["disabled_at"] is not None:
        window = dt.timedelta(minutes=limits.lock_minutes)
        locked_account = await throttle.record_failure(keys[0], limits.per_account, window)
        locked_address = await throttle.record_failure(keys[1], limits.per_address, window)
        if locked_account or locked_address:
            raise SignInRefused(retry_after=limits.lock_minutes * 60)
        raise SignInRefused()
    await throttle.clear(keys[0])
    if passwords.needs_rehash(row["password_hash"]):
        hashed = await passwords.hash_password(password)
        await Account.update({Account.password_hash: hashed}).where(Account.id == row["id"])
    return (await get_account(int(row["id"]))).info


__all__ = [
    "AccountError",
    "AccountRecord",
    "Limits",
    "SignInRefused",
    "authenticate",
    "create_account",
    "disable_account",
    "enable_account",
    "find_account",
    "get_account",
    "list_accounts",
    "normalise_email",
    "set_password",
    "update_account",
]
