"""The live consultation (issue 20) in a real browser, for the parts that the Quickcheck,
partner embeds and small screens own: the form in parts whose answers survive leaving the
page, a result the boss can keep, embeds that follow their content and explain a refusal,
tables and touch targets on a phone; axe at 1366×768, 1024×1366 and 390×844 in every
theme. Screenshots go to var/screenshots/issue20/."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    PARTNER_SITE,
    QUICKCHECK,
    SCREENSHOTS,
    THEME_SITES,
    TIMEOUT_MS,
    Stack,
    definition,
    get_json,
    plan_answers,
    require_axe,
    submit_quickcheck,
)
from tests.browser.test_embed import FRAME, mounted_frame
from tests.browser.test_workspace import answer

pytestmark = pytest.mark.browser

SIZES = {"laptop": (1366, 768), "tablet": (1024, 1366), "phone": (390, 844)}
SHOTS = SCREENSHOTS / "issue20"
FORM = f"/quickcheck/{QUICKCHECK}?perspective=mitarbeitende"

# Everything a finger or a mouse aims at, outside running text: its box (for a radio
# button or checkbox, its label's) must be at least 44 × 44 CSS pixels.
SMALL_TARGETS = """() => {
  const seen = [];
  const aimed = "button, .button, select, input[type=text], input[type=search], textarea, "
    + "input[type=radio], input[type=checkbox], .main-nav a, .embed-header a, .crumbs a, "
    + ".overview-link, .step-title a";
  for (const el of document.querySelectorAll(aimed)) {
    let box = el;
    if (el.matches("input[type=radio], input[type=checkbox]")) {
      box = document.querySelector(`label[for="${el.id}"]`) || el;
    }
    const r = box.getBoundingClientRect();
    const style = getComputedStyle(box);
    if (!r.width || !r.height || style.visibility === "hidden") continue;
    if (r.width < 43.5 || r.height < 43.5) {
      const text = box.textContent.trim().slice(0, 30);
      const size = `${Math.round(r.width)}×${Math.round(r.height)}`;
      seen.push(`${box.tagName.toLowerCase()}.${box.className} "${text}" ${size}`);
    }
  }
  return seen;
}"""


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def assert_fits_the_screen(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], f"scrolls sideways: {width} px"
    assert page.evaluate(SMALL_TARGETS) == []


@pytest.fixture(scope="module")
def boss_token(stack: Stack) -> str:
    token: str = submit_quickcheck(stack.url, "unternehmen")["token"]
    return token


def sized(browser: Any, size: str, **options: Any) -> Any:
    width, height = SIZES[size]
    context = browser.new_context(
        locale="de-DE", viewport={"width": width, "height": height}, **options
    )
    context.set_default_timeout(TIMEOUT_MS)
    return context


# -- the form -------------------------------------------------------------------------------


def test_form_in_parts_keeps_the_answers_until_it_is_sent(stack: Stack, browser: Any) -> None:
    doc = definition(stack.url, "mitarbeitende")
    plan = plan_answers(doc)
    context = sized(browser, "phone")
    try:
        page = context.new_page()
        # The Quickcheck comes before the feedback questionnaire.
        page.goto(stack.url + "/quickcheck")
        expect(page.locator(".card h2").first).to_have_text(doc["title"])

        page.goto(stack.url + FORM)
        progress = page.locator(".qc-progress")
        expect(progress).to_contain_text("Teil 1 von 5 · 0 von")
        expect(page.locator("[data-section]:visible")).to_have_count(1)
        expect(page.get_by_role("button", name="Auswerten")).to_be_hidden()
        # Optional questions are marked, required ones are not called "Pflichtfrage".
        optional = [i for i in doc["items"] if not i["required"]]
        expect(page.locator(".question .optional")).to_have_count(len(optional))
        expect(page.get_by_text("Pflichtfrage")).to_have_count(0)
        # On a phone the answer options stand one below the other.
        first = page.locator(".question").first.locator(".options li")
        lefts = {round(box["x"]) for box in (li.bounding_box() for li in first.all())}
        assert len(lefts) == 1, lefts
        assert_fits_the_screen(page)
        shot(page, "form-phone")

        # Answer into the second part; going on moves the focus to its heading.
        part_one = plan[0][0].get("dimension")
        second = next(n for n, (item, _) in enumerate(plan) if item.get("dimension") != part_one)
        for item, value in plan[:second]:
            answer(page, item, value)
        expect(progress).to_contain_text(f"Teil 1 von 5 · {second} von")
        page.get_by_role("button", name="Weiter").click()
        expect(progress).to_contain_text("Teil 2 von 5")
        assert page.evaluate("document.activeElement.id") == "teil-2-titel"
        answer(page, *plan[second])

        # Leaving the page and coming back: the answers and the part are still there.
        page.goto(stack.url + "/")
        page.goto(stack.url + FORM)
        expect(page.locator(".qc-restored")).to_contain_text("wiederhergestellt")
        expect(progress).to_contain_text("Teil 2 von 5")
        item, value = plan[0]
        assert page.locator(f"#a-{item['id']}-{value}").is_checked()

        for item, value in plan[second + 1 :]:
            answer(page, item, value)
        # The connection drops while sending (simulated in the browser: the shared server
        # must stay up for the other tests): nothing is lost, the answers are still kept.
        page.route("**" + FORM.split("?")[0], lambda route: route.abort("internetdisconnected"))
        with contextlib.suppress(Exception):
            page.get_by_role("button", name="Auswerten").click()
            page.wait_for_load_state()
        page.unroute("**" + FORM.split("?")[0])
        page.goto(stack.url + FORM)
        expect(page.locator(".qc-restored")).to_contain_text("wiederhergestellt")
        for _part in range(5):
            if page.get_by_role("button", name="Auswerten").is_visible():
                break
            page.get_by_role("button", name="Weiter").click()
        page.get_by_role("button", name="Auswerten").click()
        expect(page.locator("h1")).to_have_text("Ihr Ergebnis")
        # Sent: the browser keeps nothing more.
        page.goto(stack.url + FORM)
        expect(progress).to_contain_text("Teil 1 von 5 · 0 von")
        expect(page.locator(".qc-restored")).to_have_count(0)
    finally:
        context.close()


# -- the result -----------------------------------------------------------------------------


@pytest.mark.parametrize("size", list(SIZES))
def test_result_shows_the_boss_what_to_do_and_can_be_kept(
    stack: Stack, browser: Any, boss_token: str, size: str
) -> None:
    api = get_json(f"{stack.url}/api/v1/results/{boss_token}")["data"]
    address = f"{stack.url}/results/{boss_token}"
    context = sized(browser, size)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
    try:
        page = context.new_page()
        page.goto(address)
        # All areas' Ampeln at a glance, at the top of the page.
        tiles = page.locator(".ampel-overview li")
        expect(tiles).to_have_count(len(api["dimensions"]))
        assert tiles.first.bounding_box()["y"] < SIZES[size][1]
        for tile, part in zip(tiles.all(), api["dimensions"], strict=True):
            expect(tile).to_contain_text(part["title"])
            expect(tile).to_contain_text(part["ampel_label"])
        # Three next steps for the management, none twice; not "win over the management".
        steps = page.locator(".next-steps .step-title a")
        expect(steps).to_have_count(3)
        hrefs = [a.get_attribute("href") for a in steps.all()]
        assert len(set(hrefs)) == 3
        assert "/entries/geschaeftsfuehrung-gewinnen" not in hrefs
        assert tiles.first.bounding_box()["y"] < steps.first.bounding_box()["y"]
        # Scores in words, not in points.
        body = page.locator("main").inner_text()
        assert "von 100" not in body
        assert "gezählt" not in body
        expect(page.locator(".score-words").first).to_contain_text("erreicht")
        assert_fits_the_screen(page)
        shot(page, f"result-{size}")
        if size != "laptop":
            return

        # Link kopieren: the address of this result.
        page.get_by_role("button", name="Link kopieren").click()
        expect(page.locator("[data-action-status]").first).to_contain_text("Link kopiert")
        assert page.evaluate("navigator.clipboard.readText()") == address
        # The three steps onto the Merkliste at once (the header counts them).
        page.get_by_role("button", name="Die 3 Schritte auf die Merkliste").click()
        expect(page.locator("[data-shortlist-count]").first).to_have_text("3")
        expect(page.locator(".step [aria-pressed=true]")).to_have_count(3)
        # On paper: no buttons, the address and its QR code.
        page.emulate_media(media="print")
        expect(page.locator(".result-actions")).to_be_hidden()
        expect(page.locator(".result-qr svg.qr-code")).to_be_visible()
        expect(page.locator(".result-address")).to_contain_text(address)
        shot(page, "result-print")
    finally:
        context.close()


# -- embeds ---------------------------------------------------------------------------------


def frame_top(page: Any) -> float:
    top: float = page.locator(FRAME).evaluate("f => f.getBoundingClientRect().top")
    return top


def wait_for_frame_in_view(page: Any) -> None:
    page.wait_for_function(
        f"""() => {{
          const top = document.querySelector('{FRAME}').getBoundingClientRect().top;
          return top >= -2 && top < innerHeight * 0.8;
        }}""",
        timeout=TIMEOUT_MS,
    )


def test_embedded_quickcheck_follows_its_content_and_copies_its_own_link(
    stack: Stack, browser: Any
) -> None:
    doc = definition(stack.url, "unternehmen")
    context = sized(browser, "laptop")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.partner.url)
    try:
        page = context.new_page()
        page.goto(stack.partner.url + "/quickcheck.html")
        frame = mounted_frame(page)
        frame.get_by_role("link", name="Unternehmen / Geschäftsführung", exact=True).click()
        plan = plan_answers(doc)
        for item, value in plan:
            answer(frame, item, value)
        # Far down the partner page, below the frame's top, the form is sent...
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        assert frame_top(page) < 0
        frame.get_by_role("button", name="Auswerten").click()
        expect(frame.locator("h1")).to_have_text("Ihr Ergebnis")
        # ... and the partner page shows the start of the result.
        wait_for_frame_in_view(page)
        shot(page, "embed-result-laptop")

        # "Link kopieren" copies the result's own address, not the partner page's.
        frame.get_by_role("button", name="Link kopieren").click()
        expect(frame.locator("[data-action-status]").first).to_contain_text("Link kopiert")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert re.fullmatch(rf"{stack.url}/embed/{PARTNER_SITE}/results/[\w-]+", copied), copied
        assert copied == frame.url

        # A method opened far down the result: the partner page scrolls to its start.
        page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
        assert frame_top(page) < 0
        frame.locator(".result-card .ref-list a").last.click()
        expect(frame.locator(".entry-header h1")).to_be_visible()
        wait_for_frame_in_view(page)
    finally:
        context.close()


def test_site_page_says_which_origins_may_embed_and_copies_snippets(
    stack: Stack, browser: Any
) -> None:
    context = sized(browser, "phone")
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
    try:
        page = context.new_page()
        page.goto(f"{stack.url}/sites/{PARTNER_SITE}")
        help_box = page.locator(".origin-help")
        expect(help_box).to_contain_text(stack.partner.url)
        expect(help_box).to_contain_text(f"sites/{PARTNER_SITE}.yaml")
        expect(help_box).to_contain_text("origins:")
        expect(help_box).to_contain_text("neu starten")
        snippet = page.locator(".snippet").first
        snippet.get_by_role("button", name=re.compile("^Kopieren")).click()
        expect(snippet.locator("[data-action-status]")).to_contain_text("kopiert")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied == snippet.locator("textarea").input_value()
        assert f'data-site="{PARTNER_SITE}"' in copied
        assert_fits_the_screen(page)
        shot(page, "site-phone")
    finally:
        context.close()


# -- phone: entries with tables -------------------------------------------------------------


def test_no_entry_scrolls_sideways_on_a_phone_tables_scroll_in_their_box(
    stack: Stack, browser: Any
) -> None:
    entries = get_json(f"{stack.url}/api/v1/entries?page_size=100")["data"]
    with_tables = 0
    context = sized(browser, "phone")
    try:
        page = context.new_page()
        for entry in entries:
            page.goto(f"{stack.url}/entries/{entry['slug']}")
            width = page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390, (entry["slug"], width)
            tables = page.locator(".prose table")
            if tables.count():
                with_tables += 1
                # Every table in a box that scrolls and takes the keyboard focus.
                expect(page.locator(".prose .table-scroll > table")).to_have_count(tables.count())
                expect(page.locator(".table-scroll").first).to_have_attribute("tabindex", "0")
                shot(page, "entry-table-phone")
        assert with_tables >= 3
    finally:
        context.close()


# -- axe at every size in every theme ---------------------------------------------------------


@pytest.fixture(scope="module")
def axe_page(browser: Any) -> Iterator[Any]:
    """CSP bypassed only so that axe can be injected (see test_accessibility)."""
    require_axe()
    context = browser.new_context(bypass_csp=True, locale="de-DE")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.mark.parametrize("theme", list(THEME_SITES))
def test_no_axe_violations_at_any_size(
    stack: Stack, axe_page: Any, boss_token: str, theme: str
) -> None:
    axe = str(require_axe())
    base = stack.workspace(theme)
    site = THEME_SITES[theme]
    paths = [
        FORM,
        f"/results/{boss_token}",
        f"/sites/{site}",
        f"/embed/{site}/results/{boss_token}",
    ]
    problems = []
    page = axe_page.new_page()
    try:
        for size, (width, height) in SIZES.items():
            page.set_viewport_size({"width": width, "height": height})
            for path in paths:
                page.goto(base + path)
                expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
                page.add_script_tag(path=axe)
                found = page.evaluate(
                    "async () => (await axe.run(document, {resultTypes: ['violations'], "
                    "iframes: false})).violations.map(v => `${v.id} (${v.impact}): ${v.help} "
                    "${v.nodes.slice(0, 3).map(n => n.target).join(' ')}`)"
                )
                problems += [f"{size} {path}: {v}" for v in found]
                if size == "tablet" and path == FORM:
                    shot(page, f"form-tablet-{theme}")
    finally:
        page.close()
    assert problems == [], "\n".join(problems)
