"""The editorial workflow through its JSON API (pack-scoped API keys), on a real SQLite
file and a real PostgreSQL database: drafts, review, publishing, history, restore,
conflicts, renames, unpublishing, sync conflicts and the export round trip
(docs/EDITING.md)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from litestar.testing import TestClient

from core.app import create_app
from core.auth import create_key
from core.content.loader import load_content
from core.content.model import ContentPack
from core.content.sync import SyncReport
from core.db.tables import SearchOutbox
from core.plugins import build_registry
from core.settings import Settings
from tests.conftest import make_settings, run, sync
from tests.test_quickcheck_api import bearer, cli

Client = TestClient[Any]
ED = "/api/v1/redaktion"
TITLE = "Überblick für Lotsen"


class Editor:
    def __init__(self, client: Client, tokens: dict[str, str], settings: Settings) -> None:
        self.client = client
        self.tokens = tokens
        self.settings = settings

    def call(self, method: str, path: str, key: str = "core", **kwargs: Any) -> Any:
        headers = bearer(self.tokens[key]) if key else {}
        return self.client.request(method, ED + path, headers=headers, **kwargs)

    def entry(self, slug: str) -> dict[str, Any]:
        response = self.call("GET", f"/entries/{slug}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def save(self, slug: str, changes: dict[str, Any], based_on: int | None = None) -> Any:
        current = self.entry(slug)
        data = {**current["data"], **changes}
        head = current["head"] if based_on is None else based_on
        return self.call("PUT", f"/entries/{slug}/draft", json={"based_on": head, "data": data})

    def create(self, slug: str, title: str, publish: bool = True) -> None:
        """A new core entry (no links, no questionnaire recommends it), published."""
        data = self.entry("aufgabenliste")["data"] | {"title": title, "related": []}
        data["body"] = f"{title}: ein neuer Eintrag.\n"
        made = self.call("POST", "/entries", json={"pack": "core", "slug": slug, "data": data})
        assert made.status_code == 201, made.text
        if publish:
            assert self.call("POST", f"/entries/{slug}/submit").status_code == 200
            assert self.call("POST", f"/entries/{slug}/publish").status_code == 200

    def publish_change(self, slug: str, changes: dict[str, Any]) -> None:
        assert self.save(slug, changes).status_code == 200
        assert self.call("POST", f"/entries/{slug}/submit").status_code == 200
        published = self.call("POST", f"/entries/{slug}/publish")
        assert published.status_code == 200, published.text


def start(settings: Settings) -> TestClient[Any]:
    return TestClient(create_app(settings, build_registry(settings, load_installed=False)))


@pytest.fixture
def editor(fixture_settings: Settings) -> Iterator[Editor]:
    """The fixture content synced, keys for the core and for the nrw pack, the app; a
    partner site "partner" whose fragments show every entry."""
    sites = fixture_settings.content_dir / "sites"
    sites.mkdir(exist_ok=True)
    (sites / "partner.yaml").write_text("label: Partnerseite\n", encoding="utf-8")
    sync(fixture_settings)
    tokens = {
        "core": run(create_key("core-redaktion", ["entries:write:core"]))[0],
        "nrw": run(create_key("nrw-redaktion", ["entries:write:nrw"]))[0],
        "stats": run(create_key("stats", ["stats:read"]))[0],
    }
    with start(fixture_settings) as client:
        yield Editor(client, tokens, fixture_settings)


def test_draft_review_publish_changes_the_read_api_and_its_etag(editor: Editor) -> None:
    before = editor.client.get("/api/v1/entries/ueberblick")
    assert before.json()["data"]["title"] == TITLE
    assert editor.entry("ueberblick")["state"] == "file"

    saved = editor.save("ueberblick", {"title": "Überblick für neue Lotsen"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["data"] == {"slug": "ueberblick", "revision": 2, "state": "draft"}
    # A draft is not live.
    assert editor.client.get("/api/v1/entries/ueberblick").json()["data"]["title"] == TITLE

    assert editor.call("POST", "/entries/ueberblick/submit").json()["data"]["state"] == "review"
    assert editor.call("POST", "/entries/ueberblick/publish").json()["data"] == {
        "slug": "ueberblick",
        "revision": 2,
        "state": "published",
    }
    after = editor.client.get("/api/v1/entries/ueberblick")
    assert after.json()["data"]["title"] == "Überblick für neue Lotsen"
    assert after.headers["etag"] != before.headers["etag"]
    listed = editor.client.get("/api/v1/entries?sort=slug").json()["data"]
    assert "Überblick für neue Lotsen" in [e["title"] for e in listed]
    # Queued for the indexer in the same transaction.
    assert SearchOutbox.count().where(SearchOutbox.entry_slug == "ueberblick").run_sync() >= 2

    history = editor.call("GET", "/entries/ueberblick/revisions").json()["data"]
    assert [(r["number"], r["state"], r["author"]) for r in history] == [
        (2, "published", "API-Schlüssel core-redaktion"),
        (1, "superseded", "Datei"),
    ]
    diff = editor.call("GET", "/entries/ueberblick/diff?from=1&to=2").json()["data"]
    assert diff == [{"field": "title", "before": TITLE, "after": "Überblick für neue Lotsen"}]


def test_publishing_needs_review_and_sending_back_needs_a_comment(editor: Editor) -> None:
    assert editor.save("ueberblick", {"summary": "Neu."}).status_code == 200
    refused = editor.call("POST", "/entries/ueberblick/publish")
    assert refused.status_code == 409
    assert "submit it for review first" in refused.json()["detail"]
    editor.call("POST", "/entries/ueberblick/submit")
    empty = editor.call("POST", "/entries/ueberblick/return", json={"comment": " "})
    assert empty.status_code == 422
    back = editor.call("POST", "/entries/ueberblick/return", json={"comment": "Quelle fehlt."})
    assert back.json()["data"]["state"] == "draft"
    entry = editor.entry("ueberblick")
    assert entry["comment"] == "Quelle fehlt."
    assert entry["state"] == "draft"


def test_a_save_based_on_an_older_revision_is_refused_with_the_diff(editor: Editor) -> None:
    # Two editors open the entry; the first saves a new title, the second a new summary.
    opened = editor.entry("ueberblick")["data"]
    first = editor.call(
        "PUT",
        "/entries/ueberblick/draft",
        json={"based_on": 0, "data": opened | {"title": "Erste Fassung"}},
    )
    assert first.status_code == 200
    second = editor.call(
        "PUT",
        "/entries/ueberblick/draft",
        json={"based_on": 0, "data": opened | {"summary": "Zweite Fassung."}},
    )
    assert second.status_code == 409
    problem = second.json()
    assert second.headers["content-type"].startswith("application/problem+json")
    assert problem["head"] == 2
    by_field = {d["field"]: d for d in problem["diff"]}
    assert by_field["summary"]["after"] == "Zweite Fassung."
    assert by_field["title"] == {"field": "title", "before": "Erste Fassung", "after": TITLE}
    # Nothing was stored: the first save is still the newest.
    assert editor.entry("ueberblick")["data"]["title"] == "Erste Fassung"
    assert len(editor.call("GET", "/entries/ueberblick/revisions").json()["data"]) == 2


def test_validation_gives_exactly_the_messages_of_content_check(
    editor: Editor, content_dir: Path
) -> None:
    saved = editor.save("ueberblick", {"topics": ["unbekannt"], "updated_at": "gestern"})
    assert saved.status_code == 422
    reasons = {p["name"]: p["reason"] for p in saved.json()["invalid_params"]}

    # The same values in a file, loaded the way `content check` loads it.
    path = content_dir / "entries" / "ueberblick.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(
        text.replace("topics: [barrieren]", "topics: [unbekannt]").replace(
            "updated_at: 2026-10-01", "updated_at: gestern"
        ),
        encoding="utf-8",
    )
    _, problems = load_content([ContentPack(name="core", path=content_dir)])
    from_file = {p.field: p.message for p in problems}
    assert reasons == {"updated_at": from_file["updated_at"]}
    # The date is checked first (as for a file); with a valid date, the taxonomy.
    topic = editor.save("ueberblick", {"topics": ["unbekannt"]})
    path.write_text(text.replace("topics: [barrieren]", "topics: [unbekannt]"), encoding="utf-8")
    _, problems = load_content([ContentPack(name="core", path=content_dir)])
    assert {p["name"]: p["reason"] for p in topic.json()["invalid_params"]} == {
        p.field: p.message for p in problems
    }
    assert "unknown topic 'unbekannt'; expected one of:" in topic.text
    # Nothing was stored.
    assert editor.entry("ueberblick")["state"] == "file"


def test_an_oversized_body_gets_a_clear_message(editor: Editor) -> None:
    saved = editor.save("ueberblick", {"body": "Text. " * 50_000})
    assert saved.status_code == 422
    (reason,) = [p["reason"] for p in saved.json()["invalid_params"] if p["name"] == "body"]
    assert "a content file may have at most 256 KiB" in reason


def test_keys_are_scoped_per_pack(editor: Editor) -> None:
    assert editor.call("GET", "/entries/ueberblick", key="").status_code == 401
    assert editor.call("GET", "/entries/ueberblick", key="stats").status_code == 403
    nrw = editor.call("GET", "/entries/ueberblick", key="nrw")
    assert nrw.status_code == 403
    assert "may not edit entries of the pack 'core'" in nrw.json()["detail"]
    assert editor.save("ueberblick", {"title": "X"}).status_code == 200
    refused = editor.call("POST", "/entries/ueberblick/submit", key="nrw")
    assert refused.status_code == 403
    assert editor.call("GET", "/entries", key="nrw").json()["data"] == []
    listed = editor.call("GET", "/entries").json()["data"]
    assert {e["slug"]: e["state"] for e in listed}["ueberblick"] == "draft"


def test_keys_cli_creates_pack_scoped_keys(editor: Editor) -> None:
    made = cli(
        editor.settings, "keys", "create", "--name", "partner", "--scope", "entries:write:nrw"
    )
    assert made.exit_code == 0, made.output
    bare = cli(editor.settings, "keys", "create", "--name", "p2", "--scope", "entries:write")
    assert bare.exit_code != 0
    assert "entries:write:<pack>" in bare.output


def test_unpublish_answers_410_and_publishing_again_restores_it(editor: Editor) -> None:
    recommended = editor.call("POST", "/entries/arbeitsablauf/unpublish")
    assert recommended.status_code == 409
    assert "probe@1" in recommended.json()["detail"]
    editor.create("kurz-notiert", "Kurz notiert")
    assert editor.call("POST", "/entries/kurz-notiert/unpublish").status_code == 200
    gone = editor.client.get("/api/v1/entries/kurz-notiert")
    assert gone.status_code == 410
    assert "unpublished" in gone.json()["detail"]
    page = editor.client.get("/entries/kurz-notiert", headers={"Accept": "text/html"})
    assert page.status_code == 410
    assert "von der Redaktion zurückgezogen" in page.text
    fragment = editor.client.get("/embed/partner/fragments/entries/kurz-notiert")
    assert fragment.status_code == 410
    assert "von der Redaktion zurückgezogen" in fragment.text
    slugs = [e["slug"] for e in editor.client.get("/api/v1/entries").json()["data"]]
    assert "kurz-notiert" not in slugs
    assert editor.client.get("/api/v1/entries/gibt-es-nicht").status_code == 404
    # Kept with its history: publishing it again brings it back unchanged.
    assert editor.call("POST", "/entries/kurz-notiert/publish").status_code == 200
    assert editor.client.get("/api/v1/entries/kurz-notiert").status_code == 200


def test_a_renamed_slug_answers_301_in_the_api_and_on_pages(editor: Editor) -> None:
    linked = editor.call("POST", "/entries/aufgabenliste/rename", json={"slug": "liste"})
    assert linked.status_code == 409  # questionnaires recommend it, ueberblick links to it
    assert "probe@1" in linked.json()["detail"]
    editor.create("ablauf", "Ablauf")
    renamed = editor.call("POST", "/entries/ablauf/rename", json={"slug": "ablauf-neu"})
    assert renamed.status_code == 200, renamed.text
    api = editor.client.get("/api/v1/entries/ablauf", follow_redirects=False)
    assert api.status_code == 301
    assert api.headers["location"] == "/api/v1/entries/ablauf-neu"
    assert editor.client.get(api.headers["location"]).json()["data"]["slug"] == "ablauf-neu"
    page = editor.client.get("/entries/ablauf", follow_redirects=False)
    assert page.status_code == 301
    assert page.headers["location"] == "/entries/ablauf-neu"
    # A partner's server including the old fragment is sent on to the new one.
    old = "/embed/partner/fragments/entries/ablauf"
    fragment = editor.client.get(old, follow_redirects=False)
    assert fragment.status_code == 301
    assert fragment.headers["location"].endswith("/embed/partner/fragments/entries/ablauf-neu")
    assert "Ablauf" in editor.client.get(fragment.headers["location"]).text
    assert editor.call("GET", "/entries/ablauf-neu/revisions").json()["data"][0]["number"] == 1
    taken = editor.call("POST", "/entries/ablauf-neu/rename", json={"slug": "ueberblick"})
    assert taken.status_code == 409
    bad = editor.call("POST", "/entries/ablauf-neu/rename", json={"slug": "Ä b"})
    assert bad.status_code == 422


def test_restore_saves_an_old_revision_as_a_new_draft(editor: Editor) -> None:
    editor.publish_change("ueberblick", {"title": "Zweite Fassung"})
    restored = editor.call("POST", "/entries/ueberblick/restore", json={"revision": 1})
    assert restored.json()["data"] == {"slug": "ueberblick", "revision": 3, "state": "draft"}
    entry = editor.entry("ueberblick")
    assert entry["data"]["title"] == TITLE
    history = editor.call("GET", "/entries/ueberblick/revisions").json()["data"]
    assert history[0]["comment"] == "Wiederhergestellt aus Revision 1"
    # The live entry is still the published revision until the Freigabe publishes.
    assert editor.client.get("/api/v1/entries/ueberblick").json()["data"]["title"] == (
        "Zweite Fassung"
    )


def test_new_entry_with_a_proposed_slug(editor: Editor) -> None:
    proposed = editor.call("GET", "/slug", params={"title": "Übergänge gestalten: Straße"})
    assert proposed.json()["data"] == {"slug": "uebergaenge-gestalten-strasse", "free": True}
    taken = editor.call("GET", "/slug", params={"title": "Überblick"})
    assert taken.json()["data"] == {"slug": "ueberblick-2", "free": False}
    data = editor.entry("ueberblick")["data"] | {"title": "Übergänge gestalten", "related": []}
    data["body"] = "Ein neuer Eintrag.\n"
    made = editor.call(
        "POST", "/entries", json={"pack": "core", "slug": "uebergaenge-gestalten", "data": data}
    )
    assert made.status_code == 201, made.text
    again = editor.call(
        "POST", "/entries", json={"pack": "core", "slug": "uebergaenge-gestalten", "data": data}
    )
    assert again.status_code == 409
    elsewhere = editor.call(
        "POST", "/entries", json={"pack": "core", "slug": "anders", "data": data}, key="nrw"
    )
    assert elsewhere.status_code == 403
    assert editor.client.get("/api/v1/entries/uebergaenge-gestalten").status_code == 404
    editor.call("POST", "/entries/uebergaenge-gestalten/submit")
    editor.call("POST", "/entries/uebergaenge-gestalten/publish")
    live = editor.client.get("/api/v1/entries/uebergaenge-gestalten")
    assert live.json()["data"]["body_html"] == "<p>Ein neuer Eintrag.</p>\n"


HOSTILE = (
    "Text <script>alert(1)</script> und <iframe src='https://example.org'></iframe>\n\n"
    '[Klick](javascript:alert(1)) <img src=x onerror="alert(1)">\n'
)


def test_hostile_markdown_is_stored_as_written_but_served_inert(editor: Editor) -> None:
    editor.publish_change("ueberblick", {"body": HOSTILE})
    assert editor.entry("ueberblick")["data"]["body"] == HOSTILE
    served = editor.client.get("/api/v1/entries/ueberblick").json()["data"]
    assert served["body_markdown"] == HOSTILE
    html = served["body_html"]
    for bad in ("<script", "<iframe", 'href="javascript:', "<img", "<a "):
        assert bad not in html
    assert "&lt;script&gt;" in html  # shown as text, never run
    preview = editor.call("POST", "/preview", json={"body": HOSTILE}).json()["data"]["html"]
    assert preview == html


def test_sync_keeps_the_published_revision_and_reports_the_conflict(editor: Editor) -> None:
    editor.publish_change("ueberblick", {"title": "Aus dem Browser"})
    content = editor.settings.content_dir
    path = content / "entries" / "ueberblick.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace(TITLE, "Aus der Datei"), encoding="utf-8"
    )
    report: SyncReport = sync(editor.settings)
    assert list(report.conflicts) == ["ueberblick"]
    assert report.updated == []
    assert report.removed == []
    assert editor.client.get("/api/v1/entries/ueberblick").json()["data"]["title"] == (
        "Aus dem Browser"
    )
    conflict = editor.entry("ueberblick")["conflict"]
    assert conflict["data"]["title"] == "Aus der Datei"
    # A second sync of the same file (the command this time) reports it again, changes nothing.
    synced = cli(editor.settings, "content", "sync")
    assert synced.exit_code == 0, synced.output
    assert "conflict: ueberblick: the file changed while the entry is edited" in synced.output

    taken = editor.call("POST", "/entries/ueberblick/conflict", json={"keep": "file"})
    assert taken.status_code == 200, taken.text
    assert editor.client.get("/api/v1/entries/ueberblick").json()["data"]["title"] == (
        "Aus der Datei"
    )
    assert editor.entry("ueberblick")["conflict"] is None
    assert sync(editor.settings).conflicts == {}


def test_sync_does_not_remove_a_new_entry_nor_revive_a_renamed_one(editor: Editor) -> None:
    editor.create("ablauf", "Ablauf")
    editor.call("POST", "/entries/ablauf/rename", json={"slug": "ablauf-neu"})
    # The old name's file is still in the pack (nobody exported yet).
    exported = editor.settings.content_dir / "entries" / "ablauf.md"
    data = editor.entry("ablauf-neu")["data"]
    exported.write_text(
        (editor.settings.content_dir / "entries" / "aufgabenliste.md")
        .read_text(encoding="utf-8")
        .replace("Aufgabenliste", data["title"]),
        encoding="utf-8",
    )
    report = sync(editor.settings)
    assert report.removed == []
    assert report.added == []
    assert "renamed to 'ablauf-neu'" in report.conflicts["ablauf"]
    assert editor.client.get("/api/v1/entries/ablauf-neu").status_code == 200
    assert editor.client.get("/api/v1/entries/ablauf", follow_redirects=False).status_code == 301


async def _reset_postgres(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


def test_export_round_trip_gives_identical_api_output(editor: Editor, tmp_path: Path) -> None:
    """Editorial work → `content export --pack core --to DIR` → `content check` → sync into
    a fresh database → the same API answer for every entry."""
    editor.publish_change("ueberblick", {"title": "Überblick (überarbeitet)", "tags": ["Neu"]})
    editor.create("ganz-neu", "Ganz neu")
    editor.create("zurueckgezogen", "Zurückgezogen")
    assert editor.call("POST", "/entries/zurueckgezogen/unpublish").status_code == 200
    editor.create("nur-entwurf", "Nur ein Entwurf", publish=False)

    def answers(client: Client) -> dict[str, Any]:
        listed = client.get("/api/v1/entries?page_size=100").json()["data"]
        out: dict[str, Any] = {"list": listed}
        for slug in [e["slug"] for e in listed] + ["zurueckgezogen", "entwurf", "nur-entwurf"]:
            response = client.get(f"/api/v1/entries/{slug}")
            out[slug] = (response.status_code, response.json())
        return out

    before = answers(editor.client)
    assert before["zurueckgezogen"][0] == 410
    assert before["nur-entwurf"][0] == 404
    assert "ganz-neu" in before

    folder = tmp_path / "export"
    exported = cli(editor.settings, "content", "export", "--pack", "core", "--to", str(folder))
    assert exported.exit_code == 0, exported.output
    # The rest of the core content (questionnaires, search vocabulary) lives beside the pack.
    for extra in ("questionnaires", "search"):
        shutil.copytree(editor.settings.content_dir / extra, folder / extra)

    unknown = cli(editor.settings, "content", "export", "--pack", "keins", "--to", str(folder))
    assert unknown.exit_code != 0
    assert "there is no content pack 'keins'" in unknown.output
    again = cli(editor.settings, "content", "export", "--pack", "core", "--to", str(folder))
    assert "is not an empty folder" in again.output

    url = editor.settings.database_url
    if url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    else:
        run(_reset_postgres(url))
    fresh = make_settings(url, folder)
    checked = cli(fresh, "content", "check")
    assert checked.exit_code == 0, checked.output
    sync(fresh)
    with start(fresh) as client:
        assert answers(client) == before
