"""`content sync`: one transaction, idempotent, removes deleted files, all-or-nothing."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner

from core.cli import main
from core.db.tables import Entry, SearchOutbox, TaxonomyTerm
from core.plugins import build_registry
from core.settings import Settings
from tests.conftest import BROKEN_DIR, SHIPPED_CONTENT, make_settings, run, sync


def snapshot() -> list[dict[str, Any]]:
    """Every stored entry row, as the database has it."""
    return list(run(Entry.select().order_by(Entry.slug).run()))


def invoke(settings: Settings, *args: str, plugins: str | None = "") -> Any:
    env = {
        "DATABASE_URL": settings.database_url,
        "MENTORING40_CONTENT_DIR": str(settings.content_dir),
    }
    if plugins is not None:
        env["MENTORING40_LOAD_PLUGINS"] = plugins
    return CliRunner().invoke(main, list(args), env=env)


def test_second_sync_changes_nothing(fixture_settings: Settings) -> None:
    first = sync(fixture_settings)
    assert sorted(first.added) == ["arbeitsablauf", "aufgabenliste", "entwurf", "ueberblick"]
    assert first.taxonomy_changed
    before = snapshot()
    second = sync(fixture_settings)
    assert not second.changed
    assert second.unchanged == 4
    assert snapshot() == before  # not even synced_at moved


def test_sync_applies_edits_and_removes_deleted_files(
    fixture_settings: Settings, content_dir: Path
) -> None:
    sync(fixture_settings)
    (content_dir / "entries" / "entwurf.md").unlink()
    path = content_dir / "entries" / "aufgabenliste.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Aufgabenliste", "Aufgabenplan", 1),
        encoding="utf-8",
    )
    report = sync(fixture_settings)
    assert report.removed == ["entwurf"]
    assert report.updated == ["aufgabenliste"]
    assert report.added == []
    titles = {row["slug"]: row["title"] for row in snapshot()}
    assert titles == {
        "arbeitsablauf": "Arbeitsablauf festhalten",
        "aufgabenliste": "Aufgabenplan",
        "ueberblick": "Überblick für Lotsen",
    }


def test_sync_with_a_broken_file_aborts_and_leaves_the_database_as_it_was(
    fixture_settings: Settings, content_dir: Path
) -> None:
    sync(fixture_settings)
    before = snapshot()
    taxonomy_before = run(TaxonomyTerm.select().run())
    # A valid edit and a broken file in the same run: neither may be applied.
    path = content_dir / "entries" / "ueberblick.md"
    path.write_text(path.read_text(encoding="utf-8").replace("kurzer", "neuer"), encoding="utf-8")
    shutil.copy(BROKEN_DIR / "unknown-topic.md", content_dir / "entries")
    (content_dir / "entries" / "aufgabenliste.md").unlink()  # also breaks ueberblick's link

    result = invoke(fixture_settings, "content", "sync")

    assert result.exit_code == 1
    assert "nothing was changed" in result.output
    assert "unknown-topic.md:7: topics[1]: unknown topic 'fuehrung'" in result.output
    assert "ueberblick.md:11: related[0]: no entry has the slug 'aufgabenliste'" in result.output
    assert snapshot() == before
    assert run(TaxonomyTerm.select().run()) == taxonomy_before


def test_sync_command_reports_counts_and_is_idempotent(fixture_settings: Settings) -> None:
    first = invoke(fixture_settings, "content", "sync")
    assert first.exit_code == 0, first.output
    assert "4 added, 0 updated, 0 removed, 0 unchanged; taxonomy updated" in first.output
    second = invoke(fixture_settings, "content", "sync")
    assert second.exit_code == 0, second.output
    assert "0 added, 0 updated, 0 removed, 4 unchanged." in second.output


def test_disabling_the_nrw_plugin_removes_its_entries_on_the_next_sync(database_url: str) -> None:
    settings = make_settings(database_url, SHIPPED_CONTENT)
    with_nrw = invoke(settings, "content", "sync", plugins=None)  # all installed plugins
    assert with_nrw.exit_code == 0, with_nrw.output
    nrw_slugs = {row["slug"] for row in snapshot() if row["source"] == "nrw"}
    assert len(nrw_slugs) >= 5
    assert all(slug.startswith("nrw-") for slug in nrw_slugs)

    without = invoke(settings, "content", "sync", plugins="")
    assert without.exit_code == 0, without.output
    assert f"{len(nrw_slugs)} removed" in without.output
    assert {row["source"] for row in snapshot()} == {"core"}

    # Same effect when the plugin is not installed at all (no entry points loaded).
    invoke(settings, "content", "sync", plugins="nrw")
    assert {row["source"] for row in snapshot()} == {"core", "nrw"}
    report = sync(settings, build_registry(settings, load_installed=False))
    assert sorted(report.removed) == sorted(nrw_slugs)


@pytest.mark.parametrize("variable", ["DATABASE_URL", "MENTORING40_CONTENT_DIR"])
def test_bad_setting_stops_the_command_naming_the_variable(variable: str) -> None:
    result = CliRunner().invoke(main, ["content", "sync"], env={variable: "mysql://nowhere"})
    assert result.exit_code != 0
    assert f"{variable}='mysql://nowhere'" in result.output


def test_every_change_writes_a_search_outbox_row_in_the_same_sync(
    fixture_settings: Settings, content_dir: Path
) -> None:
    sync(fixture_settings)
    pending = run(SearchOutbox.select(SearchOutbox.entry_slug).order_by(SearchOutbox.id).run())
    assert sorted(r["entry_slug"] for r in pending) == [
        "arbeitsablauf",
        "aufgabenliste",
        "entwurf",
        "ueberblick",
    ]
    sync(fixture_settings)  # nothing changed: no new rows
    assert run(SearchOutbox.count().run()) == 4
    (content_dir / "entries" / "entwurf.md").unlink()
    sync(fixture_settings)
    newest = run(SearchOutbox.select().order_by(SearchOutbox.id, ascending=False).first().run())
    assert newest is not None
    assert newest["entry_slug"] == "entwurf"
    assert newest["done_at"] is None


def test_a_failed_sync_writes_no_outbox_rows(fixture_settings: Settings, content_dir: Path) -> None:
    sync(fixture_settings)
    before = run(SearchOutbox.count().run())
    path = content_dir / "entries" / "ueberblick.md"
    path.write_text(path.read_text(encoding="utf-8").replace("kurzer", "neuer"), encoding="utf-8")
    shutil.copy(BROKEN_DIR / "unknown-kind.md", content_dir / "entries")
    assert invoke(fixture_settings, "content", "sync").exit_code == 1
    assert run(SearchOutbox.count().run()) == before


def test_a_database_error_mid_sync_rolls_everything_back(
    fixture_settings: Settings, content_dir: Path
) -> None:
    from core.content.loader import load_content
    from core.content.model import ContentPack
    from core.content.sync import sync_content
    from tests.conftest import run as run_async

    sync(fixture_settings)
    before, outbox_before = snapshot(), run(SearchOutbox.count().run())
    loaded, _ = load_content([ContentPack(name="core", path=content_dir)])
    first = loaded.entries[0]
    # Bypass validation to cause a real fault inside the transaction: "aaa-neu" is
    # inserted first, then "zzz-neu" violates the NOT NULL constraint on summary.
    fresh = msgspec.structs.replace(first, slug="aaa-neu", content_hash="x")
    faulty = msgspec.structs.replace(first, slug="zzz-neu", content_hash="y", summary=None)
    broken = msgspec.structs.replace(loaded, entries=[*loaded.entries, fresh, faulty])
    with pytest.raises(Exception, match=r"(?i)not.null"):
        run_async(sync_content(broken))
    assert snapshot() == before
    assert run(SearchOutbox.count().run()) == outbox_before
