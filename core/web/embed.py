"""What partner sites use: the pages that tell a partner how to embed the toolbox
(``/sites``), and the HTML fragments a partner's server includes in its own pages.

The embed pages themselves (search, entries, Quickcheck under ``/embed/{site}/``) are
beside the workspace's pages of the same kind.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any
from urllib.parse import quote

from litestar import Response, get
from litestar.params import FromPath

from core.content import queries
from core.editing import service as editing
from core.plugins import DEFAULT_PLUGINS
from core.web.base import (
    Req,
    live_sites,
    on_site,
    render,
    site_page,
    unknown_site,
    workspace,
)
from core.web.entries import entry_context, topic_context
from core.web.quickcheck import offered
from core.web.render import Page
from core.web.search import SEARCH, search_context


@get("/sites", include_in_schema=False)
async def site_list(request: Req) -> Response[str]:
    sites = live_sites(request).sites
    return render(
        workspace(request), "sites.html", sites=sorted(sites.values(), key=lambda s: s.id)
    )


@get("/sites/{site_id:str}", include_in_schema=False)
async def site_snippets(request: Req, site_id: FromPath[str]) -> Response[str]:
    """The snippets a partner copies: iframe, loader script, fragments, with examples."""
    embed_page = site_page(request, site_id)
    if embed_page is None or (site := embed_page.site) is None:
        return unknown_site(request, site_id)
    taxonomy = await queries.taxonomy_with_counts()
    topics = [
        site.term("topics", t)
        for t in taxonomy["topics"]
        if site.topics is None or t["slug"] in site.topics
    ]
    # The example of a single entry must be one this site shows.
    scoped = site.scope({})
    rows, _ = (
        await queries.list_entries(queries.EntryQuery(filters=scoped, page_size=1))
        if scoped is not None
        else ([], 0)
    )
    return render(
        workspace(request),
        "site.html",
        site=site,
        host=str(request.base_url).rstrip("/"),
        topics=topics,
        questionnaires=await offered(embed_page),
        example_entry=rows[0]["slug"] if rows else "slug",
        builtin_plugins=DEFAULT_PLUGINS,
    )


# -- fragments (server-side includes) -------------------------------------------------------


async def _fragment(
    request: Req,
    site_id: str,
    read: Callable[[Page], Awaitable[dict[str, Any] | None]],
    template: str,
    missing: str = "",
) -> Response[str]:
    """A fragment of the site ``site_id`` from the context ``read`` returns for its page;
    a 404 fragment saying ``missing`` if there is nothing to show."""

    async def show(page: Page) -> Response[str]:
        context = await read(page)
        if context is None:
            return _fragment_response(page, "fragments/missing.html", 404, message=missing)
        return _fragment_response(page, template, 200, **context)

    return await on_site(request, site_id, show, fragment=True)


def _fragment_response(page: Page, template: str, status: int, **context: Any) -> Response[str]:
    body = page.renderer.render(page, template, **context)
    # Browsers may fetch fragments only from the site's origins (the app's CORS settings);
    # a partner's server includes them without asking.
    headers = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=300"}
    return Response(body, status_code=status, media_type="text/html", headers=headers)


@get("/embed/{site_id:str}/fragments/entries/{slug:str}", include_in_schema=False)
async def fragment_entry(
    request: Req, site_id: FromPath[str], slug: FromPath[str]
) -> Response[str]:
    async def show(page: Page) -> Response[str]:
        context = await entry_context(page, slug)
        if context is not None:
            return _fragment_response(page, "fragments/entry.html", 200, **context)
        # As on the pages: a renamed entry's old address moves on, an unpublished one is gone.
        if (renamed := await editing.redirect_for(slug)) is not None:
            location = f"{page.base}/fragments/entries/{quote(renamed, safe='')}"
            return Response(content="", status_code=301, headers={"Location": location})
        if await editing.is_gone(slug):
            message = f"Der Eintrag „{slug}“ wurde von der Redaktion zurückgezogen."
            return _fragment_response(page, "fragments/missing.html", 410, message=message)
        return _fragment_response(
            page, "fragments/missing.html", 404, message=f"Kein Eintrag „{slug}“."
        )

    return await on_site(request, site_id, show, fragment=True)


@get("/embed/{site_id:str}/fragments/topics/{topic:str}", include_in_schema=False)
async def fragment_topic(
    request: Req, site_id: FromPath[str], topic: FromPath[str]
) -> Response[str]:
    read = partial(topic_context, topic=topic)
    return await _fragment(request, site_id, read, "fragments/topic.html", f"Kein Thema „{topic}“.")


@get("/embed/{site_id:str}/fragments/search", include_in_schema=False, opt=SEARCH)
async def fragment_search(request: Req, site_id: FromPath[str]) -> Response[str]:
    read = partial(search_context, request)
    return await _fragment(request, site_id, read, "fragments/search.html")
