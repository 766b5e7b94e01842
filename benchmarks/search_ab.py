"""Our /api/v1/search two ways, two servers side by side: with and without the fast path
(``--arms fast``, default), or with and without query understanding's rewrites kept
(``--arms rewrites``, search/rewrites.py; both on the fast path).

Not a test: it prints figures. On a shared machine the load moves between the rows of
one ``make bench`` run; here both ways run at the same time as two servers (one uvicorn
worker each, as deployed by ``core.server``) over one Meilisearch with the shipped
content, and wrk (10 connections) and curl (single requests) alternate between them in
rounds, so that each round compares the two under about the same load.

    .venv/bin/python benchmarks/search_ab.py [--rounds 4] [--arms fast|rewrites]
    (BENCH_SECONDS: 4 per run)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_SECONDS", "4")
# Each way: its name and the app factory its server runs (None: the deployed one).
ARMS: dict[str, list[tuple[str, str | None]]] = {
    "fast": [("fast path", None), ("route (before)", "benchmarks.search_bench:route_only_app")],
    "rewrites": [
        ("rewrites kept", None),
        ("not kept (before)", "benchmarks.search_ab:rewrites_not_kept_app"),
    ],
}


def main() -> None:
    import benchmarks.search_bench as bench
    from core.content.loader import load_content
    from core.content.packs import collect_packs
    from core.plugins import build_registry
    from core.settings import Settings
    from search.local_server import LocalMeilisearch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--arms", choices=("fast", "rewrites"), default="fast")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="m40-ab-"))
    probe = Settings(database_url=f"sqlite:///{work / 'probe.sqlite'}")
    shipped, problems = load_content(collect_packs(build_registry(probe), probe))
    assert not problems, problems
    with LocalMeilisearch(work / "meili") as meili:
        settings = Settings(database_url=f"sqlite:///{work / 'shipped.sqlite'}")
        asyncio.run(bench.prepare(settings, meili, shipped, "shipped", work, compare_reindex=False))
        mix = bench.ours(bench.queries())
        servers = {
            name: bench.start_api(settings, meili, "shipped", work, factory=factory)
            for name, factory in ARMS[args.arms]
        }
        rows: dict[str, list[tuple[float, float, float, float]]] = {n: [] for n in servers}
        try:
            for n in range(args.rounds):
                for name, (server, url) in servers.items():
                    w = bench.wrk(url, mix, {}, work, server.pid)
                    curl = bench.curl_p50(url, mix, {}, work)
                    rows[name].append((w["p50"], w["rate"], w["cpu_us"], curl))
                    print(f"round {n} {name}: p50 {w['p50']:.1f} ms, {w['rate']:.0f} req/s, "
                          f"{w['cpu_us']:.0f} µs CPU/request, curl p50 {curl:.1f} ms, "
                          f"load average {os.getloadavg()[0]:.2f}", flush=True)  # fmt: skip
        finally:
            for server, _ in servers.values():
                server.terminate()
                server.wait(timeout=10)
    print("medians over the rounds:")
    for name, measured in rows.items():
        p50, rate, cpu, curl = (statistics.median(row[i] for row in measured) for i in range(4))
        print(f"  {name:<15} p50 {p50:6.1f} ms  {rate:5.0f} req/s  {cpu:6.0f} µs CPU/request  "
              f"curl p50 {curl:5.1f} ms")  # fmt: skip


def rewrites_not_kept_app() -> Any:
    """The app with no rewrite ever served (uvicorn factory of the "not kept" server):
    every query with a dead word works its rewrite out, as before search/rewrites.py."""
    import search.worker
    from core.app import create_app_from_env

    class NotKept(search.worker.Rewrites):
        def get(self, key: Any) -> None:
            return None

    search.worker.Rewrites = NotKept  # type: ignore[misc]
    return create_app_from_env()


if __name__ == "__main__":
    main()
