"""Rate limits per client address on search and on questionnaire submissions.

A route opts in with ``opt={"rate_limit": "search"}`` (or ``"submit"``); plugin routes
can do the same. The limit is a fixed window (``MENTORING40_RATE_LIMIT_SEARCH=600/minute``
allows 600 requests per client per calendar minute), counted in this process
(``MENTORING40_RATE_LIMIT_STORE=memory``) or in Redis, shared by every worker and
instance (``redis://…``; one atomic INCR per request). Over the limit the client gets
429 with ``Retry-After`` (seconds until its window ends) and nothing is processed.

Litestar's own RateLimitMiddleware was not used: it sends no Retry-After, keys every
route on the same counter, and its read-modify-write of a timestamp list is not
atomic across workers sharing a store.

If Redis cannot be reached, requests are let through (and a warning is logged at most
once a minute), and Redis is asked again only after 15 s, so requests do not each wait
for its timeout: a broken limiter must not take the toolbox down with it.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time
from typing import Any

from litestar import Request
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from core.http.problems import problem_response
from core.settings import Settings
from core.settings_variables import RateLimit

log = logging.getLogger("mentoring40.ratelimit")
OPT_KEY = "rate_limit"
REDIS_RETRY_SECONDS = 15.0
# Scope key set by a layer before the router (core.api.fast_search, core.api.submissions)
# that has counted the request already and hands it on: it is not counted twice.
COUNTED = "mentoring40.rate_limit_counted"
MESSAGES = {
    "search": "Too many searches from your address",
    "submit": "Too many questionnaire submissions from your address",
}


class Limiter:
    """Counts hits per (kind, client, window) in memory or in Redis."""

    def __init__(self, settings: Settings) -> None:
        self.limits: dict[str, RateLimit | None] = {
            "search": settings.rate_limit_search,
            "submit": settings.rate_limit_submit,
        }
        self.store = settings.rate_limit_store
        # Installations that share a Redis but not a database keep separate counters.
        self.namespace = hashlib.sha256(settings.database_url.encode()).hexdigest()[:12]
        self._counts: dict[str, tuple[float, int]] = {}  # key -> (window end, count)
        self._redis: Any = None
        self._warned_at = 0.0
        self._redis_down_until = 0.0  # after a failure, skip Redis for a while
        if self.store != "memory":
            import redis.asyncio

            self._redis = redis.asyncio.Redis.from_url(
                self.store, socket_connect_timeout=0.5, socket_timeout=0.5
            )

    async def close(self) -> None:
        if self._redis is not None:
            await self._redis.aclose()

    async def retry_after(self, kind: str, client: str) -> int | None:
        """Count one hit; return the seconds to wait if it is over the limit, else None."""
        limit = self.limits.get(kind)
        if limit is None:
            return None
        now = time.time()
        window = int(now // limit.seconds)
        window_end = (window + 1) * limit.seconds
        key = f"mentoring40:{self.namespace}:ratelimit:{kind}:{client}:{window}"
        if self._redis is None:
            count = self._count_in_memory(key, window_end, now)
        elif now < self._redis_down_until:
            return None  # do not make every request wait for a Redis that just failed
        else:
            try:
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.incr(key)
                    pipe.expire(key, limit.seconds + 1)
                    count, _ = await pipe.execute()
            except Exception as exc:  # Redis down: serve rather than refuse everybody
                self._redis_down_until = now + REDIS_RETRY_SECONDS
                if now - self._warned_at > 60:
                    self._warned_at = now
                    log.warning("Rate limit store unreachable, not limiting: %s", exc)
                return None
        if count <= limit.requests:
            return None
        return max(1, math.ceil(window_end - now))

    def _count_in_memory(self, key: str, window_end: float, now: float) -> int:
        if len(self._counts) > 10_000:  # forget windows that have ended
            self._counts = {k: v for k, v in self._counts.items() if v[0] > now}
        _, count = self._counts.get(key, (window_end, 0))
        self._counts[key] = (window_end, count + 1)
        return count + 1


def rate_limit(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: apply the limit a route asks for in its ``opt``."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        handler = scope.get("route_handler")
        kind = handler.opt.get(OPT_KEY) if handler is not None else None
        if (
            kind
            and scope["type"] == ScopeType.HTTP
            and scope.get("method") != "OPTIONS"
            and not scope.get(COUNTED)
        ):
            limiter: Limiter = scope["litestar_app"].state.limiter
            client = (scope.get("client") or ("unknown", 0))[0]
            wait = await limiter.retry_after(kind, client)
            if wait is not None:
                # Answered here, inside the other middleware (headers, request id, access
                # log); an exception would skip them on its way to the outer handler.
                request: Request[Any, Any, Any] = Request(scope, receive)
                detail = MESSAGES.get(kind, "Too many requests from your address")
                response = problem_response(
                    request,
                    429,
                    f"{detail}; try again in {wait} s.",
                    headers={"Retry-After": str(wait)},
                )
                await response.to_asgi_response(app=None, request=request)(scope, receive, send)
                return
        await app(scope, receive, send)

    return middleware


__all__ = ["COUNTED", "OPT_KEY", "Limiter", "rate_limit"]
