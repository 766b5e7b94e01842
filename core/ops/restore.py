"""Restore a backup archive into the database of the settings.

Restore goes SQLite to SQLite and PostgreSQL to PostgreSQL only. It verifies the gzip
stream and every checksum before it touches the database (``core.ops.archive``), refuses
a target that already holds entries, responses or API keys unless ``force`` is given,
and applies pending migrations afterwards (an older backup restored into a newer app).
The search index is not restored: rebuild it with ``mentoring40 search reindex``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import tempfile
from pathlib import Path

import msgspec

from core import __version__
from core.db.engine import migrate, shipped_migrations
from core.ops.archive import CHUNK, BackupError, Manifest, default_archive_name, opened_archive
from core.ops.backup import archive_kind, create_backup, run_async, sqlite_path
from core.ops.pgtools import libpq, pg_tool, run_tool, server_major
from core.plugins import PluginRegistry, build_registry
from core.settings import Settings


class RestoreReport(msgspec.Struct, frozen=True, kw_only=True):
    manifest: Manifest
    migrations_applied: list[str]
    warnings: list[str]
    # A backup of what --force replaced, written before anything was touched.
    safety_copy: Path | None = None


async def _data_held() -> tuple[bool, dict[str, int]]:
    """(any app table exists, rows in the tables that make an installation non-empty)."""
    from piccolo.apps.migrations.tables import Migration

    from core.db.tables import ApiKey, Entry, QuestionnaireResponse

    exists = False
    counts: dict[str, int] = {}
    for table in (Entry, QuestionnaireResponse, ApiKey, Migration):
        if await table.table_exists().run():
            exists = True
            if table is not Migration:
                counts[table._meta.tablename] = await table.count().run()
    return exists, counts


def restore_backup(
    settings: Settings,
    archive: Path,
    *,
    force: bool = False,
    safety_copy_to: Path | None = None,
    registry: PluginRegistry | None = None,
) -> RestoreReport:
    """Restore ``archive`` into the database of ``settings`` (see the module docstring).

    With ``force`` and a database that holds data, a backup of that data is first written
    into the folder ``safety_copy_to`` (unless None), so a wrong restore can be undone."""
    url = settings.database_url
    kind = archive_kind(url)
    with opened_archive(archive) as (manifest, data):
        if manifest.database_kind != kind:
            raise BackupError(
                f"{archive} is a {manifest.database_kind} backup, but DATABASE_URL points to "
                f"{kind}. Restore works SQLite to SQLite and PostgreSQL to PostgreSQL only."
            )
        unknown = sorted(set(manifest.migrations) - shipped_migrations())
        if unknown:
            raise BackupError(
                f"{archive} was made by a newer mentoring40 ({manifest.app_version}) with "
                f"migrations this version ({__version__}) does not know: {', '.join(unknown)}. "
                "Install that version or newer, then restore."
            )
        tables_exist, counts = _target_state(url, kind)
        held = {name: n for name, n in counts.items() if n}
        if held and not force:
            listed = ", ".join(f"{n} rows in {name}" for name, n in sorted(held.items()))
            raise BackupError(
                f"The target database is not empty ({listed}). Restore goes into an empty "
                "installation; give --force to replace what is there."
            )
        safety_copy = None
        if held and safety_copy_to is not None:
            safety_copy = safety_copy_to / default_archive_name().replace(
                "mentoring40-backup-", "mentoring40-before-restore-"
            )
            create_backup(settings, registry or build_registry(settings), safety_copy)
        if kind == "sqlite":
            _sqlite_restore(data, sqlite_path(url))
        else:
            _pg_restore(url, data, clean=tables_exist)
    applied = run_async(url, migrate)
    warnings = _plugin_warnings(settings, manifest)
    return RestoreReport(
        manifest=manifest, migrations_applied=applied, warnings=warnings, safety_copy=safety_copy
    )


def _target_state(url: str, kind: str) -> tuple[bool, dict[str, int]]:
    if kind == "sqlite" and not sqlite_path(url).exists():
        return False, {}
    return run_async(url, _data_held)


def _sqlite_restore(data: Path, target: Path) -> None:
    with contextlib.closing(sqlite3.connect(data)) as db:
        ok = db.execute("PRAGMA quick_check").fetchone()
    if ok is None or ok[0] != "ok":
        raise BackupError(f"The database in the archive fails SQLite's check: {ok}")
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=".restoring", dir=target.parent
    )
    try:
        with os.fdopen(fd, "wb") as out, data.open("rb") as src:
            shutil.copyfileobj(src, out, CHUNK)
            out.flush()
            os.fsync(out.fileno())
        # A write-ahead log of the old file would be replayed onto the restored one.
        for suffix in ("-wal", "-shm", "-journal"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(f"{target}{suffix}")
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(partial)
        raise


def _pg_restore(url: str, data: Path, *, clean: bool) -> None:
    major = server_major(url)
    dsn, env = libpq(url)
    tool = pg_tool("pg_restore", major)
    args = [tool, "--no-owner", "--single-transaction", "--exit-on-error", "--dbname", dsn]
    if clean:  # the tables exist (empty, or --force was given): replace them
        args += ["--clean", "--if-exists"]
    run_tool([*args, str(data)], env, "pg_restore")


def _plugin_warnings(settings: Settings, manifest: Manifest) -> list[str]:
    from core.plugins import build_registry

    try:
        installed = {p.name: p.version for p in build_registry(settings).plugins()}
    except Exception as exc:  # restore itself succeeded; only the comparison failed
        return [f"Could not compare plugins: {exc}"]
    warnings = []
    for p in manifest.plugins:
        if p.name not in installed:
            warnings.append(
                f"Plugin {p.name!r} ({p.distribution} {p.version}) was installed when the "
                "backup was made but is not now; the next `content sync` removes its entries."
            )
        elif installed[p.name] != p.version:
            warnings.append(
                f"Plugin {p.name!r} is {installed[p.name]} now, {p.version} in the backup."
            )
    return warnings
