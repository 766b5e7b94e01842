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

from meilisearch_python_sdk import AsyncClient

from core.content.facets import FACET_ATTRIBUTES
from core.content.markdown import entry_url
from search.understanding import (
    exact_words,
    query_words,
    split_dead,
    typed_words,
    word_probes,
)

MAX_PROBED_WORDS = 12
# Markers that never occur in text; replaced by <mark> after escaping.
_PRE, _POST = "\x02", "\x03"


def _filter_expression(filters: dict[str, list[str]], skip: str | None = None) -> list[str]:
    parts = []
    for name, values in filters.items():
        if name == skip or name not in FACET_ATTRIBUTES:
            continue
        quoted = ", ".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values)
        parts.append(f"{FACET_ATTRIBUTES[name]} IN [{quoted}]")
    return parts


# The query reaches the engine stemmed, so a match may cover only the stem ("List" of
# "Liste"): the mark is widened to the end of the word (letters only, after escaping).
_PARTIAL_MARK = re.compile(r"</mark>(\w+)")


def safe_highlight(text: str) -> str:
    """Escape everything, then turn the engine's markers into <mark> tags (whole words)."""
    marked = html.escape(text, quote=True).replace(_PRE, "<mark>").replace(_POST, "</mark>")
    return _PARTIAL_MARK.sub(r"\1</mark>", marked)


async def search_entries(
    client: AsyncClient,
    uid: str,
    *,
    q: str,
    filters: dict[str, list[str]],
    page: int,
    page_size: int,
    facets: list[str],
) -> dict[str, Any]:
    """One page of hits with highlights, pagination and disjunctive facet counts.

    The query goes to the engine in stemmed form; words that find nothing on their own
    are split into live compound parts or dropped (search/understanding.py).
    """
    words = query_words(q)
    filter_expression = _filter_expression(filters)

    def queries_for(text: str) -> list[dict[str, Any]]:
        base = {"q": text, "indexUid": uid}
        main = {
            **base,
            "filter": filter_expression,
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
        # One extra query per filtered facet, without that facet's own filter.
        return [main] + [
            {**base, "filter": _filter_expression(filters, skip=name), "limit": 0,
             "facets": [FACET_ATTRIBUTES[name]]}
            for name in facets if name in filters
        ]  # fmt: skip

    queries = queries_for(" ".join(words))
    # With several words, each is also counted on its own, in the same request (a pasted
    # paragraph is not picked apart: words past MAX_PROBED_WORDS count as found).
    probed = words[:MAX_PROBED_WORDS] if len(words) > 1 else []
    probes = word_probes(probed, uid, filter_expression, prefix_last=probed == words)
    results = await _multi_search(client, queries + probes)
    if words:
        counts = [_count(r) for r in results[len(queries) :]] or [_count(results[0])]
        counts += [1] * (len(words) - len(counts))
        dead = [word for word, count in zip(words, counts, strict=True) if not count]
        if dead:
            splits = await split_dead(client, uid, dead, filter_expression, typed_words(q))
            words = [part for word in words for part in splits.get(word, [word])]
            dropped = sum(not splits[word] for word in dead)
            if dropped:
                words = await exact_words(client, uid, words, filter_expression)
            # Only a query that is mostly understood is searched without its unknown words.
            if len(words) <= dropped:  # an empty page, not the whole toolbox
                return _empty(page, page_size, facets)
            # The query changed: its words must match as complete words (a trailing space
            # ends prefix matching), or "Apfelkuchen backen" would find "Backstube".
            results = await _multi_search(client, queries_for(" ".join(words) + " "))
    first = results[0]
    distribution: dict[str, dict[str, int]] = dict(first.get("facetDistribution") or {})
    for extra in results[1 : len(queries)]:
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


async def _multi_search(client: AsyncClient, queries: list[dict[str, Any]]) -> list[Any]:
    response = await client.http_client.post("multi-search", json={"queries": queries})
    response.raise_for_status()
    results: list[Any] = response.json()["results"]
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
