"""The request metrics of Litestar's Prometheus middleware, recorded by an ASGI layer that
answers a request itself before Litestar's router (core.api.submissions, core.api.fast_search;
the stored reads of core.api.stored keep a copy of the counting part), so /metrics cannot
tell which way a request went.

The same metric objects as the middleware's (its class keeps them), the same labels:
requests in progress, requests, their duration and, for a status of 500 or more, errors.
"""

from __future__ import annotations

from litestar.plugins.prometheus import PrometheusMiddleware
from litestar.types import Receive, Scope, Send

from core.http.metrics import PROMETHEUS


class RouteMetrics:
    """Litestar's Prometheus counters for the answers of one route template."""

    def __init__(self, method: str, template: str) -> None:
        self._middleware = PrometheusMiddleware(app=_never, config=PROMETHEUS)
        self._labels: dict[str, str | int | float] = {
            "method": method,
            "path": template,
            "status_code": 200,  # as the middleware labels the requests in progress
            "app_name": PROMETHEUS.app_name,
        }
        self._in_progress = self._middleware.requests_in_progress(self._labels).labels(
            *self._labels.values()
        )

    def started(self) -> None:
        self._in_progress.inc()

    def abandoned(self) -> None:
        """Not answered after all (handed on to the route, which counts it itself)."""
        self._in_progress.dec()

    def finished(self, status: int, seconds: float) -> None:
        self._in_progress.dec()
        labels = {**self._labels, "status_code": status}
        values = list(labels.values())
        if status >= 500:
            self._middleware.requests_error_count(labels).labels(*values).inc()
        self._middleware.request_count(labels).labels(*values).inc()
        self._middleware.request_time(labels).labels(*values).observe(seconds)


async def _never(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
    raise AssertionError("only the metrics of this middleware are used")


__all__ = ["RouteMetrics"]
