"""The read API, through Litestar's test client, on SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from core.app import create_app
from core.plugins import build_registry
from core.settings import Settings
from tests.conftest import sync

Client = TestClient[Any]


def slugs(response: Any) -> list[str]:
    return [item["slug"] for item in response.json()["data"]]


def assert_problem(response: Any, status: int, *words: str) -> dict[str, Any]:
    assert response.status_code == status
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    for word in words:
        assert word in body["detail"], body["detail"]
    return body


def test_list_has_envelope_and_pagination(fixture_client: Client) -> None:
    response = fixture_client.get("/api/v1/entries", params={"page_size": 2})
    assert response.status_code == 200
    body = response.json()
    assert body["meta"]["pagination"] == {"page": 1, "page_size": 2, "page_count": 2, "total": 3}
    # Default sort is the German title order: "Arbeitsablauf", "Aufgabenliste", "Überblick".
    assert slugs(response) == ["arbeitsablauf", "aufgabenliste"]
    second = fixture_client.get("/api/v1/entries", params={"page_size": 2, "page": 2})
    assert slugs(second) == ["ueberblick"]
    beyond = fixture_client.get("/api/v1/entries", params={"page": 9})
    assert beyond.json()["data"] == []
    assert beyond.json()["meta"]["pagination"]["total"] == 3


def test_drafts_are_not_served(fixture_client: Client) -> None:
    assert "entwurf" not in slugs(fixture_client.get("/api/v1/entries"))
    assert_problem(fixture_client.get("/api/v1/entries/entwurf"), 404, "'entwurf'")


def test_filters_or_within_a_parameter_and_across_parameters(fixture_client: Client) -> None:
    get = fixture_client.get
    assert slugs(get("/api/v1/entries?topic=barrieren")) == ["arbeitsablauf", "ueberblick"]
    assert slugs(get("/api/v1/entries?phase=planung&phase=tandem-treffen")) == [
        "arbeitsablauf",
        "aufgabenliste",
        "ueberblick",
    ]
    assert slugs(get("/api/v1/entries?phase=planung,tandem-treffen&kind=vorlage")) == [
        "aufgabenliste"
    ]
    assert slugs(get("/api/v1/entries?topic=barrieren&audience=lotse")) == ["ueberblick"]
    assert slugs(get("/api/v1/entries?tag=dokumentation")) == ["arbeitsablauf"]
    assert slugs(get("/api/v1/entries?tag=Gibt-es-nicht")) == []
    assert slugs(get("/api/v1/entries?source=core&kind=methode")) == ["arbeitsablauf", "ueberblick"]


def test_sort_by_date_and_title(fixture_client: Client) -> None:
    newest = fixture_client.get("/api/v1/entries?sort=-updated_at")
    assert slugs(newest) == ["arbeitsablauf", "aufgabenliste", "ueberblick"]
    oldest = fixture_client.get("/api/v1/entries?sort=updated_at")
    assert slugs(oldest) == ["ueberblick", "aufgabenliste", "arbeitsablauf"]
    title_desc = fixture_client.get("/api/v1/entries?sort=-title")
    assert slugs(title_desc) == ["ueberblick", "aufgabenliste", "arbeitsablauf"]


def test_bad_parameters_are_400_problems_that_say_what_is_allowed(fixture_client: Client) -> None:
    get = fixture_client.get
    body = assert_problem(
        get("/api/v1/entries?colour=red"), 400, "Unknown query parameter 'colour'", "topic"
    )
    assert body["invalid_params"][0]["name"] == "colour"
    assert_problem(
        get("/api/v1/entries?topic=fuehrung"),
        400,
        "Unknown topic 'fuehrung'",
        "barrieren, wissen-sichern",
    )
    assert_problem(get("/api/v1/entries?source=mars"), 400, "Unknown source 'mars'", "core")
    assert_problem(
        get("/api/v1/entries?sort=colour"),
        400,
        "Cannot sort by 'colour'",
        "title, updated_at, slug",
    )
    assert_problem(get("/api/v1/entries?page_size=101"), 400, "at most 100")
    assert_problem(get("/api/v1/entries?page_size=0"), 400, "at least 1")
    assert_problem(get("/api/v1/entries?page=abc"), 400, "'page'")
    # Found by the fuzzer: a page number beyond SQLite's integers was a 500.
    assert_problem(get("/api/v1/entries?page=91422327836845214269440"), 400, "at most 10000")
    assert_problem(get("/api/v1/search?page=10001"), 400, "at most 10000")


def test_unknown_slug_and_unknown_path_are_404_problems(fixture_client: Client) -> None:
    assert_problem(fixture_client.get("/api/v1/entries/gibt-es-nicht"), 404, "'gibt-es-nicht'")
    assert_problem(fixture_client.get("/api/v2/entries"), 404, "/api/v1")


def test_entry_detail_has_every_field_rendered_body_and_links(fixture_client: Client) -> None:
    response = fixture_client.get("/api/v1/entries/ueberblick")
    assert response.status_code == 200
    entry = response.json()["data"]
    assert entry["title"] == "Überblick für Lotsen"
    assert entry["duration"] == "20 Minuten"
    assert entry["materials"] == ["Notizblock"]
    assert entry["tags"] == ["Erstgespräch", "Überblick"]
    assert entry["updated_at"] == "2026-10-01"
    assert entry["body_markdown"].startswith("## Wozu")
    assert (
        '<a href="/api/v1/entries/aufgabenliste" data-entry="aufgabenliste"' in entry["body_html"]
    )
    assert [ref["slug"] for ref in entry["links_to"]] == ["aufgabenliste"]
    assert entry["links_to"][0]["title"] == "Aufgabenliste"
    back = fixture_client.get("/api/v1/entries/aufgabenliste").json()["data"]
    assert [ref["slug"] for ref in back["linked_from"]] == ["ueberblick"]


def test_script_in_content_comes_out_inert(fixture_client: Client) -> None:
    html = fixture_client.get("/api/v1/entries/arbeitsablauf").json()["data"]["body_html"]
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_etag_304_and_change_on_content_change(
    fixture_client: Client, fixture_settings: Settings, content_dir: Path
) -> None:
    first = fixture_client.get(
        "/api/v1/entries/ueberblick", headers={"Accept-Encoding": "identity"}
    )
    etag = first.headers["etag"]
    assert etag.startswith('"')  # strong, not W/"..."
    # A compressed variant carries the same tag, weakened, as nginx does when it compresses
    # (other bytes, same content); If-None-Match compares weakly, so either gets its 304.
    zipped = fixture_client.get("/api/v1/entries/ueberblick", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == "W/" + etag
    assert "max-age=" in first.headers["cache-control"]
    plain = {"Accept-Encoding": "identity"}
    again = fixture_client.get(
        "/api/v1/entries/ueberblick", headers={"If-None-Match": etag, **plain}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag

    path = content_dir / "entries" / "ueberblick.md"
    path.write_text(path.read_text(encoding="utf-8").replace("kurzer", "knapper"), encoding="utf-8")
    assert sync(fixture_settings).updated == ["ueberblick"]

    changed = fixture_client.get("/api/v1/entries/ueberblick", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert "knapper" in changed.json()["data"]["summary"]


def test_list_and_taxonomy_carry_etags_too(fixture_client: Client) -> None:
    for path in ("/api/v1/entries?topic=barrieren", "/api/v1/taxonomy"):
        etag = fixture_client.get(path).headers["etag"]
        assert fixture_client.get(path, headers={"If-None-Match": etag}).status_code == 304
        assert fixture_client.get(path, headers={"If-None-Match": '"other"'}).status_code == 200


def test_taxonomy_has_labels_descriptions_and_published_counts(fixture_client: Client) -> None:
    data = fixture_client.get("/api/v1/taxonomy").json()["data"]
    topics = {t["slug"]: t for t in data["topics"]}
    assert topics["barrieren"]["label"] == "Barrieren"
    assert topics["barrieren"]["description"] == "Umgang mit Vorbehalten."
    assert topics["barrieren"]["count"] == 2  # the draft is not counted
    assert [p["slug"] for p in data["phases"]] == ["planung", "tandem-treffen"]
    assert {k["slug"]: k["count"] for k in data["kinds"]} == {"methode": 2, "vorlage": 1}
    assert data["sources"] == [
        {
            "slug": "core",
            "label": "Werkzeugkasten Mentoring 4.0",
            "description": "",
            "source": "core",
            "count": 3,
        }
    ]


def test_health_reports_database_and_entry_count(fixture_client: Client) -> None:
    response = fixture_client.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["entries"] == 3


def test_openapi_document_and_browsable_ui(fixture_client: Client) -> None:
    spec = fixture_client.get("/schema/openapi.json").json()
    assert {"/api/v1/entries", "/api/v1/entries/{slug}", "/api/v1/taxonomy", "/health"} <= set(
        spec["paths"]
    )
    params = {p["name"] for p in spec["paths"]["/api/v1/entries"]["get"]["parameters"]}
    assert {
        "topic",
        "phase",
        "audience",
        "kind",
        "source",
        "tag",
        "sort",
        "page",
        "page_size",
    } <= params
    ui = fixture_client.get("/schema")
    assert ui.status_code == 200
    assert "text/html" in ui.headers["content-type"]


def test_shipped_content_is_served_with_the_nrw_plugin(shipped_client: Client) -> None:
    everything = shipped_client.get("/api/v1/entries?page_size=100").json()
    assert everything["meta"]["pagination"]["total"] >= 35
    nrw = shipped_client.get("/api/v1/entries?source=nrw&page_size=100").json()["data"]
    assert len(nrw) >= 5
    assert all(entry["source"] == "nrw" for entry in nrw)
    sources = shipped_client.get("/api/v1/taxonomy").json()["data"]["sources"]
    assert [s["slug"] for s in sources] == ["core", "nrw"]


def test_health_is_503_when_the_database_cannot_be_read(tmp_path: Path) -> None:
    # A real fault: the "database file" is a directory, so every query fails.
    (tmp_path / "db.sqlite").mkdir()
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}")
    registry = build_registry(settings, load_installed=False)
    with TestClient(create_app(settings, registry)) as client:
        response = client.get("/health")
        assert response.status_code == 503
        assert response.json()["status"] == "error"
        assert response.json()["database"] == "unavailable"
        listing = client.get("/api/v1/entries")
        assert listing.status_code == 500
        assert listing.headers["content-type"].startswith("application/problem+json")
        assert "unexpected error" in listing.json()["detail"]
