"""GET /api/v1/search: full-text search with the entries list's filters and facets."""

from __future__ import annotations

import logging
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get

from core.api.entries import (
    LIST_PARAMS,
    PAGE,
    PAGE_SIZE,
    Filter,
    parse_entry_query,
    word_list_pattern,
)
from core.api.params import NUMBER, TEXT, optional_query
from core.api.schemas import Pagination
from core.content.facets import FACET_ATTRIBUTES
from core.http.metrics import timed_search
from core.http.problems import ProblemError, bad_request, problem_responses
from search.query import search_entries

log = logging.getLogger("mentoring40.search")

SEARCH_PARAMS = (LIST_PARAMS - {"sort", "tag"}) | {"q", "facets"}
RETRY_AFTER_SECONDS = 30
FACETS_PATTERN = word_list_pattern(FACET_ATTRIBUTES, skip_empty=True)


class SearchHit(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    title: str
    summary: str
    kind: str
    topics: list[str]
    source: str
    title_html: str
    summary_html: str
    url: str


class SearchMeta(msgspec.Struct, frozen=True, kw_only=True):
    pagination: Pagination
    facets: dict[str, dict[str, int]]
    processing_time_ms: int


class SearchResult(msgspec.Struct, frozen=True):
    data: list[SearchHit]
    meta: SearchMeta


@get(
    "/api/v1/search",
    tags=["Werkzeugkasten"],
    summary="Search the toolbox",
    description=(
        "Full-text search (typo-tolerant) over title, tags, summary and body, with the same "
        "filters as the entries list. `facets=topic,phase` adds counts per value; a dimension's "
        "counts ignore its own filter. `title_html` and `summary_html` are escaped HTML whose "
        "only markup is `<mark>`. When the search engine is unreachable the answer is a 503 "
        "problem document with `Retry-After`. Searches per client are limited "
        "(MENTORING40_RATE_LIMIT_SEARCH); over the limit the answer is 429 with `Retry-After`."
    ),
    opt={"rate_limit": "search"},
    responses=problem_responses(
        400,
        429,
        (
            503,
            "The search engine is unreachable (with `Retry-After`) or not configured on this "
            "server; GET /api/v1/entries works without it.",
        ),
    ),
)
async def search(
    request: Request[Any, Any, Any],
    q: Annotated[str | None, optional_query("What to search for; empty lists all.", TEXT)] = None,
    topic: Filter = None,
    phase: Filter = None,
    audience: Filter = None,
    kind: Filter = None,
    source: Filter = None,
    facets: Annotated[
        str | None,
        optional_query(
            f"Comma-separated: {', '.join(FACET_ATTRIBUTES)}.", TEXT, pattern=FACETS_PATTERN
        ),
    ] = None,
    page: Annotated[int | None, optional_query("1-based page number.", NUMBER, **PAGE)] = None,
    page_size: Annotated[
        int | None, optional_query("Hits per page, 1–100.", NUMBER, **PAGE_SIZE)
    ] = None,
) -> Response[SearchResult]:
    query = await parse_entry_query(request, SEARCH_PARAMS)
    wanted = [f.strip() for f in (facets or "").split(",") if f.strip()]
    for name in wanted:
        if name not in FACET_ATTRIBUTES:
            raise bad_request(
                "facets", f"Unknown facet {name!r}; allowed are: {', '.join(FACET_ATTRIBUTES)}."
            )
    service = getattr(request.app.state, "search", None)
    if service is None:
        raise ProblemError(
            503,
            "Search is not configured on this server (no MEILI_URL); "
            "GET /api/v1/entries lists and filters entries without it.",
        )
    try:
        async with timed_search("api"):
            result = await search_entries(
                service.searcher, service.uid, q=(q or "").strip(), filters=query.filters,
                page=query.page, page_size=query.page_size, facets=list(dict.fromkeys(wanted)),
            )  # fmt: skip
    except Exception as exc:
        # Meilisearch's client raises its HTTP library's status error (httpx2, not httpx).
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
        if response is None or not isinstance(status, int):
            raise _unavailable(exc) from exc  # engine down: say so, never a stale answer
        if status >= 500 or "index_not_found" in response.text:
            raise _unavailable(exc) from exc  # failing, or the index is still being built
        # Meilisearch refused the query we built: our bug, not an outage (logged as such).
        raise RuntimeError(f"Meilisearch refused the search query: {response.text}") from exc
    return Response(
        SearchResult(
            data=[SearchHit(**hit) for hit in result["hits"]],
            meta=SearchMeta(
                pagination=Pagination(**result["pagination"]),
                facets=result["facets"],
                processing_time_ms=result["processing_time_ms"],
            ),
        ),
        headers={"Cache-Control": "no-store"},
    )


def _unavailable(exc: Exception) -> ProblemError:
    log.warning("Search engine unavailable: %s", exc)
    return ProblemError(
        503,
        "The search engine is unreachable right now; try again shortly. Content stays "
        "available through GET /api/v1/entries.",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )
