"""The request metrics of Litestar's Prometheus middleware, for answers sent by an ASGI
layer before Litestar's router (a fast path): the same counters, with the same labels,
so /metrics cannot tell which way a request went."""

from __future__ import annotations

from litestar.plugins.prometheus import PrometheusMiddleware
from litestar.types import Receive, Scope, Send

from core.http.metrics import PROMETHEUS


class RouteMetrics:
    """Count one route's requests as Litestar's Prometheus middleware counts them."""

    def __init__(self, path_template: str) -> None:
        self._middleware = PrometheusMiddleware(app=_never, config=PROMETHEUS)
        self._template = path_template

    def started(self, method: str) -> None:
        labels = self._labels(method)
        self._middleware.requests_in_progress(labels).labels(*labels.values()).inc()

    def abandoned(self, method: str) -> None:
        """A request handed on to Litestar after ``started``: its middleware counts it."""
        labels = self._labels(method)
        self._middleware.requests_in_progress(labels).labels(*labels.values()).dec()

    def finished(self, method: str, status: int, seconds: float) -> None:
        labels = self._labels(method)
        self._middleware.requests_in_progress(labels).labels(*labels.values()).dec()
        labels["status_code"] = status
        values = list(labels.values())
        self._middleware.request_count(labels).labels(*values).inc()
        self._middleware.request_time(labels).labels(*values).observe(seconds)

    def _labels(self, method: str) -> dict[str, str | int | float]:
        # Litestar's labels in its order; in progress, a request counts as status 200.
        return {
            "method": method,
            "path": self._template,
            "status_code": 200,
            "app_name": PROMETHEUS.app_name,
        }


async def _never(scope: Scope, receive: Receive, send: Send) -> None:  # pragma: no cover
    raise AssertionError("only the metrics of this middleware are used")


__all__ = ["RouteMetrics"]
