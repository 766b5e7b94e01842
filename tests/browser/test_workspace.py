"""The Lotse workspace in a real browser: live search, facets, keyboard, the Merkliste
(order, print, share) and the same pages without JavaScript."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    QUICKCHECK,
    SCREENSHOTS,
    TIMEOUT_MS,
    Stack,
    definition,
    get_json,
    plan_answers,
)

pytestmark = pytest.mark.browser

HANDOUT_TITLE = "Bäckerei Müller – Auftakt"


def result_count(page: Any) -> int:
    return int(page.locator(".result-count").get_attribute("data-total"))


def shortlist_slugs(page: Any) -> list[str]:
    slugs: list[str] = page.locator("[data-shortlist-order] li").evaluate_all(
        "items => items.map(li => li.dataset.slug)"
    )
    return slugs


def pdf_pages_and_title(pdf: bytes) -> tuple[int, str]:
    """Page count and document title of a Chromium PDF without a PDF library: Chromium
    writes page objects and the Info dictionary uncompressed (the title as UTF-16 hex)."""
    pages = len(re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf))
    found = re.search(rb"/Title\s*<FEFF([0-9A-Fa-f]*)>", pdf)
    title = bytes.fromhex(found[1].decode()).decode("utf-16-be") if found else ""
    return pages, title


def test_lotse_searches_collects_orders_prints_and_shares(stack: Stack, browser: Any) -> None:
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.goto(stack.url + "/")
    expect(page.locator("h1")).to_have_text("Werkzeugkasten durchsuchen")
    everything = result_count(page)
    assert everything > 10

    # Live search: the results change while typing, no Enter, no page load.
    page.evaluate("() => { window.sameDocument = true; }")
    page.locator("#q").press_sequentially("Tandem", delay=40)
    expect(page.locator(".result-count")).to_contain_text("für „Tandem“")
    expect(page).to_have_url(re.compile(r"[?&]q=Tandem\b"))
    with_query = result_count(page)
    assert 1 < with_query < everything
    expect(page.locator(".hit")).to_have_count(min(with_query, 20))

    # A facet narrows the hits to its count; the URL carries the filter.
    facet = (
        page.locator(".facet")
        .filter(has=page.locator("legend", has_text="Thema"))
        .locator("li")
        .filter(has_not_text="(0)")
    )
    counts = [int(re.search(r"\((\d+)\)", t)[1]) for t in facet.all_inner_texts()]
    pick = next(i for i, n in enumerate(counts) if 0 < n < with_query)
    box = facet.nth(pick).locator("input[type=checkbox]")
    topic = box.get_attribute("value")
    box.check()
    expect(page.locator(".result-count")).to_have_attribute("data-total", str(counts[pick]))
    expect(page).to_have_url(re.compile(rf"[?&]topic={topic}\b"))
    expect(page.locator(".hit")).to_have_count(min(counts[pick], 20))
    assert page.evaluate("() => window.sameDocument") is True  # all without a page load

    # Keyboard: ArrowDown from the search box reaches the first hit, Enter opens it.
    first_hit = page.locator("[data-hit-link]").first
    first_slug = page.locator(".hit").first.get_attribute("data-slug")
    first_title = first_hit.inner_text()
    page.locator("#q").focus()
    page.keyboard.press("ArrowDown")
    expect(first_hit).to_be_focused()
    expect(page.locator(".hit").first).to_have_class(re.compile(r"\bis-active\b"))
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/entries/{first_slug}$"))
    expect(page.locator("h1")).to_have_text(first_title)

    # On the entry page: onto the Merkliste.
    add = page.get_by_role("button", name="Auf die Merkliste")
    add.click()
    expect(page.get_by_role("button", name="Auf der Merkliste ✓")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(page.locator("[data-shortlist-count]")).to_have_text("1")

    # Two more from the hit list of another search.
    page.goto(stack.url + "/?q=Wiki")
    listed = page.locator(".hit").evaluate_all("hits => hits.map(h => h.dataset.slug)")
    more = [slug for slug in listed if slug != first_slug][:2]
    assert len(more) == 2, more
    for slug in more:
        page.locator(f'.hit[data-slug="{slug}"] [data-shortlist-add]').click()
    expect(page.locator("[data-shortlist-count]")).to_have_text("3")

    # The header link opens the Merkliste with the three entries in the order added.
    page.get_by_role("link", name=re.compile("^Merkliste")).click()
    expect(page.locator("h1")).to_have_text("Merkliste für das Beratungsgespräch")
    expect(page.locator("[data-shortlist-order] li")).to_have_count(3)
    assert shortlist_slugs(page) == [first_slug, *more]

    # The title is kept as it is typed (no button to confirm it).
    page.get_by_label("Titel der Handreichung").fill(HANDOUT_TITLE)
    expect(page.locator(".handout-title")).to_have_text(HANDOUT_TITLE)

    # Reorder: the last one up, the first one down; then remove the middle one.
    titles = {
        slug: get_json(f"{stack.url}/api/v1/entries/{slug}")["data"]["title"]
        for slug in [first_slug, *more]
    }
    page.get_by_role("button", name=f"{titles[more[1]]} nach oben").click()
    expect(page.locator("[data-shortlist-order] li").nth(1)).to_have_attribute("data-slug", more[1])
    assert shortlist_slugs(page) == [first_slug, more[1], more[0]]
    page.get_by_role("button", name=f"{titles[first_slug]} nach unten").click()
    expect(page.locator("[data-shortlist-order] li").first).to_have_attribute("data-slug", more[1])
    assert shortlist_slugs(page) == [more[1], first_slug, more[0]]
    page.get_by_role("button", name=f"{titles[first_slug]} entfernen").click()
    expect(page.locator("[data-shortlist-order] li")).to_have_count(2)
    final = [more[1], more[0]]
    assert shortlist_slugs(page) == final
    expect(page.locator(".handout-title")).to_have_text(HANDOUT_TITLE)
    expect(page.locator(".handout-entry h3")).to_have_text(
        [f"1. {titles[final[0]]}", f"2. {titles[final[1]]}"]
    )
    expect(page.locator("[data-shortlist-count]")).to_have_text("2")

    # Printing: a PDF of the handout, and in print media no controls.
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF")
    pages, pdf_title = pdf_pages_and_title(pdf)
    assert pages >= 1
    assert HANDOUT_TITLE in pdf_title
    page.emulate_media(media="print")
    expect(page.locator(".handout-title")).to_be_visible()
    for control in [".site-header", ".shortlist-tools", ".site-footer", "[data-print]"]:
        expect(page.locator(control).first).to_be_hidden()
    folder = SCREENSHOTS / "default"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / "merkliste-print.png"), full_page=True)
    page.emulate_media(media="screen")
    expect(page.locator(".shortlist-tools")).to_be_visible()

    # Sharing: the link shows the whole list; opened elsewhere it is the same list.
    page.get_by_role("link", name="Link kopieren").click()
    status = page.locator("[data-share-status]")
    expect(status).to_contain_text("/merkliste?")
    shared = re.search(r"http://\S+", status.inner_text())[0]
    query = parse_qs(urlsplit(shared).query)
    assert query == {"titel": [HANDOUT_TITLE], "e": final}
    context.close()

    other = browser.new_context(locale="de-DE")
    other.set_default_timeout(TIMEOUT_MS)
    try:
        fresh = other.new_page()
        fresh.goto(shared)
        expect(fresh.locator(".handout-title")).to_have_text(HANDOUT_TITLE)
        expect(fresh.locator(".handout-entry h2")).to_have_text(
            [f"1. {titles[final[0]]}", f"2. {titles[final[1]]}"]
        )
        # Read-only: the opened link does not replace this browser's list.
        expect(fresh.get_by_label("Titel der Handreichung")).to_have_count(0)
        expect(fresh.locator("[data-shortlist-count]")).to_be_hidden()
    finally:
        other.close()


def test_without_javascript_search_and_quickcheck_work_as_plain_forms(
    stack: Stack, browser: Any
) -> None:
    context = browser.new_context(java_script_enabled=False, locale="de-DE")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto(stack.url + "/")
        page.get_by_label("Suchbegriff").fill("Wiki")
        page.get_by_role("button", name="Suchen").click()
        expect(page).to_have_url(re.compile(r"/\?q=Wiki"))
        expect(page.locator(".result-count")).to_contain_text("für „Wiki“")
        assert result_count(page) >= 1
        assert page.locator(".hit").count() >= 1
        # No script: the "add to Merkliste" buttons stay hidden, the filter button shows.
        expect(page.locator("[data-shortlist-add]").first).to_be_hidden()
        apply = page.get_by_role("button", name="Filter anwenden")
        expect(apply).to_be_visible()
        kind = page.locator(".facet").filter(has=page.locator("legend", has_text="Art"))
        box = kind.locator("li").filter(has_not_text="(0)").first.locator("input")
        box.check()
        apply.click()
        expect(page).to_have_url(re.compile(rf"kind={box.get_attribute('value')}"))
        expect(page.locator(".result-count")).to_contain_text("für „Wiki“")

        # The Quickcheck: choose a perspective, submit empty (errors), then answer.
        page.goto(f"{stack.url}/quickcheck")
        page.locator(".card").filter(has_text=doc_title(stack)).get_by_role(
            "link", name="Unternehmen / Geschäftsführung"
        ).click()
        expect(page).to_have_url(re.compile(r"perspective=unternehmen"))
        page.get_by_role("button", name="Auswerten").click()
        expect(page.locator(".notice.error")).to_contain_text("Einige Antworten fehlen")
        assert page.locator(".field-error").count() >= 1
        doc = definition(stack.url, "unternehmen")
        # The summary names the questions and links to them.
        first = plan_answers(doc)[0][0]
        summary = page.locator("#fehler li a").filter(has_text=first["text"])
        expect(summary).to_have_attribute("href", f"#frage-{first['id']}")

        for item, value in plan_answers(doc):
            answer(page, item, value)
        page.get_by_role("button", name="Auswerten").click()
        expect(page.locator("h1")).to_have_text("Ihr Ergebnis")
        expect(page).to_have_url(re.compile(r"/results/[\w-]+$"))
        ampeln = page.locator(".ampel-overview .ampel")
        expect(ampeln).to_have_count(len(doc["dimensions"]))
        expect(page.locator(".overall-summary .ampel")).to_have_count(1)
        assert set(ampeln.all_inner_texts()) <= {"Rot", "Gelb", "Grün"}
        assert 1 <= page.locator(".next-steps .step-title a").count() <= 3
        # Without script no button that needs one; the address to keep is there.
        expect(page.get_by_role("button", name="Drucken")).to_have_count(0)
        expect(page.locator("a.result-url")).to_have_text(page.url)
    finally:
        context.close()


def doc_title(stack: Stack) -> str:
    title: str = get_json(f"{stack.url}/api/v1/questionnaires/{QUICKCHECK}")["data"]["title"]
    return title


def answer(scope: Any, item: dict[str, Any], value: Any) -> None:
    """Fill one Quickcheck question the way a visitor does (``scope``: page or frame)."""
    item_id = item["id"]
    # With JavaScript the form shows one part at a time: go on to the question's part.
    part = scope.locator(f"[data-section]:has(#frage-{item_id})")
    onward = scope.locator("[data-section]:not([hidden]) .qc-section-nav button", has_text="Weiter")
    while not part.is_visible() and onward.count():
        onward.click()
    if item["type"] in {"number", "text"}:
        scope.locator(f"#a-{item_id}").fill(str(value))
    elif item["type"] == "ranking":
        for rank, code in enumerate(value, start=1):
            scope.locator(f"#r-{item_id}-{code}").select_option(str(rank))
    else:
        for code in value if isinstance(value, list) else [value]:
            scope.locator(f"#a-{item_id}-{code}").check()
