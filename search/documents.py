"""What an entry looks like in the search index."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable
from typing import Any

import nh3

from core.content.facets import ENTRY_FIELD
from search.german import extra_terms_of, stem, stems_of, unstemmed, words
from search.vocabulary import Vocabulary

# The fields a document carries; searchable ones in ranking order (title before tags
# before search terms before summary before the body's words), the rest for filters,
# facets and sorting. The query reaches the engine in Snowball stems (search/german.py),
# so the title's stems come first: "Sichere Passwörter" holds the query's *passwort*
# there as firmly as "Passwort-Manager" does in its written title. title_terms /
# text_terms hold compound parts and ae/oe/ue spellings (of title and tags, of summary
# and body); tag_stems, search_stems and text_stems the stems of tags, search terms (with
# their compound parts and spellings) and text, each ranked just below the text it comes
# from. The body itself is not sent: text_stems holds what the stemmed query matches,
# and text_terms the body's written forms that differ from their stems; the running text
# cost Meilisearch half its indexing time (docs/SEARCH.md, "What indexing costs").
SEARCHABLE = [
    "title_stems",
    "title",
    "title_terms",
    "tags",
    "tag_stems",
    "search_terms",
    "search_stems",
    "summary",
    "text_terms",
    "text_stems",
]
# Every filter of the entries list (the facets and tags) narrows a search too; the slug
# leaves out the entries a partner site hides.
FILTERABLE = [*ENTRY_FIELD.values(), "slug"]
SORTABLE = ["title_sort", "updated_at", "slug"]


# The shape of a search document: raise it whenever build_document() changes what it
# writes (fields, how they are built). Each document carries it beside its entry's content
# hash, so reconcile() at the next start queues every document of an older shape and the
# outbox worker rebuilds them: an upgrade needs no manual reindex.
DOCUMENT_SHAPE = 2  # 2: no body; tag, search-term and title stems of their own


def indexed_hash(content_hash: str) -> str:
    """What a document of this shape stores as ``content_hash`` for its entry's hash."""
    return f"{content_hash}/{DOCUMENT_SHAPE}"


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
    # Each distinct word once, in order of first appearance: extra_terms and stems give
    # the same result as on the whole texts (both keep the first occurrence), at a
    # fraction of the cost on long bodies (full reindex, docs/PERFORMANCE.md).
    title = list(dict.fromkeys(words([row["title"]])))
    tags = list(dict.fromkeys(words(row["tags"])))
    searched = list(dict.fromkeys(words(row["search_terms"])))
    text = list(dict.fromkeys(words([row["summary"], body])))
    doc = {
        "slug": row["slug"],
        "title": row["title"],
        "title_terms": extra_terms_of(title + tags),
        "title_stems": stems_of(title),
        "tags": row["tags"],
        "tag_stems": stems_of(tags),
        "search_terms": row["search_terms"],
        "search_stems": f"{extra_terms_of(searched)} {stems_of(searched)}".strip(),
        "summary": row["summary"],
        "text_terms": " ".join(dict.fromkeys([*extra_terms_of(text).split(), *unstemmed(text)])),
        "text_stems": stems_of(text),
        "topics": row["topics"],
        "phases": row["phases"],
        "audiences": row["audiences"],
        "kind": row["kind"],
        "source": row["source"],
        "title_sort": row["title_sort"],
        "updated_at": updated,
        # Lets reconcile() see an outdated document without comparing every field.
        "content_hash": indexed_hash(row["content_hash"]),
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
        # "sort" first: a search with ?sort= is ordered by it (relevance breaks ties);
        # without ?sort= the rule does nothing, so relevance alone decides. Then
        # "attribute" before "typo" and "proximity": in a toolbox the title says what an
        # entry is, so a title match (also one reached through a stem or a typo) beats
        # query words that happen to stand exactly, or close together, in a long body.
        "rankingRules": ["sort", "words", "attribute", "typo", "proximity", "exactness"],
        "synonyms": stemmed_synonyms(vocabulary.synonyms) if vocabulary else {},
        "stopWords": stemmed_stop_words(vocabulary.stop_words) if vocabulary else [],
        # Sizes count the word the engine gets, and that is a stem, shorter than the word
        # typed: "Tandem" arrives as "tand", and one typo on four letters made it "TAN"
        # (online banking). One typo from five letters, two from nine.
        "typoTolerance": {"enabled": True, "minWordSizeForTypos": {"oneTypo": 5, "twoTypos": 9}},
        # Indexing cost (a full reindex, docs/PERFORMANCE.md): no facet search (searching
        # within a facet's values), nothing asks for it. (Word pairs by attribute instead of
        # by distance cut indexing further but cost compound queries top-1: not taken.)
        "facetSearch": False,
    }


# The query reaches Meilisearch stemmed (search/understanding.py), so every synonym and
# stop word is declared in its stemmed form too; the written form stays for the words
# in the text fields.
def _stemmed_phrase(phrase: str) -> str:
    return " ".join(stem(word) for word in words([phrase]))


def stemmed_synonyms(synonyms: dict[str, list[str]]) -> dict[str, list[str]]:
    """Each synonym, written and stemmed, pointing at the others (written and stemmed)."""
    expanded: dict[str, set[str]] = {}
    for word, others in synonyms.items():
        targets = {*others, *(_stemmed_phrase(o) for o in others)}
        for key in {word, _stemmed_phrase(word)}:
            expanded.setdefault(key, set()).update(targets - {key})
    return {key: sorted(values) for key, values in sorted(expanded.items()) if values}


def stemmed_stop_words(stop_words: list[str]) -> list[str]:
    """The stop words, written and stemmed."""
    return sorted({*stop_words, *(stem(word) for word in stop_words)})
