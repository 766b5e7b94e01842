"""Our /api/v1/search with and without the fast path, two servers side by side.

Not a test: it prints figures. On a shared machine the load moves between the rows of
one ``make bench`` run; here both ways run at the same time as two servers (one uvicorn
worker each, as deployed by ``core.server``) over one Meilisearch with the shipped
content, and wrk (10 connections) and curl (single requests) alternate between them in
rounds, so that each round compares the two under about the same load.

    .venv/bin/python benchmarks/search_ab.py [--rounds 4]   (BENCH_SECONDS: 4 per run)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("BENCH_SECONDS", "4")


def main() -> None:
    import benchmarks.search_bench as bench
    from core.content.loader import load_content
    from core.content.packs import collect_packs
    from core.plugins import build_registry
    from core.settings import Settings
    from search.local_server import LocalMeilisearch

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
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
            name: bench.start_api(settings, meili, "shipped", work, route_only=route_only)
            for name, route_only in (("fast path", False), ("route (before)", True))
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


if __name__ == "__main__":
    main()
