"""The live consultation in a real browser (issue 20): the Lotse's flow counted in clicks,
nothing lost on the way back to the search, several Merklisten, a shared list read-only,
reordering in place with the focus kept, the printed handout (PDF page count, QR code),
the keyboard, and the pages at three screen sizes in every theme (axe: no violation at
all, no horizontal scrolling, screenshots in var/screenshots/<theme>/consultation-*.png).

One browser and one app for the module (the package's stack); each test opens its own
context, so that its storage starts empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    SCREENSHOTS,
    THEME_SITES,
    TIMEOUT_MS,
    Stack,
    require_axe,
)
from tests.browser.test_workspace import pdf_pages_and_title

pytestmark = pytest.mark.browser

SIZES = {"laptop": (1366, 768), "tablet": (1024, 1366), "phone": (390, 844)}
COMPANY = "Metallbau Schulte GmbH"
STEPS = "Kick-off am 12. Januar\nTandems bis Ende Januar bilden"
# Entries without wide tables: tables scrolling in their own box is another change (s20b).
TABLE_FREE = ("internes-wiki", "gemeinsamer-kalender", "phishing-erkennen")
# window.print() opens a dialog a headless browser cannot show: recorded instead; the
# printout itself is checked with page.pdf(), which renders the same print media.
RECORD_PRINT = "window.print = () => { window.printed = (window.printed || 0) + 1; };"


def new_context(browser: Any, size: str = "laptop", **options: Any) -> Any:
    width, height = SIZES[size]
    context = browser.new_context(
        locale="de-DE", viewport={"width": width, "height": height}, **options
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(RECORD_PRINT)
    return context


@pytest.fixture
def laptop(browser: Any) -> Iterator[Any]:
    context = new_context(browser)
    try:
        yield context
    finally:
        context.close()


class Counted:
    """The Lotse's clicks and keystrokes, counted as they happen."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.clicks = 0
        self.keys = 0

    def click(self, locator: Any) -> None:
        locator.click()
        self.clicks += 1

    def type(self, text: str) -> None:
        self.page.keyboard.type(text, delay=5)
        self.keys += len(text)

    def press(self, key: str) -> None:
        self.page.keyboard.press(key)
        self.keys += 1


def hits(page: Any) -> list[str]:
    slugs: list[str] = page.locator("[data-results] > .hit-list > .hit").evaluate_all(
        "hits => hits.map(h => h.dataset.slug)"
    )
    return slugs


def no_horizontal_scroll(page: Any) -> None:
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], f"{page.url}: {widths[0]} px wide at {widths[1]} px"


def test_search_three_entries_new_list_with_title_and_steps_print_in_eight_clicks(
    stack: Stack, laptop: Any
) -> None:
    page = laptop.new_page()
    lotse = Counted(page)
    page.goto(stack.url + "/")
    expect(page.locator("#q")).to_be_focused()  # typing starts at once
    lotse.type("Tandem")
    expect(page.locator(".result-count")).to_contain_text(
        re.compile(r"^\s*\d+ Treffer für „Tandem“")
    )
    found = hits(page)
    assert len(found) >= 3

    lotse.click(page.locator(f'[data-slug="{found[0]}"] [data-hit-link]'))
    opened = []
    for n in range(3):
        expect(page).to_have_url(re.compile(rf"/entries/{found[n]}$"))
        opened.append(page.locator("h1").inner_text())
        lotse.click(page.get_by_role("button", name="Auf die Merkliste"))
        expect(page.locator("[data-shortlist-count]")).to_have_text(str(n + 1))
        if n < 2:
            lotse.click(page.locator("[data-next-hit]"))

    lotse.click(page.get_by_role("link", name=re.compile("^Merkliste")))
    expect(page.locator("h1")).to_have_text("Merkliste für das Beratungsgespräch")
    # A new list: its title field has the focus; the steps are one Tab further.
    expect(page.get_by_label("Titel der Handreichung")).to_be_focused()
    lotse.type(COMPANY)
    lotse.press("Tab")
    expect(page.get_by_label("Vereinbarte nächste Schritte")).to_be_focused()
    for n, line in enumerate(STEPS.split("\n")):
        if n:
            lotse.press("Enter")
        lotse.type(line)
    expect(page.locator(".handout-title")).to_have_text(COMPANY)  # no "übernehmen" needed
    lotse.click(page.get_by_role("button", name="Als Handreichung drucken"))
    page.wait_for_function("() => window.printed === 1")

    assert lotse.clicks <= 8, lotse.clicks
    print(f"\nLotse flow: {lotse.clicks} clicks, {lotse.keys} keystrokes")

    # What is printed: the first page with the three methods, the steps, link and QR code.
    handout = page.locator(".handout")
    expect(handout.locator(".handout-overview-title")).to_have_text(opened)
    expect(handout.locator("[data-handout-steps]")).to_have_text(STEPS)
    share = handout.locator("[data-handout-url]").inner_text()
    query = parse_qs(urlsplit(share).query)
    assert query["titel"] == [COMPANY]
    assert query["e"] == found[:3]
    assert query["schritte"] == [STEPS]
    assert "liste" not in query
    qr = handout.locator("img.handout-qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert qr.get_attribute("src") == share.replace(stack.url + "/merkliste?", "/merkliste/qr.svg?")
    pdf = page.pdf(format="A4", print_background=True)
    pages, title = pdf_pages_and_title(pdf)
    assert COMPANY in title
    # Compact by default: the first page, then each method briefly (its link, no text).
    assert pages <= 2, pages
    page.get_by_label("Vollständige Anleitungen mitdrucken").check()
    full_pages, _ = pdf_pages_and_title(page.pdf(format="A4", print_background=True))
    # With the full texts, the methods follow one another instead of a page each.
    assert pages < full_pages, full_pages
    print(f"Handout of 3 methods: {pages} A4 pages, with the full texts {full_pages}")
    page.emulate_media(media="print")
    full_shot = SCREENSHOTS / "default" / "consultation-handout-full-print.png"
    page.screenshot(path=str(full_shot), full_page=True)
    page.emulate_media(media="screen")
    page.get_by_label("Vollständige Anleitungen mitdrucken").uncheck()
    page.emulate_media(media="print")
    folder = SCREENSHOTS / "default"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "consultation-handout-print.png"), full_page=True)
    for control in (".site-header", ".shortlist-tools", ".site-footer"):
        expect(page.locator(control).first).to_be_hidden()
    expect(page.locator(".handout-first")).to_be_visible()

    # The title and steps were kept as typed: a reload shows them.
    page.emulate_media(media="screen")
    page.reload()
    expect(page.get_by_label("Titel der Handreichung")).to_have_value(COMPANY)
    expect(page.get_by_label("Vereinbarte nächste Schritte")).to_have_value(STEPS)


def test_back_to_search_returns_to_query_filters_and_scroll_position(
    stack: Stack, laptop: Any
) -> None:
    page = laptop.new_page()
    page.goto(stack.url + "/")
    page.locator("#q").press_sequentially("Tandem", delay=20)
    expect(page.locator(".result-count")).to_contain_text("für „Tandem“")
    box = page.locator(".facet input[name=phase]:not([disabled])").first
    box.check()
    expect(page).to_have_url(re.compile(r"phase="))
    searched = page.url
    listed = hits(page)
    assert len(listed) >= 5, listed
    target = page.locator("[data-hit-link]").nth(len(listed) - 1)
    target.scroll_into_view_if_needed()
    page.wait_for_timeout(300)  # the position is saved after scrolling stops
    scrolled = page.evaluate("() => window.scrollY")
    assert scrolled > 100
    target.click()
    expect(page).to_have_url(re.compile(rf"/entries/{listed[-1]}$"))
    back = page.get_by_role("link", name="← Zur Suche")
    assert back.get_attribute("href") == searched.removeprefix(stack.url)
    back.click()
    expect(page).to_have_url(searched)
    expect(page.locator("#q")).to_have_value("Tandem")
    expect(page.locator(f'.facet input[value="{box.get_attribute("value")}"]')).to_be_checked()
    page.wait_for_function(f"() => Math.abs(window.scrollY - {scrolled}) < 5")
    # The entry just read has the focus: the keyboard goes on from there.
    expect(page.locator("[data-hit-link]").nth(len(listed) - 1)).to_be_focused()


def test_lists_by_company_shared_read_only_and_reordered_in_place(
    stack: Stack, browser: Any
) -> None:
    lotse = new_context(browser)
    boss = new_context(browser)
    try:
        page = lotse.new_page()
        page.goto(stack.url + f"/entries/{TABLE_FREE[0]}")
        page.get_by_role("button", name="Auf die Merkliste").click()
        page.get_by_role("link", name=re.compile("^Merkliste")).click()
        page.get_by_label("Titel der Handreichung").fill("Tischlerei Beispiel")
        expect(page).to_have_url(re.compile(r"titel=Tischlerei"))

        # "Neue Merkliste": a fresh one; the earlier one stays, by its title.
        page.get_by_role("button", name="Neue Merkliste").click()
        expect(page.get_by_label("Titel der Handreichung")).to_have_value("")
        earlier = page.get_by_role("navigation", name="Frühere Merklisten in diesem Browser")
        expect(earlier.get_by_role("link", name="Tischlerei Beispiel")).to_be_visible()
        page.get_by_label("Titel der Handreichung").fill(COMPANY)
        for slug in TABLE_FREE:
            page.goto(stack.url + f"/entries/{slug}")
            page.get_by_role("button", name="Auf die Merkliste").click()
        page.get_by_role("link", name=re.compile("^Merkliste")).click()
        order = page.locator("[data-shortlist-order] > li")
        expect(order).to_have_count(3)
        # Titles on the list link to their entries.
        expect(order.first.get_by_role("link")).to_have_attribute(
            "href", f"/entries/{TABLE_FREE[0]}"
        )

        # Reordering by keyboard: in place (no page load) and the focus stays on the button.
        page.evaluate("() => { window.samePage = true; }")
        first_title = order.first.get_attribute("data-title")
        down = page.get_by_role("button", name=f"{first_title} nach unten")
        down.focus()
        page.keyboard.press("Enter")
        expect(order.nth(1)).to_have_attribute("data-slug", TABLE_FREE[0])
        expect(down).to_be_focused()
        page.keyboard.press("Enter")
        expect(order.nth(2)).to_have_attribute("data-slug", TABLE_FREE[0])
        expect(down).to_be_focused()
        expect(page.locator("[data-share-status]")).to_contain_text("an Stelle 3 von 3")
        expect(page.locator(".handout-entry").nth(2)).to_have_attribute("data-slug", TABLE_FREE[0])
        expect(page.locator(".handout-entry h3").nth(2)).to_contain_text(f"3. {first_title}")
        assert page.evaluate("() => window.samePage") is True
        expect(page).to_have_url(re.compile(rf"e={TABLE_FREE[0]}(&|$)"))
        page.get_by_label(f"Notiz zu „{first_title}“ (optional)").fill("Erst nach dem Kick-off")
        page.get_by_label("Ihre Kontaktangabe auf der Handreichung (optional)").fill(
            "Lotsin Beispiel"
        )
        expect(page.locator(f'[data-handout-note="{TABLE_FREE[0]}"]')).to_have_text(
            "Notiz: Erst nach dem Kick-off"
        )
        page.get_by_role("link", name="Link kopieren").click()
        status = page.locator("[data-share-status]")
        expect(status).to_contain_text("/merkliste?")
        link = re.search(r"http://\S+", status.inner_text())
        assert link is not None
        shared = link[0]
        assert "liste=" not in shared

        # The boss (or another Lotse, with a list of their own) opens the link.
        other = boss.new_page()
        other.goto(stack.url + "/entries/" + TABLE_FREE[1])
        other.get_by_role("button", name="Auf die Merkliste").click()
        other.goto(shared)
        expect(other.locator("h1")).to_have_text(COMPANY)
        expect(other.locator(".handout-overview-title")).to_have_count(3)
        expect(other.locator(".handout-note").last).to_have_text("Notiz: Erst nach dem Kick-off")
        expect(other.locator("[data-handout-contact]")).to_have_text("Lotsin Beispiel")
        # Clean: nothing to edit, reorder or remove.
        for control in ("textarea", "input[type=text]", "[data-move]", "[data-remove]"):
            expect(other.locator(control)).to_have_count(0)
        # Their own list was not replaced by opening the link.
        expect(other.locator("[data-shortlist-count]")).to_have_text("1")
        other.get_by_role("button", name="In meine Merklisten übernehmen").click()
        expect(other.get_by_label("Titel der Handreichung")).to_have_value(COMPANY)
        expect(other.locator("[data-shortlist-order] > li")).to_have_count(3)
        expect(other.locator("[data-shortlist-count]")).to_have_text("3")
        expect(other.locator("[data-other-lists] li")).to_have_count(1)  # their own one
    finally:
        lotse.close()
        boss.close()


def test_title_typed_before_the_list_script_ran_is_kept(stack: Stack, laptop: Any) -> None:
    """On a slow line the Lotse types the title before the deferred merkliste.js has run
    (CI once typed that early); the script must take what is typed, not the empty URL."""
    page = laptop.new_page()
    page.goto(stack.url + f"/entries/{TABLE_FREE[0]}")
    page.get_by_role("button", name="Auf die Merkliste").click()
    mine = page.get_by_role("link", name=re.compile("^Merkliste"))
    expect(mine).to_have_attribute("href", re.compile("liste="))
    release = hold_script(page, "merkliste.js")
    page.goto(stack.url + str(mine.get_attribute("href")), wait_until="commit")
    title = page.get_by_label("Titel der Handreichung")
    title.fill("Bäckerei vor dem Skript")
    expect(page).not_to_have_url(re.compile("titel="))
    release()
    expect(page).to_have_url(re.compile(r"titel=B%C3%A4ckerei(\+|%20)vor"))
    expect(page.locator("[data-handout-title]")).to_have_text("Bäckerei vor dem Skript")
    page.reload()
    expect(title).to_have_value("Bäckerei vor dem Skript")


def hold_script(page: Any, name: str) -> Any:
    """Holds the page's request for ``name`` back; returns a function that lets it load."""
    pattern = re.compile(rf"/{re.escape(name)}(\?|$)")
    held: list[Any] = []
    page.route(pattern, lambda route: held.append(route))

    def release() -> None:
        for _ in range(100):  # the held request reaches the handler while Playwright waits
            if held:
                break
            page.wait_for_timeout(50)
        assert len(held) == 1, f"{name} was not requested"
        held[0].continue_()
        page.unroute(pattern)

    return release


def test_query_typed_before_the_search_script_ran_is_searched(stack: Stack, laptop: Any) -> None:
    page = laptop.new_page()
    release = hold_script(page, "search.js")
    page.goto(stack.url + "/", wait_until="commit")
    page.get_by_role("searchbox").first.fill("Konflikt im Tandem")
    release()
    expect(page).to_have_url(re.compile(r"q=Konflikt"))
    assert hits(page)[0] == "konflikte-im-tandem"


def test_keyboard_skip_link_slash_live_count_and_filter_reset(stack: Stack, laptop: Any) -> None:
    page = laptop.new_page()
    page.goto(stack.url + "/?q=Tandem")
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
    # Only the number of hits is announced; the results area is no live region.
    assert page.locator("#ergebnisse").get_attribute("aria-live") is None
    page.locator("#q").fill("")
    page.locator("#q").press_sequentially("Wiki", delay=20)
    expect(page.locator("[role=status][data-live-count]")).to_have_text(
        re.compile(r"^\d+ Treffer für „Wiki“$")
    )
    # From the search box to the first hit: Tab, Tab, Enter (skip link), Tab.
    page.locator("#q").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Zu den Treffern")).to_be_focused()
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    expect(page.locator("[data-hit-link]").first).to_be_focused()

    # "/" from a checkbox goes to the search box.
    boxes = page.locator(".facet input[type=checkbox]:not([disabled])")
    boxes.first.focus()
    page.keyboard.press("/")
    expect(page.locator("#q")).to_be_focused()
    expect(page.locator("#q")).to_have_value("Wiki")

    # Filters: one that would give no hits is shown but not offered; reset clears them all.
    expect(page.locator(".facet input[type=checkbox][disabled]").first).to_be_attached()
    boxes.first.check()
    expect(page.locator("[data-filter-count]")).to_have_text(" (1)")
    reset = page.get_by_role("link", name="Filter zurücksetzen")
    reset.click()
    expect(page.locator(".facet input:checked")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/\?q=Wiki$"))
    expect(reset).to_be_hidden()

    # The entry: the next Tab stop after "Zur Suche" is "Auf die Merkliste".
    page.locator("[data-hit-link]").first.click()
    page.get_by_role("link", name="← Zur Suche").focus()
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Auf die Merkliste")).to_be_focused()
    # "/" on a page without a search box opens the last search.
    page.keyboard.press("/")
    expect(page).to_have_url(re.compile(r"/\?q=Wiki$"))
    expect(page.locator("#q")).to_be_focused()

    # No hits: topics and the nearest entries instead of an empty page.
    page.locator("#q").fill("qqxqzzv")
    expect(page.locator(".result-count")).to_contain_text("Keine Treffer")
    expect(page.locator(".no-hits .topic-links a").first).to_be_visible()


# -- every size, every theme ------------------------------------------------------------------


def consultation_pages(stack: Stack) -> dict[str, str]:
    shared = (
        f"/merkliste?titel={COMPANY.replace(' ', '+')}"
        + "".join(f"&e={slug}" for slug in TABLE_FREE)
        + "&schritte=Kick-off+planen&notiz-internes-wiki=Zuerst&kontakt=Lotsin+Beispiel"
    )
    return {
        "search": "/?q=Tandem",
        "search-filtered": "/?q=Tandem&audience=mentee",
        "no-hits": "/?q=qqxqzzv",
        "entry": f"/entries/{TABLE_FREE[0]}",
        "merkliste": shared.replace("/merkliste?", "/merkliste?liste=test1&"),
        "merkliste-shared": shared,
    }


@pytest.mark.parametrize("theme", list(THEME_SITES))
def test_consultation_pages_at_three_sizes_have_no_axe_violations(
    stack: Stack, browser: Any, theme: str
) -> None:
    axe = str(require_axe())
    base = stack.workspace(theme)
    folder = SCREENSHOTS / theme
    folder.mkdir(parents=True, exist_ok=True)
    problems = []
    for size in SIZES:
        # bypass_csp only so that axe can be injected (see test_accessibility.py).
        context = new_context(browser, size, bypass_csp=True)
        try:
            page = context.new_page()
            for name, path in consultation_pages(stack).items():
                page.goto(base + path)
                expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
                if name.startswith("merkliste"):
                    expect(page.locator("img.handout-qr")).to_have_js_property("complete", True)
                if name == "search" and size == "phone":
                    # Filters folded under "Filter": the first hit is in view at once.
                    expect(page.locator("[data-filter-panel]")).not_to_have_attribute("open", "")
                    top = page.locator(".hit").first.bounding_box()
                    assert top["y"] + 40 < SIZES[size][1], top
                if name == "search" and size != "phone":
                    expect(page.locator("[data-filter-panel]")).to_have_attribute("open", "")
                no_horizontal_scroll(page)
                page.screenshot(
                    path=str(folder / f"consultation-{name}-{size}.png"), full_page=True
                )
                page.add_script_tag(path=axe)
                result = page.evaluate(
                    "() => axe.run(document, {resultTypes: ['violations'], iframes: false})"
                )
                for v in result["violations"]:
                    targets = [n["target"] for n in v["nodes"][:5]]
                    problems.append(f"{theme} {size} {path}: {v['id']} ({v['impact']}) {targets}")
        finally:
            context.close()
    assert not problems, "\n".join(problems)
