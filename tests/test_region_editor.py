"""A region with no developer at all (issue 17, item 7), on SQLite and PostgreSQL: an admin
creates the region in the editor (source, label, colours, logo, partner site), an editor
limited to it writes an entry in the browser that the review workflow publishes, the
region's partner site shows it in the region's colours and logo, and
``content export --pack`` -> ``plugins new --from-pack`` -> install into a throwaway
environment -> ``content check`` -> the plugin's own tests -> ``content sync`` into the
same database, where the editor's region and the plugin's pack meet without a conflict.
Bad input is refused with a German message and nothing is stored or written."""

from __future__ import annotations

import io
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from litestar.testing import TestClient
from PIL import Image

from core.app import create_app
from core.cli import main
from core.db.tables import ContentSource, RegionSource
from core.plugins import build_registry
from core.settings import PROJECT_ROOT, Settings
from core.web.region_store import RegionValues, create_region
from core.web.site_store import SiteValues
from search.local_server import LocalMeilisearch
from tests.accounts_support import PASSWORD, SignedIn, reset_schema, sign_in, signed_in, use
from tests.conftest import make_settings, run, sync
from tests.test_region_scaffold import throwaway_install
from tests.test_route_table import wait_until_ready
from tests.web_support import Client, page_of

NAME = "ostland"
LABEL = "Ostland"
PRIMARY = "#5b2a86"
ACCENT = "#8a3b12"
SLUG = "ostland-lotsen-sprechstunde"
TITLE = "Offene Sprechstunde für Lotsinnen und Lotsen der Region einrichten"


@dataclass
class World:
    client: Client
    admin: SignedIn
    settings: Settings
    root: Path
    engine: str


@pytest.fixture(scope="module")
def meili(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMeilisearch]:
    with LocalMeilisearch(tmp_path_factory.mktemp("meili")) as server:
        yield server


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def world(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    meili: LocalMeilisearch,
) -> Iterator[World]:
    root = tmp_path_factory.mktemp("region-editor")
    if request.param == "sqlite":
        url = f"sqlite:///{root / 'region.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_database")
        run(reset_schema(url))
    settings = make_settings(
        url, PROJECT_ROOT / "content", sites_refresh_seconds=1, meili_url=meili.url,
        meili_admin_key=meili.master_key, meili_index=f"regions_{uuid.uuid4().hex[:10]}",
    )  # fmt: skip
    registry = build_registry(settings, load_installed=False)
    sync(settings, registry)
    with TestClient(create_app(settings, registry)) as client:
        wait_until_ready(client)  # every entry in the index: search answers from Meilisearch
        admin = signed_in(client, "admin", display_name="Ada Admin")
        yield World(client, admin, settings, root, request.param)


def png(size: tuple[int, int] = (120, 40), colour: str = PRIMARY) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def create(w: World, fields: dict[str, str], logo: tuple[str, bytes, str] | None = None) -> Any:
    use(w.admin)
    files = {"logo": logo} if logo else {"logo": ("", b"", "application/octet-stream")}
    return w.client.post(
        "/redaktion/regionen/neu", data={**w.admin.form, **fields}, files=files,
        headers={"Accept": "text/html"}, follow_redirects=False,
    )  # fmt: skip


GOOD = {"name": NAME, "label": LABEL, "primary": PRIMARY, "accent": ACCENT,
        "origins": "https://www.ostland.example"}  # fmt: skip


def stored_regions(w: World) -> list[str]:
    rows = w.client.blocking_portal.call(RegionSource.select(RegionSource.name).run)
    return [r["name"] for r in rows]


@pytest.mark.parametrize(
    ("fields", "logo", "field", "message"),
    [
        ({"name": "Ost Land"}, None, "name", "Die Kennung besteht aus 2 bis 30 Kleinbuchstaben"),
        ({"name": "core"}, None, "name", "verwendet der Werkzeugkasten selbst"),
        ({"name": "nrw"}, None, "name", "hat schon eine Quelle, ein Erscheinungsbild"),
        ({"primary": "red;}body{x:y"}, None, "primary", "Bitte die Farbe als #rrggbb angeben"),
        ({"accent": "#ffee00"}, None, "accent", "Kontrast 1,2:1, nötig sind 4,5:1"),
        ({"label": 'Ost"; x'}, None, "label", "Der Name hat 1 bis 80 Zeichen"),
        ({}, ("logo.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
              "image/svg+xml"), "logo", "SVG-Dateien nehmen wir nicht an"),
        ({}, ("logo.png", b"\x89PNG\r\n\x1a\nkaputt", "image/png"), "logo",
         "kein lesbares PNG- oder WebP-Bild"),
        ({}, ("logo.png", png() + b"\0" * 600_000, "image/png"), "logo", "Das Logo ist zu groß"),
        ({}, ("logo.png", png((3000, 10)), "image/png"), "logo", "höchstens 2000 Pixel"),
        ({"origins": "ostland.example/pfad"}, None, "origins",
         "Diese Herkunft wird nicht angenommen"),
    ],
)  # fmt: skip
def test_bad_input_is_refused_in_german_and_nothing_is_stored(
    world: World, fields: dict[str, str], logo: Any, field: str, message: str
) -> None:
    answer = create(world, {**GOOD, "name": "ostland-falsch", **fields}, logo)
    page = page_of(answer, 422)
    assert "nichts wurde gespeichert" in page.text()
    error = page.find("p", id=f"{field}-fehler")
    assert error is not None, page.text()[:3000]
    assert message in error.text()
    assert "ostland-falsch" not in stored_regions(world)
    assert world.client.get("/embed/ostland-falsch").status_code == 404


def test_the_no_developer_path_from_the_admin_form_to_a_plugin(world: World) -> None:
    w = world
    # The admin creates the region in the browser.
    form = page_of(w.client.get("/redaktion/regionen/neu"))
    assert form.find("label", for_="primary").text() == "Hauptfarbe"
    made = create(w, GOOD, ("logo.png", png(), "image/png"))
    assert made.status_code == 303, made.text[:3000]
    assert made.headers["location"] == f"/redaktion/regionen/{NAME}?gespeichert=angelegt"
    shown = page_of(w.client.get(made.headers["location"]))
    assert "Die Region ist angelegt." in shown.find(role="status").text()
    assert NAME in page_of(w.client.get("/redaktion/regionen")).text()
    again = page_of(create(w, GOOD), 422)
    assert "hat schon eine Quelle" in again.find("p", id="name-fehler").text()

    # Its theme is served at once: colours as tokens, the logo as a clean PNG.
    tokens = w.client.get(f"/themes/{NAME}/tokens.css")
    assert tokens.status_code == 200
    assert f"--color-primary: {PRIMARY};" in tokens.text
    assert f"--color-accent: {ACCENT};" in tokens.text
    site = page_of(w.client.get(f"/embed/{NAME}"))
    assert f"/themes/{NAME}/tokens.css" in site.find("link", rel="stylesheet").attrs["href"] or any(
        f"/themes/{NAME}/tokens.css" in (link.attrs.get("href") or "")
        for link in site.find_all("link")
    )
    logo = next(img for img in site.find_all("img") if "logo" in (img.attrs.get("src") or ""))
    served = w.client.get(logo.attrs["src"])
    assert served.status_code == 200
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert Image.open(io.BytesIO(served.content)).size == (120, 40)

    # The admin gives an editor the region as her only source (offered in the form).
    accounts_form = page_of(w.client.get("/redaktion/konten/neu"))
    assert accounts_form.find("input", id=f"sources-{NAME}") is not None
    email = f"redaktion-{w.engine}@ostland.example"
    account = w.client.post(
        "/redaktion/konten/neu",
        data={**w.admin.form, "email": email, "display_name": "Olga Ost", "role": "redaktion",
              "sources": [NAME], "password": PASSWORD, "password_repeat": PASSWORD},
        headers={"Accept": "text/html"}, follow_redirects=False,
    )  # fmt: skip
    assert account.status_code == 303, account.text[:2000]

    # She writes a new entry in the browser for the region, and only there.
    csrf = sign_in(w.client, email)
    headers = {"Accept": "text/html"}
    assert w.client.get(f"/redaktion/eintraege/neu?paket={NAME}").status_code == 200
    assert w.client.get("/redaktion/eintraege/neu?paket=core").status_code == 403
    entry = {
        "csrf_token": csrf, "pack": NAME, "slug": SLUG, "title": TITLE,
        "summary": "Eine feste Sprechstunde, in der Lotsinnen und Lotsen der Region Fragen "
                   "aus den Betrieben besprechen und Erfahrungen weitergeben.",
        "kind": "checkliste", "topics": ["motivation"], "phases": ["planung"],
        "audiences": ["lotse"], "tags": "Region, Austausch", "duration": "1 Stunde im Monat",
        "materials": "Videokonferenz oder Raum", "related": ["fahrplan-durchlauf"],
        "updated_at": "2026-11-30",
        "body": "## Wozu\n\nIn der Sprechstunde klären Lotsinnen und Lotsen offene Fragen aus "
                "den Betrieben gemeinsam.\n\n## Ablauf\n\n- Fragen vorab sammeln\n"
                "- Antworten festhalten und an alle schicken\n",
    }  # fmt: skip
    elsewhere = {**entry, "pack": "core", "slug": "anderswo"}
    in_core = w.client.post(
        "/redaktion/eintraege/neu", data=elsewhere, headers=headers, follow_redirects=False
    )
    assert in_core.status_code == 403
    saved = w.client.post("/redaktion/eintraege/neu", data=entry, headers=headers,
                          follow_redirects=False)  # fmt: skip
    assert saved.status_code == 303, saved.text[:3000]
    submitted = w.client.post(f"/redaktion/eintraege/{SLUG}/aktion",
                              data={"csrf_token": csrf, "aktion": "einreichen"},
                              headers=headers, follow_redirects=False)  # fmt: skip
    assert submitted.status_code == 303
    assert w.client.get(f"/api/v1/entries/{SLUG}").status_code == 404  # not yet published

    # The admin (as the Freigabe) publishes it: API, list by source and the region's site.
    use(w.admin)
    published = w.client.post(f"/redaktion/eintraege/{SLUG}/aktion",
                              data={**w.admin.form, "aktion": "veroeffentlichen"},
                              headers=headers, follow_redirects=False)  # fmt: skip
    assert published.status_code == 303
    api = w.client.get(f"/api/v1/entries/{SLUG}").json()["data"]
    assert (api["source"], api["title"]) == (NAME, TITLE)
    listed = w.client.get("/api/v1/entries", params={"source": NAME}).json()["data"]
    assert [e["slug"] for e in listed] == [SLUG]
    # Search (the real Meilisearch; the indexer takes the published entry from the outbox).
    deadline = time.monotonic() + 60
    while True:
        found = w.client.get("/api/v1/search", params={"q": "Sprechstunde", "source": NAME})
        answer = found.json() if found.status_code == 200 else {}
        engine = answer.get("meta", {}).get("search", {}).get("engine")
        if engine == "meilisearch" and [h["slug"] for h in answer["data"]] == [SLUG]:
            break
        assert time.monotonic() < deadline, found.text[:2000]
        time.sleep(0.3)
    # The site's search page asks Meilisearch directly: the entry is there once indexed.
    while (
        TITLE not in (region_page := w.client.get(f"/embed/{NAME}", params={"source": NAME})).text
    ):
        assert time.monotonic() < deadline, page_of(region_page).find("main").text()[:3000]
        time.sleep(0.3)
    entry_page = w.client.get(f"/embed/{NAME}/entries/{SLUG}")
    assert entry_page.status_code == 200
    assert f"/themes/{NAME}/tokens.css" in entry_page.text

    # A colour change reaches the pages without a restart.
    changed = w.client.post(
        f"/redaktion/regionen/{NAME}",
        data={**w.admin.form, "label": LABEL, "primary": "#00508c", "accent": ACCENT},
        files={"logo": ("", b"", "application/octet-stream")},
        headers=headers, follow_redirects=False,
    )  # fmt: skip
    assert changed.status_code == 303, changed.text[:2000]
    assert "--color-primary: #00508c;" in w.client.get(f"/themes/{NAME}/tokens.css").text
    assert w.client.get(logo.attrs["src"].split("?")[0]).status_code == 200  # logo kept

    # Export: refused for an unknown pack and into a non-empty folder, then written.
    env = {
        "DATABASE_URL": w.settings.database_url,
        "MENTORING40_CONTENT_DIR": str(PROJECT_ROOT / "content"),
    }
    cli = CliRunner(env=env)
    target = w.root / f"export-{w.engine}"
    unknown = cli.invoke(main, ["content", "export", "--pack", "nirgendwo", "--to", str(target)])
    assert unknown.exit_code == 1
    assert "there is no content pack 'nirgendwo'" in unknown.output
    assert not target.exists()
    busy = w.root / f"busy-{w.engine}"
    busy.mkdir()
    (busy / "notizen.txt").write_text("bleibt", encoding="utf-8")
    refused = cli.invoke(main, ["content", "export", "--pack", NAME, "--to", str(busy)])
    assert refused.exit_code == 1
    assert "is not an empty folder" in refused.output
    assert [p.name for p in busy.iterdir()] == ["notizen.txt"]
    exported = cli.invoke(main, ["content", "export", "--pack", NAME, "--to", str(target)])
    assert exported.exit_code == 0, exported.output
    assert sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file()) == [
        f"content/entries/{SLUG}.md", "content/taxonomy.yaml", f"sites/{NAME}.yaml",
        "theme/static/logo.png", "theme/static/theme.css",
        "theme/theme.yaml",
    ]  # fmt: skip
    assert [p.name for p in w.root.iterdir() if p.name.startswith(".export")] == []
    theme = (target / "theme" / "theme.yaml").read_text(encoding="utf-8")
    assert 'color-primary: "#00508c"' in theme
    assert "logo: logo.png" in theme
    site_file = (target / "sites" / f"{NAME}.yaml").read_text(encoding="utf-8")
    assert f"theme: {NAME}" in site_file
    assert "https://www.ostland.example" in site_file
    assert f"title: {TITLE}" in (target / "content" / "entries" / f"{SLUG}.md").read_text()

    if w.engine != "sqlite":
        return  # the install walk once (it takes a while); the export above on both
    # The plugin around the exported pack: wrong name refused, then written and installed.
    wrong = cli.invoke(main, ["plugins", "new", "westland", "--from-pack", str(target),
                              "--into", str(w.root / "falsch")])  # fmt: skip
    assert wrong.exit_code == 1
    assert "is the region 'ostland'" in wrong.output
    assert not (w.root / "falsch").exists()
    folder = w.root / f"mentoring40-{NAME}"
    new = cli.invoke(
        main, ["plugins", "new", NAME, "--from-pack", str(target), "--into", str(folder)]
    )
    assert new.exit_code == 0, new.output
    package = folder / "src" / f"mentoring40_{NAME}"
    readme = (folder / "README.md").read_text(encoding="utf-8")
    assert "Made with `--from-pack`" in readme
    # The editor keeps no search vocabulary, and the README does not promise one.
    assert not (folder / "src" / f"mentoring40_{NAME}" / "content" / "search").exists()
    assert "| search vocabulary | `content/search/*.yaml` | none yet" in readme
    assert (package / "content" / "entries" / f"{SLUG}.md").is_file()
    assert not list((package / "content" / "entries").glob("*beispiel*"))
    assert (package / "theme" / "static" / "logo.png").read_bytes() == (
        target / "theme" / "static" / "logo.png"
    ).read_bytes()
    region = throwaway_install(w.root / "walk", folder, database_url=w.settings.database_url)
    assert NAME in region.mentoring40("plugins")
    assert "Content OK" in region.mentoring40("content", "check")
    region.run("-m", "pytest", "-q", "-p", "no:cacheprovider", "tests")
    synced = region.mentoring40("content", "sync")
    assert f"region {NAME}: made in the editor and now also a pack from files" in synced
    assert "conflict:" not in synced
    # The editor's entry is still the live one, now also a file of the plugin.
    api = w.client.get(f"/api/v1/entries/{SLUG}").json()["data"]
    assert (api["source"], api["title"]) == (NAME, TITLE)
    names = w.client.blocking_portal.call(ContentSource.select(ContentSource.name).run)
    assert [r["name"] for r in names].count(NAME) == 1


def test_a_region_made_by_another_worker_is_served_within_the_refresh_interval(
    world: World,
) -> None:
    """Another worker (or instance) stores the region; this one has not been told and
    serves its theme and site after at most MENTORING40_SITES_REFRESH_SECONDS (1 here)."""
    w = world
    values = RegionValues(name="nordland", label="Nordland", primary="#00508c", accent=ACCENT)
    site = SiteValues(site_id="nordland", label="Mentoring 4.0 – Nordland", theme="nordland",
                      sources=["core", "nordland"])  # fmt: skip
    w.client.blocking_portal.call(lambda: create_region(values, None, site, by="anderer-worker"))
    deadline = time.monotonic() + 10
    while (tokens := w.client.get("/themes/nordland/tokens.css")).status_code != 200:
        assert time.monotonic() < deadline, tokens.text
        time.sleep(0.2)
    assert "--color-primary: #00508c;" in tokens.text
    page = w.client.get("/embed/nordland")
    assert page.status_code == 200
    assert "/themes/nordland/tokens.css" in page.text


def test_a_stopped_app_leaves_no_region_themes_behind(tmp_path: Path) -> None:
    """Each worker writes the themes of regions made in the editor under a temporary
    folder of its own; stopping the app removes it."""
    settings = make_settings(
        f"sqlite:///{tmp_path / 'db.sqlite'}", PROJECT_ROOT / "content", sites_refresh_seconds=1
    )
    registry = build_registry(settings, load_installed=False)
    sync(settings, registry)
    values = RegionValues(name="suedland", label="Südland", primary="#00508c", accent=ACCENT)
    site = SiteValues(site_id="suedland", label="Mentoring 4.0 – Südland", theme="suedland",
                      sources=["core", "suedland"])  # fmt: skip
    before = set(Path(tempfile.gettempdir()).glob("mentoring40-regions-*"))
    with TestClient(create_app(settings, registry)) as client:
        client.blocking_portal.call(lambda: create_region(values, None, site, by="test"))
        deadline = time.monotonic() + 10
        while (tokens := client.get("/themes/suedland/tokens.css")).status_code != 200:
            assert time.monotonic() < deadline, tokens.text
            time.sleep(0.2)
        made = set(Path(tempfile.gettempdir()).glob("mentoring40-regions-*")) - before
        assert len(made) == 1
        (folder,) = made
        assert any(folder.iterdir())  # the region's theme files
    assert not folder.exists()
