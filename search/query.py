"""Translate an API search request into Meilisearch queries and safe results.

Facet counts are disjunctive: the count for a dimension ignores that
dimension's own filter, so a Lotse sees what widening a choice would add.
Everything the engine returns is HTML-escaped before the highlight tags are
put back, so content containing markup always comes out inert.
"""

from __future__ import annotations

import html
import math
from typing import Any

from meilisearch_python_sdk import AsyncClient

# Query parameter -> document attribute.
FACET_ATTRIBUTES = {
    "topic": "topics",
    "phase": "phases",
    "audience": "audiences",
    "kind": "kind",
    "source": "source",
}
# Filters beyond the facets: tags (free text, matched case-insensitively by the engine).
FILTER_ATTRIBUTES = {**FACET_ATTRIBUTES, "tag": "tags"}
# The entries list's sort fields -> document attribute.
SORT_ATTRIBUTES = {"title": "title_sort", "updated_at": "updated_at", "slug": "slug"}
# Markers that never occur in text; replaced by <mark> after escaping.
_PRE, _POST = "\x02", "\x03"


def _filter_expression(filters: dict[str, list[str]], skip: str | None = None) -> list[str]:
    parts = []
    for name, values in filters.items():
        if name == skip or name not in FILTER_ATTRIBUTES:
            continue
        quoted = ", ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        parts.append(f"{FILTER_ATTRIBUTES[name]} IN [{quoted}]")
    return parts


def safe_highlight(text: str) -> str:
    """Escape everything, then turn the engine's markers into <mark> tags."""
    return html.escape(text, quote=True).replace(_PRE, "<mark>").replace(_POST, "</mark>")


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
    """The multi-search request ``search_entries`` sends (the benchmark sends it raw)."""
    base = {"q": q, "indexUid": uid}
    main = {
        **base,
        "filter": _filter_expression(filters),
        "page": page,
        "hitsPerPage": page_size,
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
    queries = [main]
    # One extra query per filtered facet, without that facet's own filter.
    disjunctive = [f for f in facets if f in filters]
    for name in disjunctive:
        queries.append({**base, "filter": _filter_expression(filters, skip=name), "limit": 0,
                        "facets": [FACET_ATTRIBUTES[name]]})  # fmt: skip
    return {"queries": queries}


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
) -> dict[str, Any]:
    """One page of hits with highlights, pagination and disjunctive facet counts; by
    relevance, or by ``sort`` ((field, descending) pairs of the entries list) first."""
    body = multi_search_body(
        uid, q=q, filters=filters, page=page, page_size=page_size, facets=facets, sort=sort
    )
    response = await client.http_client.post("multi-search", json=body)
    response.raise_for_status()
    results = response.json()["results"]
    first = results[0]
    distribution: dict[str, dict[str, int]] = dict(first.get("facetDistribution") or {})
    for extra in results[1:]:
        distribution.update(extra.get("facetDistribution") or {})
    by_param = {name: distribution.get(FACET_ATTRIBUTES[name], {}) for name in facets}
    total = int(first.get("totalHits", 0))
    return {
        "hits": [_hit(hit) for hit in first["hits"]],
        "pagination": {
            "page": page,
            "page_size": page_size,
            "page_count": math.ceil(total / page_size),
            "total": total,
        },
        "facets": by_param,
        "processing_time_ms": int(first.get("processingTimeMs", 0)),
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
        "url": f"/api/v1/entries/{hit['slug']}",
    }
