"""GET /health (is the process alive and can it read its database?) and GET /ready (can
it serve everything: database, migrations, search engine, index freshness)."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.openapi.datastructures import ResponseSpec

from core import __version__
from core.api.schemas import Health
from core.content import queries
from core.db.engine import pending_migrations

log = logging.getLogger("mentoring40.health")
NO_STORE = {"Cache-Control": "no-store"}


@get(
    "/health",
    tags=["Betrieb"],
    summary="Liveness and database check",
    cache_control=None,
    responses={
        503: ResponseSpec(
            Health, description="The database cannot be read.", generate_examples=False
        )
    },
)
async def health() -> Response[Health]:
    try:
        entries = await queries.entry_count()
    except Exception as exc:  # any database failure makes the service unhealthy
        log.warning("Health check cannot read the database: %s", exc)
        body = Health(status="error", version=__version__, database="unavailable", entries=None)
        return Response(body, status_code=503, headers=NO_STORE)
    body = Health(status="ok", version=__version__, database="ok", entries=entries)
    return Response(body, headers=NO_STORE)


class Check(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    detail: str


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    status: str  # "ready" or "not_ready"
    version: str
    checks: dict[str, Check]


@get(
    "/ready",
    tags=["Betrieb"],
    summary="Readiness: database, migrations, search engine and index freshness",
    description="200 when everything this instance needs works, 503 otherwise; each check "
    "says what is wrong. The outbox check fails when a change has waited longer than "
    "MENTORING40_READY_MAX_OUTBOX_AGE seconds to reach the search index.",
    cache_control=None,
    responses={
        503: ResponseSpec(
            Readiness,
            description="Not ready: at least one check failed; each says what is wrong.",
            generate_examples=False,
        )
    },
)
async def ready(request: Request[Any, Any, Any]) -> Response[Readiness]:
    settings = request.app.state.settings
    checks: dict[str, Check] = {}
    try:
        entries = await queries.entry_count()
        checks["database"] = Check(ok=True, detail=f"reachable; {entries} published entries")
    except Exception as exc:
        log.warning("Readiness: database unavailable: %s", exc)
        checks["database"] = Check(ok=False, detail=f"unreachable: {type(exc).__name__}")
    if checks["database"].ok:
        pending = await pending_migrations()
        checks["migrations"] = Check(
            ok=not pending,
            detail="current"
            if not pending
            else f"{len(pending)} pending ({', '.join(pending)}); run `mentoring40 migrate`",
        )
    service = getattr(request.app.state, "search", None)
    if service is None:
        checks["search"] = Check(ok=True, detail="not configured (no MEILI_URL); lists only")
    else:
        checks["search"] = await _search_check(service)
        if checks["database"].ok:
            checks["outbox"] = await _outbox_check(settings.ready_max_outbox_age)
    ok = all(c.ok for c in checks.values())
    body = Readiness(status="ready" if ok else "not_ready", version=__version__, checks=checks)
    return Response(body, status_code=200 if ok else 503, headers=NO_STORE)


async def _search_check(service: Any) -> Check:
    try:
        health = await service.admin.health()
    except Exception as exc:
        return Check(ok=False, detail=f"Meilisearch unreachable: {type(exc).__name__}")
    if getattr(health, "status", None) != "available":
        return Check(ok=False, detail=f"Meilisearch reports {health!r}")
    who = "this worker indexes" if service.is_indexer else "another worker indexes"
    if not service.index_ready:
        return Check(ok=False, detail=f"Meilisearch reachable; index not set up yet ({who})")
    return Check(ok=True, detail=f"Meilisearch reachable; index set up ({who})")


async def _outbox_check(max_age: int) -> Check:
    from search.indexer import outbox_status

    status = await outbox_status()
    if status.pending == 0:
        return Check(ok=True, detail="nothing waiting")
    oldest = status.oldest_pending
    age = (dt.datetime.now(dt.UTC) - oldest).total_seconds() if oldest else 0.0
    detail = f"{status.pending} change(s) waiting, oldest {age:.0f} s"
    if status.failing:
        detail += f", {status.failing} failing (last error: {status.last_error})"
    return Check(ok=age <= max_age, detail=detail + f"; limit {max_age} s")
