"""Translate an API search request into Meilisearch queries and safe results.

Facet counts are disjunctive: the count for a dimension ignores that
dimension's own filter, so a Lotse sees what widening a choice would add.
Everything the engine returns is HTML-escaped before the highlight tags are
put back, so content containing markup always comes out inert.
"""

from __future__ import annotations

import html
import math
import re
from typing import Any

import msgspec
from meilisearch_python_sdk import AsyncClient

from core.content.facets import ENTRY_FIELD, EXCLUDE_SLUGS_KEY, FACET_ATTRIBUTES
from core.content.markdown import entry_url
from search.multisearch import MultiSearchPool
from search.understanding import (
    entries_about,
    exact_words,
    query_words,
    split_dead,
    typed_words,
    word_probes,
)

MAX_PROBED_WORDS = 12
# Every filter (the facets and tags; tags are matched case-insensitively by the engine).
FILTER_ATTRIBUTES = ENTRY_FIELD
# The entries list's sort fields -> document attribute.
SORT_ATTRIBUTES = {"title": "title_sort", "updated_at": "updated_at", "slug": "slug"}
# Markers that never occur in text; replaced by <mark> after escaping.
_PRE, _POST = "\x02", "\x03"
# Where an entry says what it is about. The engine's "words" rule ranks an entry that
# holds more of the query's words anywhere (a long body) above one that holds fewer in
# its title; a question ("was tun, wenn es im Tandem kriselt") then puts an unrelated
# entry first. The same query is therefore also searched in these fields only, and the
# first RERANK_WINDOW hits of the full query are reordered by both scores together.
ABOUT_FIELDS = ["title", "title_terms", "title_stems", "tags", "summary"]
RERANK_WINDOW = 30
ABOUT_WEIGHT = 1.0  # both scores count alike (measured: 0.5 to 5 in docs/SEARCH.md)


def _filter_expression(filters: dict[str, list[str]], skip: str | None = None) -> list[str]:
    parts = []
    for name, values in filters.items():
        if name == EXCLUDE_SLUGS_KEY:
            parts.append(f"slug NOT IN [{_quoted(values)}]")
        if name == skip or name not in FILTER_ATTRIBUTES:
            continue
        parts.append(f"{FILTER_ATTRIBUTES[name]} IN [{_quoted(values)}]")
    return parts


def _quoted(values: list[str]) -> str:
    return ", ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)


# The query reaches the engine stemmed, so a match may cover only the stem ("List" of
# "Liste"): the mark is widened to the end of the word (letters only, after escaping).
_PARTIAL_MARK = re.compile(r"</mark>(\w+)")


def safe_highlight(text: str) -> str:
    """Escape everything, then turn the engine's markers into <mark> tags (whole words)."""
    marked = html.escape(text, quote=True).replace(_PRE, "<mark>").replace(_POST, "</mark>")
    return _PARTIAL_MARK.sub(r"\1</mark>", marked)


def multi_search_body(
    uid: str,
    *,
    q: str,
    filters: dict[str, list[str]],
    page: int,
    page_size: int,
    facets: list[str],
    sort: list[tuple[str, bool]] | None = None,
) -> dict[str, Any]:
    """The first multi-search request ``search_entries`` sends for ``q`` (the benchmark
    sends the identical body raw): the page, one query per filtered facet and, with
    several words, one count per word. A query with words that find nothing is followed
    by a second request (compound parts, dropped words)."""
    words = query_words(q)
    queries = _queries(uid, " ".join(words), filters, page, page_size, facets, sort)
    # With several words, each is also counted on its own, in the same request (a pasted
    # paragraph is not picked apart: words past MAX_PROBED_WORDS count as found).
    probed = words[:MAX_PROBED_WORDS] if len(words) > 1 else []
    probes = word_probes(probed, uid, _filter_expression(filters), prefix_last=probed == words)
    return {"queries": queries + probes}


def _queries(
    uid: str,
    text: str,
    filters: dict[str, list[str]],
    page: int,
    page_size: int,
    facets: list[str],
    sort: list[tuple[str, bool]] | None,
) -> list[dict[str, Any]]:
    base = {"q": text, "indexUid": uid}
    start = (page - 1) * page_size
    rerank = _reranked(text, page, page_size, sort)
    main: dict[str, Any] = {
        **base,
        "filter": _filter_expression(filters),
        # A reranked page is cut from the first RERANK_WINDOW hits (or more) in Python.
        "page": 1 if rerank else page,
        "hitsPerPage": max(RERANK_WINDOW, start + page_size) if rerank else page_size,
        "attributesToRetrieve": ["slug", "title", "summary", "kind", "topics", "source"],
        "attributesToHighlight": ["title", "summary"],
        "attributesToCrop": ["summary"],
        "cropLength": 30,
        "highlightPreTag": _PRE,
        "highlightPostTag": _POST,
        # Facets whose own dimension is not filtered can be counted in the main query.
        "facets": [FACET_ATTRIBUTES[f] for f in facets if f not in filters],
    }
    if sort:
        fields = [*sort, ("slug", False)]
        main["sort"] = [f"{SORT_ATTRIBUTES[f]}:{'desc' if d else 'asc'}" for f, d in fields]
    about = []
    if rerank:
        main["showRankingScore"] = True
        about = [{**base, "filter": main["filter"], "attributesToSearchOn": ABOUT_FIELDS,
                  "limit": RERANK_WINDOW, "attributesToRetrieve": ["slug"],
                  "showRankingScore": True}]  # fmt: skip
    # One extra query per filtered facet, without that facet's own filter.
    return [main, *about] + [
        {**base, "filter": _filter_expression(filters, skip=name), "limit": 0,
         "facets": [FACET_ATTRIBUTES[name]]}
        for name in facets if name in filters
    ]  # fmt: skip


def _reranked(text: str, page: int, page_size: int, sort: list[tuple[str, bool]] | None) -> bool:
    """Whether this page is reordered by the about-fields query (relevance order only)."""
    return bool(text.strip()) and not sort and (page - 1) * page_size < RERANK_WINDOW


def _rerank(hits: list[dict[str, Any]], about: dict[str, Any]) -> list[dict[str, Any]]:
    """The first RERANK_WINDOW hits by full score plus weighted about-fields score; the
    rest in the engine's order (so later pages neither repeat nor miss an entry)."""
    about_score = {hit["slug"]: float(hit.get("_rankingScore", 0.0)) for hit in about["hits"]}

    def score(hit: dict[str, Any]) -> float:
        about = about_score.get(hit["slug"], 0.0)
        return float(hit.get("_rankingScore", 0.0)) + ABOUT_WEIGHT * about

    # sorted() is stable: equal scores keep the engine's order.
    return sorted(hits[:RERANK_WINDOW], key=score, reverse=True) + hits[RERANK_WINDOW:]


async def search_entries(
    client: AsyncClient,
    uid: str,
    *,
    q: str,
    filters: dict[str, list[str]],
    page: int,
    page_size: int,
    facets: list[str],
    sort: list[tuple[str, bool]] | None = None,
    pool: MultiSearchPool | None = None,
) -> dict[str, Any]:
    """One page of hits with highlights, pagination and disjunctive facet counts; by
    relevance, or by ``sort`` ((field, descending) pairs of the entries list) first.

    The query goes to the engine in stemmed form; words that find nothing on their own
    are split into live compound parts or dropped (search/understanding.py). With
    ``pool``, the page's multi-search goes over its lean connections (search/multisearch.py).
    """
    words = query_words(q)
    filter_expression = _filter_expression(filters)
    body = multi_search_body(
        uid, q=q, filters=filters, page=page, page_size=page_size, facets=facets, sort=sort
    )
    # The page (+ its about-fields query) + disjunctive counts.
    n_queries = (
        1
        + _reranked(" ".join(words), page, page_size, sort)
        + sum(name in filters for name in facets)
    )
    results = await _multi_search(client, body["queries"], pool)
    if words:
        counts = [_count(r) for r in results[n_queries:]] or [_count(results[0])]
        counts += [1] * (len(words) - len(counts))
        dead = [word for word, count in zip(words, counts, strict=True) if not count]
        if dead:
            splits = await split_dead(client, uid, dead, filter_expression, typed_words(q))
            words = [part for word in words for part in splits.get(word, [word])]
            dropped = sum(not splits[word] for word in dead)
            if dropped:
                words = await exact_words(client, uid, words, filter_expression)
            # Only a query that is mostly understood, or whose known words name what an
            # entry is about, is searched without its unknown words.
            if len(words) <= dropped and not await entries_about(
                client, uid, words, filter_expression
            ):  # an empty page, not the whole toolbox
                return _empty(page, page_size, facets)
            # The query changed: its words must match as complete words (a trailing space
            # ends prefix matching), or "Apfelkuchen backen" would find "Backstube".
            text = " ".join(words) + " "
            results = await _multi_search(
                client, _queries(uid, text, filters, page, page_size, facets, sort), pool
            )
    first = results[0]
    hits = first["hits"]
    extras = results[1:n_queries]
    if _reranked(" ".join(words), page, page_size, sort):
        start = (page - 1) * page_size
        hits = _rerank(hits, extras.pop(0))[start : start + page_size]
    distribution: dict[str, dict[str, int]] = dict(first.get("facetDistribution") or {})
    for extra in extras:
        distribution.update(extra.get("facetDistribution") or {})
    by_param = {name: distribution.get(FACET_ATTRIBUTES[name], {}) for name in facets}
    total = int(first.get("totalHits", 0))
    return {
        "hits": [_hit(hit) for hit in hits],
        "pagination": {
            "page": page,
            "page_size": page_size,
            "page_count": math.ceil(total / page_size),
            "total": total,
        },
        "facets": by_param,
        "processing_time_ms": int(first.get("processingTimeMs", 0)),
    }


async def _multi_search(
    client: AsyncClient, queries: list[dict[str, Any]], pool: MultiSearchPool | None
) -> list[Any]:
    if pool is not None:
        return await pool.search(queries)
    response = await client.http_client.post("multi-search", json={"queries": queries})
    response.raise_for_status()
    # msgspec decodes the engine's answer several times faster than the client's json().
    results: list[Any] = msgspec.json.decode(response.content)["results"]
    return results


def _count(result: dict[str, Any]) -> int:
    return int(result.get("totalHits", result.get("estimatedTotalHits", 0)))


def _empty(page: int, page_size: int, facets: list[str]) -> dict[str, Any]:
    return {
        "hits": [],
        "pagination": {"page": page, "page_size": page_size, "page_count": 0, "total": 0},
        "facets": {name: {} for name in facets},
        "processing_time_ms": 0,
    }


def _hit(hit: dict[str, Any]) -> dict[str, Any]:
    formatted = hit.get("_formatted", {})
    return {
        "slug": hit["slug"],
        "title": hit["title"],
        "summary": hit["summary"],
        "kind": hit["kind"],
        "topics": hit["topics"],
        "source": hit["source"],
        "title_html": safe_highlight(str(formatted.get("title", hit["title"]))),
        "summary_html": safe_highlight(str(formatted.get("summary", hit["summary"]))),
        "url": entry_url(hit["slug"]),
    }
