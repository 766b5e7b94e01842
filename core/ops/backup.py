"""Backups that restore: one ``.tar.gz`` with the database and a manifest.

The archive holds

- ``database.sqlite`` (SQLite, a consistent copy made with SQLite's online backup API, so
  the app may keep running) or ``database.pgdump`` (PostgreSQL, ``pg_dump --format=custom``);
- ``manifest.json``: format, app version, database kind, creation time (UTC), the installed
  plugins with versions, the applied migration ids, and the name and SHA-256 of every other
  file in the archive.

The Meilisearch index is *not* in the archive: it is derived data, rebuilt from the
database with ``mentoring40 search reindex`` (restore says so at the end).

Restore goes SQLite to SQLite and PostgreSQL to PostgreSQL only. It verifies the gzip
stream and every checksum before it touches the database, refuses a target that already
holds entries, responses or API keys unless ``force`` is given, and applies pending
migrations afterwards (an older backup restored into a newer app).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gzip
import hashlib
import io
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import msgspec

from core import __version__
from core.db.engine import (
    applied_migrations,
    engine_from_url,
    migrate,
    shipped_migrations,
    use_engine,
)
from core.plugins import PluginRegistry, build_registry
from core.settings import Settings, database_kind

FORMAT = 1
MANIFEST = "manifest.json"
DATA_FILE = {"sqlite": "database.sqlite", "postgres": "database.pgdump"}
SEARCH_NOTE = (
    "The search index is not part of the backup; rebuild it from the database with "
    "`mentoring40 search reindex`."
)
_CHUNK = 1 << 20
T = TypeVar("T")


class BackupError(RuntimeError):
    """A backup or restore cannot be carried out; the message says why and what to do."""


class PluginRow(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    distribution: str
    version: str
    builtin: bool


class Manifest(msgspec.Struct, frozen=True, kw_only=True):
    format: int
    app_version: str
    database_kind: str
    created_at: str
    plugins: list[PluginRow]
    migrations: list[str]
    # file name inside the archive -> SHA-256 (hex) of its content
    files: dict[str, str]
    search_index: str = SEARCH_NOTE


class RestoreReport(msgspec.Struct, frozen=True, kw_only=True):
    manifest: Manifest
    migrations_applied: list[str]
    warnings: list[str]
    # A backup of what --force replaced, written before anything was touched.
    safety_copy: Path | None = None


# -- helpers ------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _sqlite_path(url: str) -> Path:
    return Path(url[len("sqlite:///") :])


def _kind(url: str) -> str:
    kind = database_kind(url)
    return "postgres" if kind.startswith("postgres") else kind


def default_archive_name(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return f"mentoring40-backup-{now.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


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


def _run_async(url: str, factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    use_engine(engine_from_url(url))
    return asyncio.run(factory())


# -- PostgreSQL tools ---------------------------------------------------------------------


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (for the command line) and the environment with it."""
    parts = urlsplit(url)
    env = dict(os.environ)
    netloc = parts.netloc
    if parts.password is not None:
        env["PGPASSWORD"] = parts.password
        netloc = netloc.replace(f":{parts.password}@", "@")
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    scheme = "postgresql"
    return urlunsplit((scheme, netloc, parts.path, parts.query, "")), env


def _server_major(url: str) -> int:
    engine = engine_from_url(url)
    version = asyncio.run(engine.get_version())
    if not version:
        raise BackupError("The PostgreSQL server of DATABASE_URL is not reachable.")
    return int(version)


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s*(\d+)", out) or re.search(r"(\d+)", out)
    return int(match.group(1)) if match else None


def pg_tool(name: str, server_major: int) -> str:
    """``pg_dump``/``pg_restore`` of the server's major version (or the nearest newer one)."""
    candidates: list[str] = []
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    candidates += [str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))]
    versions = {c: _tool_major(c) for c in dict.fromkeys(candidates)}
    exact = [c for c, v in versions.items() if v == server_major]
    if exact:
        return exact[0]
    newer = sorted((v, c) for c, v in versions.items() if v is not None and v > server_major)
    if newer:
        return newer[0][1]
    found = ", ".join(f"{c} ({v})" for c, v in versions.items()) or "none"
    raise BackupError(
        f"No {name} for PostgreSQL {server_major} found (found: {found}). Install the "
        f"PostgreSQL {server_major} client tools (e.g. postgresql-client-{server_major})."
    )


def _run_tool(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    except OSError as exc:
        raise BackupError(f"{what} could not start: {exc}") from exc
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}):\n{done.stderr.strip()}")


# -- create -------------------------------------------------------------------------------


def create_backup(settings: Settings, registry: PluginRegistry, output: Path) -> Manifest:
    """Write the archive to ``output`` (atomically) and return its manifest."""
    url = settings.database_url
    kind = _kind(url)
    if kind not in DATA_FILE:
        raise BackupError(f"Backups support SQLite and PostgreSQL, not {kind!r}.")
    if kind == "sqlite" and not _sqlite_path(url).is_file():
        raise BackupError(f"There is no database at {_sqlite_path(url)} to back up.")
    migrations = _run_async(url, applied_migrations)
    with tempfile.TemporaryDirectory(prefix="m40-backup-") as tmp:
        data = Path(tmp) / DATA_FILE[kind]
        if kind == "sqlite":
            _sqlite_copy(_sqlite_path(url), data)
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
            files={data.name: _sha256(data)},
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
    major = _server_major(url)
    dsn, env = _libpq(url)
    tool = pg_tool("pg_dump", major)
    _run_tool(
        [tool, "--format=custom", "--no-owner", "--file", str(target), "--dbname", dsn],
        env,
        "pg_dump",
    )


# -- verify -------------------------------------------------------------------------------


@contextlib.contextmanager
def opened_archive(archive: Path) -> Iterator[tuple[Manifest, Path]]:
    """Check the archive completely and yield its manifest and the verified data file.

    Raises BackupError for a missing, truncated, corrupted or foreign archive; nothing
    outside a private temporary folder is touched.
    """
    if not archive.is_file():
        raise BackupError(f"No backup archive at {archive}.")
    damaged = (
        f"{archive} is damaged or truncated; it was not restored and the database is untouched."
    )
    try:  # read the whole gzip stream once: its CRC catches a flipped byte anywhere
        with gzip.open(archive, "rb") as stream:
            while stream.read(_CHUNK):
                pass
    except (OSError, EOFError, zlib.error) as exc:
        raise BackupError(f"{damaged} ({exc})") from exc
    with tempfile.TemporaryDirectory(prefix="m40-restore-") as tmp:
        folder = Path(tmp)
        allowed = {MANIFEST, *DATA_FILE.values()}
        names: list[str] = []
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar:
                    if member.name not in allowed or not member.isfile() or member.name in names:
                        raise BackupError(
                            f"{archive} holds an unexpected entry {member.name!r}; "
                            "it is not a mentoring40 backup."
                        )
                    source = tar.extractfile(member)
                    assert source is not None
                    with source, (folder / member.name).open("wb") as out:
                        shutil.copyfileobj(source, out, _CHUNK)
                    names.append(member.name)
        except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
            raise BackupError(f"{damaged} ({exc})") from exc
        if MANIFEST not in names:
            raise BackupError(f"{archive} has no {MANIFEST}; it is not a mentoring40 backup.")
        try:
            manifest = msgspec.json.decode((folder / MANIFEST).read_bytes(), type=Manifest)
        except msgspec.DecodeError as exc:
            raise BackupError(f"{damaged} (manifest: {exc})") from exc
        if manifest.format != FORMAT:
            raise BackupError(
                f"{archive} has backup format {manifest.format}; this version reads {FORMAT}."
            )
        if set(manifest.files) != set(names) - {MANIFEST}:
            raise BackupError(
                f"{damaged} (files listed in the manifest: {sorted(manifest.files)}, "
                f"found: {sorted(set(names) - {MANIFEST})})"
            )
        for name, expected in manifest.files.items():
            if _sha256(folder / name) != expected:
                raise BackupError(f"{damaged} (checksum of {name} does not match)")
        data_name = DATA_FILE.get(manifest.database_kind)
        if data_name is None or data_name not in manifest.files:
            raise BackupError(f"{archive} names an unknown database kind.")
        yield manifest, folder / data_name


def verify_backup(archive: Path) -> Manifest:
    with opened_archive(archive) as (manifest, _data):
        return manifest


# -- restore ------------------------------------------------------------------------------


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
    kind = _kind(url)
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
            _sqlite_restore(data, _sqlite_path(url))
        else:
            _pg_restore(url, data, clean=tables_exist)
    applied = _run_async(url, migrate)
    warnings = _plugin_warnings(settings, manifest)
    return RestoreReport(
        manifest=manifest, migrations_applied=applied, warnings=warnings, safety_copy=safety_copy
    )


def _target_state(url: str, kind: str) -> tuple[bool, dict[str, int]]:
    if kind == "sqlite" and not _sqlite_path(url).exists():
        return False, {}
    return _run_async(url, _data_held)


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
            shutil.copyfileobj(src, out, _CHUNK)
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
    major = _server_major(url)
    dsn, env = _libpq(url)
    tool = pg_tool("pg_restore", major)
    args = [tool, "--no-owner", "--single-transaction", "--exit-on-error", "--dbname", dsn]
    if clean:  # the tables exist (empty, or --force was given): replace them
        args += ["--clean", "--if-exists"]
    _run_tool([*args, str(data)], env, "pg_restore")


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


__all__ = [
    "BackupError",
    "Manifest",
    "RestoreReport",
    "create_backup",
    "default_archive_name",
    "restore_backup",
    "verify_backup",
]
