"""Prometheus metrics at /metrics: requests and latency by route (Litestar's middleware,
paths grouped by their template), search latency, Quickcheck submissions, and the search
outbox read from the database at scrape time.

Who may read it: with MENTORING40_METRICS_TOKEN set, whoever sends it as a bearer token;
without, only clients on this machine (a Prometheus or a curl on the host). The figures
say how busy the service is and when content changed, nothing for the public; the
shipped nginx config does not pass /metrics on at all.

With several worker processes, set PROMETHEUS_MULTIPROC_DIR to an empty folder shared by
the workers (prometheus_client's multiprocess mode); otherwise each scrape sees one worker.
"""

from __future__ import annotations

import datetime as dt
import hmac
import ipaddress
import logging
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

from core.api.errors import ProblemError
from core.settings import Settings

log = logging.getLogger("mentoring40.metrics")

PREFIX = "mentoring40"

SEARCH_SECONDS = Histogram(
    f"{PREFIX}_search_seconds",
    "Time spent waiting for the search engine, by caller (api, page).",
    ["caller"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
SEARCH_FAILURES = Counter(
    f"{PREFIX}_search_failures_total", "Searches the engine could not answer.", ["caller"]
)
QUICKCHECK_SUBMISSIONS = Counter(
    f"{PREFIX}_quickcheck_submissions_total",
    "Stored questionnaire responses, by questionnaire and mode (real, test).",
    ["questionnaire", "mode"],
)
OUTBOX_PENDING = Gauge(f"{PREFIX}_outbox_pending", "Search changes waiting for the index.")
OUTBOX_FAILING = Gauge(f"{PREFIX}_outbox_failing", "Waiting search changes that failed before.")
OUTBOX_OLDEST_AGE = Gauge(
    f"{PREFIX}_outbox_oldest_age_seconds", "Age of the oldest waiting search change (0: none)."
)

PROMETHEUS = PrometheusConfig(
    app_name=PREFIX,
    prefix=PREFIX,
    group_path=True,
    exclude=["^/metrics$", "^/static/"],
)


@asynccontextmanager
async def timed_search(caller: str) -> AsyncIterator[None]:
    """Observe the time of one search; count it as failed if it raises."""
    started = time.perf_counter()
    try:
        yield
    except Exception:
        SEARCH_FAILURES.labels(caller).inc()
        raise
    finally:
        SEARCH_SECONDS.labels(caller).observe(time.perf_counter() - started)


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
