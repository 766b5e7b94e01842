"""The Prometheus text format at /metrics (what is measured: core.http.metrics).

Who may read it: with MENTORING40_METRICS_TOKEN set, whoever sends it as a bearer token;
without, only clients on this machine (a Prometheus or a curl on the host). The figures
say how busy the service is and when content changed, nothing for the public; the
shipped nginx config does not pass /metrics on at all.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import logging
import os
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from core.http.metrics import OUTBOX_FAILING, OUTBOX_OLDEST_AGE, OUTBOX_PENDING
from core.http.problems import ProblemError
from core.settings import Settings

log = logging.getLogger("mentoring40.metrics")


def check_metrics_access(request: Request[Any, Any, Any], settings: Settings) -> None:
    """Raise a 401/403 problem unless this request may read the metrics."""
    if settings.metrics_token is not None:
        scheme, _, sent = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            sent.strip().encode(), settings.metrics_token.encode()
        ):
            raise ProblemError(
                401,
                "/metrics needs the token of MENTORING40_METRICS_TOKEN: send "
                "Authorization: Bearer <token>.",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        return
    host = request.client.host if request.client else ""
    try:
        local = ipaddress.ip_address(host).is_loopback
    except ValueError:
        local = False
    if not local:
        raise ProblemError(
            403,
            "/metrics answers only clients on this machine; to scrape it from elsewhere, "
            "set MENTORING40_METRICS_TOKEN and send it as Authorization: Bearer <token>.",
        )


@get("/metrics", include_in_schema=False, cache_control=None)
async def metrics(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings]
) -> Response[bytes]:
    """The Prometheus text format; the outbox gauges are refreshed from the database first."""
    from search.indexer import outbox_status

    check_metrics_access(request, settings)

    try:
        status = await outbox_status()
    except Exception as exc:  # the scrape must still answer; the gauges keep old values
        log.warning("Metrics: outbox not readable: %s", exc)
    else:
        OUTBOX_PENDING.set(status.pending)
        OUTBOX_FAILING.set(status.failing)
        oldest = status.oldest_pending
        OUTBOX_OLDEST_AGE.set((dt.datetime.now(dt.UTC) - oldest).total_seconds() if oldest else 0)
    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return Response(
        generate_latest(registry),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )
