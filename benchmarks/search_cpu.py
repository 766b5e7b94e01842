"""CPU per search request in one process: ways of answering /api/v1/search side by side.

Not a test: it prints figures. The app (shipped content, a throwaway SQLite file and
Meilisearch) is called through its ASGI interface, without a server or a network client
on our side, one request after another. The arms alternate in rounds within the same
process, and each is charged the process's CPU time (``time.process_time``), which a busy
machine inflates far less than wall-clock time:

- ``--arms client``: the page's multi-search through the SDK's httpx stack
  (``search_entries(..., pool=None)``, as before) or the lean kept-alive pool
  (search/multisearch.py);
- ``--arms path`` (default): the Litestar route (the fast path off) or the fast path
  (core/api/fast_search.py), both with the pool;
- ``--arms understanding``: the follow-up multi-searches of query understanding
  (search/understanding.py: compound cuts, exact words, entries about) through the SDK's
  client (as before) or over the pool like the main query; both on the fast path;
- ``--arms rewrites``: query understanding worked out for every search (no rewrites kept)
  or kept per worker for the index's state (search/rewrites.py); both on the fast path.

With ``--followups``, only the queries of the mix that send such a follow-up (found
before anything is kept).

``--profile N`` instead runs N requests of the first arm's way under cProfile and prints
the functions by cumulative and by own time (the "where the Python time goes" tables).

    .venv/bin/python benchmarks/search_cpu.py [--rounds 5] [--requests 300] [--arms path]
    .venv/bin/python benchmarks/search_cpu.py --arms understanding [--followups]
    .venv/bin/python benchmarks/search_cpu.py --profile 1000 [--arms path] [--second]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import sys
import tempfile
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


ARMS = {
    "client": ("SDK client (before)", "pool (after)"),
    "path": ("Litestar route", "fast path"),
    "understanding": ("follow-ups: SDK", "follow-ups: pool"),
    "rewrites": ("rewrites: not kept", "rewrites: kept"),
}
# The understanding steps search.understanding.rewrite calls, each sends one multi-search.
FOLLOW_UPS = ("split_dead", "exact_words", "entries_about")
_ORIGINAL: dict[str, Any] = {}
WALL = " (wall)"


def follow_ups_through_sdk(on: bool, sent: list[str] | None = None) -> None:
    """Make query understanding call its steps without the pool (``on``: their requests
    go through the SDK's client, as before) or as it does now; count each call into
    ``sent``."""
    import search.understanding

    for name in FOLLOW_UPS:
        original = _ORIGINAL.setdefault(name, getattr(search.understanding, name))

        def step(*args: Any, _original: Any = original, _name: str = name, **kwargs: Any) -> Any:
            if sent is not None:
                sent.append(_name)
            if on:
                kwargs["pool"] = None
            return _original(*args, **kwargs)

        setattr(search.understanding, name, step)


async def profile(app: Any, arm: str, use: Any, mix: list[str], requests: int) -> None:
    import cProfile
    import pstats

    use(arm)
    for query in mix[:20]:
        assert await call(app, query) == 200
    profiler = cProfile.Profile()
    started = time.process_time()
    profiler.enable()
    for n in range(requests):
        assert await call(app, mix[n % len(mix)]) == 200
    profiler.disable()
    spent = time.process_time() - started
    print(f"{arm}: {requests} requests, {spent / requests * 1e6:.0f} µs CPU per request "
          f"with the profiler, load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    stats = pstats.Stats(profiler)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(30)


async def call(app: Any, query: str) -> int:
    """One GET /api/v1/search through the ASGI interface; its status."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/api/v1/search", "raw_path": b"/api/v1/search",
        "query_string": urllib.parse.urlencode({"q": query}).encode(), "root_path": "",
        "headers": [(b"host", b"localhost")], "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def main() -> None:
    from benchmarks.search_bench import queries
    from core.app import create_app
    from core.plugins import build_registry
    from core.settings import Settings
    from search.local_server import LocalMeilisearch
    from tests.conftest import SHIPPED_CONTENT, sync

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--arms", choices=tuple(ARMS), default="path")
    parser.add_argument(
        "--followups", action="store_true", help="only queries that send follow-up requests"
    )
    parser.add_argument("--profile", type=int, default=0, help="cProfile N requests instead")
    parser.add_argument("--second", action="store_true", help="profile the second arm")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)  # the access log's cost is not what is compared
    mix = queries()
    with tempfile.TemporaryDirectory() as folder, LocalMeilisearch(Path(folder) / "m") as meili:
        settings = Settings(
            database_url=f"sqlite:///{Path(folder) / 'db.sqlite'}",
            content_dir=SHIPPED_CONTENT,
            meili_url=meili.url,
            meili_admin_key=meili.master_key,
            meili_index=f"cpu_{uuid.uuid4().hex[:8]}",
            rate_limit_search=None,
        )
        registry = build_registry(settings)
        sync(settings, registry)
        app = create_app(settings, registry)

        async def measure() -> dict[str, list[float]]:
            async with app.lifespan():
                service = app.state.search
                deadline = time.monotonic() + 120
                while not await service.serves_queries():
                    assert time.monotonic() < deadline, "index not filled"
                    await asyncio.sleep(0.2)
                pool = service.multi_search
                fast = app.state.fast_search
                rewrites = service.rewrites

                def use(arm: str) -> None:
                    service.multi_search = None if arm == ARMS["client"][0] else pool
                    fast.enabled = arm != ARMS["path"][0]
                    follow_ups_through_sdk(arm == ARMS["understanding"][0])
                    service.rewrites = None if arm == ARMS["rewrites"][0] else rewrites

                nonlocal mix
                sent: list[str] = []
                follow_ups_through_sdk(False, sent)
                service.rewrites = None  # every query's follow-ups are seen
                with_follow_ups = []
                for query in mix:
                    sent.clear()
                    assert await call(app, query) == 200
                    if sent:
                        with_follow_ups.append(query)
                print(f"{len(with_follow_ups)} of {len(mix)} queries send follow-up requests")
                if args.followups:
                    mix = with_follow_ups

                names = ARMS[args.arms]
                if args.profile:
                    await profile(app, names[1 if args.second else 0], use, mix, args.profile)
                    return {}
                figures: dict[str, list[float]] = {name: [] for name in names}
                for name in names:
                    figures[name + WALL] = []
                for _ in range(args.rounds):
                    for name in names:
                        use(name)
                        for query in mix[:20]:  # warm both connections
                            assert await call(app, query) == 200
                        started = time.process_time()
                        wall = time.perf_counter()
                        for n in range(args.requests):
                            assert await call(app, mix[n % len(mix)]) == 200
                        spent = time.process_time() - started
                        figures[name].append(spent / args.requests * 1e6)
                        wall = time.perf_counter() - wall
                        figures[name + WALL].append(wall / args.requests * 1e6)
                use(names[1])
                return figures

        figures = asyncio.run(measure())
    if not figures:
        return
    print(f"CPU µs per /api/v1/search request, in process, {args.requests} requests per round, "
          f"{args.rounds} rounds, {len(mix)} queries (relevance set):")  # fmt: skip
    for name, values in figures.items():
        if name.endswith(WALL):
            continue
        walls = figures[name + WALL]
        print(f"  {name:<20} median {statistics.median(values):6.0f}  "
              f"(rounds: {', '.join(f'{v:.0f}' for v in values)})")  # fmt: skip
        print(f"  {'':<20} wall-clock µs per request, engine included, one at a time: "
              f"median {statistics.median(walls):.0f} "
              f"(rounds: {', '.join(f'{v:.0f}' for v in walls)})")  # fmt: skip
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
