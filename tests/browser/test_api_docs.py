"""The API documentation page in a real browser: the pinned viewer renders the OpenAPI
document with nothing from other hosts (offline) and within the page's CSP."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Stack

pytestmark = pytest.mark.browser

RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`;
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""


def test_api_docs_render_offline_within_their_policy(stack: Stack, context: Any) -> None:
    elsewhere: list[str] = []

    def only_this_server(route: Any) -> None:
        if route.request.url.startswith(stack.url + "/"):
            route.continue_()
        else:  # as if offline: nothing else answers
            elsewhere.append(route.request.url)
            route.abort()

    context.route("**/*", only_this_server)
    context.add_init_script(RECORD_VIOLATIONS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{stack.url}/schema")
    # The viewer has read our document: title, and the first operation with its example.
    expect(page.get_by_role("heading", name="mentoring40 API").first).to_be_visible()
    expect(page.get_by_text(f"curl {stack.url}/api/v1/entries").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    # The one refusal is on purpose: the bundled zod probes `Function("")` once and, when
    # the policy forbids eval, validates without compiled code. eval stays forbidden.
    violations = page.evaluate("window.__violations")
    probe = f"script-src eval {stack.url}/schema/scalar.js:"
    assert [v for v in violations if not v.startswith(probe)] == [], violations
    assert len(violations) <= 1, violations
    assert elsewhere == []
    assert errors == []
