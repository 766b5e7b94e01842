"""Search benchmark: our /api/v1/search beside raw Meilisearch, and a full reindex beside
Meilisearch's own bulk add. Not a test: it prints figures (`make bench`, ~6 minutes).

Load comes from C tools, never only from a Python client (a Python client hid the 40 ms
stall for a long time: its own requests stalled the same way): `wrk` with 10 connections
sends the same query mix to our endpoint and, as the identical multi-search body
(search.query.multi_search_body), straight to Meilisearch; `curl` sends single requests
one after another on one connection. Both on the shipped content and on 10,000 German
entries made by recombining the shipped paragraphs. Our API runs as deployed
(``python -m core.server``, one and two uvicorn workers; production runs two on two
cores); each server is measured once it and Meilisearch are idle after its start (the
seconds that took are printed). "before" rows run the same app with the search's fast
path switched off (every search through Litestar's router and middlewares,
core/api/fast_search.py), and the reindex of before (1000-document tasks, one after
another).

Everything runs on 127.0.0.1 and stops by itself. Environment: BENCH_ENTRIES (10000),
BENCH_SECONDS per wrk run (5), BENCH_WARMUP seconds of the same load before each (5),
BENCH_BEFORE=0 skips the "before" rows, BENCH_ONLY=reindex measures only the full reindex
of the generated entries beside the bulk add (no searches).
BENCH_KEEP=1 keeps its temporary folder (removed at the end otherwise).
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import msgspec
import yaml

from core.content.loader import load_content
from core.content.model import PUBLISHED, ContentSet
from core.content.packs import collect_packs
from core.content.sync import sync_content
from core.db.engine import engine_from_url, migrate, use_engine
from core.db.tables import Entry
from core.plugins import build_registry
from core.settings import PROJECT_ROOT, Settings
from search.client import meilisearch_client
from search.config import search_setup
from search.documents import build_document
from search.indexer import ensure_index, wait_for
from search.local_server import LocalMeilisearch, free_port
from search.query import multi_search_body
from search.rebuild import rebuild_index

CORPUS_SIZE = int(os.environ.get("BENCH_ENTRIES", "10000"))
SECONDS = int(os.environ.get("BENCH_SECONDS", "5"))
# Before each measured run, the same load for this long: long enough that each app worker
# has seen every query of the mix once (at ~200 req/s, 5 s is about 3 passes over the 285
# queries), so that query understanding's kept rewrites (search/rewrites.py) are in their
# steady state, as for a Lotse's repeated searches. A first sighting of a query with an
# unknown word costs 2-5 multi-searches instead of one (benchmarks/search_cpu.py --arms
# rewrites). BENCH_WARMUP=1 gives the short warm-up of before.
WARMUP = int(os.environ.get("BENCH_WARMUP", "5"))
BEFORE = os.environ.get("BENCH_BEFORE", "1") != "0"
REINDEX_ONLY = os.environ.get("BENCH_ONLY", "") == "reindex"
CONNECTIONS = 10
SEQUENTIAL = 30  # curl: single requests one after another
PAGE_SIZE = 20
# Steady state before measuring: the API and Meilisearch together below IDLE_SHARE of one
# core (idle workers poll: ~0.02 each) in IDLE_STREAK intervals of IDLE_INTERVAL seconds
# in a row, at most IDLE_TIMEOUT. Several in a row: the indexer starts its work (settings,
# reconcile) only after a quiet second (search.worker.IDLE_SECONDS).
IDLE_SHARE = 0.1
IDLE_INTERVAL = 1.0
IDLE_STREAK = 3
IDLE_TIMEOUT = 60.0


def corpus(shipped: ContentSet, size: int) -> ContentSet:
    """``size`` entries made from the shipped ones: same vocabulary, shuffled paragraphs."""
    import random

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
    """The relevance set's queries that should find something (any category)."""
    cases = yaml.safe_load((PROJECT_ROOT / "tests/relevance/queries.yaml").read_text("utf-8"))
    found: list[str] = []
    for name, value in cases.items():
        if isinstance(value, dict) and name != "fragments":
            found += [str(q) for q in value]
    return list(dict.fromkeys(found)) or ["Tandem", "Ziele vereinbaren", "Barrieren"]


# -- load generators -----------------------------------------------------------------------


def _lua(requests: list[tuple[str, str, str | None]], headers: dict[str, str]) -> str:
    """A wrk script that cycles through (method, path, body) and prints JSON when done."""

    def text(value: str) -> str:
        return "[==[" + value + "]==]"

    rows = ",\n".join(
        f"  {{{text(m)}, {text(p)}, {text(b) if b is not None else 'nil'}}}" for m, p, b in requests
    )
    head = ", ".join(f"[ {text(k)} ] = {text(v)}" for k, v in headers.items())
    return f"""
local requests = {{
{rows}
}}
local headers = {{{head}}}
local i = 0
request = function()
  i = i % #requests + 1
  local r = requests[i]
  return wrk.format(r[1], r[2], headers, r[3])
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{{"p50_us": %d, "p99_us": %d, "requests": %d, "duration_us": %d, "errors": %d}}\\n',
    latency:percentile(50), latency:percentile(99), summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children (uvicorn's workers), so far."""
    import psutil

    total = 0.0
    root = psutil.Process(pid)
    for process in [root, *root.children(recursive=True)]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system
    return total


def wait_until_idle(pids: list[int], *, timeout: float = IDLE_TIMEOUT) -> float:
    """Seconds until the processes ``pids`` (each with its children) together used less
    than IDLE_SHARE of one core in IDLE_STREAK intervals in a row: the work a start
    leaves running in the background (the indexer's settings and reconcile, the lease)
    is over, so that wrk measures the steady state. Gives up after ``timeout``."""
    started = time.monotonic()
    last = sum(cpu_seconds(pid) for pid in pids)
    quiet = 0
    while quiet < IDLE_STREAK and time.monotonic() - started < timeout:
        time.sleep(IDLE_INTERVAL)
        now = sum(cpu_seconds(pid) for pid in pids)
        quiet = quiet + 1 if now - last < IDLE_SHARE * IDLE_INTERVAL else 0
        last = now
    return time.monotonic() - started


def wrk(base: str, requests: list[tuple[str, str, str | None]], headers: dict[str, str],
        work: Path, pid: int | None = None) -> dict[str, float]:  # fmt: skip
    """p50/p99 in ms and req/s at CONNECTIONS connections over SECONDS (after a warm-up);
    with ``pid``, that process tree's CPU µs per answered request (its own cost, which
    the other users of a shared machine inflate far less than wall-clock figures)."""
    script = work / f"wrk-{time.monotonic_ns()}.lua"
    script.write_text(_lua(requests, headers), encoding="utf-8")
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", "--timeout", "10s", "-s", str(script), base]
    subprocess.run([*command[:1], f"-d{WARMUP}s", *command[1:]], capture_output=True, check=True)
    cpu_before = cpu_seconds(pid) if pid else 0.0
    out = subprocess.run([*command[:1], f"-d{SECONDS}s", *command[1:]],
                         capture_output=True, text=True, check=True).stdout  # fmt: skip
    cpu = cpu_seconds(pid) - cpu_before if pid else float("nan")
    result = json.loads(out.strip().splitlines()[-1])
    return {
        "p50": result["p50_us"] / 1000,
        "p99": result["p99_us"] / 1000,
        "rate": result["requests"] / (result["duration_us"] / 1e6),
        "errors": result["errors"],
        "cpu_us": cpu / max(result["requests"], 1) * 1e6,
    }


def curl_p50(base: str, requests: list[tuple[str, str, str | None]], headers: dict[str, str],
             work: Path) -> float:  # fmt: skip
    """Median ms of SEQUENTIAL single requests, one after another on one connection."""
    args = ["curl", "--silent", "--show-error", "--fail"]
    for n in range(SEQUENTIAL):
        method, path, body = requests[n % len(requests)]
        if n:
            args.append("--next")
        args += ["--silent", "--output", "/dev/null", "--write-out", "%{time_total}\\n"]
        for key, value in headers.items():
            args += ["--header", f"{key}: {value}"]
        if body is not None:
            payload = work / f"body-{n}.json"
            payload.write_text(body, encoding="utf-8")
            args += ["--request", method, "--data-binary", f"@{payload}"]
        args.append(base + path)
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return statistics.median(float(t) * 1000 for t in out.split())


# -- the two sides ---------------------------------------------------------------------------


def ours(mix: list[str]) -> list[tuple[str, str, str | None]]:
    return [("GET", "/api/v1/search?" + urllib.parse.urlencode({"q": q}), None) for q in mix]


def raw(mix: list[str], uid: str) -> list[tuple[str, str, str | None]]:
    """What our endpoint sends for each query, byte for byte the same JSON."""
    bodies = [
        multi_search_body(uid, q=q, filters={}, page=1, page_size=PAGE_SIZE, facets=[]) for q in mix
    ]
    # Encoded as the app's HTTP client encodes it (compact, UTF-8).
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    return [("POST", "/multi-search", encode(body)) for body in bodies]


def route_only_app() -> Any:
    """The app with the search's fast path off (uvicorn factory of the "before" rows)."""
    from core.app import create_app_from_env

    app = create_app_from_env()
    app.state.fast_search.enabled = False
    return app


def start_api(
    settings: Settings,
    meili: LocalMeilisearch,
    uid: str,
    work: Path,
    *,
    route_only: bool = False,
    workers: int = 1,
    factory: str | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """Our API in its own process as deployed (``core.server``: uvicorn with the fixes of
    its socket, ``workers`` workers, one listening socket each; production runs two);
    ``factory``: another app factory (module:function) than the deployed one."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "MEILI_URL": meili.url,
        "MEILI_MASTER_KEY": meili.master_key or "",
        "MEILI_INDEX": uid,
        "MENTORING40_RATE_LIMIT_SEARCH": "off",
    }
    # "before": every search through Litestar's route (the fast path switched off); a
    # factory, so that each worker process switches it off.
    factory = factory or (
        "benchmarks.search_bench:route_only_app" if route_only else "core.app:create_app_from_env"
    )
    command = [sys.executable, "-m", "core.server", factory, "--factory", "--port", str(port)]
    command += ["--log-level", "warning", "--workers", str(workers), "--no-access-log"]
    log = (work / f"api-{port}.log").open("ab")  # its access log, out of the figures' way
    server = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=log)
    log.close()
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{url}/api/v1/search?q=Tandem", timeout=5) as answer:
                if json.load(answer)["meta"]["search"]["engine"] == "meilisearch":
                    return server, url
        except OSError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise RuntimeError("the API did not start answering from Meilisearch")


def measure_search(
    label: str, settings: Settings, meili: LocalMeilisearch, uid: str, work: Path
) -> list[tuple[str, str, dict[str, float], float]]:
    mix = queries()
    key = {"Authorization": f"Bearer {meili.master_key}", "Content-Type": "application/json"}
    engine_pid = meili.process.pid if meili.process else None
    rows = [(label, "raw Meilisearch", wrk(meili.url, raw(mix, uid), key, work, engine_pid),
             curl_p50(meili.url, raw(mix, uid), key, work))]  # fmt: skip
    _progress(rows[-1])
    variants = [("/api/v1/search", False, 1), ("/api/v1/search, 2 workers", False, 2)]
    if BEFORE:
        variants += [("route, before", True, 1), ("route, before, 2 workers", True, 2)]
    for name, route_only, workers in variants:
        server, url = start_api(settings, meili, uid, work, route_only=route_only, workers=workers)
        try:
            # The first search answered is not the end of the start's work: measure the
            # steady state (the time it took is printed beside the figures).
            settled = wait_until_idle([server.pid, *([engine_pid] if engine_pid else [])])
            measured = wrk(url, ours(mix), {}, work, server.pid)
            measured["settle_s"] = settled
            rows.append((label, name, measured, curl_p50(url, ours(mix), {}, work)))
            _progress(rows[-1])
        finally:
            server.terminate()
            server.wait(timeout=10)
    return rows


def _progress(row: tuple[str, str, dict[str, float], float]) -> None:
    label, name, w, c = row
    settled = f", idle {w['settle_s']:.1f} s after start" if "settle_s" in w else ""
    print(f"  measured {label} / {name}: p50 {w['p50']:.1f} ms, {w['rate']:.0f} req/s, "
          f"{w['cpu_us']:.0f} µs CPU/request, curl p50 {c:.1f} ms{settled}, "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip


# -- reindex ---------------------------------------------------------------------------------


async def reindex_before(
    client: Any, uid: str, index_settings: dict[str, Any], enrich: Any
) -> None:
    """The reindex as it was: 1000-document tasks through the SDK, all queued, then waited."""
    await ensure_index(client, uid, index_settings)
    rows = (
        await Entry.select()
        .where(Entry.status == PUBLISHED)
        .order_by(Entry.id)
        .output(load_json=True)
    )
    tasks = []
    for start in range(0, len(rows), 1000):
        docs = [build_document(row, enrich) for row in rows[start : start + 1000]]
        tasks.append((await client.index(uid).add_documents(docs, primary_key="slug")).task_uid)
    for task in tasks:
        await wait_for(client, task, timeout_s=1800)


async def raw_bulk_add(
    client: Any, meili: LocalMeilisearch, uid: str, index_settings: dict[str, Any],
    enrich: Any, work: Path,
) -> float:  # fmt: skip
    """Meilisearch's own bulk add: the same documents as one NDJSON file, POSTed with curl;
    seconds from the POST until the task succeeded."""
    rows = await Entry.select().where(Entry.status == PUBLISHED).output(load_json=True)
    path = work / "documents.ndjson"
    with path.open("wb") as out:
        for row in rows:
            out.write(msgspec.json.encode(build_document(row, enrich)) + b"\n")
    await ensure_index(client, uid, index_settings)
    return await asyncio.to_thread(_curl_bulk_add, meili, uid, path)


def _curl_bulk_add(meili: LocalMeilisearch, uid: str, path: Path) -> float:
    started = time.perf_counter()
    answer = subprocess.run(
        ["curl", "--silent", "--show-error", "--fail", "--request", "POST",
         "--header", f"Authorization: Bearer {meili.master_key}",
         "--header", "Content-Type: application/x-ndjson",
         "--data-binary", f"@{path}", f"{meili.url}/indexes/{uid}/documents?primaryKey=slug"],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    task = json.loads(answer)["taskUid"]
    while True:
        status = subprocess.run(
            ["curl", "--silent", "--header", f"Authorization: Bearer {meili.master_key}",
             f"{meili.url}/tasks/{task}"], capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        state = json.loads(status)["status"]
        if state in ("succeeded", "failed", "canceled"):
            assert state == "succeeded", status
            return time.perf_counter() - started
        time.sleep(0.05)


async def prepare(
    settings: Settings, meili: LocalMeilisearch, content: ContentSet, uid: str, work: Path,
    *, compare_reindex: bool,
) -> dict[str, float]:  # fmt: skip
    """Sync ``content`` into the database and time full reindexes (ours, raw, before)."""
    registry = build_registry(settings)
    use_engine(engine_from_url(settings.database_url))
    await migrate()
    started = time.perf_counter()
    await sync_content(content)
    figures = {"sync": time.perf_counter() - started}
    index_settings, enrich = search_setup(registry, settings)
    async with meilisearch_client(meili.url, meili.master_key, timeout=300) as client:
        started = time.perf_counter()
        await rebuild_index(client, uid, settings=index_settings, enrich=enrich)
        figures["ours"] = time.perf_counter() - started
        if compare_reindex:
            figures["raw"] = await raw_bulk_add(
                client, meili, f"{uid}_raw", index_settings, enrich, work
            )
            if BEFORE:
                started = time.perf_counter()
                await reindex_before(client, f"{uid}_before", index_settings, enrich)
                figures["before"] = time.perf_counter() - started
            for extra in ("raw", "before") if BEFORE else ("raw",):
                await wait_for(client, (await client.index(f"{uid}_{extra}").delete()).task_uid)
    return figures


def main() -> None:
    # Each figure as soon as it is measured (a long run cut off still leaves its lines).
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    print(f"load average at the start: {os.getloadavg()[0]:.2f}")
    for tool in ("curl",) if REINDEX_ONLY else ("wrk", "curl"):
        if shutil.which(tool) is None:
            sys.exit(
                f"`{tool}` is needed (Debian: apt-get install {tool}); `make bench` installs it."
            )
    work = Path(tempfile.mkdtemp(prefix="m40-bench-"))
    # The corpus, databases and Meilisearch data of a 10k run take ~0.9 GB: gone at the end
    # (also after Ctrl-C), unless BENCH_KEEP=1 asks to look at them.
    if os.environ.get("BENCH_KEEP") != "1":
        atexit.register(shutil.rmtree, work, ignore_errors=True)
    else:
        print(f"kept after the run: {work}")
    probe = Settings(database_url=f"sqlite:///{work / 'probe.sqlite'}")
    shipped, problems = load_content(collect_packs(build_registry(probe), probe))
    assert not problems, problems
    results = []
    with LocalMeilisearch(work / "meili") as meili:
        corpora = [
            (f"shipped ({len(shipped.entries)})", shipped, "shipped"),
            (f"{CORPUS_SIZE} entries", corpus(shipped, CORPUS_SIZE), "entries"),
        ]
        for label, content, uid in corpora[1:] if REINDEX_ONLY else corpora:
            settings = Settings(database_url=f"sqlite:///{work / (uid + '.sqlite')}")
            big = uid == "entries"
            figures = asyncio.run(prepare(settings, meili, content, uid, work, compare_reindex=big))
            print(
                f"{label}: synced in {figures['sync']:.1f} s, reindexed in {figures['ours']:.1f} s"
            )
            if big:
                ratio = figures["ours"] / figures["raw"]
                print(f"  full reindex: ours {figures['ours']:.1f} s, Meilisearch bulk add of "
                      f"the same documents {figures['raw']:.1f} s, ours/raw {ratio:.2f} "
                      "(goal: < 20 s, ≤ 1.5)")  # fmt: skip
                if "before" in figures:
                    print(f"  before (1000-document tasks): {figures['before']:.1f} s")
                print(f"  load average {os.getloadavg()[0]:.2f}")
            if not REINDEX_ONLY:
                results += measure_search(label, settings, meili, uid, work)
    if REINDEX_ONLY:
        return
    print(f"\nwrk: {CONNECTIONS} connections, {SECONDS} s per run after {WARMUP} s of warm-up, "
          f"{len(queries())} queries; curl: median of {SEQUENTIAL} single requests in a "
          "row\n")  # fmt: skip
    print(f"{'corpus':<16} | {'target':<24} | {'p50 ms':>7} {'p99 ms':>7} {'req/s':>7} "
          f"{'errors':>6} {'CPU µs/req':>10} | curl p50 ms | idle after s")  # fmt: skip
    raw_of: dict[str, dict[str, float]] = {}
    for label, name, w, c in results:
        if name == "raw Meilisearch":
            raw_of[label] = w
        print(f"{label:<16} | {name:<24} | {w['p50']:7.1f} {w['p99']:7.1f} {w['rate']:7.0f} "
              f"{w['errors']:6.0f} {w['cpu_us']:10.0f} | {c:11.1f} | "
              f"{format(w['settle_s'], '12.1f') if 'settle_s' in w else '':>12}")  # fmt: skip
    print("\nours/raw (goal: p50 ≤ 1.3, req/s ≥ 0.5):")
    for label, name, w, _ in results:
        if name != "raw Meilisearch":
            r = raw_of[label]
            p50, rate = w["p50"] / r["p50"], w["rate"] / r["rate"]
            print(f"  {label:<16} {name:<24} p50 {p50:5.2f}   req/s {rate:5.2f}")
    load = os.getloadavg()
    print(f"\nmachine: {platform.platform()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, load average {load[0]:.2f} at the end")  # fmt: skip


if __name__ == "__main__":
    main()
