"""Backups that restore, on SQLite and PostgreSQL: back up, wipe, restore into an empty
database, and everything is served as before; damaged archives and non-empty targets are
refused without touching the database; the content export round-trips."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tarfile
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import msgspec
import pytest
from click.testing import CliRunner, Result
from litestar.testing import TestClient

from core.app import create_app
from core.auth import create_key
from core.cli import main
from core.db.engine import engine_from_url, use_engine
from core.db.tables import ApiKey, Entry, QuestionnaireResponse
from core.plugins import build_registry
from core.settings import Settings
from core.settings_variables import database_kind
from search.local_server import LocalMeilisearch
from tests.conftest import make_settings, run, sync
from tests.test_quickcheck_api import ANSWERS, submit
from tests.test_search_api import wait_for_hits

Client = TestClient[Any]
STATS = "/api/v1/questionnaires/probe/stats"


def cli(settings: Settings, *args: str, **env: str) -> Result:
    environment = {
        "DATABASE_URL": settings.database_url,
        "MENTORING40_CONTENT_DIR": str(settings.content_dir),
        "MENTORING40_LOAD_PLUGINS": "",
        **env,
    }
    return CliRunner().invoke(main, list(args), env=environment)


def wipe(database_url: str) -> None:
    """Lose the database: delete the SQLite file, or empty the PostgreSQL schema."""
    if database_kind(database_url) == "sqlite":
        path = Path(database_url[len("sqlite:///") :])
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return

    async def reset() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()

    run(reset())


def counts(database_url: str) -> dict[str, int]:
    use_engine(engine_from_url(database_url))

    async def go() -> dict[str, int]:
        return {
            "entries": await Entry.count(),
            "responses": await QuestionnaireResponse.count(),
            "keys": await ApiKey.count(),
        }

    return run(go())


def client_for(settings: Settings) -> Client:
    return TestClient(create_app(settings, build_registry(settings, load_installed=False)))


def new_key(settings: Settings, name: str = "evaluation") -> str:
    use_engine(engine_from_url(settings.database_url))
    token, _info = run(create_key(name, ["stats:read"]))
    return token


@pytest.fixture
def filled(fixture_settings: Settings) -> tuple[Settings, dict[str, Any]]:
    """Content synced, five responses submitted through the API, one API key; and what
    the API served for all of it."""
    sync(fixture_settings)
    token = new_key(fixture_settings)
    served: dict[str, Any] = {"key": token, "entries": {}, "results": {}}
    with client_for(fixture_settings) as client:
        for i in range(5):
            answers = {**ANSWERS, "offenheit": ["voll", "teils", "nicht"][i % 3]}
            response = submit(client, answers, mode="real")
            assert response.status_code == 201, response.text
            served["results"][response.json()["data"]["token"]] = None
        for result_token in served["results"]:
            got = client.get(f"/api/v1/results/{result_token}")
            assert got.status_code == 200
            served["results"][result_token] = got.json()
        listing = client.get("/api/v1/entries").json()["data"]
        assert listing
        for item in listing:
            got = client.get(f"/api/v1/entries/{item['slug']}")
            assert got.status_code == 200
            served["entries"][item["slug"]] = got.json()
        stats = client.get(STATS, headers={"Authorization": f"Bearer {token}"})
        assert stats.status_code == 200, stats.text
        served["stats"] = stats.json()
    return fixture_settings, served


def test_backup_wipe_restore_serves_everything_as_before(
    filled: tuple[Settings, dict[str, Any]], tmp_path: Path
) -> None:
    settings, served = filled
    archive = tmp_path / "backup.tar.gz"
    result = cli(settings, "backup", "create", "-o", str(archive))
    assert result.exit_code == 0, result.output

    with tarfile.open(archive) as tar:
        names = tar.getnames()
        manifest = msgspec.json.decode(tar.extractfile("manifest.json").read())  # type: ignore[union-attr]
    kind = database_kind(settings.database_url)
    data_file = "database.sqlite" if kind == "sqlite" else "database.pgdump"
    assert sorted(names) == sorted(["manifest.json", data_file])
    assert manifest["database_kind"] == kind
    assert set(manifest["files"]) == {data_file}
    assert len(manifest["files"][data_file]) == 64
    assert manifest["migrations"]
    assert manifest["app_version"]
    assert {p["name"] for p in manifest["plugins"]} >= {"core.content"}
    assert manifest["created_at"].endswith("+00:00")

    wipe(settings.database_url)
    result = cli(settings, "backup", "restore", str(archive))
    assert result.exit_code == 0, result.output
    assert "mentoring40 search reindex" in result.output

    with client_for(settings) as client:
        for slug, body in served["entries"].items():
            got = client.get(f"/api/v1/entries/{slug}")
            assert got.status_code == 200
            assert got.json() == body
        assert len(client.get("/api/v1/entries").json()["data"]) == len(served["entries"])
        for token, body in served["results"].items():
            got = client.get(f"/api/v1/results/{token}")
            assert got.status_code == 200
            assert got.json() == body
        stats = client.get(STATS, headers={"Authorization": f"Bearer {served['key']}"})
        assert stats.status_code == 200
        assert stats.json() == served["stats"]
        assert client.get(STATS, headers={"Authorization": "Bearer m40_wrong"}).status_code == 401


def test_restore_refuses_a_database_with_data_unless_forced(
    filled: tuple[Settings, dict[str, Any]], tmp_path: Path
) -> None:
    settings, _served = filled
    archive = tmp_path / "backup.tar.gz"
    assert cli(settings, "backup", "create", "-o", str(archive)).exit_code == 0
    later = new_key(settings, "made-after-the-backup")
    before = counts(settings.database_url)

    result = cli(settings, "backup", "restore", str(archive))
    assert result.exit_code == 1
    assert "not empty" in result.output
    assert "--force" in result.output
    assert counts(settings.database_url) == before

    safety = tmp_path / "safety"
    result = cli(
        settings, "backup", "restore", "--force", "--safety-copy-dir", str(safety), str(archive)
    )
    assert result.exit_code == 0, result.output
    assert counts(settings.database_url) == {**before, "keys": before["keys"] - 1}
    with client_for(settings) as client:  # the key made after the backup is gone
        assert client.get(STATS, headers={"Authorization": f"Bearer {later}"}).status_code == 401

    # ... but the replaced data was backed up first, and that copy undoes the restore.
    (copy,) = safety.glob("mentoring40-before-restore-*.tar.gz")
    assert f"The replaced data was backed up first to {copy}." in result.output
    assert cli(settings, "backup", "verify", str(copy)).exit_code == 0
    undo = cli(settings, "backup", "restore", "--force", "--no-safety-copy", str(copy))
    assert undo.exit_code == 0, undo.output
    assert "backed up first" not in undo.output
    assert counts(settings.database_url) == before
    with client_for(settings) as client:
        assert client.get(STATS, headers={"Authorization": f"Bearer {later}"}).status_code == 200


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_a_damaged_archive_is_refused_and_the_database_untouched(
    filled: tuple[Settings, dict[str, Any]], tmp_path: Path, damage: str
) -> None:
    settings, _served = filled
    archive = tmp_path / "backup.tar.gz"
    assert cli(settings, "backup", "create", "-o", str(archive)).exit_code == 0
    raw = bytearray(archive.read_bytes())
    if damage == "flip":
        middle = len(raw) // 2
        raw[middle : middle + 4] = bytes(b ^ 0xFF for b in raw[middle : middle + 4])
    else:
        raw = raw[: len(raw) * 2 // 3]
    archive.write_bytes(bytes(raw))
    later = new_key(settings, "made-after-the-backup")
    before = counts(settings.database_url)

    for args in (["backup", "verify"], ["backup", "restore", "--force"]):
        result = cli(settings, *args, str(archive))
        assert result.exit_code == 1
        assert "damaged or truncated" in result.output
    assert counts(settings.database_url) == before
    with client_for(settings) as client:
        assert client.get(STATS, headers={"Authorization": f"Bearer {later}"}).status_code == 200

    # into an empty installation, too: nothing is created
    wipe(settings.database_url)
    result = cli(settings, "backup", "restore", str(archive))
    assert result.exit_code == 1
    if database_kind(settings.database_url) == "sqlite":
        assert not Path(settings.database_url[len("sqlite:///") :]).exists()
    else:
        use_engine(engine_from_url(settings.database_url))
        assert not run(Entry.table_exists().run())


@pytest.mark.postgres
def test_restore_refuses_a_backup_of_the_other_database_kind(
    postgres_database: str, content_dir: Path, tmp_path: Path
) -> None:
    sqlite_settings = make_settings(f"sqlite:///{tmp_path / 'a.sqlite'}", content_dir)
    sync(sqlite_settings)
    archive = tmp_path / "sqlite.tar.gz"
    assert cli(sqlite_settings, "backup", "create", "-o", str(archive)).exit_code == 0
    wipe(postgres_database)
    pg_settings = make_settings(postgres_database, content_dir)
    result = cli(pg_settings, "backup", "restore", str(archive))
    assert result.exit_code == 1
    assert "is a sqlite backup" in result.output
    assert "SQLite to SQLite and PostgreSQL to PostgreSQL only" in result.output


def test_search_gives_the_same_hits_after_restore_and_reindex(
    filled: tuple[Settings, dict[str, Any]], tmp_path: Path
) -> None:
    settings, served = filled
    queries = ["", "Aufgaben", "Arbeitsablaf", "Lotse"]
    with LocalMeilisearch(tmp_path / "meili") as meili:

        def searched(index: str) -> dict[str, list[str]]:
            meili_env = {
                "MEILI_URL": meili.url,
                "MEILI_ADMIN_KEY": meili.master_key or "",
                "MEILI_INDEX": index,
            }
            result = cli(settings, "search", "reindex", **meili_env)
            assert result.exit_code == 0, result.output
            with_search = msgspec.structs.replace(
                settings, meili_url=meili.url, meili_admin_key=meili.master_key, meili_index=index
            )
            with client_for(with_search) as client:
                wait_for_hits(client, "", len(served["entries"]))
                return {
                    q: [
                        hit["slug"]
                        for hit in client.get("/api/v1/search", params={"q": q}).json()["data"]
                    ]
                    for q in queries
                }

        before = searched(f"before_{uuid.uuid4().hex[:8]}")
        assert before["Arbeitsablaf"][:1] == ["arbeitsablauf"]
        archive = tmp_path / "backup.tar.gz"
        assert cli(settings, "backup", "create", "-o", str(archive)).exit_code == 0
        wipe(settings.database_url)
        assert cli(settings, "backup", "restore", str(archive)).exit_code == 0
        assert searched(f"after_{uuid.uuid4().hex[:8]}") == before


def _stored_entries(database_url: str) -> list[dict[str, Any]]:
    use_engine(engine_from_url(database_url))

    async def go() -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (
            await Entry.select().order_by(Entry.slug).output(load_json=True)
        )
        for row in rows:
            for column in ("id", "synced_at", "source_path"):
                row.pop(column)
        return rows

    return run(go())


def test_content_export_round_trips(fixture_settings: Settings, tmp_path: Path) -> None:
    sync(fixture_settings)
    original = _stored_entries(fixture_settings.database_url)
    assert any(r["status"] == "draft" for r in original)
    exported = tmp_path / "exported"

    result = cli(fixture_settings, "content", "export", "-o", str(exported))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (exported / "entries").iterdir()) == sorted(
        f"{r['slug']}.md" for r in original
    )
    text = (exported / "entries" / "ueberblick.md").read_text(encoding="utf-8")
    assert text.startswith("---\ntitle: Überblick für Lotsen\nsummary: ")
    assert (
        "related: [aufgabenliste]\nupdated_at: 2026-10-01\nstatus: published\n---\n\n## Wozu"
        in (text)
    )

    # a second export into the same folder is refused rather than mixed
    again = cli(fixture_settings, "content", "export", "-o", str(exported))
    assert again.exit_code == 1
    assert "not an empty folder" in again.output

    exported_settings = msgspec.structs.replace(fixture_settings, content_dir=exported)
    check = cli(exported_settings, "content", "check")
    assert check.exit_code == 0, check.output

    wipe(fixture_settings.database_url)
    sync(exported_settings)
    assert _stored_entries(fixture_settings.database_url) == original  # content hashes too


def test_database_and_backups_are_created_readable_only_by_their_owner(
    tmp_path: Path, content_dir: Path
) -> None:
    """The database holds questionnaire responses and API key hashes: no other local user
    may read it, its write-ahead log, a backup archive or a restored copy."""
    previous = os.umask(0o022)  # the usual umask, under which files are world-readable
    try:
        settings = make_settings(f"sqlite:///{tmp_path / 'db' / 'm40.sqlite'}", content_dir)
        sync(settings)
        path = Path(settings.database_url[len("sqlite:///") :])
        # SQLite keeps -wal and -shm while a connection is open and has written.
        with contextlib.closing(sqlite3.connect(path)) as db:
            db.execute("CREATE TABLE probe (x INTEGER)")
            db.commit()
            files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            modes = {f.name: oct(f.stat().st_mode & 0o777) for f in files}
        archive = tmp_path / "backups" / "m40.tar.gz"
        assert cli(settings, "backup", "create", "-o", str(archive)).exit_code == 0
        modes[archive.name] = oct(archive.stat().st_mode & 0o777)
        restored = make_settings(f"sqlite:///{tmp_path / 'restored.sqlite'}", content_dir)
        result = cli(restored, "backup", "restore", str(archive))
        assert result.exit_code == 0, result.output
        modes["restored.sqlite"] = oct((tmp_path / "restored.sqlite").stat().st_mode & 0o777)
    finally:
        os.umask(previous)
    assert modes == dict.fromkeys(modes, "0o600")
