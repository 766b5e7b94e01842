"""What an entry looks like in the search index."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any

import nh3

from search.vocabulary import Vocabulary

# The fields a document carries; searchable ones in ranking order (title before tags
# before summary before body), the rest for filters, facets and sorting.
SEARCHABLE = ["title", "tags", "summary", "body"]
FILTERABLE = ["topics", "phases", "audiences", "kind", "source"]
SORTABLE = ["title_sort", "updated_at"]


def plain_text(body_html: str) -> str:
    """The words of a rendered body, without markup, for full-text search."""
    return " ".join(html.unescape(nh3.clean(body_html, tags=set())).split())


Enrich = Callable[[dict[str, Any], dict[str, Any]], None]


def build_document(row: dict[str, Any], enrich: Enrich | None = None) -> dict[str, Any]:
    """A search document from an ``entry`` row (JSON columns already loaded)."""
    updated = row["updated_at"]
    if isinstance(updated, dt.date):
        updated = int(dt.datetime.combine(updated, dt.time(), dt.UTC).timestamp())
    doc = {
        "slug": row["slug"],
        "title": row["title"],
        "tags": row["tags"],
        "summary": row["summary"],
        "body": plain_text(row["body_html"]),
        "topics": row["topics"],
        "phases": row["phases"],
        "audiences": row["audiences"],
        "kind": row["kind"],
        "source": row["source"],
        "title_sort": row["title_sort"],
        "updated_at": updated,
        # Lets reconcile() see an outdated document without comparing every field.
        "content_hash": row["content_hash"],
    }
    if enrich is not None:
        enrich(row, doc)
    return doc


def index_settings(vocabulary: Vocabulary | None = None) -> dict[str, Any]:
    """Meilisearch settings applied before documents go in (camelCase, as the API takes them)."""
    return {
        "searchableAttributes": SEARCHABLE,
        "filterableAttributes": FILTERABLE,
        "sortableAttributes": SORTABLE,
        "displayedAttributes": ["*"],
        "synonyms": vocabulary.synonyms if vocabulary else {},
        "stopWords": vocabulary.stop_words if vocabulary else [],
        "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 8}},
    }
