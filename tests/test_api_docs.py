"""The API documentation page at /schema: a viewer pinned in our npm manifest and served
by the app (no CDN, works offline), with a Content-Security-Policy and no framing."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

from litestar.testing import TestClient

from core.api.docs import NPM_DIR, PACKAGE, pinned_version
from core.http.security import API_CSP
from tests.web_support import csp_directives, parse_html

Client = TestClient[Any]


def test_the_viewer_is_pinned_in_a_committed_npm_manifest() -> None:
    manifest = json.loads((NPM_DIR / "package.json").read_text(encoding="utf-8"))
    version = manifest["dependencies"][PACKAGE]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{PACKAGE} must be an exact version"
    lock_text = (NPM_DIR / "package-lock.json").read_text(encoding="utf-8")
    lock = json.loads(lock_text)
    entry = lock["packages"][f"node_modules/{PACKAGE}"]
    assert entry["version"] == version
    assert entry["integrity"].startswith("sha512-")  # npm ci checks the tarball against it
    assert '"resolved"' not in lock_text
    npmrc = (NPM_DIR / ".npmrc").read_text(encoding="utf-8")
    assert "omit-lockfile-registry-resolved=true" in npmrc.splitlines()


def test_the_docs_page_loads_only_what_this_server_serves(fixture_client: Client) -> None:
    for path in ("/schema", "/schema/scalar"):
        response = fixture_client.get(path)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        page = parse_html(response.text)
        # Nothing from another host: no CDN, no fonts, no favicon from elsewhere.
        urls = [n.attrs.get("src") or n.attrs.get("href") for n in page.iter()]
        urls = [u for u in urls if u]
        assert urls, response.text
        assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
        (script,) = [n for n in page.find_all("script") if n.attrs.get("src")]
        assert script.attrs["src"] == f"/schema/scalar.js?v={pinned_version()}"
        viewer = fixture_client.get(script.attrs["src"])
        assert viewer.status_code == 200
        assert viewer.headers["content-type"].startswith("text/javascript")
        # The page names the hash of exactly the bytes served (Subresource Integrity).
        digest = base64.b64encode(hashlib.sha384(viewer.content).digest()).decode()
        assert script.attrs["integrity"] == f"sha384-{digest}"
        config = json.loads(page.find("script", id="api-reference").attrs["data-configuration"])
        assert config["withDefaultFonts"] is False  # fonts would come from Scalar's host
        assert config["telemetry"] is False
        assert page.find("script", id="api-reference").attrs["data-url"] == "/schema/openapi.json"


def test_the_docs_pages_have_a_policy_and_may_not_be_framed(fixture_client: Client) -> None:
    page = fixture_client.get("/schema")
    csp = csp_directives(page)
    assert csp["default-src"] == ["'none'"]
    assert csp["script-src"] == ["'self'"]  # no inline script, no CDN
    assert csp["connect-src"] == ["'self'"]  # the OpenAPI document, nothing else
    assert csp["frame-ancestors"] == ["'none'"]
    assert not [v for values in csp.values() for v in values if "http" in v or v == "*"]
    assert page.headers["x-frame-options"] == "DENY"
    for path in ("/schema/openapi.json", "/schema/scalar.js"):
        response = fixture_client.get(path)
        assert response.headers["content-security-policy"] == API_CSP, path
        assert response.headers["x-frame-options"] == "DENY", path
    # Litestar's own HTML 404 below /schema: the page's policy (it has no script at all).
    missing = fixture_client.get("/schema/gibtsnicht")
    assert missing.status_code == 404
    assert csp_directives(missing)["script-src"] == ["'self'"]
    assert missing.headers["x-frame-options"] == "DENY"
