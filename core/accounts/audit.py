"""The audit log: every editorial action, with account, time, object and address.

Everyone records through ``record``::

    await audit.record("entry.publish", account=account, object_type="entry",
                       object_id=slug, detail={"revision": 7}, request=request)

Never passwords, tokens or session ids: ``detail`` keys that name one are dropped before
anything is stored, whoever calls. Admins read the log at /redaktion/protokoll (filters,
CSV export).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable
from typing import Any, Literal

import msgspec
from piccolo.columns.combination import WhereRaw

from core.accounts import AccountInfo
from core.db.tables import AuditEvent

# Keys of ``detail`` that are never stored (lower-cased substrings).
_SECRET_KEYS = ("password", "passwort", "token", "session", "secret", "csrf", "cookie")
MAX_DETAIL_BYTES = 20_000

# What the log calls each action (German, for the admin page and its filter).
ACTION_LABELS: dict[str, str] = {
    "login": "Anmeldung",
    "login.failed": "Anmeldung fehlgeschlagen",
    "login.throttled": "Anmeldung gesperrt (zu viele Versuche)",
    "logout": "Abmeldung",
    "logout.everywhere": "Überall abgemeldet",
    "account.create": "Konto angelegt",
    "account.update": "Konto geändert",
    "account.password": "Passwort gesetzt",
    "account.disable": "Konto gesperrt",
    "account.enable": "Konto entsperrt",
    "account.sessions_ended": "Konto überall abgemeldet",
    "site.create": "Partnerseite angelegt",
    "site.update": "Partnerseite geändert",
    "site.delete": "Partnerseite entfernt",
    "region.create": "Region angelegt",
    "region.update": "Region geändert",
}


# What the log calls each kind of object (German, for the admin page).
OBJECT_LABELS: dict[str, str] = {"account": "Konto", "site": "Partnerseite", "entry": "Eintrag"}


class AuditRecord(msgspec.Struct, frozen=True, kw_only=True):
    id: int
    at: dt.datetime
    account: int | None
    email: str
    action: str
    object_type: str
    object_id: str
    detail: dict[str, Any]
    address: str

    @property
    def action_label(self) -> str:
        return ACTION_LABELS.get(self.action, self.action)

    @property
    def object_label(self) -> str:
        return OBJECT_LABELS.get(self.object_type, self.object_type)


def _clean(detail: dict[str, Any] | None) -> dict[str, Any]:
    def keep(value: Any) -> Any:
        if isinstance(value, dict):
            return {
                str(k): keep(v)
                for k, v in value.items()
                if not any(word in str(k).lower() for word in _SECRET_KEYS)
            }
        if isinstance(value, list | tuple):
            return [keep(v) for v in value]
        return value

    cleaned: dict[str, Any] = keep(dict(detail or {}))
    if len(msgspec.json.encode(cleaned)) > MAX_DETAIL_BYTES:
        return {"truncated": True}
    return cleaned


def _address(request: Any) -> str:
    client = getattr(request, "client", None) if request is not None else None
    return (client.host if client else "")[:64]


async def record(
    action: str,
    *,
    account: AccountInfo | None = None,
    email: str = "",
    object_type: str = "",
    object_id: str | int = "",
    detail: dict[str, Any] | None = None,
    request: Any = None,
) -> None:
    """Store one audit event. ``email`` is for events without an account (a failed
    sign-in names the address entered); the account's own e-mail is used otherwise."""
    await AuditEvent.insert(
        AuditEvent(
            at=dt.datetime.now(dt.UTC),
            account=account.id if account else None,
            email=(account.email if account else email.strip().lower())[:254],
            action=action[:60],
            object_type=object_type[:40],
            object_id=str(object_id)[:200],
            detail=_clean(detail),
            address=_address(request),
        )
    )


class AuditFilter(msgspec.Struct, frozen=True, kw_only=True):
    """What the admin page filters by; empty fields filter nothing."""

    action: str = ""
    email: str = ""
    object_type: str = ""
    object_id: str = ""
    since: dt.date | None = None
    until: dt.date | None = None


def _where(f: AuditFilter) -> Any:
    conditions: list[Any] = []
    if f.action:
        conditions.append(AuditEvent.action == f.action)
    if f.email:
        conditions.append(_contains("email", f.email.strip().lower()))
    if f.object_type:
        conditions.append(AuditEvent.object_type == f.object_type)
    if f.object_id:
        # LIKE, not ILIKE (SQLite has none): e-mail addresses are stored lower-cased.
        conditions.append(_contains("object_id", f.object_id.strip()))
    if f.since:
        start = dt.datetime.combine(f.since, dt.time(), tzinfo=dt.UTC)
        conditions.append(AuditEvent.at >= start)
    if f.until:
        end = dt.datetime.combine(f.until + dt.timedelta(days=1), dt.time(), tzinfo=dt.UTC)
        conditions.append(AuditEvent.at < end)
    where = None
    for condition in conditions:
        where = condition if where is None else where & condition
    return where


def _contains(column: Literal["email", "object_id"], text: str) -> WhereRaw:
    """``column`` contains ``text`` literally: a ``%``, ``_`` or ``\\`` the admin types is
    escaped (Piccolo's ``like`` has no ESCAPE clause; SQLite and PostgreSQL both take it).
    The column name is one of two literals, never user input."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return WhereRaw(f"{column} LIKE {{}} ESCAPE '\\'", f"%{escaped}%")


async def events(f: AuditFilter, *, limit: int = 100, offset: int = 0) -> list[AuditRecord]:
    """Events matching ``f``, newest first."""
    query = AuditEvent.select().order_by(AuditEvent.id, ascending=False)
    if (where := _where(f)) is not None:
        query = query.where(where)
    rows = await query.limit(limit).offset(offset).output(load_json=True)
    return [msgspec.convert(r, AuditRecord, strict=False) for r in rows]


async def count(f: AuditFilter) -> int:
    query = AuditEvent.count()
    if (where := _where(f)) is not None:
        query = query.where(where)
    found: int = await query
    return found


async def action_names() -> list[str]:
    """Every action the log holds, plus the known ones (for the filter's choices)."""
    rows = await AuditEvent.select(AuditEvent.action).distinct()
    return sorted({r["action"] for r in rows} | set(ACTION_LABELS))


CSV_COLUMNS = ("zeit_utc", "konto", "aktion", "objekt_typ", "objekt", "details", "adresse")


def to_csv(records: Iterable[AuditRecord]) -> str:
    """The events as CSV (UTF-8, comma, header row), safe to open in a spreadsheet: a
    cell that starts with = + - @ is prefixed with ' so that it is not run as a formula."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in records:
        writer.writerow(
            [
                _cell(value)
                for value in (
                    r.at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S"),
                    r.email,
                    r.action,
                    r.object_type,
                    r.object_id,
                    msgspec.json.encode(r.detail).decode() if r.detail else "",
                    r.address,
                )
            ]
        )
    return out.getvalue()


def _cell(value: str) -> str:
    return f"'{value}" if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


__all__ = [
    "ACTION_LABELS",
    "OBJECT_LABELS",
    "AuditFilter",
    "AuditRecord",
    "count",
    "events",
    "record",
    "to_csv",
]
