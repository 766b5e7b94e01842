"""Search in the database: what /api/v1/search answers while the search engine cannot.

Used right after a fresh start (before the index is filled), while Meilisearch is
unreachable, and on a server without one. Simpler than the engine, on purpose, and the
same on SQLite and PostgreSQL (it matches in Python over the published entries' list
columns, one read):

- the query's *terms* are matched in the title, summary, tags or search terms: each term
  is a word of ``q`` with its other forms (the caller's query understanding,
  ``search.understanding.database_terms``: stop words left out, the Snowball stem beside
  the word as typed); a term matches when one of its forms occurs, inside a word from
  four letters on (so a word's beginning finds it while typing, and a compound's part
  finds the compound), shorter ones at a word's start only; no typo tolerance, no body;
- a term that matches no entry at all is dropped, like the engine's dead words, when at
  least as many terms remain, or when the rest begin a word of an entry's title or tags;
  otherwise nothing is found ("Apfelkuchen backen");
- the entries that match the most terms are found (all of them when one entry does);
- case-insensitive and umlaut-folded on both sides (ä = ae, ö = oe, ü = ue, ß = ss);
- filters and disjunctive facet counts exactly like the engine's;
- ordered by ``sort``; without it, with a query, by terms found in title, tags or search
  terms, then by title; without a query by title.
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
# The Snowball stems of search.german drop the umlaut's dots (Überblicke -> uberblick).
_PLAIN = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
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
    terms: list[list[str]] | None = None,
) -> dict[str, Any]:
    """One page of matching published entries, shaped like ``search.query.search_entries``.

    ``terms``: the query's terms, each the folded forms of one word (default: every word
    of ``q`` as typed)."""
    started = time.perf_counter()
    rows = await (
        Entry.select(
            Entry.slug, Entry.title, Entry.title_sort, Entry.summary, Entry.kind, Entry.topics,
            Entry.phases, Entry.audiences, Entry.tags, Entry.search_terms, Entry.source,
            Entry.updated_at,
        )
        .where(Entry.status == PUBLISHED)
        .output(load_json=True)
    )  # fmt: skip
    if terms is None:
        terms = [[fold(w)] for w in _WORD.findall(q)]
    about: dict[str, int] = {}
    if terms:
        rows, about = _matching(rows, terms)
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
    if not sort and about:  # relevance: the terms an entry is about first
        hits.sort(key=lambda row: -about[row["slug"]])
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


# From this length a form matches inside a word too; shorter ones only at a word's start
# (two-letter fragments such as "ng" would match almost everything).
MIN_INSIDE = 4


def _starts_a_word(form: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(form)}", text) is not None


def _occurs(form: str, text: str) -> bool:
    return form in text if len(form) >= MIN_INSIDE else _starts_a_word(form, text)


def _both(text: str) -> str:
    lower = text.casefold()
    return f"{lower.translate(_FOLD)}\n{lower.translate(_PLAIN)}"


def _matching(
    rows: list[dict[str, Any]], terms: list[list[str]]
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The rows that match the most terms, and per row how many terms its title or tags
    hold (for the relevance order)."""
    # Each text folded both ways (ä -> ae and ä -> a): a form matches in either.
    # Search terms count like tags: they say what an entry is about (never shown).
    texts = [
        _both(" ".join([row["title"], row["summary"], *row["tags"], *row["search_terms"]]))
        for row in rows
    ]
    titles = [_both(" ".join([row["title"], *row["tags"], *row["search_terms"]])) for row in rows]
    # Whether a half-known query names an entry's subject is judged on what the entry shows
    # (title and tags), as before: a search term's beginning is too weak a sign ("backen"
    # begins "Backup").
    subjects = [_both(" ".join([row["title"], *row["tags"]])) for row in rows]

    def found(term: list[str], text: str) -> bool:
        return any(_occurs(form, text) for form in term)

    live = [term for term in terms if any(found(term, text) for text in texts)]
    dropped = len(terms) - len(live)

    # Like the engine's fallback (search.query): a query half of whose words the toolbox
    # does not know is searched with the rest only when the rest names an entry's subject.
    def names_a_subject(term: list[str]) -> bool:
        return any(_starts_a_word(form, subject) for form in term for subject in subjects)

    if not live or (dropped and len(live) <= dropped and not all(map(names_a_subject, live))):
        return [], {}
    counts = [sum(found(term, text) for term in live) for text in texts]
    best = max(counts)
    if not best:
        return [], {}
    kept = [i for i, count in enumerate(counts) if count == best]
    about = {rows[i]["slug"]: sum(found(term, titles[i]) for term in live) for i in kept}
    return [rows[i] for i in kept], about


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
