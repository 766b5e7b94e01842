"""axe-core on every page type in every shipped theme, and a full-page screenshot of each.

The workspace pages come from an app whose MENTORING40_THEME is the theme; the embeds
from the shipped site that uses it (werkzeugkasten, musterverband, nrw). No serious or
critical violation is allowed, colour contrast included. The screenshots land in
var/screenshots/<theme>/<page>.png for a look by eye.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import (
    QUICKCHECK,
    SCREENSHOTS,
    THEME_SITES,
    TIMEOUT_MS,
    Stack,
    get_json,
    require_axe,
    submit_quickcheck,
)

pytestmark = pytest.mark.browser

ENTRY = "kick-off-workshop"
BLOCKING = {"serious", "critical"}


@pytest.fixture(scope="module")
def axe_context(browser: Any) -> Iterator[Any]:
    """A context that bypasses the pages' Content-Security-Policy, only so that axe can be
    injected (add_script_tag inlines the file, which script-src 'self' forbids). The
    other browser tests run with the CSP in force."""
    require_axe()
    context = browser.new_context(
        bypass_csp=True, locale="de-DE", viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture(scope="module")
def result_token(stack: Stack) -> str:
    token: str = submit_quickcheck(stack.url)["token"]
    return token


@pytest.fixture(scope="module")
def topic(stack: Stack) -> str:
    topics = get_json(f"{stack.url}/api/v1/taxonomy")["data"]["topics"]
    slug: str = next(t["slug"] for t in topics if t["count"] > 0)
    return slug


def _wait_scripts(page: Any) -> None:
    """The theme's deferred scripts have run (they mark <html class="js">)."""
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))


def _submit_empty(page: Any) -> None:
    # With JavaScript the form shows one part at a time; "Auswerten" is on the last.
    onward = page.locator("[data-section]:not([hidden]) .qc-section-nav button", has_text="Weiter")
    while onward.count():
        onward.click()
    page.get_by_role("button", name="Auswerten").click()
    expect(page.locator(".notice.error")).to_be_visible()


def _days_away(page: Any) -> None:
    # The question about the days away appears once "Ja, an festen Wochentagen" is chosen.
    days = page.get_by_text("An welchen Tagen sind Sie regelmäßig nicht im Betrieb?")
    onward = page.locator("[data-section]:not([hidden]) .qc-section-nav button", has_text="Weiter")
    while not page.get_by_label("Ja, an festen Wochentagen").is_visible() and onward.count():
        onward.click()
    expect(days).to_be_hidden()
    page.get_by_label("Ja, an festen Wochentagen").check()
    expect(days).to_be_visible()


# page type -> (path under the app, what to do before checking)
Visit = tuple[str, Callable[[Any], None] | None]


def visits(site: str, token: str, topic: str) -> dict[str, Visit]:
    qc = f"/quickcheck/{QUICKCHECK}?perspective=unternehmen"
    return {
        "search": ("/?q=Tandem", None),
        "entry": (f"/entries/{ENTRY}", None),
        "merkliste": (
            f"/merkliste?titel=Tischlerei+Beispiel&e={ENTRY}&e=internes-wiki",
            lambda page: expect(page.locator("[data-print]")).to_be_visible(),
        ),
        "quickcheck-list": ("/quickcheck", None),
        "quickcheck-form": (qc, None),
        "quickcheck-errors": (qc, _submit_empty),
        "result": (f"/results/{token}", None),
        # The tandem profile (version 2: days away shown only after "feste Tage") and the
        # fit check with its errors.
        "tandem-form": ("/quickcheck/tandem-profil?perspective=mentee", _days_away),
        "tandem-check-errors": ("/tandem-check?mentor=hallo&mentee=", None),
        "sites": ("/sites", None),
        "site": (f"/sites/{site}", None),
        "embed-search": (f"/embed/{site}/search?q=Tandem", None),
        "embed-entry": (f"/embed/{site}/entries/{ENTRY}", None),
        "embed-topic": (f"/embed/{site}/topics/{topic}", None),
        "embed-quickcheck": (f"/embed/{site}{qc}", None),
        "embed-result": (f"/embed/{site}/results/{token}", None),
        "error-404": ("/entries/gibt-es-nicht", None),
    }


PAGE_TYPES = list(visits("s", "t", "x"))


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} ({v['impact']}): {v['help']} – {v['helpUrl']}")
        for node in v["nodes"][:8]:
            lines.append(f"    {node['target']}: {node['failureSummary']}".replace("\n", " | "))
    return "\n".join(lines)


@pytest.mark.parametrize("page_type", PAGE_TYPES)
def test_page_has_no_serious_accessibility_violations_in_any_theme(
    stack: Stack, axe_context: Any, result_token: str, topic: str, page_type: str
) -> None:
    axe = str(require_axe())
    opened: list[tuple[str, str, Any]] = []
    try:
        for theme, site in THEME_SITES.items():
            base = stack.workspace(theme)
            path, prepare = visits(site, result_token, topic)[page_type]
            page = axe_context.new_page()
            opened.append((theme, path, page))
            response = page.goto(base + path)
            assert response is not None
            expected = {"error-404": 404, "tandem-check-errors": 400}.get(page_type, 200)
            assert response.status == expected, (theme, path)
            _wait_scripts(page)
            kind = "embedded" if page_type.startswith("embed-") else "workspace"
            expect(page.locator("body")).to_have_class(
                re.compile(rf"\b{kind}\b.*\btheme-{theme}\b")
            )
            if prepare:
                prepare(page)
            folder = SCREENSHOTS / theme
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{page_type}.png"), full_page=True)
            page.add_script_tag(path=axe)
            # Started in every theme's page before any is awaited: the pages' renderer
            # processes check in parallel. iframes: false – the preview frame on
            # /sites/<id> is an embed page, checked on its own; axe would otherwise wait
            # for an axe inside it.
            page.evaluate(
                "() => { window.axeRun = axe.run(document, "
                "{resultTypes: ['violations'], iframes: false}); }"
            )
        problems = []
        for theme, path, page in opened:
            results = page.evaluate("() => window.axeRun")
            blocking = [v for v in results["violations"] if v["impact"] in BLOCKING]
            if blocking:
                problems.append(f"theme {theme}, {path}:\n{describe(blocking)}")
    finally:
        for _, _, page in opened:
            page.close()
    assert not problems, f"{page_type}: serious or critical violations\n" + "\n".join(problems)
