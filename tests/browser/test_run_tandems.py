"""Tandem matching of a run in a real Chromium (issue 18): the Lotse opens the profile
links; mentors and mentees fill in the tandem profile through them with a pseudonym; the
fit matrix explains a cell; one click proposes the tandems; the Lotse pins another pair
and re-runs (the page says what changed); she agrees and prints the hand-out, whose PDF
carries the pairs. axe-core finds no violation, on a wide and a phone-sized screen; the
pages are kept as screenshots in var/screenshots/runs/tandems-*.png."""

from __future__ import annotations

import io
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from playwright.sync_api import expect
from pypdf import PdfReader

from tests.browser.conftest import Stack
from tests.browser.test_runs import (  # noqa: F401
    account,
    axe_context,
    check,
    send_through_parts,
    sign_in,
)


def shoot(page: Any, name: str) -> None:
    """Screenshot and axe, as the run test does (var/screenshots/runs/tandems-*.png)."""
    check(page, f"tandems-{name}")


def profile_through(browser: Any, link: str, pseudonym: str, themen: list[str]) -> None:
    """Fill in the tandem profile through a profile link in a fresh browser."""
    context = browser.new_context(locale="de-DE")
    try:
        page = context.new_page()
        page.goto(link)
        expect(page.locator("[data-run-note]")).to_be_visible()
        page.fill("#qc-pseudonym", pseudonym)
        page.evaluate(
            """(themen) => {
              const form = document.querySelector('form.quickcheck');
              for (const box of form.querySelectorAll('input[type=checkbox]')) {
                // Version 2 asks for the mentee's experience too (reverse direction).
                box.checked = themen.includes(box.value) || box.value === 'kundenkontakt';
                box.dispatchEvent(new Event('change', {bubbles: true}));
              }
              const groups = {};
              for (const r of form.querySelectorAll('input[type=radio]'))
                (groups[r.name] ||= []).push(r);
              for (const radios of Object.values(groups)) {
                const pick = radios.find(r => r.value === 'voll')
                  || radios.find(r => r.value === 'nein')
                  || radios.find(r => r.value === 'gleitzeit')
                  || radios.find(r => r.value === 'beides') || radios[0];
                pick.checked = true;
                pick.dispatchEvent(new Event('change', {bubbles: true}));
              }
            }""",
            themen,
        )
        send_through_parts(page)
    finally:
        context.close()


def test_tandems_from_profile_links_to_handout(
    stack: Stack,
    browser: Any,
    axe_context: Any,  # noqa: F811
) -> None:
    base = stack.url
    page = axe_context.new_page()
    sign_in(page, base, account(stack, "lotse"), "/durchlaeufe")
    page.get_by_role("link", name="Neuen Durchlauf anlegen").click()
    page.fill("#f-company", "Druckerei Lahn")
    page.select_option("#f-region", "hessen")
    page.select_option("#f-sector", "industrie")
    page.select_option("#f-size_class", "klein")
    page.get_by_role("button", name="Durchlauf anlegen").click()
    page.get_by_role("link", name="Tandembildung").click()
    expect(page.get_by_role("heading", name="Tandembildung: Druckerei Lahn")).to_be_visible()
    page.get_by_role("button", name="Profil-Links öffnen").click()
    tandem_url = page.url.split("?")[0]
    mentor_link = page.locator('[data-link="profil-mentor"] a[data-invitation]').get_attribute(
        "href"
    )
    mentee_link = page.locator('[data-link="profil-mentee"] a[data-invitation]').get_attribute(
        "href"
    )
    assert mentor_link is not None
    assert mentee_link is not None
    assert page.locator("[data-link] svg.qr title").count() == 2
    shoot(page, "tandembildung-leer")

    profile_through(browser, mentor_link, "Lernfuchs", ["videokonferenzen", "cloud-ablage"])
    profile_through(browser, mentor_link, "Team Blau 2", ["tabellenkalkulation"])
    profile_through(browser, mentee_link, "Eule", ["videokonferenzen"])
    profile_through(browser, mentee_link, "Dachs", ["tabellenkalkulation", "cloud-ablage"])

    page.goto(tandem_url)
    matrix = page.locator("table[data-matrix]")
    expect(matrix.locator("th[scope=col]")).to_have_count(3)
    cell = matrix.locator('[data-cell="Lernfuchs|Eule"]')
    cell.locator("summary").click()
    expect(cell).to_contain_text("Digitale Themen passen: Videokonferenzen.")
    shoot(page, "matrix")

    page.get_by_role("button", name="Optimale Zuordnung vorschlagen").click()
    proposal = page.locator("table[data-proposal]")
    expect(proposal).to_contain_text("Lernfuchs")
    expect(proposal.locator("tbody tr")).to_have_count(2)
    first = {
        tuple(row.locator("th, td").all_inner_texts()[:2])
        for row in proposal.locator("tbody tr").all()
    }
    assert ("Lernfuchs", "Eule") in first
    # Pin the pair the optimum left out, re-run: it is in, the page says what changed.
    page.select_option("#m-mentor", "Lernfuchs")
    page.select_option("#m-mentee", "Dachs")
    page.select_option("#m-art", "pin")
    page.locator("form:has(#m-art)").get_by_role("button", name="Speichern").click()
    expect(page.get_by_role("status")).to_contain_text("Markierung ist gespeichert")
    page.get_by_role("button", name="Optimale Zuordnung vorschlagen").click()
    expect(page.locator("[data-before-after]")).to_contain_text("Vorher: Summe")
    expect(page.locator("[data-change]")).to_contain_text("Neu: Lernfuchs – Dachs")
    expect(proposal).to_contain_text("(festgelegt)")
    shoot(page, "vorschlag-nach-festlegen")

    page.get_by_role("button", name="Diese Tandems vereinbaren").click()
    expect(page.locator("[data-agreed]")).to_contain_text("Lernfuchs – Dachs")
    page.get_by_role("link", name="Ausgabe zum Drucken").click()
    expect(page.get_by_role("heading", name="Unsere Tandems: Druckerei Lahn")).to_be_visible()
    expect(page.locator(".handout-pair").first).to_contain_text("Tandem-Steckbrief")
    shoot(page, "ausgabe")
    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    page.emulate_media(media="screen")
    pdf = page.request.get(tandem_url + "/ausgabe.pdf")
    assert pdf.status == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.body())).pages)
    assert "Tandem: Lernfuchs und Dachs" in text
    assert "Ablauf eines Tandem-Treffens" in text

    # A phone-sized screen: the matrix scrolls in its own region, no axe violation.
    page.set_viewport_size({"width": 375, "height": 800})
    page.goto(tandem_url)
    shoot(page, "matrix-schmal")

    # Leave no run behind: the run test (same stack) counts the runs of the dashboard.
    # Deleting a run takes an API key with runs:write, made as an operator would.
    made = subprocess.run(
        [str(Path(sys.executable).parent / "mentoring40"), "keys", "create",
         "--name", f"aufraeumen-{uuid.uuid4().hex[:6]}", "--scope", "runs:write"],
        env=stack.base_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert made.returncode == 0, made.stdout + made.stderr
    run_id = tandem_url.rstrip("/").split("/")[-2]
    gone = page.request.delete(
        f"{base}/api/v1/runs/{run_id}",
        headers={"Authorization": f"Bearer {made.stdout.strip()}"},
    )
    assert gone.status == 204
    # With the run, its pool and every profile response are gone.
    assert page.request.get(tandem_url).status == 404
