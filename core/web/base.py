"""What every page route needs: the ``Page`` of the workspace or of a partner site,
rendering it, "not found", and the one place an unknown site is answered.

Every page works without JavaScript (links and plain form posts); the theme's scripts
add search-as-you-type, the shortlist and iframe resizing on top.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response

from core.content import queries
from core.web import Web
from core.web.render import Page, Renderer, html_response
from core.web.site_store import LiveSites, live_sites_of

log = logging.getLogger("mentoring40.web")

Req = Request[Any, Any, Any]


def web_of(request: Req) -> tuple[Web, Renderer]:
    return request.app.state.web, request.app.state.renderer


def live_sites(request: Req) -> LiveSites:
    """The partner sites as they are now: files, with the database's changes over them."""
    return live_sites_of(request.app.state)


def workspace(request: Req) -> Page:
    """The Lotse workspace at ``/`` (theme MENTORING40_THEME)."""
    web, renderer = web_of(request)
    return Page(renderer=renderer, theme=web.themes[web.workspace_theme])


def site_page(request: Req, site_id: str, *, fragment: bool = False) -> Page | None:
    """A partner site's embed (or, with ``fragment``, its server-side includes, whose
    links carry our origin); None if there is no such site."""
    web, renderer = web_of(request)
    site = live_sites(request).get(site_id)
    if site is None:
        return None
    origin = str(request.base_url).rstrip("/") if fragment else ""
    return Page(
        renderer=renderer,
        theme=web.themes[site.theme],
        site=site,
        lang=site.language,
        origin=origin,
    )


def render(
    page: Page,
    template: str,
    *,
    status: int = 200,
    cache: str = "no-cache",
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response[str]:
    body = page.renderer.render(page, template, **context)
    # An embed may be framed by its site's origins only.
    ancestors = list(page.site.origins) if page.site else None
    return html_response(
        body, status=status, frame_ancestors=ancestors, cache=cache, headers=headers
    )


def not_found(page: Page, message: str) -> Response[str]:
    return render(page, "error.html", status=404, title="Nicht gefunden", message=message)


def unknown_site(request: Req, site_id: str) -> Response[str]:
    return render(
        workspace(request),
        "error.html",
        status=404,
        title="Unbekannte Partnerseite",
        message=f"Es gibt keine Partnerseite „{site_id}“.",
    )


async def on_site(
    request: Req,
    site_id: str,
    show: Callable[[Page], Awaitable[Response[str]]],
    *,
    fragment: bool = False,
) -> Response[str]:
    """``show`` the page of the site ``site_id``, or the "unknown site" page."""
    page = site_page(request, site_id, fragment=fragment)
    return await show(page) if page else unknown_site(request, site_id)


# Taxonomy labels change only when content is synced, possibly by another process (the
# CLI): each app re-reads them at most this often. A sync shows on pages within it.
LABELS_TTL_SECONDS = 30.0


async def labels(page: Page) -> dict[str, dict[str, str]]:
    """Labels of the taxonomy values and sources by filter name (cached, see above)."""
    cache = page.renderer.cache
    now = time.monotonic()
    if (hit := cache.get("labels")) and hit[0] > now:
        found: dict[str, dict[str, str]] = hit[1]
        return found
    found = await queries.taxonomy_labels()
    cache["labels"] = (now + LABELS_TTL_SECONDS, found)
    return found
