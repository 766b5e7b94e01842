"""The editor in Chromium (issue 15): signing in and out with the keyboard, the German
message for a wrong password, a form post with a wrong CSRF token refused, and axe-core
on the sign-in, landing, accounts, partner-site and audit pages in the default theme at
laptop (1366×768) and tablet (1024×1366) size, with no violation of any impact.
Screenshots: var/screenshots/redaktion/<size>-<page>.png."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from core.settings import PROJECT_ROOT
from tests.browser.conftest import SCREENSHOTS, TIMEOUT_MS, Stack, require_axe

pytestmark = pytest.mark.browser

PASSWORD = "ein-langes-Browser-Passwort"
SIZES = {"laptop": (1366, 768), "tablet": (1024, 1366)}


def create_account(stack: Stack, role: str, name: str) -> str:
    """``mentoring40 users create`` against the stack's database, password on stdin."""
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.org"
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", "users", "create", email, "--role", role,
         "--name", name, "--sources", "core"],
        input=PASSWORD + "\n", env=stack.base_env, cwd=PROJECT_ROOT, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return email


@pytest.fixture(scope="module")
def admin_email(stack: Stack) -> str:
    return create_account(stack, "admin", "Ada Admin")


def sign_in_with_keyboard(page: Any, email: str, password: str) -> None:
    page.get_by_label("E-Mail-Adresse").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(password)
    page.keyboard.press("Enter")


def test_sign_in_wrong_password_and_sign_out(stack: Stack, context: Any, admin_email: str) -> None:
    page = context.new_page()
    page.goto(f"{stack.url}/redaktion/konten")
    expect(page).to_have_url(f"{stack.url}/anmelden?next=/redaktion/konten")
    sign_in_with_keyboard(page, admin_email, "das-ist-falsch-123")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("E-Mail-Adresse oder Passwort stimmen nicht")
    expect(page.get_by_label("E-Mail-Adresse")).to_have_value(admin_email)
    expect(page.get_by_label("Passwort")).to_have_value("")
    page.get_by_label("Passwort").fill(PASSWORD)
    page.get_by_label("Passwort").press("Enter")
    expect(page).to_have_url(f"{stack.url}/redaktion/konten")
    expect(page.get_by_role("heading", level=1)).to_have_text("Konten")
    expect(page.locator(".signed-in")).to_contain_text("Ada Admin")
    page.get_by_role("button", name="Abmelden").click()
    expect(page.get_by_role("status")).to_have_text("Sie sind abgemeldet.")
    page.goto(f"{stack.url}/redaktion")
    expect(page).to_have_url(f"{stack.url}/anmelden")


def test_a_form_with_a_wrong_csrf_token_is_refused(
    stack: Stack, context: Any, admin_email: str
) -> None:
    page = context.new_page()
    page.goto(f"{stack.url}/anmelden")
    sign_in_with_keyboard(page, admin_email, PASSWORD)
    expect(page.get_by_role("heading", level=1)).to_have_text("Redaktion")
    # What a forged or stale form sends: a token that is not the session's.
    page.evaluate(
        "() => document.querySelectorAll('input[name=csrf_token]')"
        ".forEach(field => { field.value = 'gefaelscht'; })"
    )
    page.get_by_role("button", name="Auf allen Geräten abmelden").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Formular abgelaufen")
    # Nothing happened: still signed in.
    page.goto(f"{stack.url}/redaktion")
    expect(page.locator(".signed-in")).to_contain_text("Ada Admin")


@pytest.fixture(scope="module", params=list(SIZES))
def sized(request: pytest.FixtureRequest, browser: Any) -> Iterator[tuple[str, Any]]:
    """A context of one size that bypasses the CSP only so that axe can be injected."""
    require_axe()
    width, height = SIZES[request.param]
    context = browser.new_context(
        bypass_csp=True, locale="de-DE", viewport={"width": width, "height": height}
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield request.param, context
    finally:
        context.close()


EDITOR_PAGES = {
    "anmelden": "/anmelden",
    "start": "/redaktion",
    "konten": "/redaktion/konten",
    "konto-neu": "/redaktion/konten/neu",
    "konto": "/redaktion/konten/1",
    "partnerseiten": "/redaktion/partnerseiten",
    "partnerseite": "/redaktion/partnerseiten/werkzeugkasten",
    "partnerseite-neu": "/redaktion/partnerseiten/neu",
    "protokoll": "/redaktion/protokoll",
}


def test_editor_pages_have_no_accessibility_violations(
    stack: Stack, sized: tuple[str, Any], admin_email: str
) -> None:
    size, context = sized
    axe = str(require_axe())
    page = context.new_page()
    folder = SCREENSHOTS / "redaktion"
    folder.mkdir(parents=True, exist_ok=True)
    problems = []
    # The sign-in page first, with its error message showing, then signed in.
    page.goto(f"{stack.url}/anmelden")
    sign_in_with_keyboard(page, admin_email, "das-ist-falsch-123")
    expect(page.get_by_role("alert")).to_be_visible()
    for name, path in EDITOR_PAGES.items():
        if name != "anmelden":
            response = page.goto(stack.url + path)
            assert response is not None, path
            assert response.status == 200, (path, response.status)
        page.screenshot(path=str(folder / f"{size}-{name}.png"), full_page=True)
        page.add_script_tag(path=axe)
        results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        if results["violations"]:
            problems.append(f"{path}: " + "; ".join(
                f"{v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:5]]}"
                for v in results["violations"]
            ))  # fmt: skip
        if name == "anmelden":
            page.get_by_label("Passwort").fill(PASSWORD)
            page.get_by_label("Passwort").press("Enter")
            expect(page.locator(".signed-in")).to_be_visible()
    assert not problems, "\n".join(problems)


def test_an_admin_creates_a_region_in_the_browser_and_its_site_wears_its_colours(
    stack: Stack, sized: tuple[str, Any], admin_email: str, tmp_path: Any
) -> None:
    """Issue 17, item 7: the region form filled in and sent in Chromium (with a logo
    upload), a refused colour shown at its field, then the region's embed page in its
    colours with its logo; axe on the form (with the error) and on the region's page."""
    import io

    from PIL import Image

    size, context = sized
    name = f"testregion-{size}"
    axe = str(require_axe())
    folder = SCREENSHOTS / "redaktion"
    folder.mkdir(parents=True, exist_ok=True)
    logo = tmp_path / "logo.png"
    buffer = io.BytesIO()
    Image.new("RGB", (160, 48), "#5b2a86").save(buffer, format="PNG")
    logo.write_bytes(buffer.getvalue())
    page = context.new_page()
    page.goto(f"{stack.url}/anmelden")
    sign_in_with_keyboard(page, admin_email, PASSWORD)
    expect(page.locator(".signed-in")).to_be_visible()
    problems = []

    def check(what: str) -> None:
        page.add_script_tag(path=axe)
        results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
        problems.extend(
            f"{what}: {v['id']} ({v['impact']}): {[n['target'] for n in v['nodes'][:5]]}"
            for v in results["violations"]
        )

    page.goto(f"{stack.url}/redaktion/regionen/neu")
    page.get_by_label("Kennung").fill(name)
    page.get_by_label("Name der Region").fill("Testregion")
    page.get_by_label("Hauptfarbe").fill("#ffee00")  # too light for white text
    page.get_by_label("Akzentfarbe").fill("#8a3b12")
    page.locator("#logo").set_input_files(str(logo))
    page.get_by_role("button", name="Region anlegen").click()
    expect(page.locator("#primary-fehler")).to_contain_text("Kontrast 1,2:1")
    expect(page.get_by_label("Kennung")).to_have_value(name)
    page.screenshot(path=str(folder / f"{size}-region-neu-fehler.png"), full_page=True)
    check("/redaktion/regionen/neu (Fehler)")
    page.get_by_label("Hauptfarbe").fill("#5b2a86")
    page.locator("#logo").set_input_files(str(logo))
    page.get_by_role("button", name="Region anlegen").click()
    expect(page.get_by_role("status")).to_contain_text("Die Region ist angelegt.")
    page.screenshot(path=str(folder / f"{size}-region.png"), full_page=True)
    check(f"/redaktion/regionen/{name}")

    page.goto(f"{stack.url}/embed/{name}")
    header = page.locator(".embed-header")
    expect(header).to_have_css("background-color", "rgb(91, 42, 134)")
    expect(page.locator("img.embed-logo")).to_be_visible()
    page.screenshot(path=str(folder / f"{size}-region-seite.png"), full_page=True)
    check(f"/embed/{name}")
    assert not problems, "\n".join(problems)
