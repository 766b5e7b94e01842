"""The search pages: the workspace's at ``/`` and each partner site's embed, with facets
from the search engine, or from the database while the search engine is down."""

from __future__ import annotations

import contextlib
import math
import re
from collections import Counter
from difflib import SequenceMatcher
from html import escape
from typing import Any

from litestar import Response, get
from litestar.params import FromPath

from core.content import queries
from core.content.facets import ENTRY_FIELD, FACET_LABELS, FACETS
from core.content.textsearch import search_in_database
from core.http.input_checks import SINGLE_PARAMS
from core.http.metrics import timed_search
from core.http.numbers import whole_number
from core.web.base import Req, labels, log, on_site, render, workspace
from core.web.render import Page
from core.web.sites import Site
from search.config import query_stop_words
from search.query import search_entries
from search.understanding import database_terms

PAGE_SIZE = 20
MAX_QUERY = 200
# Search pages count towards the same per-client limit as the API (core.http.ratelimit).
# Pages read their query parameters themselves: each names those it reads once, so that a
# repeated one is a 400 naming it (core.http.input_checks).
SEARCH = {"rate_limit": "search", SINGLE_PARAMS: ("q", "page", "partial")}


async def search_context(request: Req, page: Page) -> dict[str, Any]:
    """Hits, facets and notices for the search page, the site scope applied."""
    params = request.query_params
    known_labels = await labels(page)
    known = {name: set(values) for name, values in known_labels.items()}
    filters: dict[str, list[str]] = {}
    for name in FACETS:
        values = [v.strip() for raw in params.getall(name, []) for v in raw.split(",")]
        kept = list(dict.fromkeys(v for v in values if v in known.get(name, set())))
        if kept:
            filters[name] = kept
    q = (params.get("q") or "").strip()[:MAX_QUERY]
    # Like the API's: a page number that is not one is a 400 naming it (German page).
    raw_page = params.get("page") or ""
    number = whole_number(raw_page, "page", maximum=queries.MAX_PAGE) if raw_page.strip() else 1
    site = page.site
    scoped = site.scope(filters) if site else filters
    hits: list[dict[str, Any]] = []
    total = 0
    counts: dict[str, dict[str, int]] = {}
    notice = None
    service = getattr(request.app.state, "search", None)
    searched = False
    if scoped is not None and service is not None:
        try:
            async with timed_search("page"):
                result = await search_entries(
                    service.searcher, service.uid, q=q, filters=scoped, page=number,
                    page_size=PAGE_SIZE, facets=list(FACETS), pool=service.multi_search,
                    rewrites=service.rewrites,
                )  # fmt: skip
            hits, total, counts = result["hits"], result["pagination"]["total"], result["facets"]
            searched = True
        except Exception as exc:  # search down: fall back to the database list
            log.warning("Search engine unavailable for a page: %s", exc)
            notice = (
                "Die Volltextsuche ist gerade nicht erreichbar. Angezeigt werden die Einträge, "
                "deren Titel, Kurzbeschreibung oder Schlagwörter die meisten Suchwörter enthalten; "
                "die Filter wirken weiterhin."
            )
    elif service is None and q:
        notice = (
            "Die Volltextsuche ist auf diesem Server nicht eingerichtet; gesucht wird in "
            "Titel, Kurzbeschreibung und Schlagwörtern, die Filter wirken."
        )
    if scoped is not None and not searched and q:
        # The same database search as the API's fallback: the query's words in title,
        # summary or tags (core/content/textsearch.py), not the whole list.
        stop_words = query_stop_words(request.app.state.registry, request.app.state.settings)
        result = await search_in_database(
            q=q, filters=scoped, sort=None, page=number, page_size=PAGE_SIZE,
            facets=list(FACETS), terms=database_terms(q, stop_words),
        )  # fmt: skip
        hits, total, counts = result["hits"], result["pagination"]["total"], result["facets"]
    elif scoped is not None and not searched:
        rows, total = await queries.list_entries(
            queries.EntryQuery(filters=scoped, page=number, page_size=PAGE_SIZE)
        )
        hits = [
            {**row, "title_html": escape(row["title"]), "summary_html": escape(row["summary"])}
            for row in rows
        ]
        counts = await _fallback_counts(site, filters)
    if searched and hits:
        # Zeitbedarf and Zielgruppe for the cards come from the database (one read for the
        # page), so the search index need not change.
        more = await queries.entry_summaries([hit["slug"] for hit in hits])
        for hit in hits:
            row = more.get(hit["slug"], {})
            hit["duration"], hit["audiences"] = row.get("duration"), row.get("audiences", [])
    facets = []
    for name in FACETS:
        allowed = _allowed(site, name)
        values = [
            {
                "slug": slug,
                "label": label,
                "count": counts.get(name, {}).get(slug, 0),
                "selected": slug in filters.get(name, []),
                # Shown but not offered: it would give no hits (a chosen one stays offered).
                "disabled": not counts.get(name, {}).get(slug, 0)
                and slug not in filters.get(name, []),
            }
            for slug, label in known_labels.get(name, {}).items()
            if allowed is None or slug in allowed
        ]
        if len(values) > 1:
            facets.append({"name": name, "label": FACET_LABELS[name], "values": values})
    pages = max(1, math.ceil(total / PAGE_SIZE))
    suggestions = await no_hit_suggestions(request, page, q, filters) if not total and q else None
    return {
        "active_filters": sum(len(v) for v in filters.values()),
        "reset_url": page.search(q=q),
        "suggestions": suggestions,
        "q": q,
        "filters": filters,
        "hits": hits,
        "total": total,
        "facets": facets,
        "labels": known_labels,
        "notice": notice,
        "page_number": min(number, pages),
        "pages": pages,
        # Beyond the last page (a stale link), "back" leads to the last page.
        "prev_url": page.search(q=q, **filters, page=min(number - 1, pages))
        if number > 1
        else None,
        "next_url": page.search(q=q, **filters, page=number + 1) if number < pages else None,
    }


async def no_hit_suggestions(
    request: Req, page: Page, q: str, filters: dict[str, list[str]]
) -> dict[str, Any]:
    """For a search without hits: the hits the words give without the filters, else the
    entries whose title or tags come nearest to the words; and the topics to browse."""
    site = page.site
    scope = site.scope({}) if site else {}
    nearest: list[dict[str, Any]] = []
    without_filters = 0
    service = getattr(request.app.state, "search", None)
    if filters and scope is not None and service is not None:
        with contextlib.suppress(Exception):  # search down: the titles below still help
            found = await search_entries(
                service.searcher, service.uid, q=q, filters=scope, page=1, page_size=3,
                pool=service.multi_search, rewrites=service.rewrites,
                facets=[],
            )  # fmt: skip
            nearest, without_filters = found["hits"], found["pagination"]["total"]
    if not nearest and scope is not None:
        rows, _ = await queries.list_entries(
            queries.EntryQuery(filters=scope, page=1, page_size=10_000)
        )
        words = [w for w in re.findall(r"\w+", q.casefold()) if len(w) > 2]

        def closeness(row: dict[str, Any]) -> float:
            vocabulary = re.findall(r"\w+", " ".join([row["title"], *row["tags"]]).casefold())
            return max(
                (SequenceMatcher(None, w, v).ratio() for w in words for v in vocabulary),
                default=0.0,
            )

        scored = sorted(((closeness(r), r["title"], r) for r in rows), key=lambda t: -t[0])
        nearest = [
            {**r, "title_html": escape(r["title"]), "summary_html": escape(r["summary"])}
            for score, _, r in scored[:3]
            if score >= 0.6
        ]
    taxonomy = await queries.taxonomy_with_counts()
    allowed = _allowed(site, "topic")
    topics = [
        t for t in taxonomy["topics"] if t["count"] and (allowed is None or t["slug"] in allowed)
    ]
    return {
        "nearest": nearest,
        "without_filters": without_filters,
        "topics": [{"label": t["label"], "url": page.search(topic=t["slug"])} for t in topics],
    }


async def _fallback_counts(
    site: Site | None, filters: dict[str, list[str]]
) -> dict[str, dict[str, int]]:
    """Facet counts from the database, counted like the search engine does: per dimension
    over the entries that match every other filter and the site's scope."""
    counts: dict[str, dict[str, int]] = {}
    for name in FACETS:
        others = {k: v for k, v in filters.items() if k != name}
        scoped = site.scope(others) if site else others
        tally: Counter[str] = Counter()
        if scoped is not None:
            rows, _ = await queries.list_entries(
                queries.EntryQuery(filters=scoped, page=1, page_size=10_000)
            )
            for row in rows:
                value = row[ENTRY_FIELD[name]]
                tally.update(value if isinstance(value, list) else [value])
        counts[name] = dict(tally)
    return counts


def _allowed(site: Site | None, name: str) -> tuple[str, ...] | None:
    if site is None:
        return None
    return {"topic": site.topics, "source": site.sources}.get(name)


async def _search_page(request: Req, page: Page) -> Response[str]:
    context = await search_context(request, page)
    partial = request.query_params.get("partial") == "1"
    template = "_results.html" if partial else "search.html"
    return render(page, template, **context)


@get("/", include_in_schema=False, opt=SEARCH)
async def workspace_search(request: Req) -> Response[str]:
    return await _search_page(request, workspace(request))


@get(["/embed/{site_id:str}", "/embed/{site_id:str}/search"], include_in_schema=False, opt=SEARCH)
async def embed_search(request: Req, site_id: FromPath[str]) -> Response[str]:
    return await on_site(request, site_id, lambda page: _search_page(request, page))
