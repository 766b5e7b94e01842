"""Exactly one search indexer across workers: the database lease, and uvicorn with two
workers where the indexing worker is killed. Real databases, real Meilisearch, real
processes."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from click.testing import CliRunner
from piccolo.apps.migrations.tables import Migration

from core.cli import main
from core.db import lease
from core.db.engine import (
    MIGRATION_LOCK_ID,
    engine_from_url,
    migration_lock,
    shipped_migrations,
    use_engine,
)
from core.settings import PROJECT_ROOT, Settings
from search.local_server import LocalMeilisearch
from tests.conftest import run, sync
from tests.processes import App, wait_until


def _use(settings: Settings) -> None:
    use_engine(engine_from_url(settings.database_url))


def test_a_lease_has_one_holder_and_runs_out_when_not_renewed(fixture_settings: Settings) -> None:
    sync(fixture_settings)  # migrations
    _use(fixture_settings)

    async def scenario() -> list[Any]:
        seen: list[Any] = []
        seen.append(await lease.acquire("job", "a", 30))  # free: a takes it
        seen.append(await lease.acquire("job", "b", 30))  # held by a
        seen.append(await lease.acquire("job", "a", 30))  # a renews
        seen.append((await lease.current("job") or ("", None))[0])
        await lease.release("job", "b")  # not b's to give up
        seen.append(await lease.acquire("job", "b", 30))
        await lease.release("job", "a")
        seen.append(await lease.current("job"))
        seen.append(await lease.acquire("job", "b", 0.5))  # released: b takes it at once
        return seen

    assert run(scenario()) == [True, False, True, "a", False, None, True]
    time.sleep(0.7)  # b "crashed": it never renews

    async def after_expiry() -> list[Any]:
        return [
            await lease.current("job"),
            await lease.acquire("job", "a", 30),
            await lease.acquire("job", "b", 30),  # b is back, but a holds it now
            await lease.acquire("other-job", "b", 30),  # leases are per name
        ]

    assert run(after_expiry()) == [None, True, False, True]


@pytest.fixture
def meili(tmp_path: Path) -> Iterator[LocalMeilisearch]:
    with LocalMeilisearch(tmp_path / "meili") as server:
        yield server


def _holder_pid(settings: Settings) -> int | None:
    _use(settings)
    held = run(lease.current("search-indexer"))
    return int(held[0].split(":")[1]) if held else None


def _search_titles(base: str, query: str) -> list[str]:
    response = httpx.get(f"{base}/api/v1/search", params={"q": query}, timeout=10)
    if response.status_code != 200 or response.json()["meta"]["search"]["engine"] != "meilisearch":
        return []  # not (yet) the index: the database answered
    return [hit["title"] for hit in response.json()["data"]]


def test_one_of_two_workers_indexes_and_another_takes_over_when_it_is_killed(
    fixture_settings: Settings,
    content_dir: Path,
    meili: LocalMeilisearch,
    tmp_path: Path,
    apps: Callable[..., App],
) -> None:
    sync(fixture_settings)
    (tmp_path / "metrics").mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": fixture_settings.database_url,
        "MENTORING40_CONTENT_DIR": str(content_dir),
        "MENTORING40_LOAD_PLUGINS": "",
        "MEILI_URL": meili.url,
        "MEILI_ADMIN_KEY": str(meili.master_key),
        "MEILI_INDEX": f"lease_{uuid.uuid4().hex[:10]}",
        "MENTORING40_INDEXER_LEASE_SECONDS": "6",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    app = apps(env, tmp_path / "app.log", workers=2)
    first = wait_until("an indexer", lambda: _holder_pid(fixture_settings))
    assert first in {w.pid for w in app.workers()}
    wait_until("a searchable index", lambda: "Aufgabenliste" in _search_titles(app.url, "Aufgaben"))

    # Renewals keep the same holder; the other worker never takes over while it lives.
    for _ in range(10):
        assert _holder_pid(fixture_settings) == first
        time.sleep(0.4)
    # The whole log: on a slow machine the polling searches above log many access lines.
    log = app.log_text(tail=None)
    assert len(re.findall(r"this worker indexes", log)) == 1, log[-5000:]
    status = CliRunner().invoke(main, ["search", "status"], env=env)
    assert f"Indexer: {socket.gethostname()}:{first}:" in status.output, status.output

    os.kill(first, signal.SIGKILL)  # no clean shutdown: the lease is not released
    second = wait_until(
        "another indexer",
        lambda: (pid := _holder_pid(fixture_settings)) not in (None, first) and pid,
    )
    assert second in {w.pid for w in app.workers()}

    # The new indexer carries changes into the index.
    entry = content_dir / "entries" / "aufgabenliste.md"
    entry.write_text(
        entry.read_text(encoding="utf-8").replace(
            "title: Aufgabenliste", "title: Aufgabenliste für Tandems"
        ),
        encoding="utf-8",
    )
    sync(fixture_settings)
    wait_until(
        "the changed title in search",
        lambda: "Aufgabenliste für Tandems" in _search_titles(app.url, "Aufgabenliste"),
    )


def _flock_waiters(path: Path) -> bool:
    inode = path.stat().st_ino
    blocked = [line for line in Path("/proc/locks").read_text().splitlines() if "->" in line]
    return any(line.split()[6].endswith(f":{inode}") for line in blocked)


async def _waiting_for_migration_lock(database_url: str) -> bool:
    """Whether some process waits for the migration lock (PostgreSQL: pg_locks; SQLite: the
    kernel's list of blocked flock() calls on the lock file)."""
    if database_url.startswith("sqlite"):
        return _flock_waiters(Path(f"{database_url[len('sqlite:///') :]}.migrate-lock"))
    connection = await asyncpg.connect(database_url)
    try:
        waiting = await connection.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND objid = $1",
            MIGRATION_LOCK_ID,
        )
    finally:
        await connection.close()
    return bool(waiting)


def test_a_second_migrator_waits_until_the_first_is_done(database_url: str) -> None:
    """Workers or instances that start together must not apply the same migration twice."""
    env = {**os.environ, "DATABASE_URL": database_url, "MENTORING40_LOAD_PLUGINS": ""}
    use_engine(engine_from_url(database_url))

    async def scenario() -> tuple[int, str, bool]:
        async with migration_lock():  # "the first migrator" holds the lock
            second = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "core.cli", "migrate"),
                env=env,
                cwd=PROJECT_ROOT,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
            )
            deadline = time.monotonic() + 60
            while not await _waiting_for_migration_lock(database_url):
                assert second.returncode is None, await second.stdout.read()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "the second migrator never asked for the lock"
                await asyncio.sleep(0.2)
            applied_meanwhile = await Migration.table_exists()
        output, _ = await second.communicate()
        return second.returncode or 0, output.decode(), applied_meanwhile

    code, output, applied_meanwhile = run(scenario())
    assert applied_meanwhile is False  # it waited instead of migrating beside the first
    assert code == 0, output
    assert f"Applied {len(shipped_migrations())} migration(s)." in output
    names = [row["name"] for row in run(Migration.select(Migration.name).run())]
    assert sorted(names) == sorted(shipped_migrations())


def test_only_building_documents_loads_the_word_list_not_a_search() -> None:
    """The compound word list (~5 MiB) is for the indexer; a search only stems. Neither
    imports wordfreq itself (its language libraries: ~14 MiB more; docs/PERFORMANCE.md)."""
    probe = (
        "import sys, core.app, search.worker, search.documents, search.query;"
        "from search import german;"
        "from search.understanding import query_words; query_words('Urlaubskalender teilen');"
        "print(german._lexicon.cache_info().currsize, 'wordfreq' in sys.modules);"
        "german.compound_parts('Wissensdatenbank');"
        "print(german._lexicon.cache_info().currsize, 'wordfreq' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT
    )
    assert result.stdout.split() == ["0", "False", "1", "False"]


def test_an_app_worker_loads_no_pdf_or_matching_library_until_it_needs_one() -> None:
    """fpdf2 (~30 MiB) and NumPy/SciPy (~45 MiB) are imported by the request that makes a
    PDF or matches a pool, not by every app worker (the indexing worker's RSS,
    docs/PERFORMANCE.md)."""
    heavy = ("fpdf", "numpy", "scipy")
    probe = (
        "import sys, tempfile; from pathlib import Path;"
        "from core.app import create_app; from core.plugins import build_registry;"
        "from core.settings import Settings;"
        "s = Settings(database_url=f'sqlite:///{tempfile.mkdtemp()}/db.sqlite');"
        "create_app(s, build_registry(s));"
        f"print(*[m in sys.modules for m in {heavy!r}]);"
        "from core.runs import pdf; from core.quickcheck.matching import assign;"
        "assign([[80.0]], [1]); pdf._report_class();"
        f"print(*[m in sys.modules for m in {heavy!r}])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=PROJECT_ROOT
    )
    assert result.stdout.split() == ["False"] * 3 + ["True"] * 3
