"""GET /health: is the service up, and can it read its database?"""

from __future__ import annotations

import logging

from litestar import Response, get

from core import __version__
from core.api.schemas import Health
from core.content import queries

log = logging.getLogger("mentoring40.health")


@get("/health", tags=["Betrieb"], summary="Liveness and database check", cache_control=None)
async def health() -> Response[Health]:
    try:
        entries = await queries.entry_count()
    except Exception as exc:  # any database failure makes the service unhealthy
        log.warning("Health check cannot read the database: %s", exc)
        body = Health(status="error", version=__version__, database="unavailable", entries=None)
        return Response(body, status_code=503, headers={"Cache-Control": "no-store"})
    body = Health(status="ok", version=__version__, database="ok", entries=entries)
    return Response(body, headers={"Cache-Control": "no-store"})
