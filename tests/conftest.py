"""Shared fixtures: a real SQLite file or a real PostgreSQL database per test."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from litestar.testing import TestClient

from core.app import create_app
from core.content.collect import load_all
from core.content.loader import load_content
from core.content.model import ContentSet
from core.content.packs import collect_packs
from core.content.sync import SyncReport, sync_content
from core.db.engine import engine_from_url, migrate, use_engine
from core.plugins import PluginRegistry, build_registry
from core.settings import PROJECT_ROOT, Settings

T = TypeVar("T")

# The `apps` fixture: the app as deployed, as real processes (tests/processes.py).
pytest_plugins = ["tests.processes"]

FIXTURE_CONTENT = Path(__file__).parent / "fixtures" / "content"
SHIPPED_CONTENT = PROJECT_ROOT / "content"
BROKEN_DIR = Path(__file__).parent / "fixtures" / "broken"
# Where the test suite may create and drop its own databases.
POSTGRES_ADMIN_URL = os.environ.get(
    "MENTORING40_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres"
)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def keep_state_in(folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point every setting that defaults to the checkout's var/ at ``folder``."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{folder / 'mentoring40.sqlite'}")
    monkeypatch.setenv("MENTORING40_SEARCH_DATA", str(folder / "meilisearch"))


@pytest.fixture(scope="session", autouse=True)
def private_session_state(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same for session and module fixtures, which are set up before a test's own."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        keep_state_in(tmp_path_factory.mktemp("state"), monkeypatch)
        yield


@pytest.fixture(autouse=True)
def private_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test keeps its state in its own folder, never in the checkout's var/: a
    `make run` serving from var/ in another terminal must not change what a test sees
    (its database, or the running.json that tells `search status` where Meilisearch is).
    Commands and processes a test starts inherit these; a test's own values win."""
    keep_state_in(tmp_path / "state", monkeypatch)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped at the end."""
    name = f"mentoring40_test_{uuid.uuid4().hex[:10]}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    try:
        run(admin(f'CREATE DATABASE "{name}"'))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"PostgreSQL at {POSTGRES_ADMIN_URL} is not usable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI requires the PostgreSQL run)")
        pytest.skip(reason)
    base = POSTGRES_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test runs once on a SQLite file and once on PostgreSQL, each empty."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'var' / 'test.sqlite'}"
    url: str = request.getfixturevalue("postgres_database")

    async def reset() -> None:
        conn = await asyncpg.connect(url)
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()

    run(reset())
    return url


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    """A private, editable copy of the small fixture content."""
    target = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, target)
    return target


def write_region_pack(folder: Path, slug: str, title: str, related: str, body: str) -> Path:
    """A minimal plugin content pack with one valid entry (taxonomy from the fixture core)."""
    (folder / "entries").mkdir(parents=True)
    (folder / "entries" / f"{slug}.md").write_text(
        f"---\ntitle: {title}\nsummary: Regional.\nkind: methode\ntopics: [barrieren]\n"
        f"phases: [planung]\naudiences: [lotse]\nupdated_at: 2026-11-01\n"
        f"related: [{related}]\n---\n\n{body}\n",
        encoding="utf-8",
    )
    return folder


def make_settings(database_url: str, content_dir: Path, **kwargs: Any) -> Settings:
    return Settings(database_url=database_url, content_dir=content_dir, **kwargs)


def on_meilisearch(settings: Settings, meili: Any, **kwargs: Any) -> Settings:
    """``settings`` searching on the running ``meili`` (a LocalMeilisearch), in an index
    of their own, so that tests sharing one Meilisearch never see each other's entries."""
    import msgspec

    return msgspec.structs.replace(
        settings,
        meili_url=meili.url,
        meili_admin_key=meili.master_key,
        meili_index=f"test_{uuid.uuid4().hex[:10]}",
        **kwargs,
    )


def sync(settings: Settings, registry: PluginRegistry | None = None) -> SyncReport:
    """Validate and sync like ``mentoring40 content sync``; fail the test on problems."""
    registry = registry or build_registry(settings, load_installed=False)
    loaded, problems = load_all(registry, settings)
    assert problems == [], [str(p) for p in problems]
    use_engine(engine_from_url(settings.database_url))

    async def go() -> SyncReport:
        await migrate()
        return await sync_content(loaded)

    return run(go())


@pytest.fixture
def shipped_client(database_url: str) -> Iterator[TestClient[Any]]:
    """The API over the shipped content and the installed NRW plugin, on a fresh database."""
    settings = make_settings(database_url, SHIPPED_CONTENT)
    registry = build_registry(settings)
    sync(settings, registry)
    with TestClient(create_app(settings, registry)) as client:
        yield client


@pytest.fixture
def fixture_settings(database_url: str, content_dir: Path) -> Settings:
    return make_settings(database_url, content_dir)


@pytest.fixture
def fixture_client(fixture_settings: Settings) -> Iterator[TestClient[Any]]:
    """The API over the small fixture content (no installed plugins)."""
    sync(fixture_settings)
    registry = build_registry(fixture_settings, load_installed=False)
    with TestClient(create_app(fixture_settings, registry)) as client:
        yield client


@pytest.fixture(scope="session")
def shipped_content_set() -> ContentSet:
    """The shipped content (core and installed plugins), loaded once; it must load cleanly."""
    settings = Settings(content_dir=SHIPPED_CONTENT)
    loaded, problems = load_content(collect_packs(build_registry(settings), settings))
    assert problems == [], "\n".join(map(str, problems))
    return loaded
