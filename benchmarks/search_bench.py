"""Search benchmark: our /api/v1/search beside raw Meilisearch, and a full reindex.

Not a test: it prints figures. Run with `make bench` (about two minutes). It builds
a realistic corpus of 10,000 German entries by recombining the paragraphs of the
shipped toolbox, indexes it, then sends the same fixed query mix at 1, 10 and 50
concurrent clients to our endpoint and straight to Meilisearch. Everything runs
on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import asyncio
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx
import msgspec
import yaml
from meilisearch_python_sdk import AsyncClient

from core.content.loader import load_content
from core.content.model import ContentSet
from core.content.packs import collect_packs
from core.content.sync import sync_content
from core.db.engine import engine_from_url, migrate, use_engine
from core.plugins import build_registry
from core.settings import PROJECT_ROOT, Settings
from search.config import search_setup
from search.local_server import LocalMeilisearch, free_port
from search.rebuild import rebuild_index

CORPUS_SIZE = int(os.environ.get("BENCH_ENTRIES", "10000"))
REQUESTS_PER_LEVEL = int(os.environ.get("BENCH_REQUESTS", "600"))
LEVELS = (1, 10, 50)
UID = "entries"


def corpus(shipped: ContentSet, size: int) -> ContentSet:
    """``size`` entries made from the shipped ones: same vocabulary, shuffled paragraphs."""
    rng = random.Random(40)
    paragraphs = [p for e in shipped.entries for p in e.body_markdown.split("\n\n") if p.strip()]
    entries = []
    for n in range(size):
        base = shipped.entries[n % len(shipped.entries)]
        body = "\n\n".join(rng.sample(paragraphs, 12))
        entries.append(msgspec.structs.replace(
            base, slug=f"{base.slug}-{n}", title=f"{base.title} ({n})", body_markdown=body,
            body_html=base.body_html, links=[], related=[], content_hash=f"bench-{n}",
        ))  # fmt: skip
    return msgspec.structs.replace(shipped, entries=entries)


def queries() -> list[str]:
    cases = yaml.safe_load((PROJECT_ROOT / "tests/relevance/queries.yaml").read_text("utf-8"))
    return [*cases["lotse"], *cases["typos"], *cases["umlaut_spellings"]]


async def load(
    url: str, make_request: object, clients: int, total: int
) -> tuple[list[float], float]:
    """Send ``total`` requests with ``clients`` concurrent workers; latencies in ms, req/s."""
    mix = queries()
    latencies: list[float] = []
    counter = iter(range(total))

    async def worker(http: httpx.AsyncClient) -> None:
        for n in counter:
            q = mix[n % len(mix)]
            start = time.perf_counter()
            response = await make_request(http, q)  # type: ignore[operator]
            response.raise_for_status()
            latencies.append((time.perf_counter() - start) * 1000)

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:
        started = time.perf_counter()
        await asyncio.gather(*(worker(http) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return latencies, total / elapsed


def pct(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1]


async def prepare(settings: Settings, meili: LocalMeilisearch) -> None:
    """Sync the corpus into the database and time a full reindex."""
    registry = build_registry(settings)
    shipped, problems = load_content(collect_packs(registry, settings))
    assert not problems, problems
    use_engine(engine_from_url(settings.database_url))
    await migrate()
    started = time.perf_counter()
    await sync_content(corpus(shipped, CORPUS_SIZE))
    print(f"corpus: {CORPUS_SIZE} entries synced in {time.perf_counter() - started:.1f} s")
    index_settings, enrich = search_setup(registry, settings)
    async with AsyncClient(meili.url, meili.master_key, timeout=300) as client:
        started = time.perf_counter()
        await rebuild_index(client, UID, settings=index_settings, enrich=enrich)
        print(f"full reindex of {CORPUS_SIZE} entries: {time.perf_counter() - started:.1f} s")


def start_api(settings: Settings, meili: LocalMeilisearch) -> tuple[subprocess.Popen[bytes], int]:
    """Our API in its own process, as in production (one uvicorn worker)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MEILI_URL": meili.url,
        "MEILI_MASTER_KEY": meili.master_key or "",
    }
    command = [sys.executable, "-m", "uvicorn", "core.app:create_app_from_env", "--factory"]
    command += ["--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT)
    for _ in range(100):
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the API did not start")


async def measure(meili: LocalMeilisearch, api_url: str) -> None:
    async def ours(http: httpx.AsyncClient, q: str) -> httpx.Response:
        return await http.get("/api/v1/search", params={"q": q})

    headers = {"Authorization": f"Bearer {meili.master_key}"}

    async def raw(http: httpx.AsyncClient, q: str) -> httpx.Response:
        # The same multi-search our endpoint sends (see search/query.py).
        query = {
            "indexUid": UID, "q": q, "filter": [], "page": 1, "hitsPerPage": 20,
            "attributesToRetrieve": ["slug", "title", "summary", "kind", "topics", "source"],
            "attributesToHighlight": ["title", "summary"], "attributesToCrop": ["summary"],
            "cropLength": 30, "facets": [],
        }  # fmt: skip
        return await http.post("/multi-search", json={"queries": [query]}, headers=headers)

    print(f"\n{REQUESTS_PER_LEVEL} searches per run, {len(queries())} distinct queries\n")
    print(f"{'clients':>7} | {'target':<16} | {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} | req/s")
    targets = (("raw Meilisearch", meili.url, raw), ("/api/v1/search", api_url, ours))
    for clients in LEVELS:
        p95 = {}
        for name, url, request in targets:
            await load(url, request, clients, 50)  # warm-up
            latencies, rate = await load(url, request, clients, REQUESTS_PER_LEVEL)
            p95[name] = pct(latencies, 95)
            print(
                f"{clients:>7} | {name:<16} | {pct(latencies, 50):7.1f} {p95[name]:7.1f} "
                f"{pct(latencies, 99):7.1f} | {rate:5.0f}"
            )
        print(f"{'':>7} | p95 ours/raw: {p95['/api/v1/search'] / p95['raw Meilisearch']:.2f}")


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="m40-bench-"))
    settings = Settings(database_url=f"sqlite:///{work / 'bench.sqlite'}")
    with LocalMeilisearch(work / "meili") as meili:
        asyncio.run(prepare(settings, meili))
        server, port = start_api(settings, meili)
        try:
            asyncio.run(measure(meili, f"http://127.0.0.1:{port}"))
        finally:
            server.terminate()
            server.wait(timeout=10)
    cores = os.cpu_count()
    print(f"\nmachine: {platform.platform()}, {cores} cores, Python {platform.python_version()}")


if __name__ == "__main__":
    main()
