"""Entry pages, topic pages and the Leichte-Sprache page (the shortlist: core.web.shortlist).

An entry page keeps the text of links it cannot show (entries outside the site's scope,
questionnaires the page does not offer), so that no link leads to "not found".
"""

from __future__ import annotations

from typing import Any

from litestar import Response, get
from litestar.params import FromPath

from core.content import queries
from core.content.facets import EXCLUDE_SLUGS_KEY
from core.editing import service as editing
from core.web.base import Req, labels, not_found, on_site, render, workspace
from core.web.quickcheck import offered
from core.web.render import Page, linked_questionnaires, unlink_entries, unlink_questionnaires


async def entry_context(page: Page, slug: str) -> dict[str, Any] | None:
    """The entry, its related entries and the labels; None if this page does not show it."""
    entry = await queries.get_entry(slug)
    if entry is None or (page.site is not None and not page.site.shows(entry)):
        return None
    # Links to entries this page cannot show would lead to "not found": keep their text.
    # One read for the entries the text links to and the related ones.
    linked = await queries.entry_summaries(list({*entry["links"], *entry["related"]}))
    site = page.site
    hidden = {s for s in entry["links"] if s not in linked or (site and not site.shows(linked[s]))}
    entry["body_html"] = unlink_entries(entry["body_html"], hidden)
    # Likewise links to questionnaires this page does not offer (a site may name its own).
    if questionnaires := linked_questionnaires(entry["body_html"]):
        on_offer = {q["id"] for q in await offered(page)}
        entry["body_html"] = unlink_questionnaires(entry["body_html"], questionnaires - on_offer)
    related = [linked[s] for s in entry["related"] if s in linked]
    if page.site is not None:
        related = [r for r in related if page.site.shows(r)]
    return {"entry": entry, "related": related, "labels": await labels(page)}


async def topic_context(page: Page, topic: str) -> dict[str, Any] | None:
    """The topic and its entries (within the site's sources); None if the page has no
    such topic."""
    taxonomy = await queries.taxonomy_with_counts()
    term = next((t for t in taxonomy["topics"] if t["slug"] == topic), None)
    if term is None or (page.site and page.site.topics and topic not in page.site.topics):
        return None
    if page.site:  # the region's words for a core topic
        term = page.site.term("topics", term)
    filters: dict[str, list[str]] = {"topic": [topic]}
    if page.site and page.site.sources is not None:
        filters["source"] = list(page.site.sources)
    if page.site and page.site.hidden:
        filters[EXCLUDE_SLUGS_KEY] = sorted(page.site.hidden)
    rows, total = await queries.list_entries(
        queries.EntryQuery(filters=filters, page=1, page_size=100)
    )
    return {"term": term, "entries": rows, "total": total}


async def _entry_page(page: Page, slug: str) -> Response[str]:
    context = await entry_context(page, slug)
    if context is None:
        # A renamed entry's old address keeps working; an unpublished one says so (410).
        if (renamed := await editing.redirect_for(slug)) is not None:
            return Response(content="", status_code=301, headers={"Location": page.entry(renamed)})
        if await editing.is_gone(slug):
            return render(
                page,
                "error.html",
                status=410,
                title="Nicht mehr verfügbar",
                message=f"Der Eintrag „{slug}“ wurde von der Redaktion zurückgezogen und "
                "wird nicht mehr angezeigt.",
            )
        return not_found(page, f"Es gibt keinen Eintrag „{slug}“.")
    return render(page, "entry.html", **context)


async def _topic_page(page: Page, topic: str) -> Response[str]:
    context = await topic_context(page, topic)
    if context is None:
        return not_found(page, f"Es gibt kein Thema „{topic}“.")
    return render(page, "topic.html", **context)


@get("/entries/{slug:str}", include_in_schema=False)
async def workspace_entry(request: Req, slug: FromPath[str]) -> Response[str]:
    return await _entry_page(workspace(request), slug)


@get("/embed/{site_id:str}/entries/{slug:str}", include_in_schema=False)
async def embed_entry(request: Req, site_id: FromPath[str], slug: FromPath[str]) -> Response[str]:
    return await on_site(request, site_id, lambda page: _entry_page(page, slug))


@get("/embed/{site_id:str}/topics/{topic:str}", include_in_schema=False)
async def embed_topic(request: Req, site_id: FromPath[str], topic: FromPath[str]) -> Response[str]:
    return await on_site(request, site_id, lambda page: _topic_page(page, topic))


@get("/leichte-sprache", include_in_schema=False)
async def workspace_easy_language(request: Req) -> Response[str]:
    """What the toolbox is and how to use it, in Leichte Sprache (BITV 2.0, § 4)."""
    return render(workspace(request), "leichte_sprache.html")
