"""The audit log for admins: /redaktion/protokoll (filters, pages of 50) and
/redaktion/protokoll.csv (the same filters, every matching event)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from litestar import Response, get

from core.accounts import audit
from core.http.input_checks import SINGLE_PARAMS
from core.web.base import Req
from core.web.redaktion import editor_page

FILTER_PARAMS = ("aktion", "konto", "objekt", "typ", "von", "bis")
ADMIN: dict[str, Any] = {"roles": ("admin",), SINGLE_PARAMS: (*FILTER_PARAMS, "seite")}
PAGE_SIZE = 50
MAX_CSV_ROWS = 100_000


def _date(text: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _filters(request: Req) -> tuple[audit.AuditFilter, dict[str, str], list[str]]:
    raw = {name: (request.query_params.get(name) or "").strip()[:200] for name in FILTER_PARAMS}
    problems = [
        f"„{raw[name]}“ ist kein Datum; bitte im Format JJJJ-MM-TT."
        for name in ("von", "bis")
        if raw[name] and _date(raw[name]) is None
    ]
    found = audit.AuditFilter(
        action=raw["aktion"],
        email=raw["konto"],
        object_type=raw["typ"],
        object_id=raw["objekt"],
        since=_date(raw["von"]),
        until=_date(raw["bis"]),
    )
    return found, raw, problems


@get("/redaktion/protokoll", opt=ADMIN, include_in_schema=False)
async def audit_log(request: Req) -> Response[str]:
    found, raw, problems = _filters(request)
    text = request.query_params.get("seite") or "1"
    page_number = int(text) if text.isdigit() and 0 < int(text) < 100_000 else 1
    total = await audit.count(found)
    events = await audit.events(found, limit=PAGE_SIZE, offset=(page_number - 1) * PAGE_SIZE)
    query = "&".join(f"{k}={v}" for k, v in raw.items() if v)
    return editor_page(
        request,
        "redaktion/protokoll.html",
        title="Protokoll",
        events=events,
        total=total,
        page_number=page_number,
        pages=max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE),
        raw=raw,
        problems=problems,
        actions={name: audit.ACTION_LABELS.get(name, name) for name in await audit.action_names()},
        query=query,
    )


@get("/redaktion/protokoll.csv", opt=ADMIN, include_in_schema=False)
async def audit_csv(request: Req) -> Response[str]:
    found, _raw, _problems = _filters(request)
    events = await audit.events(found, limit=MAX_CSV_ROWS)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    return Response(
        audit.to_csv(events),
        media_type="text/csv",
        headers={
            "Content-Disposition": f'attachment; filename="protokoll-{stamp}.csv"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )


ROUTES: list[Any] = [audit_log, audit_csv]
