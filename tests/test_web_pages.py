"""The Lotse workspace and the embeds as a reader sees them: search (without, with and with
a stopped Meilisearch), filters, pages, entries, escaping, the shortlist and fragments."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest

from core.settings import Settings
from core.web.search import PAGE_SIZE
from search.local_server import LocalMeilisearch
from tests.conftest import sync
from tests.web_support import (
    Client,
    Node,
    app_client,
    csp_directives,
    page_of,
    parse_html,
    sqlite_settings,
    write_site,
)

SITE = "partner"
ORIGIN = "https://partner.example"
TITLE = "Gefahr <script>alert(1)</script> und <b>fett</b>"
SUMMARY = "Kurz <b>fett</b> & <img src=x onerror=alert(2)>"
MARKUP = ("<script>alert", "<b>fett</b>", "<img src=x", "<i>Stift</i>", "<u>10</u>")

DANGEROUS_ENTRY = f"""---
title: "{TITLE}"
summary: "{SUMMARY}"
kind: methode
topics: [barrieren]
phases: [planung]
audiences: [lotse]
materials: ["<i>Stift</i>", Papier]
duration: "<u>10</u> Minuten"
updated_at: 2026-09-01
---

Weiter mit der [Vorlage](aufgabenliste.md#vorlage) und dem [Ablauf](arbeitsablauf.md).
Roh: <b>roh</b> <script>alert(3)</script>
"""


@pytest.fixture
def web_content(content_dir: Path) -> Path:
    """Fixture content with an entry full of markup and a partner site."""
    (content_dir / "entries" / "gefahr.md").write_text(DANGEROUS_ENTRY, encoding="utf-8")
    write_site(content_dir, SITE, f"label: Partner\ntheme: musterverband\norigins: [{ORIGIN}]\n")
    return content_dir


@pytest.fixture
def settings(tmp_path: Path, web_content: Path) -> Settings:
    return sqlite_settings(tmp_path, web_content)


@pytest.fixture
def client(settings: Settings) -> Iterator[Client]:
    """No MEILI_URL: search is off, the pages list entries from the database."""
    sync(settings)
    with app_client(settings) as c:
        yield c


def api_entries(client: Client, **params: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/entries", params={**params, "page_size": "100"})
    assert response.status_code == 200
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def api_slugs(client: Client, **params: str) -> list[str]:
    return [e["slug"] for e in api_entries(client, **params)]


def search_slugs(client: Client, **params: str) -> list[str]:
    """What /api/v1/search finds (from the database when the engine cannot answer)."""
    response = client.get("/api/v1/search", params={"page_size": "20", **params})
    return [hit["slug"] for hit in response.json()["data"]]


def hit_slugs(page: Node) -> list[str]:
    return [hit.attrs["data-slug"] for hit in page.find_all("article", class_="hit")]


def total_of(page: Node) -> int:
    return int(page.find("p", "result-count").attrs["data-total"])


def notice_of(page: Node) -> str | None:
    notices = page.find_all("p", class_="notice")
    return notices[0].text() if notices else None


def assert_no_markup_from_content(html: str) -> None:
    for markup in MARKUP:
        assert markup not in html, markup


# -- search without Meilisearch -------------------------------------------------------------


def test_search_page_lists_published_entries_without_a_search_engine(client: Client) -> None:
    page = page_of(client.get("/"))
    assert hit_slugs(page) == api_slugs(client)
    assert "entwurf" not in hit_slugs(page)
    assert total_of(page) == len(api_slugs(client))
    assert notice_of(page) is None
    titles = {e["slug"]: e["title"] for e in api_entries(client)}
    for hit in page.find_all("article", class_="hit"):
        link = hit.find("a", data_hit_link="")
        assert link.attrs["href"] == f"/entries/{hit.attrs['data-slug']}"
        assert link.text() == titles[hit.attrs["data-slug"]]


def test_a_query_without_a_search_engine_says_so_and_keeps_the_filters(client: Client) -> None:
    page = page_of(client.get("/", params={"q": "Liste", "topic": "barrieren"}))
    assert "Volltextsuche ist auf diesem Server nicht eingerichtet" in (notice_of(page) or "")
    # The same database search as the API's, not the whole list.
    assert hit_slugs(page) == search_slugs(client, q="Liste", topic="barrieren")
    assert hit_slugs(page_of(client.get("/", params={"q": "xyzzy"}))) == []
    assert page.find("input", id="q").attrs["value"] == "Liste"


def test_facet_checkboxes_filter_and_stay_ticked(client: Client) -> None:
    for params in (
        {"topic": "barrieren"},
        {"topic": "barrieren", "kind": "methode"},
        {"phase": "planung,tandem-treffen", "audience": "lotse"},
        {"kind": "vorlage"},
    ):
        page = page_of(client.get("/", params=params))
        assert hit_slugs(page) == api_slugs(client, **params), params
        for name, values in params.items():
            ticked = [
                el.attrs["value"]
                for el in page.find_all("input", type="checkbox", name=name)
                if "checked" in el.attrs
            ]
            assert ticked == values.split(","), (params, name)


ODD_QUERIES = [
    "topic=gibtsnicht",
    "kind=%3Cscript%3E",
    "source=nirgends",
    "farbe=rot",
    "farbe=rot&farbe=blau",
    "page=",
    "page=9999",
    "q=" + "x" * 5000,
    "q=%FF%FE",
    "topic=",
    "partial=yes",
]


def test_unknown_or_odd_parameters_are_ignored(client: Client) -> None:
    for query in ODD_QUERIES:
        response = client.get(f"/?{query}")
        page = page_of(response)
        if "q=" not in query and not query.startswith("page=9"):
            assert hit_slugs(page) == api_slugs(client)[:PAGE_SIZE], query
        assert "<script>" not in response.text.split("<main", 1)[1], query


BAD_PAGE_QUERIES = [
    ("page=abc", "page"),
    ("page=0", "page"),
    ("page=-3", "page"),
    ("page=99999999999999999999", "page"),
    ("page=%C2%B2", "page"),  # isdigit() is true for "²", int() refuses it
    ("page=%D9%A3", "page"),  # an Arabic-Indic three: int() would read it as 3
    ("page=" + "9" * 5001, "page"),  # beyond int()'s conversion limit
    ("page=1&page=2", "page"),
    ("q=a&q=b", "q"),
    ("partial=1&partial=1", "partial"),
    ("q=%00", "q"),
]


@pytest.mark.parametrize(
    "path", ["/", "/?partial=1", f"/embed/{SITE}/search", f"/embed/{SITE}/fragments/search"]
)
def test_a_page_number_that_is_not_one_is_a_400_page_naming_it(client: Client, path: str) -> None:
    for query, name in BAD_PAGE_QUERIES:
        url = f"{path}{'&' if '?' in path else '?'}{query}"
        response = client.get(url, headers={"Accept": "text/html"})
        page = page_of(response, 400)
        assert "Ungültige Anfrage" in page.text(), url
        assert f"Betroffen: „{name}“" in page.text(), url


def test_partial_returns_only_the_results_block(client: Client) -> None:
    full = page_of(client.get("/", params={"topic": "barrieren"}))
    response = client.get("/", params={"topic": "barrieren", "partial": "1"})
    partial = page_of(response)
    assert response.text.lstrip().startswith('<div class="results-inner" data-results>')
    for tag in ("html", "head", "form", "header", "footer", "script"):
        assert partial.find_all(tag) == [], tag
    assert hit_slugs(partial) == hit_slugs(full)
    assert total_of(partial) == total_of(full)
    embed = client.get(f"/embed/{SITE}/search", params={"partial": "1"})
    assert hit_slugs(page_of(embed)) == hit_slugs(page_of(client.get(f"/embed/{SITE}/search")))
    assert "<html" not in embed.text
    assert csp_directives(embed)["frame-ancestors"] == ["'self'", ORIGIN]


# -- entries --------------------------------------------------------------------------------


def test_entry_page_shows_title_summary_materials_and_body_with_entry_links(
    client: Client,
) -> None:
    for slug in api_slugs(client):
        api = client.get(f"/api/v1/entries/{slug}").json()["data"]
        page = page_of(client.get(f"/entries/{slug}"))
        article = page.find("article", "entry")
        assert article.find("h1").text() == api["title"]
        assert article.find("p", "lead").text() == api["summary"]
        materials = article.find_all("section", class_="materials")
        if api["materials"]:
            assert [li.text() for li in materials[0].find_all("li")] == api["materials"]
        else:
            assert materials == []
        body = article.find("div", "prose")
        linked = [a for a in body.find_all("a") if "data-entry" in a.attrs]
        in_api = re.findall(r'href="/api/v1/entries/([a-z0-9-]+)', api["body_html"])
        assert [a.attrs["data-entry"] for a in linked] == in_api
        for a in linked:
            assert a.attrs["href"].split("#")[0] == f"/entries/{a.attrs['data-entry']}"
            assert client.get(a.attrs["href"]).status_code == 200
        assert "/api/v1/entries/" not in "".join(page.links())
        sections = article.find_all("section", class_="related")
        related = [a.attrs["href"] for a in sections[0].find_all("a")] if sections else []
        assert related == [f"/entries/{r}" for r in api["related"]]


def test_entry_links_keep_their_anchor_and_point_into_the_embed(client: Client) -> None:
    workspace = page_of(client.get("/entries/gefahr")).find("div", "prose")
    assert [a.attrs["href"] for a in workspace.find_all("a")] == [
        "/entries/aufgabenliste#vorlage",
        "/entries/arbeitsablauf",
    ]
    embed = page_of(client.get(f"/embed/{SITE}/entries/gefahr")).find("div", "prose")
    assert [a.attrs["href"] for a in embed.find_all("a")] == [
        f"/embed/{SITE}/entries/aufgabenliste#vorlage",
        f"/embed/{SITE}/entries/arbeitsablauf",
    ]


def test_drafts_and_unknown_entries_are_404_pages(client: Client) -> None:
    for path in ("/entries/entwurf", "/entries/gibtsnicht", f"/embed/{SITE}/entries/entwurf"):
        page = page_of(client.get(path), 404)
        assert page.find("h1").text() == "Nicht gefunden"
        assert f"Es gibt keinen Eintrag „{path.rsplit('/', 1)[1]}“." in page.find("main").text()


def test_markup_in_content_is_shown_as_text(client: Client) -> None:
    # The entry page: every field as the editor wrote it, as text.
    response = client.get("/entries/gefahr")
    assert_no_markup_from_content(response.text)
    page = page_of(response)
    assert page.find("h1").text() == TITLE
    assert page.find("p", "lead").text() == SUMMARY
    assert page.find("title").text().startswith(TITLE)
    assert page.find("section", "materials").find("li").text() == "<i>Stift</i>"
    assert "<u>10</u> Minuten" in page.find("dl", "facts").text()
    assert "<b>roh</b> <script>alert(3)</script>" in page.find("div", "prose").text()
    assert page.find("button", data_shortlist_add="gefahr").attrs["data-title"] == TITLE
    # Everywhere else the title appears.
    for path in (
        "/",
        "/?partial=1",
        "/merkliste?e=gefahr&titel=%3Cscript%3Ealert(4)%3C/script%3E",
        f"/embed/{SITE}/search",
        f"/embed/{SITE}/entries/gefahr",
        f"/embed/{SITE}/topics/barrieren",
        f"/embed/{SITE}/fragments/entries/gefahr",
        f"/embed/{SITE}/fragments/topics/barrieren",
        f"/embed/{SITE}/fragments/search",
    ):
        response = client.get(path)
        assert response.status_code == 200, path
        assert_no_markup_from_content(response.text)
        assert "<script>alert(4)" not in response.text
        assert TITLE in parse_html(response.text).text(), path


# -- shortlist ------------------------------------------------------------------------------


def test_shortlist_shows_the_entries_in_order_and_lists_missing_ones(client: Client) -> None:
    titles = {e["slug"]: e["title"] for e in api_entries(client)}
    response = client.get(
        "/merkliste",
        params=[("liste", "abc123"), ("titel", "Firma Beispiel"), ("e", "ueberblick"),
                ("e", "gibtsnicht"), ("e", "arbeitsablauf"), ("e", "entwurf"), ("e", "ueberblick"),
                ("schritte", "Kick-off planen\nTandems bilden"),
                ("notiz-arbeitsablauf", "Mit der Werkstatt beginnen"),
                ("notiz-gibtsnicht", "fällt weg"), ("kontakt", "Lotsin Beispiel")],
    )  # fmt: skip
    page = page_of(response)
    assert response.headers["referrer-policy"] == "no-referrer"
    order = page.find("ol", "shortlist-order")
    assert [li.attrs["data-slug"] for li in order.find_all("li")] == ["ueberblick", "arbeitsablauf"]
    # The titles on the list link to their entries.
    assert order.links() == ["/entries/ueberblick", "/entries/arbeitsablauf"]
    handout = page.find("section", "handout")
    assert handout.find("h2", "handout-title").text() == "Firma Beispiel"
    assert [a.find("h3").text() for a in handout.find_all("article", "handout-entry")] == [
        f"1. {titles['ueberblick']}",
        f"2. {titles['arbeitsablauf']}",
    ]
    # The first page: steps, a note per method, the share link with its QR code, contact.
    assert handout.find("p", "handout-steps-text").text() == "Kick-off planen Tandems bilden"
    notes = {n.attrs["data-handout-note"]: n for n in handout.find_all("span", "handout-note")}
    assert "hidden" in notes["ueberblick"].attrs
    assert notes["arbeitsablauf"].text() == "Notiz: Mit der Werkstatt beginnen"
    assert handout.find("span", data_handout_contact="").text() == "Lotsin Beispiel"
    assert page.find("p", "notice").text() == "Nicht mehr im Werkzeugkasten: gibtsnicht, entwurf"
    assert page.find("input", id="titel").attrs["value"] == "Firma Beispiel"
    assert page.find("textarea", id="notiz-arbeitsablauf").text() == "Mit der Werkstatt beginnen"

    share = page.find("a", data_share_link="").attrs["href"]
    assert "liste=" not in share
    qr = handout.find("img", "handout-qr").attrs["src"]
    assert qr == share.replace("/merkliste?", "/merkliste/qr.svg?")
    assert handout.find("a", data_handout_url="").text().endswith(share)
    # Opened by someone else: read-only and clean, the same list, no editing controls.
    again = page_of(client.get(share))
    assert again.find_all("form", class_="shortlist-form") == []
    assert again.find_all("textarea") == []
    assert again.find_all("button", data_remove="") == []
    assert again.find("button", data_adopt="").text() == "In meine Merklisten übernehmen"
    assert again.find("h1", "handout-title").text() == "Firma Beispiel"
    overview = again.find("ol", "handout-overview").find_all("li")
    assert [li.attrs["data-slug"] for li in overview] == ["ueberblick", "arbeitsablauf"]
    assert again.find_all("p", class_="notice") == []
    assert again.find("a", data_handout_url="").attrs["href"] == share


def test_the_qr_code_of_a_shared_list_is_an_svg_of_its_link(client: Client) -> None:
    response = client.get("/merkliste/qr.svg?titel=Firma&e=ueberblick&liste=abc")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    svg = response.text
    assert svg.startswith("<?xml")
    assert "<path" in svg
    # Larger content gives a larger code: the URL (with the title) is what is encoded.
    longer = client.get("/merkliste/qr.svg?titel=" + "Firma" * 40 + "&e=ueberblick").text
    size = re.compile(r'viewBox="0 0 (\d+) ')
    assert int(size.search(longer)[1]) > int(size.search(svg)[1])
    # Too long for any QR code: a German sentence, no server error.
    notes = "&".join(f"e=s{i}&notiz-s{i}=" + "x" * 400 for i in range(12))
    too_long = client.get("/merkliste/qr.svg?" + notes)
    assert too_long.status_code == 422
    assert "zu lang für einen QR-Code" in too_long.text


def test_an_empty_shortlist_says_how_to_fill_it(client: Client) -> None:
    page = page_of(client.get("/merkliste"))
    assert "Die Merkliste ist leer" in page.find("main").text()
    assert page.find_all("section", class_="handout") == []
    fresh = page_of(client.get("/merkliste?liste=neu1"))
    assert "Diese Merkliste ist noch leer" in fresh.find("main").text()
    assert "autofocus" in fresh.find("input", id="titel").attrs


# -- fragments ------------------------------------------------------------------------------


FRAGMENTS = [
    "fragments/entries/ueberblick",
    "fragments/entries/gefahr",
    "fragments/topics/barrieren",
    "fragments/search?q=Liste",
    "fragments/search?topic=wissen-sichern",
    "fragments/entries/gibtsnicht",
    "fragments/topics/gibtsnicht",
]


def test_fragments_are_bare_html_with_absolute_links_into_the_embed(client: Client) -> None:
    for path in FRAGMENTS:
        response = client.get(f"/embed/{SITE}/{path}")
        assert response.status_code == (404 if "gibtsnicht" in path else 200), path
        assert response.headers["content-type"] == "text/html; charset=utf-8", path
        for tag in ("<html", "<head", "<body", "<script", "<style", "<link", "<iframe"):
            assert tag not in response.text.lower(), (path, tag)
        fragment = parse_html(response.text)
        host = str(client.base_url).rstrip("/")
        for href in fragment.links():
            assert href.startswith(f"{host}/embed/{SITE}/entries/"), href
            assert client.get(href.removeprefix(host)).status_code == 200, href
        if response.status_code == 200:
            assert fragment.links(), path


def test_a_fragment_lists_what_the_embed_page_lists(client: Client) -> None:
    host = str(client.base_url).rstrip("/")
    fragment = parse_html(client.get(f"/embed/{SITE}/fragments/topics/barrieren").text)
    page = page_of(client.get(f"/embed/{SITE}/topics/barrieren"))
    assert [h.removeprefix(host) for h in fragment.links()] == page.find("ul", "ref-list").links()
    search = parse_html(client.get(f"/embed/{SITE}/fragments/search?kind=methode").text)
    slugs = [h.rsplit("/", 1)[1] for h in search.links()]
    assert slugs == api_slugs(client, kind="methode")
    body = parse_html(client.get(f"/embed/{SITE}/fragments/entries/gefahr").text)
    assert body.find("h2", "m40-title").text() == TITLE
    assert body.find("p", "m40-summary").text() == SUMMARY


# -- Leichte Sprache (BITV 2.0, § 4) ------------------------------------------------------------


def test_the_start_page_links_an_explanation_in_leichte_sprache(client: Client) -> None:
    start = page_of(client.get("/"))
    assert "/leichte-sprache" in start.links()
    page = page_of(client.get("/leichte-sprache"))
    assert page.find("h1").text() == "Leichte Sprache"
    sentences = [p.text() for p in page.find("main").find_all("p")]
    assert len(sentences) >= 20
    # The rules a machine can check: one statement per line, short sentences.
    for sentence in sentences:
        assert len(re.findall(r"[.!?:](?:\s|$)", sentence)) <= 2, sentence
        assert len(sentence.split()) <= 12, sentence
    # The hard words are explained.
    text = page.find("main").text()
    for word in ("Reverse Mentoring", "Tandem", "Mentee", "Lotsin oder ein Lotse", "Quickcheck"):
        assert word in text
    assert {"/", "/quickcheck", "/merkliste"} <= set(page.links())


# -- shipped content ----------------------------------------------------------------------------


def test_every_shipped_entry_page_renders_with_working_links(shipped_client: Client) -> None:
    entries = api_entries(shipped_client)
    assert len(entries) > PAGE_SIZE
    pages = set()
    for entry in entries:
        response = shipped_client.get(f"/entries/{entry['slug']}")
        page = page_of(response)
        assert page.find("h1").text() == entry["title"]
        assert "/api/v1/" not in "".join(page.links())
        pages.update(h for h in page.links() if h.startswith(("/entries/", "/?topic=")))
    for href in sorted(pages):
        assert shipped_client.get(href).status_code == 200, href


def test_the_paper_feedback_form_and_the_feedback_questionnaire_link_to_each_other(
    shipped_client: Client,
) -> None:
    entry = page_of(shipped_client.get("/entries/feedbackbogen-durchlauf"))
    assert "/quickcheck/feedback-durchlauf" in entry.links()
    form = page_of(shipped_client.get("/quickcheck/feedback-durchlauf"))
    print_versions = form.find("p", data_print_versions="")
    assert print_versions.links() == ["/entries/feedbackbogen-durchlauf"]
    assert "Feedbackbogen nach jedem Durchlauf" in print_versions.text()
    # A partner site that does not offer the questionnaire keeps the text, not the link.
    embedded = page_of(shipped_client.get("/embed/musterverband/entries/feedbackbogen-durchlauf"))
    assert not [h for h in embedded.links() if "quickcheck/feedback-durchlauf" in h]
    assert "Feedback nach dem Durchlauf" in embedded.find("main").text()


def test_page_numbers_walk_through_every_shipped_entry(shipped_client: Client) -> None:
    expected = api_slugs(shipped_client)
    count = -(-len(expected) // PAGE_SIZE)
    seen: list[str] = []
    url: str | None = "/"
    number = 0
    while url:
        number += 1
        page = page_of(shipped_client.get(url))
        pager = page.find("nav", "pager")
        assert f"Seite {number} von {count}" in pager.text()
        seen += hit_slugs(page)
        assert len(hit_slugs(page)) == min(PAGE_SIZE, len(expected) - (number - 1) * PAGE_SIZE)
        prev = pager.find_all("a", rel="prev")
        assert bool(prev) == (number > 1)
        nxt = pager.find_all("a", rel="next")
        url = nxt[0].attrs["href"] if nxt else None
    assert number == count
    assert seen == expected
    # A filter survives paging; pages beyond the end show none of the entries twice.
    filtered = page_of(shipped_client.get("/?kind=methode&page=2"))
    assert hit_slugs(filtered) == api_slugs(shipped_client, kind="methode")[PAGE_SIZE:][:PAGE_SIZE]
    beyond = page_of(shipped_client.get(f"/?page={count + 5}"))
    assert hit_slugs(beyond) == []
    back = beyond.find("a", rel="prev").attrs["href"]
    assert hit_slugs(page_of(shipped_client.get(back))) == expected[(count - 1) * PAGE_SIZE :]


def test_shipped_sites_show_their_entries(shipped_client: Client) -> None:
    core = api_slugs(shipped_client, source="core")
    page = page_of(shipped_client.get("/embed/musterverband/search"))
    assert total_of(page) == len(core)
    assert set(hit_slugs(page)) <= set(core)
    nrw = page_of(shipped_client.get("/embed/nrw/search?source=nrw"))
    assert hit_slugs(nrw) == api_slugs(shipped_client, source="nrw")


# -- with Meilisearch ---------------------------------------------------------------------------


@pytest.fixture
def meili(tmp_path: Path) -> Iterator[LocalMeilisearch]:
    with LocalMeilisearch(tmp_path / "meili") as server:
        yield server


@pytest.fixture
def search_client(meili: LocalMeilisearch, settings: Settings) -> Iterator[Client]:
    settings = msgspec.structs.replace(
        settings, meili_url=meili.url, meili_admin_key=meili.master_key,
        meili_index=f"test_{uuid.uuid4().hex[:10]}",
    )  # fmt: skip
    sync(settings)
    with app_client(settings) as client:
        wait_until_indexed(client, len(api_slugs(client)))
        yield client


def wait_until_indexed(client: Client, count: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get("/api/v1/search").json()
        meta = body.get("meta", {})
        # Until the index is filled, the database answers (meta.search says so).
        from_index = meta.get("search", {}).get("engine") == "meilisearch"
        if from_index and meta.get("pagination", {}).get("total") == count:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"index did not reach {count} documents: {body}")
        time.sleep(0.2)


def mark_html(hit: Node) -> list[str]:
    return [m.text() for m in hit.find_all("mark")]


def test_search_page_shows_hits_with_highlights_and_escaped_content(
    search_client: Client,
) -> None:
    page = page_of(search_client.get("/", params={"q": "Arbeitsablaf"}))
    assert notice_of(page) is None
    hits = page.find_all("article", class_="hit")
    assert hits[0].attrs["data-slug"] == "arbeitsablauf"
    assert mark_html(hits[0].find("h3"))[0].startswith("Arbeitsablau")
    assert hits[0].find("h3").text() == "Arbeitsablauf festhalten"

    response = search_client.get("/", params={"q": "Gefahr"})
    assert_no_markup_from_content(response.text)
    page = page_of(response)
    (hit,) = [h for h in page.find_all("article", class_="hit") if h.attrs["data-slug"] == "gefahr"]
    title = hit.find("h3").find("a")
    assert title.text() == TITLE
    # <mark> is the only markup in a highlighted title.
    assert {n.tag for n in title.iter()} == {"mark"}
    assert mark_html(title) == ["Gefahr"]
    for path in (f"/embed/{SITE}/search?q=Gefahr", f"/embed/{SITE}/fragments/search?q=Gefahr"):
        response = search_client.get(path)
        assert_no_markup_from_content(response.text)
        assert "<mark>Gefahr</mark>" in response.text


def test_search_page_counts_facets_like_the_search_api(search_client: Client) -> None:
    api = search_client.get(
        "/api/v1/search", params={"q": "Liste", "topic": "wissen-sichern", "facets": "topic,kind"}
    ).json()
    page = page_of(search_client.get("/", params={"q": "Liste", "topic": "wissen-sichern"}))
    assert hit_slugs(page) == [hit["slug"] for hit in api["data"]]
    shown = {
        el.attrs["data-facet-count"]: int(el.text().strip("()"))
        for el in page.find_all("span", class_="count")
    }
    for name in ("topic", "kind"):
        for value, count in api["meta"]["facets"][name].items():
            assert shown[f"{name}:{value}"] == count, (name, value)


def test_cards_show_time_and_audience_and_empty_filters_are_not_offered(
    search_client: Client,
) -> None:
    page = page_of(search_client.get("/", params={"q": "Überblick"}))
    (card,) = page.find_all("article", class_="hit", data_slug="ueberblick")
    assert card.find("p", "hit-facts").text() == "Zeitbedarf: 20 Minuten Für: Lotsinnen und Lotsen"
    # A filter that would give no hits is shown, but cannot be ticked; one that would can.
    boxes = {el.attrs["id"]: el for el in page.find_all("input", type="checkbox")}
    counts = {
        el.attrs["data-facet-count"]: int(el.text().strip("()"))
        for el in page.find_all("span", class_="count")
    }
    assert 0 in counts.values()
    for key, count in counts.items():
        name, value = key.split(":")
        assert ("disabled" in boxes[f"f-{name}-{value}"].attrs) == (count == 0), key
    # No filter yet: nothing to reset; with one, "Filter (1)" and a link back without it.
    assert "hidden" in page.find("a", data_reset_filters="").attrs
    ticked = page_of(search_client.get("/", params={"q": "Liste", "topic": "wissen-sichern"}))
    assert ticked.find("h2", "filter-heading").text() == "Filter (1)"
    reset = ticked.find("a", data_reset_filters="")
    assert "hidden" not in reset.attrs
    assert reset.attrs["href"] == "/?q=Liste"


def test_a_search_without_hits_suggests_entries_and_topics(search_client: Client) -> None:
    # Hits without the filter: those are offered, with the way to drop the filter.
    page = page_of(search_client.get("/", params={"q": "Arbeitsablauf", "kind": "vorlage"}))
    assert total_of(page) == 0
    box = page.find("div", "no-hits")
    assert "Ohne Filter gibt es" in box.text()
    assert box.find("a", data_reset_filters_link="").attrs["href"] == "/?q=Arbeitsablauf"
    suggested = [h.attrs["data-slug"] for h in box.find_all("article", class_="hit")]
    assert suggested[0] == "arbeitsablauf"
    # Nothing found at all: the nearest titles by spelling, and the topics to browse.
    page = page_of(search_client.get("/", params={"q": "Arbeitsablaufplanungsxyz"}))
    assert total_of(page) == 0
    box = page.find("div", "no-hits")
    assert "arbeitsablauf" in [h.attrs["data-slug"] for h in box.find_all("article", class_="hit")]
    topics = box.find("ul", "topic-links").links()
    assert "/?topic=barrieren" in topics
    nothing = page_of(search_client.get("/", params={"q": "qqqqqqqq"}))
    assert nothing.find("div", "no-hits").find_all("article", class_="hit") == []
    assert nothing.find("ul", "topic-links").links()


def test_a_stopped_search_engine_falls_back_to_the_database_search_with_a_notice(
    search_client: Client, meili: LocalMeilisearch
) -> None:
    meili.stop()  # for real: the process is gone
    api = search_client.get("/api/v1/search", params={"q": "Liste"})
    assert api.json()["meta"]["search"] == {"engine": "database", "reason": "unreachable"}
    for path, expected in (
        ("/?q=Liste", search_slugs(search_client, q="Liste")),
        ("/?q=Liste&topic=barrieren", search_slugs(search_client, q="Liste", topic="barrieren")),
        ("/?q=Liste&partial=1", search_slugs(search_client, q="Liste")),
        (f"/embed/{SITE}/search?q=Liste", search_slugs(search_client, q="Liste")),
        ("/?q=xyzzy", []),
    ):
        page = page_of(search_client.get(path))
        assert hit_slugs(page) == expected, path
        assert "Volltextsuche ist gerade nicht erreichbar" in (notice_of(page) or ""), path
    fragment = search_client.get(f"/embed/{SITE}/fragments/search?q=Liste")
    assert fragment.status_code == 200
    assert re.search(r"\d+ Treffer", fragment.text)
