"""The editing pages (/redaktion/eintraege) and the editorial API with a session, on a
real SQLite file and a real PostgreSQL database: roles and packs, form validation with
values kept, the workflow, conflicts, history, restore, rename, preview, audit log."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from core.db.tables import AuditEvent
from core.settings import Settings
from tests.accounts_support import SignedIn, editor_client, signed_in, use
from tests.conftest import sync

Client = TestClient[Any]
ENTRY = "/redaktion/eintraege/ueberblick"


class Team:
    def __init__(self, client: Client) -> None:
        self.client = client
        self.core = signed_in(client, "redaktion", sources=["core"], display_name="Rita Redaktion")
        self.nrw = signed_in(client, "redaktion", sources=["nrw"])
        self.freigabe = signed_in(client, "freigabe", display_name="Frieda Freigabe")


@pytest.fixture
def team(fixture_settings: Settings) -> Iterator[Team]:
    sync(fixture_settings)
    with editor_client(fixture_settings) as client:
        yield Team(client)


def form_of(entry: dict[str, Any]) -> dict[str, Any]:
    """The edit form's fields for ``entry`` (API data) as the page posts them."""
    return {
        "title": entry["title"],
        "summary": entry["summary"],
        "kind": entry["kind"],
        "topics": entry["topics"],
        "phases": entry["phases"],
        "audiences": entry["audiences"],
        "tags": ", ".join(entry["tags"]),
        "duration": entry["duration"] or "",
        "materials": "\n".join(entry["materials"]),
        "related": entry["related"],
        "updated_at": entry["updated_at"],
        "body": entry["body_markdown"],
    }


def live(client: Client, slug: str = "ueberblick") -> dict[str, Any]:
    data: dict[str, Any] = client.get(f"/api/v1/entries/{slug}").json()["data"]
    return data


def post(who: SignedIn, path: str, fields: dict[str, Any]) -> Any:
    use(who)
    return who.client.post(path, data={**who.form, **fields}, follow_redirects=False)


def test_sign_in_is_needed_and_packs_are_enforced(team: Team) -> None:
    team.client.cookies.clear()
    anonymous = team.client.get("/redaktion/eintraege", follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/anmelden?next=")

    use(team.nrw)
    listed = team.client.get("/redaktion/eintraege")
    assert listed.status_code == 200
    assert "Überblick für Lotsen" not in listed.text
    refused = team.client.get(ENTRY)
    assert refused.status_code == 403
    assert "Redaktionskonten bearbeiten nur die Einträge ihrer Quellen" in refused.text
    saved = post(team.nrw, ENTRY, form_of(live(team.client)) | {"based_on": "0"})
    assert saved.status_code == 403
    assert live(team.client)["title"] == "Überblick für Lotsen"

    use(team.core)
    page = team.client.get("/redaktion/eintraege")
    assert "Überblick für Lotsen" in page.text
    assert "Datei (nicht bearbeitet)" in page.text


def test_edit_form_shows_labels_and_keeps_values_on_a_content_check_error(team: Team) -> None:
    use(team.core)
    form = team.client.get(ENTRY)
    assert form.status_code == 200
    assert ">Barrieren</label>" in form.text  # taxonomy labels, not codes
    assert ">Lotsinnen und Lotsen</label>" in form.text
    fields = form_of(live(team.client)) | {
        "based_on": "0",
        "title": "Mein neuer Titel",
        "updated_at": "gestern",
    }
    refused = post(team.core, ENTRY, fields)
    assert refused.status_code == 422
    assert "expected a date in the form YYYY-MM-DD" in refused.text  # content check's words
    assert 'value="Mein neuer Titel"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    # Without a CSRF token nothing happens.
    use(team.core)
    forged = team.client.post(ENTRY, data=fields | {"updated_at": "2026-11-30"})
    assert forged.status_code == 403
    assert live(team.client)["title"] == "Überblick für Lotsen"


def test_save_submit_publish_through_the_pages_with_roles_and_audit(team: Team) -> None:
    fields = form_of(live(team.client)) | {"based_on": "0", "title": "Überblick, neu gefasst"}
    saved = post(team.core, ENTRY, fields)
    assert saved.status_code == 303
    page = team.client.get(saved.headers["location"])
    assert "Der Entwurf ist gespeichert." in page.text
    assert "Entwurf" in page.text
    assert post(team.core, f"{ENTRY}/aktion", {"aktion": "einreichen"}).status_code == 303
    # Redaktion may not publish; the Freigabe may.
    refused = post(team.core, f"{ENTRY}/aktion", {"aktion": "veroeffentlichen"})
    assert refused.status_code == 403
    assert live(team.client)["title"] == "Überblick für Lotsen"
    published = post(team.freigabe, f"{ENTRY}/aktion", {"aktion": "veroeffentlichen"})
    assert published.status_code == 303
    assert live(team.client)["title"] == "Überblick, neu gefasst"

    actions = AuditEvent.select(AuditEvent.action, AuditEvent.email, AuditEvent.object_id).where(
        AuditEvent.object_type == "entry"
    )
    logged = [(r["action"], r["email"]) for r in actions.run_sync()]
    assert ("entry.save", team.core.account.email) in logged
    assert ("entry.submit", team.core.account.email) in logged
    assert ("entry.publish", team.freigabe.account.email) in logged

    history = team.client.get(f"{ENTRY}/verlauf")
    assert "Rita Redaktion" in history.text
    assert "Veröffentlicht" in history.text
    diff = team.client.get(f"{ENTRY}/vergleich?von=1&bis=2")
    assert "Überblick, neu gefasst" in diff.text
    assert "<del>Überblick für Lotsen</del>" in diff.text


def test_second_save_on_an_older_revision_shows_the_diff_and_keeps_the_text(team: Team) -> None:
    base = form_of(live(team.client)) | {"based_on": "0"}
    assert post(team.core, ENTRY, base | {"title": "Zuerst gespeichert"}).status_code == 303
    late = post(team.freigabe, ENTRY, base | {"summary": "Meine späte Zusammenfassung."})
    assert late.status_code == 409
    assert "Jemand hat den Eintrag gespeichert" in late.text
    assert "Meine späte Zusammenfassung." in late.text  # the typed text is still in the form
    assert "Zuerst gespeichert" in late.text  # the diff names the other version
    assert "Trotzdem speichern" in late.text
    assert 'name="based_on" value="2"' in late.text
    forced = post(team.freigabe, ENTRY, base | {"based_on": "2", "summary": "Doch so."})
    assert forced.status_code == 303


def test_restore_rename_and_unpublish_from_the_pages(team: Team) -> None:
    base = form_of(live(team.client, "arbeitsablauf")) | {"based_on": "0"}
    path = "/redaktion/eintraege/arbeitsablauf"
    assert post(team.core, path, base | {"title": "Zwischenstand"}).status_code == 303
    restored = post(team.core, f"{path}/wiederherstellen", {"revision": "1"})
    assert restored.status_code == 303
    page = team.client.get(restored.headers["location"])
    assert "Die ältere Fassung ist als neuer Entwurf gespeichert." in page.text
    assert f'value="{base["title"]}"' in page.text

    refused = post(team.freigabe, f"{path}/aktion", {"aktion": "zurueckziehen"})
    assert refused.status_code == 409  # a questionnaire recommends it
    assert "probe@1" in refused.text
    renamed = post(team.core, f"{path}/umbenennen", {"new_slug": "ablauf"})
    assert renamed.status_code == 409


def test_preview_renders_the_body_sanitised_in_a_sites_theme(team: Team) -> None:
    fields = form_of(live(team.client)) | {
        "body": "**Fett** <script>alert(1)</script> [x](javascript:alert(1))",
        "site": "",
    }
    shown = post(team.core, "/redaktion/vorschau", fields)
    assert shown.status_code == 200
    assert "<strong>Fett</strong>" in shown.text
    assert "<script>alert" not in shown.text
    assert 'href="javascript' not in shown.text
    assert "frame-ancestors 'self'" in shown.headers["content-security-policy"]


def test_new_entry_with_a_proposed_slug_through_the_page(team: Team) -> None:
    use(team.core)
    form = team.client.get("/redaktion/eintraege/neu?paket=core")
    assert form.status_code == 200
    proposed = team.client.get("/api/v1/redaktion/slug", params={"title": "Größe zählen"})
    assert proposed.json()["data"] == {"slug": "groesse-zaehlen", "free": True}
    fields = form_of(live(team.client)) | {
        "title": "Größe zählen",
        "slug": "groesse-zaehlen",
        "pack": "core",
        "related": [],
        "body": "Neu.\n",
    }
    made = post(team.core, "/redaktion/eintraege/neu", fields)
    assert made.status_code == 303, made.text[:2000]
    assert made.headers["location"].startswith("/redaktion/eintraege/groesse-zaehlen")
    again = post(team.core, "/redaktion/eintraege/neu", fields)
    assert again.status_code == 409
    assert "Dieser Kurzname ist schon vergeben" in again.text
    nrw = post(team.nrw, "/redaktion/eintraege/neu", fields | {"slug": "anderer"})
    assert nrw.status_code == 403


def test_sync_conflict_side_by_side_for_the_freigabe(team: Team, content_dir: Any) -> None:
    fields = form_of(live(team.client)) | {"based_on": "0", "title": "Aus dem Browser"}
    post(team.core, ENTRY, fields)
    post(team.core, f"{ENTRY}/aktion", {"aktion": "einreichen"})
    post(team.freigabe, f"{ENTRY}/aktion", {"aktion": "veroeffentlichen"})
    path = content_dir / "entries" / "ueberblick.md"
    path.write_text(
        path.read_text(encoding="utf-8").replace("Überblick für Lotsen", "Aus der Datei"),
        encoding="utf-8",
    )
    settings = Settings(database_url=team_url(team), content_dir=content_dir)
    assert "ueberblick" in sync(settings).conflicts
    use(team.freigabe)
    listed = team.client.get("/redaktion/eintraege")
    assert "Konflikt mit der Datei" in listed.text
    side = team.client.get(f"{ENTRY}/konflikt")
    assert side.status_code == 200
    assert "Aus dem Browser" in side.text
    assert "Aus der Datei" in side.text
    kept = post(team.freigabe, f"{ENTRY}/konflikt", {"keep": "editorial"})
    assert kept.status_code == 303
    assert live(team.client)["title"] == "Aus dem Browser"
    assert sync(settings).conflicts == {}


def team_url(team: Team) -> str:
    url: str = team.client.app.state.settings.database_url
    return url


def test_editorial_api_with_a_session(team: Team) -> None:
    use(team.nrw)
    assert team.client.get("/api/v1/redaktion/entries").json()["data"] == []
    use(team.core)
    mine = team.client.get("/api/v1/redaktion/entries").json()["data"]
    assert "ueberblick" in [e["slug"] for e in mine]
    doc = team.client.get("/api/v1/redaktion/entries/ueberblick").json()["data"]
    body = {"based_on": doc["head"], "data": doc["data"] | {"title": "Per API"}}
    no_csrf = team.client.put("/api/v1/redaktion/entries/ueberblick/draft", json=body)
    assert no_csrf.status_code == 403
    saved = team.client.put(
        "/api/v1/redaktion/entries/ueberblick/draft", json=body, headers=team.core.headers
    )
    assert saved.status_code == 200, saved.text
    team.client.cookies.clear()
    assert team.client.get("/api/v1/redaktion/entries").status_code == 401
