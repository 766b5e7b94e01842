"""What an entry looks like in the search index."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any

import nh3

from search.german import extra_terms
from search.vocabulary import Vocabulary

# The fields a document carries; searchable ones in ranking order (title before tags
# before summary before body), the rest for filters, facets and sorting.
# title_terms / text_terms hold compound parts and ae/oe/ue spellings (search/german.py),
# each ranked just below the text it comes from.
SEARCHABLE = ["title", "title_terms", "tags", "summary", "body", "text_terms"]
FILTERABLE = ["topics", "phases", "audiences", "kind", "source", "tags"]
SORTABLE = ["title_sort", "updated_at", "slug"]


def plain_text(body_html: str) -> str:
    """The words of a rendered body, without markup, for full-text search."""
    return " ".join(html.unescape(nh3.clean(body_html, tags=set())).split())


Enrich = Callable[[dict[str, Any], dict[str, Any]], None]


def build_document(row: dict[str, Any], enrich: Enrich | None = None) -> dict[str, Any]:
    """A search document from an ``entry`` row (JSON columns already loaded)."""
    updated = row["updated_at"]
    if isinstance(updated, dt.date):
        updated = int(dt.datetime.combine(updated, dt.time(), dt.UTC).timestamp())
    body = plain_text(row["body_html"])
    doc = {
        "slug": row["slug"],
        "title": row["title"],
        "title_terms": extra_terms([row["title"], *row["tags"]]),
        "tags": row["tags"],
        "summary": row["summary"],
        "body": body,
        "text_terms": extra_terms([row["summary"], body]),
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
        # "attribute" before "proximity": in a toolbox the title says what an entry is, so a
        # title match beats two query words that happen to stand close together in a body.
        # "sort" first: a search with ?sort= is ordered by it (relevance breaks ties);
        # without ?sort= the rule does nothing, so relevance alone decides.
        "rankingRules": ["sort", "words", "typo", "attribute", "proximity", "exactness"],
        "synonyms": vocabulary.synonyms if vocabulary else {},
        "stopWords": vocabulary.stop_words if vocabulary else [],
        "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 4, "twoTypos": 8}},
    }
