"""Search in the database: what /api/v1/search answers while the search engine cannot.

Used right after a fresh start (before the index is filled), while Meilisearch is
unreachable, and on a server without one. Simpler than the engine, on purpose, and the
same on SQLite and PostgreSQL (it matches in Python over the published entries' list
columns, one read):

- every word of ``q`` must occur in the title, summary or tags (AND over words,
  substring, so a word's beginning finds it while typing); no typo tolerance, no body;
- case-insensitive and umlaut-folded on both sides (ä = ae, ö = oe, ü = ue, ß = ss);
- filters and disjunctive facet counts exactly like the engine's;
- ordered by ``sort``, by default by title (there is no relevance score here).
"""

from __future__ import annotations

import math
import re
import time
from collections import Counter
from html import escape
from typing import Any

from core.content.model import PUBLISHED
from core.db.tables import Entry

# Query parameter -> row field; tags are compared casefolded, like the entries list does.
FIELDS = {
    "topic": "topics",
    "phase": "phases",
    "audience": "audiences",
    "kind": "kind",
    "source": "source",
    "tag": "tags",
}
_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
_WORD = re.compile(r"\w+")


def fold(text: str) -> str:
    """Lower case with umlauts spelled out, so *Geschaeftsfuehrung* meets *Geschäftsführung*."""
    return text.casefold().translate(_FOLD)


def _values(row: dict[str, Any], name: str) -> list[str]:
    value = row[FIELDS[name]]
    values = value if isinstance(value, list) else [value]
    return [v.casefold() for v in values] if name == "tag" else values


def _passes(row: dict[str, Any], filters: dict[str, list[str]], skip: str | None = None) -> bool:
    for name, wanted in filters.items():
        if name == skip:
            continue
        allowed = {w.casefold() for w in wanted} if name == "tag" else set(wanted)
        if not allowed.intersection(_values(row, name)):
            return False
    return True


def _sort_key(field: str) -> str:
    return {"title": "title_sort", "updated_at": "updated_at", "slug": "slug"}[field]


async def search_in_database(
    *,
    q: str,
    filters: dict[str, list[str]],
    sort: list[tuple[str, bool]] | None,
    page: int,
    page_size: int,
    facets: list[str],
) -> dict[str, Any]:
    """One page of matching published entries, shaped like ``search.query.search_entries``."""
    started = time.perf_counter()
    rows = await (
        Entry.select(
            Entry.slug, Entry.title, Entry.title_sort, Entry.summary, Entry.kind, Entry.topics,
            Entry.phases, Entry.audiences, Entry.tags, Entry.source, Entry.updated_at,
        )
        .where(Entry.status == PUBLISHED)
        .output(load_json=True)
    )  # fmt: skip
    words = [fold(w) for w in _WORD.findall(q)]
    if words:
        rows = [
            row
            for row in rows
            if all(w in fold(" ".join([row["title"], row["summary"], *row["tags"]])) for w in words)
        ]
    # Disjunctive, like the engine: a dimension's counts ignore its own filter.
    counts = {
        name: dict(
            Counter(v for row in rows if _passes(row, filters, name) for v in _values(row, name))
        )
        for name in facets
    }
    hits = [row for row in rows if _passes(row, filters)]
    # Stable sorts, last key first: the first field decides, slug breaks ties (as the list).
    for field, descending in reversed([*(sort or [("title", False)]), ("slug", False)]):
        key = _sort_key(field)
        hits.sort(key=lambda row: row[key], reverse=descending)
    total = len(hits)
    start = (page - 1) * page_size
    return {
        "hits": [_hit(row) for row in hits[start : start + page_size]],
        "pagination": {
            "page": page,
            "page_size": page_size,
            "page_count": math.ceil(total / page_size),
            "total": total,
        },
        "facets": counts,
        "processing_time_ms": int((time.perf_counter() - started) * 1000),
    }


def _hit(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "slug": row["slug"],
        "title": row["title"],
        "summary": row["summary"],
        "kind": row["kind"],
        "topics": row["topics"],
        "source": row["source"],
        # Escaped like the engine's highlights, without <mark>: no match positions here.
        "title_html": escape(row["title"], quote=True),
        "summary_html": escape(row["summary"], quote=True),
        "url": f"/api/v1/entries/{row['slug']}",
    }
