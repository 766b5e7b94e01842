"""Prometheus instrumentation: requests and latency by route (Litestar's middleware,
paths grouped by their template, configured by PROMETHEUS), search latency, Quickcheck
submissions, and the search outbox gauges that the /metrics route (core.api.metrics)
refreshes from the database at scrape time.

With several worker processes, set PROMETHEUS_MULTIPROC_DIR to an empty folder shared by
the workers (prometheus_client's multiprocess mode); otherwise each scrape sees one worker.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import Counter, Gauge, Histogram

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


__all__ = [
    "OUTBOX_FAILING",
    "OUTBOX_OLDEST_AGE",
    "OUTBOX_PENDING",
    "PROMETHEUS",
    "QUICKCHECK_SUBMISSIONS",
    "SEARCH_FAILURES",
    "SEARCH_SECONDS",
    "timed_search",
]
