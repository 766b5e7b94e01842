"""GET /api/v1/search: full-text search with the entries list's filters and facets."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Annotated, Any, Final, Literal, cast

import msgspec
from litestar import Request, Response, get

from core.api.entries import (
    LIST_PARAMS,
    PAGE,
    PAGE_SIZE,
    SORT_PATTERN,
    Filter,
    parse_entry_query,
    word_list_pattern,
)
from core.api.params import NUMBER, TEXT, optional_query
from core.api.schemas import Pagination
from core.content.facets import FACET_ATTRIBUTES
from core.content.textsearch import search_in_database
from core.http.metrics import timed_search
from core.http.problems import bad_request, problem_responses
from search.config import query_stop_words
from search.query import search_entries
from search.understanding import database_terms

if TYPE_CHECKING:
    from search.worker import SearchService

log = logging.getLogger("mentoring40.search")

SEARCH_PARAMS = LIST_PARAMS | {"q", "facets"}
FACETS_PATTERN = word_list_pattern(FACET_ATTRIBUTES, skip_empty=True)
# Why the answer comes from the database (meta.search.reason).
Reason = Literal["not_configured", "index_not_ready", "unreachable"]
NOT_CONFIGURED: Final = "not_configured"
INDEX_NOT_READY: Final = "index_not_ready"
UNREACHABLE: Final = "unreachable"
# Scope key: what the fast path found when it asked the engine (a SearchEngine saying why
# the database answers, or the exception of a refused query) before handing on.
ENGINE_ATTEMPT: Final = "mentoring40.search_attempt"


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


class SearchEngine(msgspec.Struct, frozen=True, kw_only=True):
    engine: Literal["meilisearch", "database"]
    reason: Reason | None = None


class SearchMeta(msgspec.Struct, frozen=True, kw_only=True):
    pagination: Pagination
    facets: dict[str, dict[str, int]]
    processing_time_ms: int
    search: SearchEngine


class SearchResult(msgspec.Struct, frozen=True):
    data: list[SearchHit]
    meta: SearchMeta


MEILISEARCH: Final = SearchEngine(engine="meilisearch")


@get(
    "/api/v1/search",
    tags=["Werkzeugkasten"],
    summary="Search the toolbox",
    description=(
        "Full-text search (typo-tolerant) over title, tags, summary and body, with the same "
        "filters as the entries list (`tag` included). `sort` takes the list's syntax "
        "(`sort=-updated_at,title`) and orders the hits by it, relevance breaking ties; "
        "without `sort` the hits come by relevance. `facets=topic,phase` adds counts per "
        "value; a dimension's counts ignore its own filter. `title_html` and `summary_html` "
        "are escaped HTML whose only markup is `<mark>`. `meta.search` says who answered: "
        '`{"engine": "meilisearch"}`, or `{"engine": "database", "reason": …}` while the '
        "search engine cannot (`index_not_ready`: right after a fresh start, until the index "
        "is filled; `unreachable`; `not_configured`: no MEILI_URL). The database answer "
        "matches every word of `q` as a case-insensitive substring of title, summary or "
        "tags, with ä/ö/ü/ß equal to ae/oe/ue/ss (no typo tolerance, no body), orders by "
        "`sort` or else by title, and has no `<mark>`. Searches per client are limited "
        "(MENTORING40_RATE_LIMIT_SEARCH); over the limit the answer is 429 with `Retry-After`."
    ),
    opt={"rate_limit": "search"},
    responses=problem_responses(400, 429),
)
async def search(
    request: Request[Any, Any, Any],
    q: Annotated[str | None, optional_query("What to search for; empty lists all.", TEXT)] = None,
    topic: Filter = None,
    phase: Filter = None,
    audience: Filter = None,
    kind: Filter = None,
    source: Filter = None,
    tag: Filter = None,
    sort: Annotated[
        str | None,
        optional_query(
            "Comma-separated fields; `-` for descending. Fields: title, updated_at, slug. "
            "Default: relevance.",
            TEXT,
            pattern=SORT_PATTERN,
        ),
    ] = None,
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
    args = await search_arguments(request, q, sort, facets)
    # The fast path (core.api.fast_search) may have asked the engine already and handed
    # the request on because the database answers: its finding, instead of asking again.
    attempt = cast("dict[str, Any]", request.scope).pop(ENGINE_ATTEMPT, None)
    if isinstance(attempt, BaseException):
        raise attempt
    if attempt is None:
        result, engine = await engine_search(getattr(request.app.state, "search", None), args)
    else:
        result, engine = None, attempt
    if result is None:
        state = request.app.state
        stop_words = query_stop_words(state.registry, state.settings)
        result = await search_in_database(**args, terms=database_terms(args["q"], stop_words))
    return Response(search_answer(result, engine), headers={"Cache-Control": "no-store"})


async def search_arguments(
    request: Request[Any, Any, Any], q: str | None, sort: str | None, facets: str | None
) -> dict[str, Any]:
    """The search's arguments from the query (``q``, ``sort`` and ``facets`` as given);
    a 400 (``ProblemError``) that names a bad parameter."""
    query = await parse_entry_query(request, SEARCH_PARAMS)
    wanted = [f.strip() for f in (facets or "").split(",") if f.strip()]
    for name in wanted:
        if name not in FACET_ATTRIBUTES:
            raise bad_request(
                "facets", f"Unknown facet {name!r}; allowed are: {', '.join(FACET_ATTRIBUTES)}."
            )
    return {
        "q": (q or "").strip(),
        "filters": query.filters,
        "page": query.page,
        "page_size": query.page_size,
        "facets": list(dict.fromkeys(wanted)),
        # Without ?sort= the engine ranks by relevance (the list's default is by title).
        "sort": query.sort if (sort or "").strip() else None,
    }


async def engine_search(
    service: SearchService | None, args: dict[str, Any]
) -> tuple[dict[str, Any] | None, SearchEngine]:
    """The search engine's answer to ``args`` (the route's search arguments), or None and
    why the database answers instead. Raises when the engine refused the query we built."""
    if service is None:
        return None, SearchEngine(engine="database", reason=NOT_CONFIGURED)
    try:
        async with timed_search("api"):
            if await service.serves_queries():
                found = await search_entries(
                    service.searcher, service.uid, **args, pool=service.multi_search,
                    rewrites=service.rewrites,
                )  # fmt: skip
                return found, MEILISEARCH
            return None, SearchEngine(engine="database", reason=INDEX_NOT_READY)
    except Exception as exc:
        engine = SearchEngine(engine="database", reason=_reason_for(exc))
        if engine.reason == INDEX_NOT_READY:
            service.index_missing()
        return None, engine


def search_answer(result: dict[str, Any], engine: SearchEngine) -> SearchResult:
    """The response body of a search result (``search_entries``/``search_in_database``)."""
    return SearchResult(
        data=[SearchHit(**hit) for hit in result["hits"]],
        meta=SearchMeta(
            pagination=Pagination(**result["pagination"]),
            facets=result["facets"],
            processing_time_ms=result["processing_time_ms"],
            search=engine,
        ),
    )


def _reason_for(exc: Exception) -> Reason:
    """Why the engine could not answer; re-raise when it refused the query we built."""
    # Meilisearch's client raises its HTTP library's status error (httpx2, not httpx).
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if response is None or not isinstance(status, int):
        log.warning("Search engine unreachable, answering from the database: %s", exc)
        return UNREACHABLE
    if "index_not_found" in response.text:
        return INDEX_NOT_READY  # deleted, or not created yet
    if status >= 500:
        log.warning("Search engine failing, answering from the database: %s", exc)
        return UNREACHABLE
    # Meilisearch refused the query we built: our bug, not an outage (logged as such).
    raise RuntimeError(f"Meilisearch refused the search query: {response.text}") from exc
