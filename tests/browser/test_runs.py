"""A whole run in a real Chromium (issue 16): a Lotse signs in and creates a run; two
management and four employee answers arrive through the invitation links; the company
view shows the gap; the repeat measurement shows progress; the PDF carries the scores;
the programme dashboard counts the run. axe-core finds no violation on any new page,
and each page is kept as a screenshot in var/screenshots/runs/.

The walk runs on SQLite (the browser stack's app) and on PostgreSQL (a second app on
the same content and Meilisearch, with a database of its own)."""

from __future__ import annotations

import concurrent.futures
import io
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest
from playwright.sync_api import expect
from pypdf import PdfReader

from core.plugins import build_registry
from core.settings import Settings
from search.local_server import free_port
from tests.browser.conftest import (
    QUICKCHECK,
    SCREENSHOTS,
    TIMEOUT_MS,
    AppServer,
    Stack,
    require_axe,
)
from tests.conftest import POSTGRES_ADMIN_URL, run, sync

pytestmark = pytest.mark.browser

PASSWORD = "ein langes Test-Passwort 16"
FOLDER = SCREENSHOTS / "runs"


@dataclass
class App:
    """The app a walk runs against: its address and the environment its commands need."""

    url: str
    base_env: dict[str, str]
    database: str


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def app(request: pytest.FixtureRequest, stack: Stack) -> Iterator[App]:
    if request.param == "sqlite":
        yield App(url=stack.url, base_env=stack.base_env, database="sqlite")
        return
    # Playwright's sync API keeps an event loop running in this thread: the database is
    # made and filled from a thread of its own.
    name = f"mentoring40_browser_{uuid.uuid4().hex[:10]}"
    try:
        off_loop(lambda: run(admin_sql(f'CREATE DATABASE "{name}"')))
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        reason = f"PostgreSQL at {POSTGRES_ADMIN_URL} is not usable: {exc}"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI requires the PostgreSQL run)")
        pytest.skip(reason)
    url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    index = f"browser_runs_{uuid.uuid4().hex[:8]}"
    env = {**stack.base_env, "DATABASE_URL": url, "MEILI_INDEX": index}
    settings = Settings(
        database_url=url,
        content_dir=Path(env["MENTORING40_CONTENT_DIR"]),
        meili_url=env["MEILI_URL"],
        meili_admin_key=env["MEILI_ADMIN_KEY"],
        meili_index=index,
    )
    server = None
    try:
        off_loop(lambda: sync(settings, build_registry(settings)))
        server = AppServer(env, free_port(), stack.root / "app-postgres.log")
        server.wait_healthy()
        yield App(url=server.url, base_env=env, database="postgres")
    finally:
        if server is not None:
            server.stop()
        off_loop(lambda: run(admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')))


T = TypeVar("T")


def off_loop(work: Callable[[], T]) -> T:
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(work).result()


async def admin_sql(sql: str) -> None:
    conn = await asyncpg.connect(POSTGRES_ADMIN_URL, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def account(stack: App, role: str) -> str:
    """A new account with ``role``, made with the command as an operator would."""
    email = f"{role}-{uuid.uuid4().hex[:6]}@example.org"
    done = subprocess.run(
        [
            str(Path(sys.executable).parent / "mentoring40"),
            "users",
            "create",
            email,
            "--role",
            role,
        ],
        input=PASSWORD + "\n",
        env=stack.base_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return email


@pytest.fixture(scope="module")
def axe_context(browser: Any) -> Iterator[Any]:
    """CSP bypassed only so that axe can be injected (as in test_accessibility.py)."""
    require_axe()
    context = browser.new_context(
        bypass_csp=True, locale="de-DE", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def sign_in(page: Any, base: str, email: str, where: str) -> None:
    page.goto(f"{base}/anmelden?next={where}")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.get_by_role("button", name="Anmelden").click()
    page.wait_for_url(f"{base}{where}*")


def check(page: Any, name: str, database: str = "sqlite") -> None:
    """Screenshot, then axe: no violation at all."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    suffix = "" if database == "sqlite" else f"-{database}"
    page.screenshot(path=str(FOLDER / f"{name}{suffix}.png"), full_page=True)
    page.add_script_tag(path=str(require_axe()))
    results = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    found = [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
    ]
    assert not found, f"{name}:\n" + "\n".join(found)


def answer_through(browser: Any, link: str, level: str) -> None:
    """Open the invitation link in a fresh browser (nobody signed in), answer every
    question (``level`` where the scale has it, else "nein" or the first option), send."""
    context = browser.new_context(locale="de-DE")
    try:
        page = context.new_page()
        page.goto(link)
        expect(page.locator("[data-run-note]")).to_be_visible()
        page.evaluate(
            """(level) => {
              const groups = {};
              for (const r of document.querySelectorAll('form.quickcheck input[type=radio]'))
                (groups[r.name] ||= []).push(r);
              for (const radios of Object.values(groups)) {
                const pick = radios.find(r => r.value === level)
                  || radios.find(r => r.value === 'nein') || radios[0];
                pick.checked = true;
                pick.dispatchEvent(new Event('change', {bubbles: true}));
              }
            }""",
            level,
        )
        send_through_parts(page)
    finally:
        context.close()


def send_through_parts(page: Any) -> None:
    """The form shows one part at a time: go through them to "Auswerten" and send."""
    submit = page.get_by_role("button", name="Auswerten")
    for _part in range(10):
        if submit.is_visible():
            break
        page.get_by_role("button", name="Weiter").click()
    submit.click()
    page.wait_for_url("**/results/**")


def links(page: Any, phase: str) -> dict[str, str]:
    found = {}
    for perspective in ("unternehmen", "mitarbeitende"):
        found[perspective] = page.locator(
            f'[data-link="{phase}-{perspective}"] a[data-invitation]'
        ).get_attribute("href")
    return found


def test_a_whole_run_in_the_browser(app: App, browser: Any, axe_context: Any) -> None:
    stack = app
    base = stack.url
    lotse = account(stack, "lotse")
    page = axe_context.new_page()
    sign_in(page, base, lotse, "/durchlaeufe")
    check(page, "durchlaeufe-leer", app.database)

    page.get_by_role("link", name="Neuen Durchlauf anlegen").click()
    check(page, "durchlauf-neu", app.database)
    page.fill("#f-company", "Metallbau Weser")
    page.select_option("#f-region", "niedersachsen")
    page.select_option("#f-sector", "handwerk")
    page.select_option("#f-size_class", "klein")
    page.get_by_role("button", name="Durchlauf anlegen").click()
    expect(page.get_by_role("heading", name="Durchlauf: Metallbau Weser")).to_be_visible()
    run_url = page.url
    start = links(page, "start")
    assert start["unternehmen"].startswith(f"{base}/quickcheck/{QUICKCHECK}?run=")
    assert page.locator("[data-link] svg.qr title").count() == 2

    for _ in range(2):
        answer_through(browser, start["unternehmen"], "voll")
    for _ in range(4):
        answer_through(browser, start["mitarbeitende"], "kaum")

    page.goto(run_url)
    gaps = page.locator("[data-gaps]").first
    expect(gaps).to_contain_text("die Geschäftsführung die Lage deutlich besser ein")
    expect(page.locator(".run-table").first).not_to_contain_text("noch zu wenige")
    check(page, "durchlauf-beginn", app.database)

    page.get_by_role("button", name="Wiederholungsmessung öffnen").click()
    expect(page.get_by_role("status")).to_contain_text("Wiederholungsmessung ist geöffnet")
    end = links(page, "ende")
    answer_through(browser, end["unternehmen"], "voll")
    for _ in range(3):
        answer_through(browser, end["mitarbeitende"], "eher")
    page.goto(run_url)
    progress = page.locator("table[data-progress]")
    expect(progress).to_be_visible()
    change = progress.locator("tr", has_text="Gesamtergebnis").filter(has_text="Beschäftigte")
    expect(change.locator("td").last).to_have_text(re.compile(r"^\+\d+$"))
    check(page, "durchlauf-ende", app.database)

    page.get_by_role("link", name="Bericht zum Drucken").click()
    expect(
        page.get_by_role("heading", name="Bericht zum Durchlauf: Metallbau Weser")
    ).to_be_visible()
    check(page, "bericht", app.database)
    pdf = page.request.get(run_url + "/bericht.pdf")
    assert pdf.status == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "Bericht zum Durchlauf: Metallbau Weser" in text
    assert "Veränderung vom Beginn zum Ende" in text
    start_row = page.locator(".run-table").first.locator("tr", has_text="Gesamtergebnis")
    management_score = start_row.locator("td").first.inner_text().split(" ")[0]
    assert f"{management_score} (" in text

    evaluation = axe_context.new_page()
    evaluation.context.clear_cookies()
    sign_in(evaluation, base, account(stack, "auswertung"), "/auswertung")
    expect(evaluation.locator("[data-runs-total]")).to_contain_text("1 Durchläufe")
    expect(evaluation.locator("svg.chart").first).to_be_visible()
    check(evaluation, "auswertung", app.database)
    evaluation.select_option("#flt-region", "bayern")
    evaluation.get_by_role("button", name="Anwenden").click()
    expect(evaluation.locator("[data-runs-total]")).to_contain_text("0 Durchläufe")

    # An admin deletes the run, after confirming on a page of its own.
    admin = axe_context.new_page()
    admin.context.clear_cookies()
    sign_in(admin, base, account(stack, "admin"), run_url.removeprefix(base))
    admin.get_by_role("link", name="Durchlauf löschen …").click()
    expect(
        admin.get_by_role("heading", name="Durchlauf „Metallbau Weser“ löschen?")
    ).to_be_visible()
    expect(admin.locator("main")).to_contain_text("(10 Antworten)")
    check(admin, "durchlauf-loeschen", app.database)
    admin.get_by_label("Ja, den Durchlauf mit allen Antworten endgültig löschen").check()
    admin.get_by_role("button", name="Durchlauf löschen").click()
    expect(admin.get_by_role("status")).to_contain_text("ist gelöscht, mit allen seinen Antworten")
    check(admin, "durchlaeufe-nach-loeschen", app.database)
