"""Peak RSS of the indexing worker's work, in a fresh process (not a test: prints figures).

Default: the shipped content. The script imports the app's modules (and builds the app,
as an app worker does), syncs the content into a throwaway SQLite database, then builds
every document the way the indexer does and prints the process's peak RSS before and
after building.

With ``--entries N`` it syncs N generated entries (the corpus of ``make bench``) instead,
(synced by a child process, so the sync's memory is not counted), starts a throwaway
Meilisearch and runs what the indexing worker runs on them: a full
``rebuild_index`` (``mentoring40 search reindex``) and then the outbox drain of every
entry in batches, as after ``content sync`` of a fresh database; the peak RSS after each.
Meilisearch's own memory is its process's, not counted here.

    .venv/bin/python benchmarks/indexing_memory.py [--entries 10000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def peak_mib() -> float:
    """The process's RSS high-water mark (VmHWM) since start or the last reset_peak()."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024  # kB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak() -> None:
    """Start the high-water mark again from the current RSS (Linux: clear_refs 5).

    What importing and building the app peaked at is every worker's, not the indexing
    work's, so it is reported apart (until issue #14's fifth session it was ~64 MiB above
    where the app settled: core/accounts/passwords.py hashed its dummy password with
    argon2's 64 MiB at import; now on the first password check)."""
    Path("/proc/self/clear_refs").write_text("5")


def _caches() -> str:
    """How many words search/german.py's splitter and stemmer caches hold."""
    from search.german import compound_parts, stem

    return (f"cached words: {compound_parts.cache_info().currsize} split, "
            f"{stem.cache_info().currsize} stemmed")  # fmt: skip


def shipped() -> None:
    from core.app import create_app
    from core.content.model import PUBLISHED
    from core.db.tables import Entry
    from core.plugins import build_registry
    from core.settings import Settings
    from search.config import search_setup
    from search.documents import build_document
    from tests.conftest import SHIPPED_CONTENT, sync

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            database_url=f"sqlite:///{Path(folder) / 'db.sqlite'}", content_dir=SHIPPED_CONTENT
        )
        registry = build_registry(settings)
        create_app(settings, registry)
        sync(settings, registry)
        _, enrich = search_setup(registry, settings)

        async def rows() -> list[dict[str, object]]:
            return await Entry.select().where(Entry.status == PUBLISHED).output(load_json=True)

        loaded = asyncio.run(rows())
        print(f"app built and content synced: RSS {rss_mib():.0f} MiB, "
              f"peak so far {peak_mib():.0f} MiB (import and sync)")  # fmt: skip
        reset_peak()
        before = peak_mib()
        documents = [build_document(row, enrich) for row in loaded]
        after = peak_mib()
    print(f"documents built: {len(documents)}")
    print(f"peak RSS before building: {before:.0f} MiB")
    print(f"peak RSS after building:  {after:.0f} MiB (+{after - before:.0f} MiB)")


def sync_generated(database: str, size: int) -> None:
    """Sync ``size`` generated entries (run in a child process: its peak is not ours)."""
    from benchmarks.search_bench import corpus
    from core.content.loader import load_content
    from core.content.packs import collect_packs
    from core.content.sync import sync_content
    from core.db.engine import engine_from_url, migrate, use_engine
    from core.plugins import build_registry
    from core.settings import Settings

    settings = Settings(database_url=database)
    content, problems = load_content(collect_packs(build_registry(settings), settings))
    assert not problems, problems
    use_engine(engine_from_url(database))

    async def fill() -> None:
        await migrate()
        await sync_content(corpus(content, size))

    asyncio.run(fill())


def generated(size: int) -> None:
    from core.app import create_app
    from core.db.engine import engine_from_url, use_engine
    from core.db.tables import SearchOutbox
    from core.plugins import build_registry
    from core.settings import Settings
    from search.client import meilisearch_client
    from search.config import search_setup
    from search.indexer import drain_outbox
    from search.local_server import LocalMeilisearch
    from search.rebuild import rebuild_index

    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        database = f"sqlite:///{work / 'db.sqlite'}"
        subprocess.run(
            [sys.executable, __file__, "--sync-into", database, "--entries", str(size)], check=True
        )
        settings = Settings(database_url=database)
        registry = build_registry(settings)
        create_app(settings, registry)  # the modules an app worker has loaded
        use_engine(engine_from_url(database))
        index_settings, enrich = search_setup(registry, settings)
        print(f"app built: RSS {rss_mib():.0f} MiB, peak so far {peak_mib():.0f} MiB (import), "
              f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
        reset_peak()
        with LocalMeilisearch(work / "meili") as meili:

            async def index() -> None:
                async with meilisearch_client(meili.url, meili.master_key, timeout=300) as c:
                    started = time.perf_counter()
                    count = await rebuild_index(c, "memory", settings=index_settings, enrich=enrich)
                    took = time.perf_counter() - started
                    print(f"full reindex of {count} entries: {took:.1f} s, "
                          f"peak RSS {peak_mib():.0f} MiB, {_caches()}, "
                          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
                    await SearchOutbox.update({SearchOutbox.done_at: None}).where(
                        SearchOutbox.id > 0
                    )
                    drained = 0
                    started = time.perf_counter()
                    while (result := await drain_outbox(c, "memory", enrich=enrich)).upserted:
                        drained += result.upserted
                    took = time.perf_counter() - started
                    print(f"outbox drain of {drained} entries: {took:.1f} s, "
                          f"peak RSS {peak_mib():.0f} MiB, {_caches()}, "
                          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip

            asyncio.run(index())
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=0, help="generated entries (0: shipped)")
    parser.add_argument("--sync-into", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sync_into:
        sync_generated(args.sync_into, args.entries)
    elif args.entries:
        generated(args.entries)
    else:
        shipped()


if __name__ == "__main__":
    main()
