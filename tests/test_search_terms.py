"""``search_terms`` (Suchbegriffe): words to find an entry by that its text does not use.
End to end on a real SQLite file and a real PostgreSQL database: the loader's rules and
messages (``content check`` and the editor alike), sync and content hash, the migration
on a database that already has entries, the edit form, revisions and diff, the export
round trip, a real Meilisearch and the database fallback finding an entry by a search
term, and the public answers that never carry the field."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient
from piccolo.apps.migrations.tables import Migration

from core.app import create_app
from core.auth import create_key
from core.content.loader import load_content
from core.content.model import ContentPack
from core.db.engine import migrate
from core.db.tables import Entry
from core.plugins import build_registry
from core.settings import Settings
from search.local_server import LocalMeilisearch
from tests.accounts_support import SignedIn, editor_client, signed_in, use
from tests.conftest import make_settings, on_meilisearch, run, sync
from tests.test_editing_pages import form_of
from tests.test_quickcheck_api import bearer, cli
from tests.test_search_api import wait_for_hits

Client = TestClient[Any]
MIGRATION = "2026-12-01T03:10:00:000000"
TERMS = ["Erledigungen", "To-do-Liste", "Kram abhaken"]
ED = "/api/v1/redaktion"


def add_terms(content_dir: Path, slug: str, line: str) -> None:
    """Put ``line`` into the entry's front matter right after ``tags:`` (as the shipped
    files have it)."""
    path = content_dir / "entries" / f"{slug}.md"
    lines = path.read_text(encoding="utf-8").split("\n")
    at = next(i for i, text in enumerate(lines) if text.startswith("tags:"))
    lines.insert(at + 1, line)
    path.write_text("\n".join(lines), encoding="utf-8")


def stored(slug: str) -> dict[str, Any]:
    row = run(Entry.select().where(Entry.slug == slug).output(load_json=True).first().run())
    assert row is not None
    return row


# -- the loader ---------------------------------------------------------------------------

BAD = {
    "lang": ("search_terms: [Dank, " + "x" * 61 + "]", "search_terms[1]", "length <= 60"),
    "viele": (
        "search_terms: [" + ", ".join(f"Wort{i}" for i in range(31)) + "]",
        "search_terms",
        "length <= 30",
    ),
    "doppelt": (
        "search_terms: [Dank, Lob, danke, DANK]",
        "search_terms[3]",
        "'DANK' is already search_terms[0]; list each term once",
    ),
    "leer": ('search_terms: [Dank, ""]', "search_terms[1]", "length >= 1"),
    "leerzeichen": ('search_terms: [Dank, "   "]', "search_terms[1]", "cannot be empty"),
    "text": ("search_terms: Dank, Lob", "search_terms", "expected a list, e.g. [a, b], got text"),
    "zahl": ("search_terms: [Dank, 42]", "search_terms[1]", "expected text, got a number"),
}


def test_content_check_names_file_field_line_and_rule_of_each_bad_search_term(
    content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = (content_dir / "entries" / "aufgabenliste.md").read_text(encoding="utf-8")
    for name, (line, _, _) in BAD.items():
        (content_dir / "entries" / f"{name}.md").write_text(source, encoding="utf-8")
        add_terms(content_dir, name, line)
    monkeypatch.setenv("MENTORING40_CONTENT_DIR", str(content_dir))
    monkeypatch.setenv("MENTORING40_LOAD_PLUGINS", "")
    from click.testing import CliRunner

    from core.cli import main

    result = CliRunner().invoke(main, ["content", "check"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"Content has {len(BAD)} problem(s); nothing was changed:"
    for name, (_, field, words) in BAD.items():
        (shown,) = [ln for ln in lines if f"entries/{name}.md" in ln]
        # tags: is line 8 of the fixture file, the search terms line 9.
        assert f"entries/{name}.md:9: {field}: " in shown, shown
        assert words in shown, shown


def test_search_terms_are_optional_and_kept_as_written(content_dir: Path) -> None:
    add_terms(content_dir, "aufgabenliste", "search_terms: [" + ", ".join(TERMS) + "]")
    loaded, problems = load_content([ContentPack(name="core", path=content_dir)])
    assert problems == []
    terms = {e.slug: e.search_terms for e in loaded.entries}
    assert terms["aufgabenliste"] == TERMS
    assert terms["ueberblick"] == []  # missing: no search terms
    assert len(terms) == 4


# -- sync, migration, public answers -----------------------------------------------------


def test_sync_stores_the_terms_and_a_changed_term_changes_the_hash(
    fixture_settings: Settings, content_dir: Path
) -> None:
    sync(fixture_settings)
    before = stored("aufgabenliste")
    assert before["search_terms"] == []
    add_terms(content_dir, "aufgabenliste", "search_terms: [Erledigungen, To-do-Liste]")
    report = sync(fixture_settings)
    assert report.updated == ["aufgabenliste"]
    assert report.unchanged == 3
    first = stored("aufgabenliste")
    assert first["search_terms"] == ["Erledigungen", "To-do-Liste"]
    assert first["content_hash"] != before["content_hash"]

    path = content_dir / "entries" / "aufgabenliste.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("To-do-Liste", "Todo-Liste"), encoding="utf-8"
    )
    report = sync(fixture_settings)
    assert report.updated == ["aufgabenliste"]
    second = stored("aufgabenliste")
    assert second["search_terms"] == ["Erledigungen", "Todo-Liste"]
    assert second["content_hash"] not in {first["content_hash"], before["content_hash"]}
    assert not sync(fixture_settings).changed


def test_migration_gives_existing_entries_an_empty_list_and_keeps_their_hashes(
    fixture_settings: Settings,
) -> None:
    """A database from before the field: the column is dropped again and the migration
    forgotten, with every entry stored. Migrating adds the column with [] for each row;
    the next sync finds every entry unchanged (no rewrite, no false editorial conflict)."""
    sync(fixture_settings)
    hashes = {r["slug"]: r["content_hash"] for r in run(Entry.select().run())}
    run(Entry.raw("ALTER TABLE entry DROP COLUMN search_terms").run())
    run(Migration.delete().where(Migration.name == MIGRATION).run())
    columns = run(Entry.raw("SELECT * FROM entry").run())[0]
    assert "search_terms" not in columns
    assert "tags" in columns

    assert run(migrate()) == [MIGRATION]
    rows = run(Entry.raw("SELECT slug, search_terms FROM entry ORDER BY slug").run())
    assert [(r["slug"], msgspec.json.decode(r["search_terms"])) for r in rows] == [
        (slug, []) for slug in sorted(hashes)
    ]
    report = sync(fixture_settings)
    assert not report.changed
    assert report.unchanged == 4
    assert {r["slug"]: r["content_hash"] for r in run(Entry.select().run())} == hashes


def test_public_answers_never_carry_the_search_terms(
    fixture_settings: Settings, content_dir: Path
) -> None:
    add_terms(content_dir, "aufgabenliste", "search_terms: [Erledigungen, Kram abhaken]")
    sync(fixture_settings)
    assert stored("aufgabenliste")["search_terms"] == ["Erledigungen", "Kram abhaken"]
    with TestClient(
        create_app(fixture_settings, build_registry(fixture_settings, load_installed=False))
    ) as client:
        for path in (
            "/api/v1/entries/aufgabenliste",
            "/api/v1/entries?page_size=100",
            "/api/v1/entries/ueberblick",  # links to aufgabenliste
            "/entries/aufgabenliste",  # the public page
            "/?q=Erledigungen",  # the public search page finds it
            "/api/v1/search?q=Erledigungen",  # found (database search), but not shown
        ):
            response = client.get(path)
            assert response.status_code == 200, path
            assert "search_terms" not in response.text, path
            assert "Kram abhaken" not in response.text, path
        detail = client.get("/api/v1/entries/aufgabenliste").json()["data"]
        assert detail["tags"] == ["Aufgaben"]
        found = client.get("/api/v1/search", params={"q": "Erledigungen"}).json()
        assert found["meta"]["search"]["engine"] == "database"
        assert [hit["slug"] for hit in found["data"]] == ["aufgabenliste"]


# -- search in Meilisearch ---------------------------------------------------------------


@pytest.fixture
def meili(tmp_path: Path) -> Iterator[LocalMeilisearch]:
    with LocalMeilisearch(tmp_path / "meili") as server:
        yield server


def test_meilisearch_finds_an_entry_by_a_word_only_its_search_terms_hold(
    meili: LocalMeilisearch, fixture_settings: Settings, content_dir: Path
) -> None:
    add_terms(content_dir, "aufgabenliste", "search_terms: [Erledigungen, Kram abhaken]")
    # No other text of the content holds these words: only the search terms can find it.
    for path in (content_dir / "entries").glob("*.md"):
        text = path.read_text(encoding="utf-8").casefold()
        without = text.replace("search_terms: [erledigungen, kram abhaken]", "")
        assert "erledig" not in without, path
        assert "abhak" not in without, path
    settings = on_meilisearch(fixture_settings, meili)
    sync(settings)
    with TestClient(create_app(settings, build_registry(settings, load_installed=False))) as client:
        wait_for_hits(client, "", 3)
        for q in ("Erledigungen", "Erledigung", "abhaken", "Kram abhaken"):
            body = client.get("/api/v1/search", params={"q": q}).json()
            assert body["meta"]["search"]["engine"] == "meilisearch", q
            assert [hit["slug"] for hit in body["data"]] == ["aufgabenliste"], q
            assert "search_terms" not in body["data"][0], q


# -- the Redaktion ------------------------------------------------------------------------


class Team:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.core = signed_in(client, "redaktion", sources=["core"], display_name="Rita Redaktion")
        self.freigabe = signed_in(client, "freigabe", display_name="Frieda Freigabe")


@pytest.fixture
def team(fixture_settings: Settings) -> Iterator[Team]:
    sync(fixture_settings)
    with editor_client(fixture_settings) as client:
        yield Team(client)


def post(who: SignedIn, path: str, fields: dict[str, Any]) -> Any:
    use(who)
    return who.client.post(path, data={**who.form, **fields}, follow_redirects=False)


def form_fields(client: Client, slug: str, **changes: str) -> dict[str, Any]:
    """The edit form as the page posts it for the live entry ``slug``, with ``changes``."""
    entry = client.get(f"/api/v1/entries/{slug}").json()["data"]
    return form_of(entry) | {"based_on": "0"} | changes


def test_the_edit_form_saves_shows_checks_and_diffs_the_search_terms(team: Team) -> None:
    page = "/redaktion/eintraege/ueberblick"
    use(team.core)
    form = team.client.get(page).text
    assert '<label for="search_terms">Suchbegriffe (freiwillig)</label>' in form
    assert "Werden nicht angezeigt" in form
    assert 'aria-describedby="hinweis-search_terms"' in form

    twice = post(team.core, page, form_fields(team.client, "ueberblick",
                 search_terms="Dank\nDANK"))  # fmt: skip
    assert twice.status_code == 422
    # The content check's rule, in German at the field (the editorial API keeps its words).
    assert "Begriff 2: „DANK“ steht schon als Begriff 1 da" in twice.text
    assert 'aria-describedby="hinweis-search_terms fehler-search_terms"' in twice.text
    assert ">Dank\nDANK</textarea>" in twice.text  # kept as typed
    long = post(team.core, page, form_fields(team.client, "ueberblick",
                search_terms="Dank\n" + "y" * 61))  # fmt: skip
    assert long.status_code == 422
    assert "Begriff 2: höchstens 60 Zeichen" in long.text
    many = post(team.core, page, form_fields(team.client, "ueberblick",
                search_terms="\n".join(f"Wort{i}" for i in range(31))))  # fmt: skip
    assert many.status_code == 422
    assert ">höchstens 30 Angaben</p>" in many.text

    saved = post(team.core, page, form_fields(team.client, "ueberblick",
                 search_terms=" Danke sagen \r\n\r\nAnerkennung\n"))  # fmt: skip
    assert saved.status_code == 303, saved.text
    shown = team.client.get(page).text
    assert ">Danke sagen\nAnerkennung</textarea>" in shown
    doc = team.client.get(f"{ED}/entries/ueberblick").json()["data"]
    assert doc["data"]["search_terms"] == ["Danke sagen", "Anerkennung"]

    assert post(team.core, f"{page}/aktion", {"aktion": "einreichen"}).status_code == 303
    assert post(team.freigabe, f"{page}/aktion", {"aktion": "veroeffentlichen"}).status_code == 303
    row = team.client.blocking_portal.call(
        lambda: Entry.select(Entry.search_terms).where(Entry.slug == "ueberblick")
        .output(load_json=True).first().run()
    )  # fmt: skip
    assert row == {"search_terms": ["Danke sagen", "Anerkennung"]}
    live = team.client.get("/api/v1/entries/ueberblick")
    assert "search_terms" not in live.text
    assert "Danke sagen" not in live.text

    diff = team.client.get(f"{page}/vergleich?von=1&bis=2").text
    assert "<dt>Suchbegriffe</dt>" in diff
    assert "<del>(leer)</del>" in diff
    assert "<ins>Danke sagen, Anerkennung</ins>" in diff
    use(team.core)
    api_diff = team.client.get(f"{ED}/entries/ueberblick/diff?from=1&to=2").json()["data"]
    assert api_diff == [
        {"field": "search_terms", "before": [], "after": ["Danke sagen", "Anerkennung"]}
    ]


def test_revisions_saved_before_the_field_existed_show_no_change_in_it(team: Team) -> None:
    """Revision data stored without ``search_terms`` (made before this field) reads as an
    empty list: no phantom change in the diff, and it restores cleanly."""
    page = "/redaktion/eintraege/ueberblick"
    fields = form_fields(team.client, "ueberblick", title="Überblick, neu")
    assert post(team.core, page, fields).status_code == 303
    from core.db.tables import EditorialRevision

    async def forget_the_field() -> None:  # on the app's own connection (its event loop)
        for row in await EditorialRevision.select().output(load_json=True):
            data = {k: v for k, v in row["data"].items() if k != "search_terms"}
            await EditorialRevision.update(
                {EditorialRevision.data: msgspec.json.encode(data).decode()}
            ).where(EditorialRevision.id == row["id"])

    team.client.blocking_portal.call(forget_the_field)
    use(team.core)
    api_diff = team.client.get(f"{ED}/entries/ueberblick/diff?from=1&to=2").json()["data"]
    assert [c["field"] for c in api_diff] == ["title"]
    assert post(team.core, f"{page}/wiederherstellen", {"revision": "1"}).status_code == 303
    doc = team.client.get(f"{ED}/entries/ueberblick").json()["data"]
    assert doc["head"] == 3
    assert doc["data"]["search_terms"] == []
    assert doc["data"]["title"] == "Überblick für Lotsen"


def test_editorial_api_takes_the_terms_with_content_checks_messages(
    fixture_settings: Settings,
) -> None:
    sync(fixture_settings)
    token = run(create_key("core-redaktion", ["entries:write:core"]))[0]
    with TestClient(
        create_app(fixture_settings, build_registry(fixture_settings, load_installed=False))
    ) as client:
        doc = client.get(f"{ED}/entries/arbeitsablauf", headers=bearer(token)).json()["data"]
        assert doc["data"]["search_terms"] == []
        bad = {"based_on": 0, "data": doc["data"] | {"search_terms": ["Ablauf", "z" * 61]}}
        refused = client.put(f"{ED}/entries/arbeitsablauf/draft", json=bad, headers=bearer(token))
        assert refused.status_code == 422
        (problem,) = refused.json()["invalid_params"]
        assert problem["name"] == "search_terms[1]"
        assert "length <= 60" in problem["reason"]
        # Left out (an older client) means no search terms, as in a file.
        data = {k: v for k, v in doc["data"].items() if k != "search_terms"}
        left_out = {"based_on": 0, "data": data | {"title": "Arbeitsablauf, neu"}}
        saved = client.put(f"{ED}/entries/arbeitsablauf/draft", json=left_out,
                           headers=bearer(token))  # fmt: skip
        assert saved.status_code == 200, saved.text
        after = client.get(f"{ED}/entries/arbeitsablauf", headers=bearer(token)).json()["data"]
        assert after["data"]["search_terms"] == []


# -- export round trip --------------------------------------------------------------------


def test_export_check_sync_round_trip_keeps_the_terms_and_the_hashes(
    fixture_settings: Settings, content_dir: Path, tmp_path: Path
) -> None:
    add_terms(content_dir, "aufgabenliste", "search_terms: [Erledigungen, To-do-Liste]")
    sync(fixture_settings)
    token = run(create_key("core-redaktion", ["entries:write:core"]))[0]
    with TestClient(
        create_app(fixture_settings, build_registry(fixture_settings, load_installed=False))
    ) as client:
        doc = client.get(f"{ED}/entries/ueberblick", headers=bearer(token)).json()["data"]
        body = {"based_on": 0, "data": doc["data"] | {"search_terms": ["Dank", "Danke sagen"]}}
        for step in ("draft", "submit", "publish"):
            method = "PUT" if step == "draft" else "POST"
            kwargs = {"json": body} if step == "draft" else {}
            response = client.request(method, f"{ED}/entries/ueberblick/{step}",
                                      headers=bearer(token), **kwargs)  # fmt: skip
            assert response.status_code == 200, response.text
    before = {r["slug"]: (r["search_terms"], r["content_hash"]) for r in _rows()}
    assert before["ueberblick"][0] == ["Dank", "Danke sagen"]

    folder = tmp_path / "export"
    exported = cli(fixture_settings, "content", "export", "--pack", "core", "--to", str(folder))
    assert exported.exit_code == 0, exported.output
    for extra in ("questionnaires", "search"):
        shutil.copytree(content_dir / extra, folder / extra)
    ueberblick = (folder / "entries" / "ueberblick.md").read_text(encoding="utf-8")
    assert "tags: [Erstgespräch, Überblick]\nsearch_terms: [Dank, Danke sagen]\n" in ueberblick
    aufgaben = (folder / "entries" / "aufgabenliste.md").read_text(encoding="utf-8")
    assert "search_terms: [Erledigungen, To-do-Liste]\n" in aufgaben
    # An entry without terms is written without the field, exactly as its file was.
    for slug in ("arbeitsablauf", "entwurf"):
        written = (folder / "entries" / f"{slug}.md").read_text(encoding="utf-8")
        assert "search_terms" not in written

    url = fixture_settings.database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    else:
        from tests.accounts_support import reset_schema

        run(reset_schema(url))
    fresh = make_settings(url, folder)
    checked = cli(fresh, "content", "check")
    assert checked.exit_code == 0, checked.output
    sync(fresh)
    assert {r["slug"]: (r["search_terms"], r["content_hash"]) for r in _rows()} == before


def _rows() -> list[dict[str, Any]]:
    return list(run(Entry.select().output(load_json=True).run()))
