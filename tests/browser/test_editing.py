"""The editor (/redaktion/eintraege) in real Chromium, against its own app (own SQLite
file and search index, the shipped content and the NRW plugin), so that what the editors
change here never leaks into the other browser tests.

Covered: create → preview → submit → publish → found by search; a search term found
by search and shown nowhere; a second editor's save
refused with the diff; restore of an old revision; slug rename with redirect; an NRW
editor cannot touch core entries; hostile Markdown inert in preview, page, embed and API;
typed text kept over an expired session; axe on every editorial page; screenshots.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from core.settings import PROJECT_ROOT, Settings
from search.local_server import free_port
from tests.browser.conftest import (
    SCREENSHOTS,
    THEME_SITES,
    TIMEOUT_MS,
    AppServer,
    Stack,
    get_json,
    http_get,
    require_axe,
    wait_until,
)
from tests.conftest import SHIPPED_CONTENT

pytestmark = pytest.mark.browser

SHOTS = SCREENSHOTS / "redaktion"
HOSTILE = (
    "Harmlos <script>window.__pwned = 1; alert(1)</script>\n\n"
    '<img src="x" onerror="window.__pwned = 2">\n\n'
    '<iframe src="javascript:window.__pwned=3"></iframe>\n\n'
    '[Klick](javascript:window.__pwned=4) und <a href="javascript:alert(1)" '
    'onclick="window.__pwned=5">roh</a>\n'
)


@dataclass
class EditorApp:
    url: str
    settings: Settings
    token: str  # an API key with entries:write:core


def _request(url: str, method: str, token: str, payload: Any | None = None) -> tuple[int, Any]:
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.loads(error.read() or b"null")


@pytest.fixture(scope="module")
def editor_app(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[EditorApp]:
    root = tmp_path_factory.mktemp("editing")
    content = root / "content"
    shutil.copytree(SHIPPED_CONTENT, content)
    database_url = f"sqlite:///{root / 'editing.sqlite'}"
    index = f"editing_{uuid.uuid4().hex[:10]}"
    settings = Settings(
        database_url=database_url,
        content_dir=content,
        meili_url=stack.meili.url,
        meili_admin_key=stack.meili.master_key,
        meili_index=index,
    )
    env = {
        **stack.base_env,
        "DATABASE_URL": database_url,
        "MENTORING40_CONTENT_DIR": str(content),
        "MEILI_INDEX": index,
    }
    # The CLI in a process of its own: Playwright's loop runs in this one.
    cli(env, "content", "sync")
    token = cli(env, "keys", "create", "--name", "browser-core", "--scope", "entries:write:core")
    token = token.splitlines()[0].strip()
    server = AppServer(env, free_port(), root / "app.log")
    try:
        server.wait_healthy()
        total = get_json(f"{server.url}/api/v1/entries?page_size=1")["meta"]["pagination"]["total"]

        def indexed() -> bool:
            status, _, body = http_get(f"{server.url}/api/v1/search?q=")
            return status == 200 and json.loads(body)["meta"]["pagination"]["total"] == total

        wait_until(indexed, "the editing app's search index")
        yield EditorApp(url=server.url, settings=settings, token=token)
    finally:
        server.stop()


def cli(env: dict[str, str], *args: str, stdin: str | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        env=env,
        cwd=PROJECT_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _publish_with_key(app: EditorApp, slug: str, changes: dict[str, Any]) -> None:
    api = f"{app.url}/api/v1/redaktion/entries/{slug}"
    status, doc = _request(api, "GET", app.token)
    assert status == 200, doc
    data = doc["data"]["data"] | changes
    status, saved = _request(
        f"{api}/draft", "PUT", app.token, {"based_on": doc["data"]["head"], "data": data}
    )
    assert status == 200, saved
    assert _request(f"{api}/submit", "POST", app.token)[0] == 200
    assert _request(f"{api}/publish", "POST", app.token)[0] == 200


def test_hostile_markdown_is_inert_on_the_page_the_embed_and_in_the_api(
    editor_app: EditorApp, context: Any
) -> None:
    slug = "kick-off-workshop"
    _publish_with_key(editor_app, slug, {"body": HOSTILE})
    served = get_json(f"{editor_app.url}/api/v1/entries/{slug}")["data"]
    assert served["body_markdown"] == HOSTILE  # stored as written
    # Raw HTML is shown as text (escaped), never as markup.
    for bad in ("<script", "<iframe", "<img", '<a href="javascript'):
        assert bad not in served["body_html"]
    assert "&lt;script&gt;" in served["body_html"]

    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    site = THEME_SITES["default"]
    for address in (f"/entries/{slug}", f"/embed/{site}/entries/{slug}"):
        page.goto(editor_app.url + address)
        prose = page.locator(".prose")
        prose.wait_for()
        assert "Harmlos" in prose.inner_text()
        assert prose.locator("script, iframe, img").count() == 0
        for link in prose.locator("a").all():
            assert not (link.get_attribute("href") or "").startswith("javascript")
        assert page.evaluate("window.__pwned") is None
    assert dialogs == []
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "feindliches-markdown-embed.png"), full_page=True)


# -- the editing pages, signed in -------------------------------------------------------------

PASSWORD = "browser-Passwort-lang-2026"
ACCOUNTS = {
    "core": ("rita@example.org", "redaktion", "core", "Rita Redaktion"),
    "nrw": ("nora@example.org", "redaktion", "nrw", "Nora NRW"),
    "freigabe": ("frieda@example.org", "freigabe", "", "Frieda Freigabe"),
}


@pytest.fixture(scope="module")
def accounts(editor_app: EditorApp, stack: Stack) -> dict[str, str]:
    env = {
        **stack.base_env,
        "DATABASE_URL": editor_app.settings.database_url,
        "MENTORING40_CONTENT_DIR": str(editor_app.settings.content_dir),
    }
    for email, role, sources, name in ACCOUNTS.values():
        args = ["users", "create", email, "--role", role, "--name", name]
        cli(env, *args, *(["--sources", sources] if sources else []), stdin=PASSWORD + "\n")
    return {key: value[0] for key, value in ACCOUNTS.items()}


def sign_in(page: Any, app: EditorApp, email: str, next_path: str = "/redaktion") -> None:
    page.goto(f"{app.url}/anmelden?next={next_path}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{next_path.split('?')[0]}**")


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def axe_clean(page: Any) -> None:
    """axe-core on the page as it is: no violation at all."""
    page.add_script_tag(path=str(require_axe()))
    results = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations'], iframes: false})"
    )
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} {[n['target'] for n in v['nodes'][:5]]}"
        for v in results["violations"]
    ]
    assert problems == [], "\n".join(problems)


@pytest.fixture
def csp_free(browser: Any) -> Iterator[Any]:
    """A context that lets axe be injected (as in test_accessibility.py)."""
    context = browser.new_context(
        bypass_csp=True, locale="de-DE", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def test_create_preview_submit_publish_and_find_it(
    editor_app: EditorApp, accounts: dict[str, str], context: Any, browser: Any
) -> None:
    page = context.new_page()
    sign_in(page, editor_app, accounts["core"], "/redaktion/eintraege")
    page.get_by_role("link", name=re.compile("Neuer Eintrag in")).first.click()
    page.fill("#title", "Gesprächsleitfaden für Übergänge")
    expect(page.locator("#slug")).to_have_value("gespraechsleitfaden-fuer-uebergaenge")
    page.fill("#summary", "Ein Leitfaden für das Gespräch beim Wechsel ins Tandem.")
    page.select_option("#kind", index=1)
    for group in ("topics", "phases", "audiences"):
        page.locator(f"input[name={group}]").first.check()
    page.fill("#body", "## Ablauf\n\nErst **zuhören**, dann fragen.")
    preview = page.frame_locator("#vorschau")
    expect(preview.locator(".prose strong")).to_have_text("zuhören")
    page.fill("#related-search", "Kick-off")
    page.locator("#related-results button").first.click()
    expect(page.locator(".related-list input[name=related]")).to_have_count(1)
    page.get_by_role("button", name="Entwurf speichern").click()
    expect(page.locator("[data-saved]")).to_contain_text("Der neue Eintrag ist als Entwurf")
    shot(page, "eintrag-bearbeiten")
    page.get_by_role("button", name="Zur Prüfung einreichen").click()
    expect(page.locator("[data-saved]")).to_contain_text("zur Prüfung eingereicht")
    slug = "gespraechsleitfaden-fuer-uebergaenge"

    reviewer = browser.new_context(locale="de-DE", viewport={"width": 1024, "height": 1366})
    try:
        other = reviewer.new_page()
        sign_in(other, editor_app, accounts["freigabe"], f"/redaktion/eintraege/{slug}")
        other.get_by_role("button", name="Veröffentlichen").click()
        expect(other.locator("[data-saved]")).to_contain_text("veröffentlicht")
        shot(other, "eintrag-veroeffentlicht-tablet")
    finally:
        reviewer.close()

    def found() -> bool:
        hits = get_json(f"{editor_app.url}/api/v1/search?q={quote('Gesprächsleitfaden')}")["data"]
        return slug in [h["slug"] for h in hits]

    wait_until(found, "the published entry in search", timeout=20)
    page.goto(f"{editor_app.url}/?q={quote('Gesprächsleitfaden')}")
    expect(page.get_by_role("link", name="Gesprächsleitfaden für Übergänge").first).to_be_visible()


def test_a_search_term_finds_the_entry_and_is_shown_nowhere(
    editor_app: EditorApp, accounts: dict[str, str], context: Any, browser: Any
) -> None:
    # A word the toolbox does not hold: before, searching for it finds nothing.
    term, slug = "Schulungsfilmchen", "bildschirmvideos"

    def search(q: str) -> list[str]:
        return [h["slug"] for h in get_json(f"{editor_app.url}/api/v1/search?q={quote(q)}")["data"]]

    assert search(term) == []
    page = context.new_page()
    sign_in(page, editor_app, accounts["core"], f"/redaktion/eintraege/{slug}")
    kept = page.locator("#search_terms").input_value()
    # Too long a term is refused at its field, and nothing is saved.
    page.fill("#search_terms", kept + "\n" + "Sehr " * 13)
    page.get_by_role("button", name="Entwurf speichern").click()
    expect(page.locator("#fehler-search_terms")).to_have_text(
        re.compile(r"^Begriff \d+: höchstens 60 Zeichen$")
    )
    expect(page.locator("#search_terms")).to_have_attribute("aria-invalid", "true")
    shot(page, "suchbegriff-zu-lang")
    page.fill("#search_terms", f"{kept}\n{term}")
    page.get_by_role("button", name="Entwurf speichern").click()
    expect(page.locator("[data-saved]")).to_be_visible()
    page.get_by_role("button", name="Zur Prüfung einreichen").click()
    expect(page.locator("[data-saved]")).to_contain_text("zur Prüfung eingereicht")
    reviewer = browser.new_context(locale="de-DE")
    try:
        other = reviewer.new_page()
        sign_in(other, editor_app, accounts["freigabe"], f"/redaktion/eintraege/{slug}")
        other.get_by_role("button", name="Veröffentlichen").click()
        expect(other.locator("[data-saved]")).to_contain_text("veröffentlicht")
    finally:
        reviewer.close()
    wait_until(lambda: search(term)[:1] == [slug], "the entry found by its new search term")
    # Searched, never shown: not on the entry's page, not in the public API.
    page.goto(f"{editor_app.url}/entries/{slug}")
    expect(page.locator("h1")).to_be_visible()
    assert term not in page.content()
    status, _, body = http_get(f"{editor_app.url}/api/v1/entries/{slug}")
    assert status == 200
    assert term not in body.decode()


def test_a_concurrent_edit_is_refused_with_the_diff(
    editor_app: EditorApp, accounts: dict[str, str], browser: Any
) -> None:
    path = "/redaktion/eintraege/tandem-steckbrief"
    first = browser.new_context(locale="de-DE")
    second = browser.new_context(locale="de-DE")
    try:
        a, b = first.new_page(), second.new_page()
        sign_in(a, editor_app, accounts["core"], path)
        sign_in(b, editor_app, accounts["freigabe"], path)
        a.fill("#title", "Tandem-Steckbrief (Fassung A)")
        a.get_by_role("button", name="Entwurf speichern").click()
        expect(a.locator("[data-saved]")).to_be_visible()
        b.fill("#summary", "Die Zusammenfassung von B.")
        b.get_by_role("button", name="Entwurf speichern").click()
        expect(b.locator(".notice-error")).to_contain_text("Jemand hat den Eintrag gespeichert")
        expect(b.locator("#summary")).to_have_value("Die Zusammenfassung von B.")
        expect(b.locator(".conflict")).to_contain_text("Tandem-Steckbrief (Fassung A)")
        shot(b, "konflikt-beim-speichern")
        b.get_by_role("button", name="Trotzdem speichern").click()
        expect(b.locator("[data-saved]")).to_be_visible()
    finally:
        first.close()
        second.close()


def test_restore_an_old_revision(
    editor_app: EditorApp, accounts: dict[str, str], context: Any
) -> None:
    path = "/redaktion/eintraege/lerntagebuch"
    page = context.new_page()
    sign_in(page, editor_app, accounts["core"], path)
    original = page.locator("#title").input_value()
    page.fill("#title", "Vorübergehend anders")
    page.get_by_role("button", name="Entwurf speichern").click()
    expect(page.locator("[data-saved]")).to_be_visible()
    page.get_by_role("link", name="Verlauf und ältere Fassungen").click()
    shot(page, "verlauf")
    page.get_by_role("button", name="Fassung 1 wiederherstellen").click()
    expect(page.locator("[data-saved]")).to_contain_text("ältere Fassung ist als neuer Entwurf")
    expect(page.locator("#title")).to_have_value(original)


def test_rename_keeps_the_old_address_working(
    editor_app: EditorApp, accounts: dict[str, str], context: Any
) -> None:
    api = f"{editor_app.url}/api/v1/redaktion/entries"
    data = _request(f"{api}/kick-off-workshop", "GET", editor_app.token)[1]["data"]["data"]
    made = _request(
        api,
        "POST",
        editor_app.token,
        {
            "pack": "core",
            "slug": "alte-adresse",
            "data": data | {"title": "Alte Adresse", "related": []},
        },
    )
    assert made[0] == 201, made
    _request(f"{api}/alte-adresse/submit", "POST", editor_app.token)
    assert _request(f"{api}/alte-adresse/publish", "POST", editor_app.token)[0] == 200
    page = context.new_page()
    sign_in(page, editor_app, accounts["core"], "/redaktion/eintraege/alte-adresse")
    page.fill("#new_slug", "neue-adresse")
    page.get_by_role("button", name="Kurznamen ändern").click()
    expect(page.locator("[data-saved]")).to_contain_text("alte Adresse leitet weiter")
    page.goto(f"{editor_app.url}/entries/alte-adresse")
    assert page.url.endswith("/entries/neue-adresse")
    expect(page.locator("h1")).to_have_text("Alte Adresse")


def test_an_nrw_editor_cannot_touch_core_entries(
    editor_app: EditorApp, accounts: dict[str, str], context: Any
) -> None:
    page = context.new_page()
    sign_in(page, editor_app, accounts["nrw"], "/redaktion/eintraege")
    expect(page.locator("main")).not_to_contain_text("Kick-off-Workshop")
    answer = page.goto(f"{editor_app.url}/redaktion/eintraege/kick-off-workshop")
    assert answer is not None
    assert answer.status == 403
    expect(page.locator("[role=alert]")).to_contain_text("nur die Einträge ihrer Quellen")
    shot(page, "nicht-erlaubt")


def test_hostile_markdown_is_inert_in_the_preview(
    editor_app: EditorApp, accounts: dict[str, str], context: Any
) -> None:
    dialogs: list[str] = []
    page = context.new_page()
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, editor_app, accounts["core"], "/redaktion/eintraege/tandem-vereinbarung")
    page.fill("#body", HOSTILE)
    prose = page.frame_locator("#vorschau").locator(".prose")
    expect(prose).to_contain_text("Harmlos")
    assert prose.locator("script, iframe, img").count() == 0
    frame = page.frame(name="vorschau")
    assert frame is not None
    assert frame.evaluate("window.__pwned") is None
    assert dialogs == []
    shot(page, "vorschau-feindliches-markdown")


def test_typed_text_survives_an_expired_session(
    editor_app: EditorApp, accounts: dict[str, str], context: Any
) -> None:
    path = "/redaktion/eintraege/tandem-vereinbarung"
    page = context.new_page()
    sign_in(page, editor_app, accounts["core"], path)
    typed = "Das habe ich lange getippt.\n\nUnd es darf nicht verloren gehen."
    page.fill("#body", typed)
    page.wait_for_timeout(500)  # the form is remembered 300 ms after the last key
    context.clear_cookies()  # the session is gone (expired, or signed out elsewhere)
    page.get_by_role("button", name="Entwurf speichern").click()
    page.wait_for_url("**/anmelden**")
    page.fill("#email", accounts["core"])
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/redaktion")  # a form post is not repeated: back to the entry
    page.goto(editor_app.url + path)
    expect(page.locator("#body")).to_have_value(typed)
    expect(page.locator(".restored-notice")).to_be_visible()
    page.get_by_role("button", name="Entwurf speichern").click()
    expect(page.locator("[data-saved]")).to_be_visible()
    expect(page.locator("#body")).to_have_value(typed + "\n")


def test_every_editorial_page_passes_axe(
    editor_app: EditorApp, accounts: dict[str, str], csp_free: Any, stack: Stack
) -> None:
    # A sync conflict for the conflict page: the file changes under a published revision.
    _publish_with_key(editor_app, "zwischenbilanz", {"title": "Zwischenbilanz (Redaktion)"})
    path = editor_app.settings.content_dir / "entries" / "zwischenbilanz.md"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("\ntags: [", "\ntags: [Datei, ", 1), encoding="utf-8")
    env = {
        **stack.base_env,
        "DATABASE_URL": editor_app.settings.database_url,
        "MENTORING40_CONTENT_DIR": str(editor_app.settings.content_dir),
    }
    assert "conflict: zwischenbilanz" in cli(env, "content", "sync")

    page = csp_free.new_page()
    sign_in(page, editor_app, accounts["freigabe"], "/redaktion/eintraege")
    pages = {
        "eintraege": "/redaktion/eintraege",
        "neuer-eintrag": "/redaktion/eintraege/neu?paket=core",
        "eintrag": "/redaktion/eintraege/zwischenbilanz",
        "verlauf": "/redaktion/eintraege/zwischenbilanz/verlauf",
        "vergleich": "/redaktion/eintraege/zwischenbilanz/vergleich?von=1&bis=2",
        "sync-konflikt": "/redaktion/eintraege/zwischenbilanz/konflikt",
        "meldung": "/redaktion/eintraege/gibt-es-nicht",
    }
    for name, address in pages.items():
        page.goto(editor_app.url + address)
        page.wait_for_load_state("networkidle")
        shot(page, name)
        axe_clean(page)
    expect(page.locator("[role=alert]")).to_contain_text("Diesen Eintrag gibt es nicht")
