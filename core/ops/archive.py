"""The backup archive: one ``.tar.gz`` with the database and a manifest.

The archive holds

- ``database.sqlite`` (SQLite, a consistent copy made with SQLite's online backup API, so
  the app may keep running) or ``database.pgdump`` (PostgreSQL, ``pg_dump --format=custom``);
- ``manifest.json``: format, app version, database kind, creation time (UTC), the installed
  plugins with versions, the applied migration ids, and the name and SHA-256 of every other
  file in the archive.

The Meilisearch index is *not* in the archive: it is derived data, rebuilt from the
database with ``mentoring40 search reindex``. This module reads and checks an archive
completely (gzip stream, entries, manifest, checksums) before anyone uses its data;
``core.ops.backup`` writes one and ``core.ops.restore`` restores one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import hashlib
import shutil
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import msgspec

FORMAT = 1
MANIFEST = "manifest.json"
DATA_FILE = {"sqlite": "database.sqlite", "postgres": "database.pgdump"}
SEARCH_NOTE = (
    "The search index is not part of the backup; rebuild it from the database with "
    "`mentoring40 search reindex`."
)
CHUNK = 1 << 20


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


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def default_archive_name(now: dt.datetime | None = None) -> str:
    now = now or dt.datetime.now(dt.UTC)
    return f"mentoring40-backup-{now.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


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
            while stream.read(CHUNK):
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
                        shutil.copyfileobj(source, out, CHUNK)
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
            if sha256_file(folder / name) != expected:
                raise BackupError(f"{damaged} (checksum of {name} does not match)")
        data_name = DATA_FILE.get(manifest.database_kind)
        if data_name is None or data_name not in manifest.files:
            raise BackupError(f"{archive} names an unknown database kind.")
        yield manifest, folder / data_name


def verify_backup(archive: Path) -> Manifest:
    with opened_archive(archive) as (manifest, _data):
        return manifest
