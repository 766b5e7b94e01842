"""Partner embedding in a real browser: embed.js on pages of other origins mounts the
iframe, sizes it by postMessage, runs search and the whole Quickcheck inside it, and
the browser refuses the frame on origins that the site does not list."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    PARTNER_SITE,
    QUICKCHECK,
    TIMEOUT_MS,
    Stack,
    definition,
    get_json,
    plan_answers,
    submit_quickcheck,
)
from tests.browser.test_workspace import answer

pytestmark = pytest.mark.browser

FRAME = "iframe.mentoring40-frame"


def frame_height(page: Any) -> float:
    height: float = page.locator(FRAME).evaluate("f => f.getBoundingClientRect().height")
    return height


def wait_for_frame_taller_than(page: Any, pixels: float) -> None:
    page.wait_for_function(
        f"px => document.querySelector('{FRAME}').getBoundingClientRect().height > px",
        arg=pixels,
        timeout=TIMEOUT_MS,
    )


def wait_for_frame_to_fit(page: Any, frame: Any) -> None:
    """Until the iframe is as tall as the document inside it (frame.js posts the height,
    embed.js sets it). Polls both sides: the content may still change while it loads."""
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    script = "() => document.documentElement.getBoundingClientRect().height"
    while abs(frame_height(page) - frame.evaluate(script)) > 2:
        assert time.monotonic() < deadline, (frame_height(page), frame.evaluate(script))
        page.wait_for_timeout(50)  # polling interval, not a wait for something


def mounted_frame(page: Any) -> Any:
    """The app's frame once embed.js has mounted it and it shows an app page."""
    iframe = page.wait_for_selector(FRAME, state="attached")
    frame = iframe.content_frame()
    assert frame is not None
    frame.wait_for_selector("main#inhalt")
    return frame


def test_search_embed_grows_to_its_content_and_searches(stack: Stack, page: Any) -> None:
    page.goto(stack.partner.url + "/search.html")
    expect(page.locator("h1")).to_have_text("Partner: Suche")  # the partner's own page
    iframe = page.locator(FRAME)
    expect(iframe).to_have_attribute("src", f"{stack.url}/embed/{PARTNER_SITE}/search")
    expect(iframe).to_have_attribute("title", "Werkzeugkasten Mentoring 4.0")
    frame = mounted_frame(page)
    # The site's theme (musterverband), the site's label, no workspace navigation.
    expect(frame.locator("body")).to_have_class(re.compile(r"\bembedded\b.*theme-musterverband"))
    expect(frame.locator("h1")).to_have_text("Partnertest")
    expect(frame.locator(".site-header")).to_have_count(0)

    # embed.js mounts at 600 px; frame.js reports the real height and the frame grows.
    wait_for_frame_taller_than(page, 600)
    wait_for_frame_to_fit(page, frame)
    grown = frame_height(page)

    # Typing inside the frame searches (live, no Enter) and the frame follows the height.
    frame.locator("#q").press_sequentially("Wiki", delay=40)
    expect(frame.locator(".result-count")).to_contain_text("für „Wiki“")
    hits = int(frame.locator(".result-count").get_attribute("data-total"))
    assert 1 <= hits < 20  # fewer than a page (20) of hits before
    # The height message follows the new content: fewer hits, a shorter frame.
    page.wait_for_function(
        f"h => document.querySelector('{FRAME}').getBoundingClientRect().height < h",
        arg=grown,
        timeout=TIMEOUT_MS,
    )
    wait_for_frame_to_fit(page, frame)
    # No shortlist buttons inside a partner's page.
    expect(frame.locator("[data-shortlist-add]")).to_have_count(0)

    # A hit opens inside the frame.
    first = frame.locator("[data-hit-link]").first
    title = first.inner_text()
    first.click()
    expect(frame.locator("h1")).to_have_text(title)
    assert frame.url.startswith(f"{stack.url}/embed/{PARTNER_SITE}/entries/")
    assert page.url == stack.partner.url + "/search.html"


def test_custom_element_embeds_an_entry(stack: Stack, page: Any) -> None:
    entry = get_json(f"{stack.url}/api/v1/entries/kick-off-workshop")["data"]
    page.goto(stack.partner.url + "/element.html")
    element = page.locator("mentoring40-embed")
    expect(element.locator(FRAME)).to_have_attribute(
        "src", f"{stack.url}/embed/{PARTNER_SITE}/entries/kick-off-workshop"
    )
    frame = mounted_frame(page)
    expect(frame.locator("h1")).to_have_text(entry["title"])
    expect(frame.locator(".lead").first).to_have_text(entry["summary"])
    wait_for_frame_taller_than(page, 600)


def test_quickcheck_completes_inside_the_frame(stack: Stack, page: Any) -> None:
    page.goto(stack.partner.url + "/quickcheck.html")
    frame = mounted_frame(page)
    doc = definition(stack.url, "mitarbeitende")
    assert doc["id"] == QUICKCHECK
    expect(frame.locator("h1")).to_have_text(doc["title"])
    label = next(p["label"] for p in doc["perspectives"] if p["id"] == "mitarbeitende")
    frame.get_by_role("link", name=label, exact=True).click()
    expect(frame.locator("form[data-quickcheck]")).to_be_visible()
    expect(frame.locator(".hint strong")).to_have_text(label)

    # Questions whose condition is not met are hidden (with JavaScript) and come up
    # when an earlier answer meets it; answer every visible required question.
    conditional = [i for i in doc["items"] if i.get("visible_if")]
    for item in conditional:
        expect(frame.locator(f"#frage-{item['id']}")).to_be_hidden()
    plan = plan_answers(doc)
    for item, value in plan:
        answer(frame, item, value)
        expect(frame.locator(f"#frage-{item['id']}")).to_be_visible()
    assert any(item.get("visible_if") for item, _ in plan), "no follow-up question was asked"

    frame.get_by_role("button", name="Auswerten").click()
    expect(frame.locator("h1")).to_have_text("Ihr Ergebnis")
    assert re.search(rf"/embed/{PARTNER_SITE}/results/[\w-]+$", frame.url), frame.url
    assert page.url == stack.partner.url + "/quickcheck.html"
    ampeln = frame.locator(".ampel-overview .ampel")
    expect(ampeln).to_have_count(len(doc["dimensions"]))
    assert set(ampeln.all_inner_texts()) <= {"Rot", "Gelb", "Grün"}
    expect(frame.locator(".hint").first).to_contain_text(f"Sicht: {label}")
    wait_for_frame_taller_than(page, 600)

    # A recommended method opens inside the frame.
    recommended = frame.locator(".next-steps .step-title a")
    assert recommended.count() >= 1
    first = recommended.first
    title = first.inner_text()
    href = first.get_attribute("href")
    assert href.startswith(f"/embed/{PARTNER_SITE}/entries/"), href
    first.click()
    expect(frame.locator("h1")).to_have_text(title)
    assert frame.url == stack.url + href


# In the partner's page: every message it receives. In our frame: the target origin of
# every message frame.js posts (window.parent is [Replaceable], so a wrapper can stand in).
RECORD_MESSAGES = """
if (window.top === window) {
  window.__messages = [];
  window.addEventListener("message", (e) => {
    window.__messages.push({ origin: e.origin, data: JSON.stringify(e.data) });
  });
} else {
  const real = window.parent;
  window.__targets = [];
  window.parent = {
    postMessage(data, target) { window.__targets.push(target); real.postMessage(data, target); },
  };
}
"""


def test_the_frame_tells_the_partner_only_its_height(stack: Stack, page: Any) -> None:
    token = submit_quickcheck(stack.url)["token"]
    page.add_init_script(RECORD_MESSAGES)
    page.goto(stack.partner.url + "/quickcheck.html")
    frame = mounted_frame(page)
    # A result page inside the partner's frame: its address carries the result token.
    frame.goto(f"{stack.url}/embed/{PARTNER_SITE}/results/{token}")
    expect(frame.locator("h1")).to_have_text("Ihr Ergebnis")
    wait_for_frame_taller_than(page, 600)  # the height still arrives and sizes the frame
    wait_for_frame_to_fit(page, frame)
    messages = page.evaluate("window.__messages")
    assert messages, "the partner page received no message"
    for message in messages:
        assert message["origin"] == stack.url
        data = json.loads(message["data"])
        # The height, or where a new part of the page starts: numbers only.
        assert sorted(data) in (["height", "type"], ["top", "type"]), message
        assert token not in message["data"]
    # Addressed to the partner's origin only, never to "*".
    targets = frame.evaluate("window.__targets")
    assert targets, "frame.js posted nothing"
    assert set(targets) == {stack.partner.url}, targets


@pytest.mark.parametrize(
    ("where", "site"),
    [("partner", "musterverband"), ("foreign", PARTNER_SITE)],
    ids=["site-allows-another-origin", "origin-listed-by-no-site"],
)
def test_frame_is_refused_on_origins_the_site_does_not_allow(
    stack: Stack, page: Any, where: str, site: str
) -> None:
    server = stack.partner if where == "partner" else stack.foreign
    url = server.url + ("/musterverband.html" if where == "partner" else "/search.html")
    with page.expect_response(lambda r: f"/embed/{site}/search" in r.url) as answered:
        page.goto(url)
    response = answered.value
    policy = response.headers["content-security-policy"]
    ancestors = re.search(r"frame-ancestors ([^;]*)", policy)[1].split()
    assert server.url not in ancestors, policy
    assert "*" not in ancestors
    assert ancestors[0] == "'self'"

    iframe = page.wait_for_selector(FRAME, state="attached")
    deadline = time.monotonic() + TIMEOUT_MS / 1000
    frame = iframe.content_frame()
    while frame is None or not frame.url.startswith("chrome-error://"):
        assert time.monotonic() < deadline, f"the frame was not refused: {frame and frame.url}"
        page.wait_for_timeout(100)
        frame = iframe.content_frame()
    assert frame.query_selector("main#inhalt") is None
    # The partner page itself is untouched; in place of the broken frame embed.js shows a
    # notice that says why and where the webmaster finds out more.
    expect(page.locator("h1")).to_be_visible()
    notice = page.locator(".mentoring40-notice")
    expect(notice).to_contain_text("kann hier nicht angezeigt werden")
    expect(notice).to_contain_text(f"Diese Seite ({server.url}) ist für die Einbettung")
    expect(notice.get_by_role("link", name=f"{stack.url}/sites/{site}")).to_be_visible()
    expect(page.locator(FRAME)).to_be_hidden()
