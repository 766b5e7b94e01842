"""Choose the database engine from DATABASE_URL and apply migrations."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import os
import sqlite3
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType
from piccolo.table import Table

from core.settings_variables import database_kind, mask_url

# Any fixed number: the advisory lock that lets one process at a time migrate PostgreSQL.
MIGRATION_LOCK_ID = 402_2026


CONNECT_TIMEOUT_SECONDS = 10
SQLITE_BUSY_SECONDS = 30


class MigrationError(RuntimeError):
    """Applying migrations failed; the message carries Piccolo's output."""


def engine_from_url(url: str) -> Engine:  # type: ignore[type-arg]
    """An engine for ``sqlite:///path`` or ``postgresql://user@host:port/db``."""
    if database_kind(url) == "sqlite":
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        _create_private(path)
        _use_wal(path)
        # Writers queue for SQLite's single write lock; wait for it rather than fail with
        # "database is locked" while several workers and a content sync write at once.
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_SECONDS)
    # Piccolo's engine connects once on creation to check the server version, and only
    # warns when it cannot; the first real query then fails with the actual reason, which
    # the app (503) and the CLI (a message naming DATABASE_URL) report.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*Unable to fetch server version")
        return PostgresEngine(config=postgres_config(url))


def _sqlite_path(url: str) -> Path:
    return Path(url[len("sqlite:///") :])


def sqlite_file_missing(url: str) -> bool:
    """True for a SQLite DATABASE_URL whose file is not there yet. ``engine_from_url``
    would create it, so whoever only reads asks this first."""
    return database_kind(url) == "sqlite" and not _sqlite_path(url).exists()


def _create_private(path: Path) -> None:
    """Create the database file readable only by its owner: it holds questionnaire
    responses and API key hashes. SQLite gives its -wal and -shm files the same mode."""
    with contextlib.suppress(OSError):  # unusable folder: the first query reports it
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))


def _use_wal(path: Path) -> None:
    """Write-ahead logging: readers never wait for a writer (a sync, a submission), which
    the embedded default needs with several workers. Stored in the file, set once."""
    try:
        with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_BUSY_SECONDS)) as db:
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                db.execute("PRAGMA journal_mode=WAL")
    except sqlite3.Error:
        pass  # unusable file or folder: the first query reports it where it matters


def postgres_config(url: str) -> dict[str, Any]:
    """asyncpg connection settings from a ``postgresql://`` URL."""
    parts = urlsplit(url)
    config: dict[str, Any] = {
        "host": parts.hostname,
        "port": parts.port or 5432,
        "database": unquote(parts.path.lstrip("/")),
        # A server that does not answer at all (not one that refuses) would otherwise hold
        # each request for asyncpg's default of 60 s before the 503.
        "timeout": CONNECT_TIMEOUT_SECONDS,
    }
    if parts.username:
        config["user"] = unquote(parts.username)
    if parts.password:
        config["password"] = unquote(parts.password)
    return config


async def _keep_session(connection: Any) -> None:
    """The pool's reset on release: nothing beyond asyncpg's own (it rolls back a
    transaction left open). asyncpg's default sends ``SELECT pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL`` after every query that borrowed a connection, one
    more round trip per query (issue 19: it was half the database round trips of a
    Quickcheck submission). None of that state is ever left on a pooled connection: no
    code here sets session variables, listens or takes advisory locks on one (the
    migration lock has a connection of its own)."""


async def start_pool(engine: Engine) -> None:  # type: ignore[type-arg]
    """The PostgreSQL engine's connection pool, as the app uses it (see ``_keep_session``)."""
    if isinstance(engine, PostgresEngine):
        await engine.start_connection_pool(reset=_keep_session)


async def fetch(engine: PostgresEngine, sql: str, *args: Any) -> list[Any]:
    """asyncpg's ``fetch`` of ``sql`` on PostgreSQL, past Piccolo's query building, in the
    transaction of this task if there is one (as Piccolo's own queries run), else on a
    pooled connection (a connection of its own without a pool). asyncpg prepares ``sql``
    once per connection and keeps the statement."""
    transaction = engine.current_transaction.get()
    if transaction is not None:
        return list(await transaction.connection.fetch(sql, *args))
    if engine.pool is not None:
        async with engine.pool.acquire() as connection:
            return list(await connection.fetch(sql, *args))
    connection = await engine.get_new_connection()
    try:
        return list(await connection.fetch(sql, *args))
    finally:
        await connection.close()


def write_transaction(engine: Engine) -> Any:  # type: ignore[type-arg]
    """A transaction that reads and then writes. On SQLite it takes the write lock at
    BEGIN (IMMEDIATE): a deferred one that read first fails at once with "database is
    locked" when another connection wrote meanwhile (WAL snapshot), instead of waiting
    its turn under the busy timeout."""
    if isinstance(engine, SQLiteEngine):
        return engine.transaction(transaction_type=TransactionType.immediate)
    return engine.transaction()


def use_engine(engine: Engine) -> None:  # type: ignore[type-arg]
    """Point every table, and Piccolo's migration machinery, at ``engine``."""
    from piccolo.apps.migrations.tables import Migration

    from core import piccolo_conf
    from core.db.tables import TABLES

    piccolo_conf.DB = engine
    tables: tuple[type[Table], ...] = (*TABLES, Migration)
    for table in tables:
        table._meta.db = engine


async def migrate() -> list[str]:
    """Apply pending migrations; return the ids applied. Safe to run on every start, and
    from several processes at once: they take turns, so each migration runs once."""
    async with migration_lock():
        return await _migrate()


@contextlib.asynccontextmanager
async def migration_lock() -> AsyncIterator[None]:
    """Across processes: a PostgreSQL advisory lock, or a lock file beside the SQLite file."""
    from core import piccolo_conf

    engine = piccolo_conf.DB
    if isinstance(engine, PostgresEngine):
        import asyncpg

        connection = await asyncpg.connect(**engine.config)
        try:
            await connection.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
            yield
        finally:
            await connection.close()  # ends the session, and with it the lock
        return
    descriptor = os.open(f"{engine.path}.migrate-lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        await asyncio.to_thread(fcntl.flock, descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # releases the lock


async def _migrate() -> list[str]:
    from piccolo.apps.migrations.commands.forwards import ForwardsMigrationManager
    from piccolo.apps.migrations.tables import Migration

    from core.db.piccolo_app import APP_NAME

    before = set(await _ran(Migration, APP_NAME))
    output = io.StringIO()
    manager = ForwardsMigrationManager(app_name=APP_NAME)
    # Piccolo narrates each step on stdout; keep it for the error message only.
    with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
        await manager.create_migration_table()
        result = await manager.run()
    if not result.success:
        raise MigrationError(f"Applying database migrations failed:\n{output.getvalue()}")
    return sorted(set(await _ran(Migration, APP_NAME)) - before)


def shipped_migrations() -> set[str]:
    """Ids of the migrations this code ships."""
    from piccolo.apps.migrations.commands.base import BaseMigrationManager

    from core.db.piccolo_app import APP_CONFIG

    folder = APP_CONFIG.resolved_migrations_folder_path
    return set(BaseMigrationManager().get_migration_modules(folder))


async def applied_migrations() -> list[str]:
    """Ids of the migrations the database has run, sorted."""
    from piccolo.apps.migrations.tables import Migration

    from core.db.piccolo_app import APP_NAME

    return sorted(await _ran(Migration, APP_NAME))


async def pending_migrations() -> list[str]:
    """Ids of the migrations this code ships that the database has not run."""
    return sorted(shipped_migrations() - set(await applied_migrations()))


async def _ran(migration_table: Any, app_name: str) -> list[str]:
    if not await migration_table.table_exists().run():
        return []
    return list(await migration_table.get_migrations_which_ran(app_name=app_name))


def describe(url: str) -> str:
    """DATABASE_URL without its password, for logs and status output."""
    return mask_url(url)


__all__ = [
    "MigrationError",
    "applied_migrations",
    "describe",
    "engine_from_url",
    "fetch",
    "migrate",
    "pending_migrations",
    "shipped_migrations",
    "sqlite_file_missing",
    "start_pool",
    "use_engine",
    "write_transaction",
]
