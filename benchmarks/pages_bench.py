"""Page benchmark: the HTML pages beside the JSON API they are built on.

Not a test: it prints figures. Run with `make bench-pages` (about a minute). It syncs
the shipped content (with the NRW plugin) into SQLite, starts a real Meilisearch and
the app in its own process (one uvicorn worker), waits until the index is filled,
then sends the same requests at 1 and 10 concurrent clients to:

- GET /api/v1/search?q=…      (JSON, what a partner rendering itself calls)
- GET /?q=…                    (the whole workspace page with facets)
- GET /?q=…&partial=1          (the results block live search swaps in)
- GET /api/v1/entries/{slug}   and GET /entries/{slug} (entry detail, JSON vs page)

Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import asyncio
import os
import platform
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import httpx
from search_bench import load, pct, queries, start_api  # type: ignore[import-not-found]

from core.content.collect import load_all
from core.content.sync import sync_content
from core.db.engine import engine_from_url, migrate, use_engine
from core.plugins import build_registry
from core.settings import Settings
from search.local_server import LocalMeilisearch

REQUESTS = int(os.environ.get("BENCH_REQUESTS", "300"))
LEVELS = (1, 10)


async def prepare(settings: Settings) -> list[str]:
    registry = build_registry(settings)
    loaded, problems = load_all(registry, settings)
    assert not problems, problems
    use_engine(engine_from_url(settings.database_url))
    await migrate()
    await sync_content(loaded)
    return [e.slug for e in loaded.entries]


def wait_for_index(port: int, expected: int) -> None:
    for _ in range(150):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/search?q=") as r:
                if b'"total":' + str(expected).encode() in r.read():
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the index did not fill")


async def measure(api_url: str, slugs: list[str]) -> None:
    mix = queries()

    def by_query(path: str, **extra: str) -> Any:
        async def request(http: httpx.AsyncClient, q: str) -> httpx.Response:
            return await http.get(path, params={"q": q, **extra})

        return request

    def by_slug(prefix: str) -> Any:
        async def request(http: httpx.AsyncClient, q: str) -> httpx.Response:
            return await http.get(prefix + slugs[mix.index(q) % len(slugs)])

        return request

    groups = [
        (
            "search",
            [
                ("JSON /api/v1/search", by_query("/api/v1/search")),
                ("page /?q=", by_query("/")),
                ("partial /?q=&partial=1", by_query("/", partial="1")),
            ],
        ),
        (
            "entry",
            [
                ("JSON /api/v1/entries/…", by_slug("/api/v1/entries/")),
                ("page /entries/…", by_slug("/entries/")),
            ],
        ),
    ]
    print(f"\n{REQUESTS} requests per run, {len(mix)} distinct queries, {len(slugs)} entries\n")
    print(f"{'clients':>7} | {'target':<24} | {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} | req/s")
    for clients in LEVELS:
        for _group, targets in groups:
            for name, request in targets:
                await load(api_url, request, clients, 30)  # warm-up
                latencies, rate = await load(api_url, request, clients, REQUESTS)
                print(
                    f"{clients:>7} | {name:<24} | {pct(latencies, 50):7.1f} "
                    f"{pct(latencies, 95):7.1f} {pct(latencies, 99):7.1f} | {rate:5.0f}"
                )
            print(f"{'':>7} |")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="m40-pages-bench-"))
    settings = Settings(database_url=f"sqlite:///{work / 'bench.sqlite'}")
    slugs = asyncio.run(prepare(settings))
    with LocalMeilisearch(work / "meili") as meili:
        server, port = start_api(settings, meili)
        try:
            wait_for_index(port, len(slugs))
            asyncio.run(measure(f"http://127.0.0.1:{port}", slugs))
        finally:
            server.terminate()
            server.wait(timeout=10)
    cores = os.cpu_count()
    print(f"\nmachine: {platform.platform()}, {cores} cores, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
