"""The API documentation page at /schema: Scalar's API reference viewer, served by us.

The viewer is pinned in ``core/api/scalar/package.json`` (npm; its lock file holds the
package's integrity hash, which ``npm ci`` in ``make install`` checks) and served at
``/schema/scalar.js``, so the page works offline and cannot change under us; the page
loads it with a Subresource Integrity hash of the very bytes we serve. Without the
installed viewer (or with another version than the pin) the page says how to install
it and links the OpenAPI document instead.

The page's Content-Security-Policy allows what the viewer needs and nothing else: our
script, our OpenAPI document, our favicon and the styles the viewer puts into the page
itself (``'unsafe-inline'`` for styles only; scripts stay ``'self'``, eval is refused).
The viewer's fonts, telemetry, AI agent and request proxy, all from other hosts, are
switched off.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from litestar import Request, Router, get
from litestar.openapi.plugins import ScalarRenderPlugin
from litestar.response import File

NPM_DIR = Path(__file__).resolve().parent / "scalar"
PACKAGE = "@scalar/api-reference"
SCRIPT_PATH = "/scalar.js"  # under /schema
FAVICON = "/static/default/logo.svg"
# Everything the viewer would load from Scalar's servers, off.
VIEWER_OPTIONS: dict[str, Any] = {
    "withDefaultFonts": False,
    "telemetry": False,
    "agent": {"disabled": True},
    "showDeveloperTools": "never",
    "hideClientButton": True,
}
# Found with the browser test (tests/browser/test_api_docs.py): the viewer renders and
# nothing else is refused. Its bundled zod probes eval once and does without it.
DOCS_CSP = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",  # the viewer from /schema/scalar.js; no inline script
        "style-src 'unsafe-inline'",  # the viewer injects its stylesheet as <style>
        "img-src 'self'",  # the favicon
        "connect-src 'self'",  # the OpenAPI document
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


def pinned_version() -> str:
    """The viewer version that package.json pins."""
    manifest = json.loads((NPM_DIR / "package.json").read_text(encoding="utf-8"))
    version: str = manifest["dependencies"][PACKAGE]
    return version


@cache
def installed_viewer() -> tuple[Path, str] | None:
    """(standalone script, its SRI hash) if the pinned version is installed, else None."""
    package = NPM_DIR / "node_modules" / PACKAGE
    try:
        installed = json.loads((package / "package.json").read_text(encoding="utf-8"))
        script = package / "dist" / "browser" / "standalone.js"
        digest = hashlib.sha384(script.read_bytes()).digest()
    except (OSError, ValueError):
        return None
    if installed.get("version") != pinned_version():
        return None
    return script, "sha384-" + base64.b64encode(digest).decode("ascii")


@get(SCRIPT_PATH, include_in_schema=False, cache_control=None)
async def viewer_script() -> File:
    """The pinned viewer; 404 if ``make install`` has not installed it."""
    from litestar.exceptions import NotFoundException

    viewer = installed_viewer()
    if viewer is None:
        raise NotFoundException(
            f"The API viewer {PACKAGE} {pinned_version()} is not installed; run `make install`."
        )
    return File(
        path=viewer[0],
        filename="scalar.js",
        media_type="text/javascript",
        content_disposition_type="inline",
        headers={"Cache-Control": "public, max-age=86400"},
    )


class LocalScalarPlugin(ScalarRenderPlugin):
    """Litestar's Scalar page, with the viewer and everything else from this server."""

    def __init__(self) -> None:
        super().__init__(version=pinned_version(), js_url=f"/schema{SCRIPT_PATH}", path="/scalar")

    def receive_router(self, router: Router) -> None:
        router.register(viewer_script)

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = escape(str(openapi_schema.get("info", {}).get("title", "API")))
        document = escape(self.get_openapi_json_route(request))
        viewer = installed_viewer()
        if viewer is None:
            body = (
                f"<h1>{title}</h1><p>The API viewer ({PACKAGE} {pinned_version()}) is not "
                f'installed; run <code>make install</code>. The OpenAPI document: <a href="'
                f'{document}">{document}</a>.</p>'
            )
        else:
            options = escape(json.dumps(VIEWER_OPTIONS), quote=True)
            src = f"{self.js_url}?v={escape(pinned_version())}"
            body = (
                f'<script id="api-reference" data-url="{document}" '
                f'data-configuration="{options}"></script>\n'
                f'<script src="{src}" integrity="{viewer[1]}" crossorigin="anonymous"></script>'
            )
        return (
            '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f"<title>{title}</title>\n"
            f'<link rel="icon" href="{FAVICON}" type="image/svg+xml">\n'
            "</head>\n<body>\n<noscript>The API reference needs JavaScript; the OpenAPI "
            f'document is at <a href="{document}">{document}</a>.</noscript>\n'
            f"{body}\n</body>\n</html>\n"
        ).encode()


__all__ = ["DOCS_CSP", "LocalScalarPlugin", "installed_viewer", "pinned_version"]
