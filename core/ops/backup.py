"""Backups that restore: write the database into one archive (``core.ops.archive``
describes it; ``core.ops.restore`` reads it back).

SQLite is copied with SQLite's online backup API, so the app may keep running;
PostgreSQL is dumped with ``pg_dump --format=custom``. The archive appears atomically:
it is written beside its final name and renamed when complete.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import io
import os
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import msgspec

from core import __version__
from core.db.engine import applied_migrations, engine_from_url, use_engine
from core.ops.archive import (
    DATA_FILE,
    FORMAT,
    MANIFEST,
    BackupError,
    Manifest,
    PluginRow,
    sha256_file,
)
from core.ops.pgtools import libpq, pg_tool, run_tool, server_major
from core.plugins import PluginRegistry
from core.settings import Settings
from core.settings_variables import database_kind

T = TypeVar("T")


def sqlite_path(url: str) -> Path:
    return Path(url[len("sqlite:///") :])


def archive_kind(url: str) -> str:
    kind = database_kind(url)
    return "postgres" if kind.startswith("postgres") else kind


def run_async(url: str, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    use_engine(engine_from_url(url))
    return asyncio.run(factory())


def create_backup(settings: Settings, registry: PluginRegistry, output: Path) -> Manifest:
    """Write the archive to ``output`` (atomically) and return its manifest."""
    url = settings.database_url
    kind = archive_kind(url)
    if kind not in DATA_FILE:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {kind!r}.")
    if kind == "sqlite" and not sqlite_path(url).is_file():
        raise BackupError(f"There is no database at {sqlite_path(url)} to back up.")
    migrations = run_async(url, applied_migrations)
    with tempfile.TemporaryDirectory(prefix="m40-backup-") as tmp:
        data = Path(tmp) / DATA_FILE[kind]
        if kind == "sqlite":
            _sqlite_copy(sqlite_path(url), data)
        else:
            _pg_dump(url, data)
        manifest = Manifest(
            format=FORMAT,
            app_version=__version__,
            database_kind=kind,
            created_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
            plugins=[
                PluginRow(
                    name=p.name, distribution=p.distribution, version=p.version, builtin=p.builtin
                )
                for p in registry.plugins()
            ],
            migrations=migrations,
            files={data.name: sha256_file(data)},
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(prefix=f".{output.name}.", dir=output.parent)
        os.close(fd)
        try:
            with tarfile.open(partial, "w:gz") as tar:
                raw = msgspec.json.format(msgspec.json.encode(manifest), indent=2) + b"\n"
                info = tarfile.TarInfo(MANIFEST)
                info.size = len(raw)
                info.mtime = int(dt.datetime.now(dt.UTC).timestamp())
                info.mode = 0o600
                tar.addfile(info, io.BytesIO(raw))
                tar.add(data, arcname=data.name)
            os.chmod(partial, 0o600)
            os.replace(partial, output)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(partial)
            raise
    return manifest


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy while others may write, through SQLite's online backup API."""
    with (
        contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        contextlib.closing(sqlite3.connect(target)) as dst,
    ):
        src.backup(dst)


def _pg_dump(url: str, target: Path) -> None:
    major = server_major(url)
    dsn, env = libpq(url)
    tool = pg_tool("pg_dump", major)
    run_tool(
        [tool, "--format=custom", "--no-owner", "--file", str(target), "--dbname", dsn],
        env,
        "pg_dump",
    )
