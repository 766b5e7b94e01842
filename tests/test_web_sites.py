"""Partner sites: the problems an editor sees, `mentoring40 sites`, what a limited site
shows, unknown sites, the framing and CORS headers, and the snippet pages."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import yaml

from core.app import create_app
from core.builtin.web import THEMES_DIR
from core.settings import PROJECT_ROOT, Settings
from core.web import WebConfigError
from tests.conftest import SHIPPED_CONTENT, sync, write_region_pack
from tests.web_support import (
    Client,
    Node,
    RegionPlugin,
    SitePlugin,
    app_client,
    csp_directives,
    page_of,
    registry_with,
    run_cli,
    sqlite_settings,
    write_site,
)

NRW_SITES = PROJECT_ROOT / "plugins" / "nrw" / "src" / "mentoring40_nrw" / "sites"

SITES = {
    "nur-kern": "label: Nur Kern\ntheme: musterverband\n"
    "origins: [https://kern.example, http://localhost:8080]\nsources: [core]\n",
    "barrieren": "label: Barrieren-Seite\norigins:\n  - https://barrieren.example\n"
    "topics: [barrieren]\nquestionnaires: [probe]\n",
    "alles": "label: Alles\n",
}


@pytest.fixture
def region_folder(tmp_path: Path) -> Path:
    return write_region_pack(
        tmp_path / "region", "region-stammtisch", "Regionaler Stammtisch", "ueberblick",
        "Ein Treffen in der Region, danach der [Überblick](ueberblick.md).",
    )  # fmt: skip


@pytest.fixture
def site_settings(tmp_path: Path, content_dir: Path) -> Settings:
    for site_id, text in SITES.items():
        write_site(content_dir, site_id, text)
    return sqlite_settings(tmp_path, content_dir)


@pytest.fixture
def client(site_settings: Settings, region_folder: Path) -> Iterator[Client]:
    """Fixture content plus a region pack, with three sites; on SQLite."""
    registry = registry_with(site_settings, region=RegionPlugin(region_folder))
    sync(site_settings, registry)
    with app_client(site_settings, registry) as c:
        yield c


def api_slugs(client: Client, **params: str) -> list[str]:
    response = client.get("/api/v1/entries", params={**params, "page_size": "100"})
    assert response.status_code == 200
    return [e["slug"] for e in response.json()["data"]]


def hit_slugs(page: Node) -> list[str]:
    return [hit.attrs["data-slug"] for hit in page.find_all("article", class_="hit")]


def checkboxes(page: Node, name: str) -> list[str]:
    return [el.attrs["value"] for el in page.find_all("input", type="checkbox", name=name)]


def counts(page: Node, name: str) -> dict[str, int]:
    return {
        el.attrs["data-facet-count"].split(":")[1]: int(el.text().strip("()"))
        for el in page.find_all("span", class_="count")
        if el.attrs["data-facet-count"].startswith(f"{name}:")
    }


# -- problems -----------------------------------------------------------------------------------


def line_with(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# Each refused origin and the words its problem carries. The first four were accepted
# before: the space put "https:" (every HTTPS page) into frame-ancestors, the ";" a CSP
# directive of its own, the line break ended the header, the euro sign was a 500.
BAD_ORIGINS: dict[str, str] = {
    "https://a.example https:": "contains a space; write each origin as its own list item",
    "https://c.example; sandbox": "contains a space",
    "https://c.example;sandbox": "'c.example;sandbox' is not a host name",
    "https://b.example\nx": "contains the control character '\\n'",
    "https://€.example": "the host is not a valid internationalised domain name",
    "https://münchen.example": "write the host in its ASCII (punycode) form: "
    "https://xn--mnchen-3ya.example",
    "https://www.example.org/seite": "without user, path, query or wildcard",
    "https://*.example.org": "'*.example.org' is not a host name",
    "https://WWW.Example.org": "write origins in lower case, as browsers send them: "
    "https://www.example.org",
    "www.example.org": "write scheme and host (and port) only",
    "https://www.example.org?x=1": "without user, path, query or wildcard",
    "https://user@example.org": "without user, path, query or wildcard",
    "http://partner.example": "http is allowed only for localhost, 127.0.0.1 and [::1]",
    "ftp://partner.example": "the scheme must be https",
    "https://partner.example:0": "the port '0' is not a number from 1 to 65535",
    "https://partner.example:65536": "the port '65536' is not a number from 1 to 65535",
    "https://partner.example:443": "leave out :443, the default port of https",
    "https://-partner.example": "'-partner.example' is not a host name",
    "https://xn--zz.example": "is not a valid domain name under IDNA",
    "https://300.1.2.3": "300.1.2.3 is not an IPv4 address",
    "https://[::1x]": "[::1x] is not an IPv6 address",
    "https://": "the host is missing",
}
ORIGINS = "label: Origins\norigins:\n  - https://ok.example\n" + "".join(
    f"  - {json.dumps(origin, ensure_ascii=False)}\n" for origin in BAD_ORIGINS
)

BROKEN_SITES: dict[str, tuple[str, list[tuple[str | None, str | int | None, str]]]] = {
    # file name: (text, [(field, line or a text on it, words)])
    "unbekanntes-theme": (
        "label: X\ntheme: gibtsnicht\n",
        [("theme", "theme:", "unknown theme 'gibtsnicht'; themes: default, musterverband")],
    ),
    "origins": (
        ORIGINS,
        [
            (f"origins[{i}]", i + 3, f"{origin!r} is not an origin we accept: ")
            for i, origin in enumerate(BAD_ORIGINS, start=1)
        ],
    ),
    "unbekannt": (
        "label: X\nsources: [core, gibtsnicht]\ntopics:\n  - barrieren\n  - fuehrung\n"
        "questionnaires: [probe, fehlt-auch]\n",
        [
            ("sources[1]", "sources:", "unknown source 'gibtsnicht'; known: core"),
            ("topics[1]", "fuehrung", "unknown topic 'fuehrung'; known: barrieren, wissen-sichern"),
            ("questionnaires[1]", "questionnaires:", "unknown questionnaire 'fehlt-auch'"),
        ],
    ),
    "leer": (
        "label: X\ntopics: []\n",
        [("topics", "topics:", "an empty list shows nothing; leave topics out to show all")],
    ),
    "feld": (
        "label: X\nfarbe: rot\n",
        [("farbe", "farbe:", "unknown field; allowed fields are: label, theme")],
    ),
    "sprache": (
        "label: X\nlanguage: deutsch\n",
        [("language", "language:", "'deutsch' is not a two-letter language code")],
    ),
    "ohne-label": ("theme: default\n", [("label", 1, "required field is missing")]),
    "Bad_Name": ("label: X\n", [(None, None, "'Bad_Name' is not a site id (a-z, 0-9 and -)")]),
}


def test_content_check_names_file_field_and_line_of_every_site_problem(
    tmp_path: Path, content_dir: Path
) -> None:
    expected = []
    for site_id, (text, problems) in BROKEN_SITES.items():
        path = write_site(content_dir, site_id, text)
        for field, where, words in problems:
            line = line_with(text, where) if isinstance(where, str) else where
            expected.append((str(path), field, line, words))
    write_site(content_dir, "gut", "label: Gut\norigins: [https://gut.example:8443]\n")
    result = run_cli(sqlite_settings(tmp_path, content_dir), "content", "check")
    assert result.exit_code == 1
    lines = [line.strip() for line in result.output.splitlines()]
    assert lines[0] == f"Content has {len(expected)} problem(s); nothing was changed:", lines
    for file, field, line, words in expected:
        where = f"{file}:{line}" if line else file
        prefix = f"{where}: {field}: " if field else f"{where}: "
        matching = [ln for ln in lines if ln.startswith(prefix)]
        assert len(matching) == 1, (prefix, lines)
        assert words in matching[0], matching[0]
    assert not [ln for ln in lines if "gut.yaml" in ln]


def test_content_check_says_why_each_origin_is_refused(tmp_path: Path, content_dir: Path) -> None:
    path = write_site(content_dir, "origins", ORIGINS)
    result = run_cli(sqlite_settings(tmp_path, content_dir), "content", "check")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    for i, (origin, words) in enumerate(BAD_ORIGINS.items(), start=1):
        prefix = f"{path}:{i + 3}: origins[{i}]: {origin!r} is not an origin we accept: "
        [line] = [ln.strip() for ln in lines if ln.strip().startswith(prefix)]
        assert words in line.removeprefix(prefix), (origin, line)
    assert "ok.example" not in result.output


@pytest.mark.parametrize("origin", list(BAD_ORIGINS)[:4])
def test_an_origin_that_would_change_the_headers_stops_the_app(
    tmp_path: Path, content_dir: Path, origin: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # From a plugin's site folder as from the content folder: both are loaded at startup.
    folder = tmp_path / "plugin-sites"
    folder.mkdir()
    path = folder / "partner.yaml"
    path.write_text(f"label: P\norigins: [{json.dumps(origin, ensure_ascii=False)}]\n", "utf-8")
    settings = sqlite_settings(tmp_path, content_dir)
    with pytest.raises(WebConfigError) as raised:
        create_app(settings, registry_with(settings, partner=SitePlugin(folder)))
    assert f"{path}:2: origins[0]: {origin!r} is not an origin we accept" in str(raised.value)


def test_accepted_origins_are_framing_and_cors_sources(tmp_path: Path, content_dir: Path) -> None:
    good = [
        "https://xn--mnchen-3ya.example",
        "https://partner.example:8443",
        "https://192.0.2.7",
        "https://[2001:db8::1]",
        "http://localhost:3000",
        "http://127.0.0.1",
        "http://[::1]:8080",
    ]
    write_site(content_dir, "gut", f"label: Gut\norigins: {json.dumps(good)}\n")
    settings = sqlite_settings(tmp_path, content_dir)
    sync(settings)
    with app_client(settings) as client:
        response = client.get("/embed/gut/search")
        assert csp_directives(response)["frame-ancestors"] == ["'self'", *good]
        for origin in good:
            api = client.get("/api/v1/entries", headers={"Origin": origin})
            assert api.headers["access-control-allow-origin"] == origin


def test_a_site_id_used_twice_names_both_files(
    tmp_path: Path, content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mine = write_site(content_dir, "partner", "label: Partner\n")
    other = tmp_path / "plugin-sites" / "partner.yaml"
    other.parent.mkdir()
    other.write_text("label: Partner aus dem Plugin\n", encoding="utf-8")
    result = run_cli(
        sqlite_settings(tmp_path, content_dir), "content", "check",
        plugins={"partner_plugin": SitePlugin(other.parent)}, monkeypatch=monkeypatch,
    )  # fmt: skip
    assert result.exit_code == 1
    assert f"{other}:1: site 'partner' is also defined in {mine}" in result.output, result.output


def test_a_broken_site_stops_the_app(tmp_path: Path, content_dir: Path) -> None:
    path = write_site(content_dir, "partner", "label: P\ntheme: gibtsnicht\n")
    result = run_cli(sqlite_settings(tmp_path, content_dir), "sites")
    assert result.exit_code == 1
    assert f"{path}:2: theme: unknown theme 'gibtsnicht'" in result.output


def site_files() -> dict[str, dict[str, Any]]:
    files = sorted((SHIPPED_CONTENT / "sites").glob("*.yaml")) + sorted(NRW_SITES.glob("*.yaml"))
    return {f.stem: yaml.safe_load(f.read_text(encoding="utf-8")) for f in files}


def test_sites_command_prints_one_line_per_site_with_theme_and_origins(tmp_path: Path) -> None:
    settings = sqlite_settings(tmp_path, SHIPPED_CONTENT)
    result = run_cli(settings, "sites", load_plugins=None)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    shipped = site_files()
    assert [line.split()[0] for line in lines] == sorted(shipped)
    for line in lines:
        site = shipped[line.split()[0]]
        assert line.split()[1] == f"theme={site.get('theme', 'default')}"
        origins = line.split("origins=")[1].split("  ")[0]
        assert origins == (
            ", ".join(site["origins"]) or "none (embeds only on this server's pages)"
        )
        sources = line.split("sources=")[1].split("  ")[0]
        assert sources == ", ".join(site.get("sources") or ["all"])
        assert f"({site['label']}; from " in line


def test_sites_command_over_a_content_folder(site_settings: Settings) -> None:
    result = run_cli(site_settings, "sites")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert [line.split()[0] for line in lines] == sorted(SITES)
    kern = next(line for line in lines if line.startswith("nur-kern "))
    assert kern.startswith(
        "nur-kern  theme=musterverband  origins=https://kern.example, http://localhost:8080  "
        "sources=core  topics=all"
    )


# -- what a site shows --------------------------------------------------------------------------


def test_a_site_limited_to_topics_or_sources_shows_only_those_entries(client: Client) -> None:
    everything = api_slugs(client)
    assert "region-stammtisch" in everything
    for site, params in (("barrieren", {"topic": "barrieren"}), ("nur-kern", {"source": "core"})):
        expected = api_slugs(client, **params)
        assert 0 < len(expected) < len(everything)
        page = page_of(client.get(f"/embed/{site}/search"))
        assert hit_slugs(page) == expected, site
        assert page.find("p", "result-count").attrs["data-total"] == str(len(expected))
        for slug in everything:
            entry = client.get(f"/embed/{site}/entries/{slug}")
            fragment = client.get(f"/embed/{site}/fragments/entries/{slug}")
            assert entry.status_code == fragment.status_code == (200 if slug in expected else 404)
        # Asking for more by hand changes nothing.
        for tampered in ("topic=wissen-sichern", "source=region", "topic=wissen-sichern,barrieren"):
            shown = hit_slugs(page_of(client.get(f"/embed/{site}/search?{tampered}")))
            assert set(shown) <= set(expected), (site, tampered)
    # The unlimited site shows everything, like the workspace.
    assert hit_slugs(page_of(client.get("/embed/alles/search"))) == everything


def test_topic_pages_of_a_site(client: Client) -> None:
    page = page_of(client.get("/embed/barrieren/topics/barrieren"))
    listed = [a.attrs["href"].rsplit("/", 1)[1] for a in page.find("ul", "ref-list").find_all("a")]
    assert listed == api_slugs(client, topic="barrieren")
    page_of(client.get("/embed/barrieren/topics/wissen-sichern"), 404)
    page_of(client.get("/embed/alles/topics/gibtsnicht"), 404)
    kern = page_of(client.get("/embed/nur-kern/topics/barrieren"))
    listed = [a.attrs["href"].rsplit("/", 1)[1] for a in kern.find("ul", "ref-list").find_all("a")]
    assert listed == api_slugs(client, topic="barrieren", source="core")
    assert "region-stammtisch" not in listed


def test_a_site_offers_only_its_facet_values(client: Client) -> None:
    workspace = page_of(client.get("/"))
    assert "wissen-sichern" in checkboxes(workspace, "topic")
    assert "region" in checkboxes(workspace, "source")
    barrieren = page_of(client.get("/embed/barrieren/search"))
    assert set(checkboxes(barrieren, "topic")) <= {"barrieren"}
    kern = page_of(client.get("/embed/nur-kern/search"))
    assert set(checkboxes(kern, "source")) <= {"core"}


FACETED_PAGES = [
    "/",
    "/?topic=barrieren",
    "/embed/barrieren/search",
    "/embed/nur-kern/search?kind=methode",
]


def test_facet_counts_say_how_many_entries_ticking_them_shows(client: Client) -> None:
    for path in FACETED_PAGES:
        base, _, query = path.partition("?")
        params = parse_qsl(query)
        page = page_of(client.get(path))
        checked = 0
        for name in ("topic", "phase", "audience", "kind", "source"):
            for value, count in counts(page, name).items():
                # OR within a dimension: a count ignores the dimension's own ticks.
                others = [(k, v) for k, v in params if k != name]
                shown = page_of(client.get(base, params=[*others, (name, value)]))
                total = int(shown.find("p", "result-count").attrs["data-total"])
                assert total == count, (path, name, value)
                checked += 1
        assert checked >= 4


def test_related_entries_and_links_of_a_site_stay_inside_it(client: Client) -> None:
    # ueberblick (barrieren) names aufgabenliste (wissen-sichern only) as related and links to
    # it in its body; the barrieren site does not show aufgabenliste.
    page = page_of(client.get("/embed/barrieren/entries/ueberblick"))
    hrefs = page.links()
    assert not [h for h in hrefs if "aufgabenliste" in h], hrefs
    assert "Aufgabenliste" in page.find("div", "prose").text()  # the words stay
    for href in hrefs:
        if href.startswith("/embed/"):
            assert client.get(href).status_code == 200, href
    full = page_of(client.get("/embed/alles/entries/ueberblick"))
    assert "/embed/alles/entries/aufgabenliste" in full.links()
    fragment = client.get("/embed/barrieren/fragments/entries/ueberblick")
    assert "aufgabenliste" not in fragment.text.replace('data-entry="aufgabenliste"', "")


# -- unknown sites ----------------------------------------------------------------------------


UNKNOWN_SITE_PATHS = [
    "/embed/gibtsnicht",
    "/embed/gibtsnicht/search?q=x",
    "/embed/gibtsnicht/entries/ueberblick",
    "/embed/gibtsnicht/topics/barrieren",
    "/embed/gibtsnicht/quickcheck",
    "/embed/gibtsnicht/quickcheck/probe",
    "/embed/gibtsnicht/results/abc",
    "/embed/gibtsnicht/fragments/entries/ueberblick",
    "/embed/gibtsnicht/fragments/topics/barrieren",
    "/embed/gibtsnicht/fragments/search?q=x",
    "/sites/gibtsnicht",
]


def test_an_unknown_site_is_a_404_page_that_says_so(client: Client) -> None:
    for path in UNKNOWN_SITE_PATHS:
        response = client.get(path)
        page = page_of(response, 404)
        assert page.find("h1").text() == "Unbekannte Partnerseite", path
        assert "Es gibt keine Partnerseite „gibtsnicht“." in page.find("main").text(), path
        # Nobody may frame a page of a site that does not exist.
        assert csp_directives(response)["frame-ancestors"] == ["'none'"], path


def test_an_unknown_site_id_is_shown_as_text(client: Client) -> None:
    response = client.get("/embed/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E/search")
    page = page_of(response, 404)
    assert "Es gibt keine Partnerseite „<img src=x onerror=alert(1)>“." in page.find("main").text()
    assert "<img src=x" not in response.text
    assert not page.find_all("img", src="x")


# -- headers ----------------------------------------------------------------------------------

WORKSPACE_PAGES = [
    "/",
    "/?q=x&partial=1",
    "/entries/ueberblick",
    "/entries/gibtsnicht",
    "/merkliste?e=ueberblick",
    "/quickcheck",
    "/quickcheck/probe?perspective=mitarbeitende",
    "/results/gibtsnicht",
    "/sites",
    "/sites/nur-kern",
]
EMBED_PAGES = [
    "/embed/{site}",
    "/embed/{site}/search?q=x",
    "/embed/{site}/search?partial=1",
    "/embed/{site}/entries/ueberblick",
    "/embed/{site}/entries/gibtsnicht",
    "/embed/{site}/topics/barrieren",
    "/embed/{site}/topics/gibtsnicht",
    "/embed/{site}/quickcheck",
    "/embed/{site}/quickcheck/probe",
    "/embed/{site}/quickcheck/gibtsnicht",
    "/embed/{site}/results/gibtsnicht",
]


def test_workspace_pages_may_not_be_framed(client: Client) -> None:
    for path in WORKSPACE_PAGES:
        response = client.get(path)
        assert response.headers["content-type"] == "text/html; charset=utf-8", path
        csp = csp_directives(response)
        assert csp["frame-ancestors"] == ["'none'"], path
        assert csp["script-src"] == ["'self'"], path
        assert csp["default-src"] == ["'self'"], path
        assert response.headers["x-frame-options"] == "DENY", path
        assert response.headers["x-content-type-options"] == "nosniff", path


def test_embed_pages_may_be_framed_by_exactly_the_sites_origins(client: Client) -> None:
    for site in sorted(SITES):
        origins = yaml.safe_load(SITES[site]).get("origins", [])
        for path in EMBED_PAGES:
            response = client.get(path.format(site=site))
            assert response.headers["content-type"] == "text/html; charset=utf-8", path
            csp = csp_directives(response)
            assert csp["frame-ancestors"] == ["'self'", *origins], path
            assert csp["script-src"] == ["'self'"], path
            assert "x-frame-options" not in response.headers, path
            if "partial=1" in path:
                continue  # a piece of a page, without scripts
            # frame.js posts the height only to these (and the app's own origin).
            [frame_js] = [
                s for s in page_of(response, response.status_code).find_all("script")
                if "/frame.js" in s.attrs.get("src", "")
            ]  # fmt: skip
            assert frame_js.attrs["data-parent-origins"] == " ".join(origins), path


def test_cors_only_for_origins_a_site_lists(client: Client) -> None:
    for origin in ("https://kern.example", "http://localhost:8080", "https://barrieren.example"):
        response = client.get("/api/v1/entries", headers={"Origin": origin})
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == origin
        preflight = client.options(
            "/api/v1/questionnaires/probe/responses",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code in {200, 204}
        assert preflight.headers["access-control-allow-origin"] == origin
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "content-type" in preflight.headers["access-control-allow-headers"].lower()
    for origin in ("https://evil.example", "https://kern.example.evil.example", "null"):
        response = client.get("/api/v1/entries", headers={"Origin": origin})
        assert response.status_code == 200
        assert "access-control-allow-origin" not in response.headers
        preflight = client.options(
            "/api/v1/questionnaires/probe/responses",
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in preflight.headers


def vary(response: Any) -> list[str]:
    return [t.strip().lower() for v in response.headers.get_list("vary") for t in v.split(",")]


VARIED_PATHS = [
    "/api/v1/entries",
    "/api/v1/entries/ueberblick",
    "/api/v1/entries/gibtsnicht",
    "/embed/nur-kern/search",
    "/embed/nur-kern/fragments/entries/ueberblick",
    "/",
    "/embed.js",
]


def test_every_answer_varies_by_origin_with_or_without_one(client: Client) -> None:
    """The same URL is answered with or without CORS headers depending on Origin: a cache
    must not hand one origin's answer to another, nor the answer to a request without
    Origin to a partner's page (which then lacks Access-Control-Allow-Origin)."""
    for path in VARIED_PATHS:
        for headers in ({}, {"Origin": "https://kern.example"}, {"Origin": "https://x.example"}):
            response = client.get(path, headers=headers)
            assert vary(response).count("origin") == 1, (path, headers, vary(response))
    # Added to what the response varies by already, not in its place.
    for headers in ({}, {"Origin": "https://kern.example"}):
        read = client.get("/api/v1/entries", headers=headers)
        assert "accept-encoding" in vary(read), (headers, vary(read))
    preflight = client.options(
        "/api/v1/questionnaires/probe/responses",
        headers={"Origin": "https://kern.example", "Access-Control-Request-Method": "POST"},
    )
    assert "origin" in vary(preflight)


def test_a_refused_preflight_says_why(client: Client) -> None:
    asked = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    api = client.options("/api/v1/entries", headers=asked)
    assert api.status_code == 403
    assert "'https://evil.example' is not one that a partner site lists" in api.json()["detail"]
    headers = {"Origin": "https://kern.example", "Access-Control-Request-Method": "POST"}
    odd = client.options("/api/v1/entries", headers={**headers, "X-Extra": "1"})
    assert odd.status_code == 204  # headers the browser does not announce do not matter
    wanted = client.options(
        "/api/v1/entries", headers={**headers, "Access-Control-Request-Headers": "x-token"}
    )
    assert wanted.status_code == 403
    assert "x-token are not allowed; allowed: Content-Type" in wanted.json()["detail"]
    # A browser asking for a page gets it in German.
    page = page_of(
        client.options("/embed/nur-kern/search", headers={**asked, "Accept": "text/html"}), 403
    )
    assert page.find("h1").text() == "Nicht erlaubt"


def test_no_cors_headers_without_site_origins(tmp_path: Path, content_dir: Path) -> None:
    write_site(content_dir, "intern", "label: Intern\norigins: []\n")
    settings = sqlite_settings(tmp_path, content_dir)
    sync(settings)
    with app_client(settings) as client:
        response = client.get("/api/v1/entries", headers={"Origin": "https://kern.example"})
        assert response.status_code == 200
        assert not [h for h in response.headers if h.startswith("access-control-")]
        preflight = client.options(
            "/api/v1/entries",
            headers={"Origin": "https://kern.example", "Access-Control-Request-Method": "GET"},
        )
        assert not [h for h in preflight.headers if h.startswith("access-control-")]


def test_shipped_sites_allow_their_origins(shipped_client: Client) -> None:
    for site_id, site in site_files().items():
        response = shipped_client.get(f"/embed/{site_id}/search")
        assert csp_directives(response)["frame-ancestors"] == ["'self'", *site["origins"]]
        for origin in site["origins"]:
            api = shipped_client.get("/api/v1/entries", headers={"Origin": origin})
            assert api.headers["access-control-allow-origin"] == origin


# -- snippet pages ----------------------------------------------------------------------------


def test_sites_page_lists_every_site_with_its_snippet_page(client: Client) -> None:
    page = page_of(client.get("/sites"))
    rows = page.find("table").find("tbody").find_all("tr")
    assert [row.find("code").text() for row in rows] == sorted(SITES)
    for row in rows:
        site_id = row.find("code").text()
        site = yaml.safe_load(SITES[site_id])
        assert row.find("a").text() == site["label"]
        assert row.find("a").attrs["href"] == f"/sites/{site_id}"
        for origin in site.get("origins", []):
            assert origin in row.text()


def test_snippets_name_the_site_and_this_server(client: Client) -> None:
    for site_id in sorted(SITES):
        host = str(client.base_url).rstrip("/")
        page = page_of(client.get(f"/sites/{site_id}"))
        snippets = {t.attrs["id"]: t.text() for t in page.find_all("textarea")}
        assert snippets["s-search"] == (
            f'<script src="{host}/embed.js" data-site="{site_id}" data-view="search" async>'
            "</script>"
        )
        assert f'src="{host}/embed/{site_id}/search"' in snippets["s-iframe"]
        for snippet in snippets.values():
            assert f'"{site_id}"' in snippet or f"/embed/{site_id}/" in snippet
            assert host in snippet
        # Every address a snippet names answers on this server for this site.
        for view_path in (
            f"/embed/{site_id}/search",
            *(f"/embed/{site_id}/topics/{t}" for t in _attr_values(snippets, "data-topic")),
            *(
                f"/embed/{site_id}/quickcheck/{q}"
                for q in _attr_values(snippets, "data-questionnaire")
            ),
            *(f"/embed/{site_id}/entries/{e}" for e in _attr_values(snippets, "entry")),
        ):
            assert client.get(view_path).status_code == 200, view_path
        assert page.find("iframe", "preview").attrs["src"] == f"/embed/{site_id}/search"


def _attr_values(snippets: dict[str, str], attr: str) -> list[str]:
    import re

    return [m for text in snippets.values() for m in re.findall(rf' {attr}="([^"]+)"', text)]


def test_snippet_pages_over_the_shipped_sites(shipped_client: Client) -> None:
    host = str(shipped_client.base_url).rstrip("/")
    listed = page_of(shipped_client.get("/sites"))
    ids = [row.find("code").text() for row in listed.find("tbody").find_all("tr")]
    assert ids == sorted(site_files())
    for site_id in ids:
        page = page_of(shipped_client.get(f"/sites/{site_id}"))
        snippets = {t.attrs["id"]: t.text() for t in page.find_all("textarea")}
        assert f'src="{host}/embed.js" data-site="{site_id}"' in snippets["s-search"]
        for path in [f"/embed/{site_id}/entries/{e}" for e in _attr_values(snippets, "entry")]:
            assert shipped_client.get(path).status_code == 200, path
    # The musterverband site offers only the questionnaire it names.
    musterverband = page_of(shipped_client.get("/sites/musterverband"))
    offered = _attr_values(
        {t.attrs["id"]: t.text() for t in musterverband.find_all("textarea")}, "data-questionnaire"
    )
    assert offered == site_files()["musterverband"]["questionnaires"]


def test_embed_js_is_the_loader_script(client: Client) -> None:
    response = client.get("/embed.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert response.content == (THEMES_DIR / "default" / "static" / "embed.js").read_bytes()
    assert "/embed/" in response.text


def test_a_site_cannot_be_made_with_an_unchecked_origin(tmp_path: Path) -> None:
    from core.web.origins import OriginError
    from core.web.sites import Site

    fields: dict[str, Any] = {
        "id": "x", "label": "X", "theme": "default", "description": "", "sources": None,
        "topics": None, "questionnaires": None, "language": "de", "plugin": "test",
        "file": tmp_path / "x.yaml",
    }  # fmt: skip
    for origin in list(BAD_ORIGINS)[:4]:
        with pytest.raises(OriginError):
            Site(origins=(origin,), **fields)
    assert Site(origins=("https://ok.example",), **fields).origins == ("https://ok.example",)
