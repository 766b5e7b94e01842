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
from typing import Any, NamedTuple

from meilisearch_python_sdk import AsyncClient

from core.content.facets import ENTRY_FIELD, EXCLUDE_SLUGS_KEY, FACET_ATTRIBUTES
from core.content.markdown import entry_url
from search.multisearch import MultiSearchPool, multi_search
from search.rewrites import Rewrites, rewrite_key
from search.understanding import probe, query_words, rewrite, typed_words, word_probes

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
ABOUT_FIELDS = [
    "title_stems", "title", "title_terms", "tags", "tag_stems", "search_terms", "search_stems",
    "summary",
]  # fmt: skip
RERANK_WINDOW = 30
ABOUT_WEIGHT = 1.0  # both scores count alike (measured: 0.5 to 5 in docs/SEARCH.md)
# A query of several words: each word also on its own in the about-fields (same request),
# weighted by how rare it is; entries holding the rare words there come forward, even
# those the engine's full query puts far down or leaves out (docs/SEARCH.md).
WORD_WEIGHT = 3.0  # measured: 1, 2, 3, 4 and 5 in docs/SEARCH.md
PROMOTED = 5  # entries brought into the reranked window at most
WORD_ABOUT_LIMIT = 10
# Fewer words that weigh (keywords such as "Mentees befragen") stay the engine's order.
MIN_WEIGHTED = 3
MEMBERS = 200  # how many of the full query's hits are listed to count an entry once
_DISPLAY: dict[str, Any] = {
    "attributesToRetrieve": ["slug", "title", "summary", "kind", "topics", "source"],
    "attributesToHighlight": ["title", "summary"],
    "attributesToCrop": ["summary"],
    "cropLength": 30,
    "highlightPreTag": _PRE,
    "highlightPostTag": _POST,
}


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
    several words, one count per word and each word in the about-fields (with the count
    of entries and the full query's first slugs, for the words' weights). A query with
    words that find nothing is followed by a second request (compound parts, dropped
    words)."""
    words = query_words(q)
    queries = _queries(uid, " ".join(words), filters, page, page_size, facets, sort)
    # With several words, each is also counted on its own, in the same request (a pasted
    # paragraph is not picked apart: words past MAX_PROBED_WORDS count as found).
    probed = words[:MAX_PROBED_WORDS] if len(words) > 1 else []
    probes = word_probes(probed, uid, _filter_expression(filters), prefix_last=probed == words)
    extra = _word_about_queries(
        uid, " ".join(words), probed, filters, sort, prefix_last=probed == words
    )
    return {"queries": queries + probes + extra}


def _word_about_queries(
    uid: str,
    text: str,
    words: list[str],
    filters: dict[str, list[str]],
    sort: list[tuple[str, bool]] | None,
    prefix_last: bool,
) -> list[dict[str, Any]]:
    """For a query of several words: each word on its own in the fields that say what an
    entry is about, the number of entries (for the words' weights), and which entries the
    full query finds (so that an entry brought forward is counted once)."""
    if len(words) < MIN_WEIGHTED or sort:
        return []  # fewer words can never weigh enough for _promote: not asked for
    filter_expression = _filter_expression(filters)
    last = len(words) - 1
    return [
        *(
            {"indexUid": uid, "q": word if (i == last and prefix_last) else word + " ",
             "filter": filter_expression, "attributesToSearchOn": ABOUT_FIELDS,
             "matchingStrategy": "all", "limit": WORD_ABOUT_LIMIT,
             **_DISPLAY, "showRankingScore": True}
            for i, word in enumerate(words)
        ),
        {"indexUid": uid, "q": "", "filter": filter_expression, "limit": 0},
        {"indexUid": uid, "q": text, "filter": filter_expression, "limit": MEMBERS,
         "attributesToRetrieve": ["slug"]},
    ]  # fmt: skip


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
        # A reranked page is cut from the first RERANK_WINDOW hits (or more) in Python;
        # up to PROMOTED entries brought forward are left out further down.
        "page": 1 if rerank else page,
        "hitsPerPage": max(RERANK_WINDOW, start + page_size + PROMOTED) if rerank else page_size,
        **_DISPLAY,
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
    """Whether this page is reordered by the about-fields query (relevance order only).
    With several words every page is: an entry brought forward must not come again."""
    several = len(text.split()) > 1
    return bool(text.strip()) and not sort and (several or (page - 1) * page_size < RERANK_WINDOW)


def _rerank(hits: list[dict[str, Any]], about: dict[str, Any]) -> list[dict[str, Any]]:
    """The first RERANK_WINDOW hits by full score plus weighted about-fields score; the
    rest in the engine's order (so later pages neither repeat nor miss an entry)."""
    about_score = {hit["slug"]: float(hit.get("_rankingScore", 0.0)) for hit in about["hits"]}

    def score(hit: dict[str, Any]) -> float:
        about = about_score.get(hit["slug"], 0.0)
        return float(hit.get("_rankingScore", 0.0)) + ABOUT_WEIGHT * about

    # sorted() is stable: equal scores keep the engine's order.
    return sorted(hits[:RERANK_WINDOW], key=score, reverse=True) + hits[RERANK_WINDOW:]


def _promote(
    hits: list[dict[str, Any]],
    about: dict[str, Any],
    word_results: list[dict[str, Any]],
    counts: list[int],
    size: int,
    members: dict[str, Any],
) -> tuple[list[dict[str, Any]], int]:
    """The reranked order when the query has several words, and how many entries it
    adds to the engine's count.

    Each word weighs by how rare it is (log of entries / entries holding it; a word in
    every entry, such as a stop word the engine drops, weighs nothing). An entry gains
    the share of the query's weight whose words its title, tags or summary hold, each
    word scaled by the engine's score of that word there (a title above a summary). The
    RERANK_WINDOW first hits and the PROMOTED entries with the largest share are ordered
    by full score + about score + that share; the rest follow in the engine's order
    without them. An entry found only through one word is brought forward only when it
    is known whether the full query finds it too (so the count stays exact)."""
    weights = [math.log(size / c) if 0 < c < size else 0.0 for c in counts]
    if sum(w > 0 for w in weights) < MIN_WEIGHTED:
        return _rerank(hits, about), 0
    total_weight = sum(weights) or 1.0
    share: dict[str, float] = {}
    found: dict[str, dict[str, Any]] = {}
    for weight, result in zip(weights, word_results, strict=False):
        if not weight:
            continue
        for hit in result.get("hits", []):
            # Scaled by where the word stands: the engine's score of a one-word query in
            # the about-fields ranks a title above tags above the summary ("attribute").
            fit = float(hit.get("_rankingScore", 1.0))
            share[hit["slug"]] = share.get(hit["slug"], 0.0) + fit * weight / total_weight
            found.setdefault(hit["slug"], hit)
    about_score = {hit["slug"]: float(hit.get("_rankingScore", 0.0)) for hit in about["hits"]}
    window = hits[:RERANK_WINDOW]
    in_window = {hit["slug"] for hit in window}
    member_slugs = {hit["slug"] for hit in members.get("hits", [])}
    all_members = len(member_slugs) >= _count(members)
    candidates = sorted(
        (s for s in share if s not in in_window and (s in member_slugs or all_members)),
        key=lambda s: -share[s],
    )[:PROMOTED]
    floor = min((float(h.get("_rankingScore", 0.0)) for h in window), default=0.0)
    by_slug = {hit["slug"]: hit for hit in hits}
    promoted = [by_slug.get(s) or found[s] for s in candidates]

    def score(hit: dict[str, Any]) -> float:
        slug = hit["slug"]
        full = float(hit["_rankingScore"]) if slug in in_window else floor
        return full + ABOUT_WEIGHT * about_score.get(slug, 0.0) + WORD_WEIGHT * share.get(slug, 0.0)

    head = sorted(window + promoted, key=score, reverse=True)
    moved = set(candidates)
    tail = [hit for hit in hits[RERANK_WINDOW:] if hit["slug"] not in moved]
    added = sum(s not in member_slugs for s in candidates)
    return head + tail, added


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
    rewrites: Rewrites | None = None,
) -> dict[str, Any]:
    """One page of hits with highlights, pagination and disjunctive facet counts; by
    relevance, or by ``sort`` ((field, descending) pairs of the entries list) first.

    The query goes to the engine in stemmed form; words that find nothing on their own
    are split into live compound parts or dropped (search/understanding.py). With
    ``pool``, the page's multi-search goes over its lean connections (search/multisearch.py).
    With ``rewrites`` (the worker's, search/rewrites.py), a query whose rewrite is known
    for the index's current state sends only the rewritten query's multi-search.
    """
    words = query_words(q)
    filter_expression = _filter_expression(filters)
    key = None
    if rewrites is not None and words:
        key = rewrite_key(words, typed_words(q), filter_expression)
    known = rewrites.get(key) if rewrites is not None and key else None
    if known is not None:  # understood before, for this state of the index
        if not known:
            # Nothing to search; one count all the same, so that an engine down or an
            # index gone fails as the search that worked it out would have.
            await multi_search(client, [probe("", uid, filter_expression)], pool)
            return _empty(page, page_size, facets)
        words = list(known)
        answer = await _search_rewritten(
            client, uid, words, filters, page, page_size, facets, sort, pool
        )
    else:
        generation = rewrites.generation if rewrites is not None else 0
        body = multi_search_body(
            uid, q=q, filters=filters, page=page, page_size=page_size, facets=facets, sort=sort
        )
        # The page (+ its about-fields query) + disjunctive counts.
        n_queries = (
            1
            + _reranked(" ".join(words), page, page_size, sort)
            + sum(name in filters for name in facets)
        )
        probed = words[:MAX_PROBED_WORDS] if len(words) > 1 else []
        answer = _Answer(await multi_search(client, body["queries"], pool), n_queries, probed)
        # A single word is counted by the page itself; words past the probed count as found.
        counts = answer.probe_counts or [_count(answer.results[0])]
        padded = counts + [1] * len(words)
        dead = [word for word, count in zip(words, padded, strict=False) if not count]
        if dead:
            typed = typed_words(q)
            words = await rewrite(client, uid, words, dead, filter_expression, typed, pool=pool)
            if rewrites is not None and key:
                rewrites.put(key, tuple(words), generation)
            if not words:  # an empty page, not the whole toolbox
                return _empty(page, page_size, facets)
            answer = await _search_rewritten(
                client, uid, words, filters, page, page_size, facets, sort, pool
            )
    results, n_queries, probed = answer
    probe_counts, word_part = answer.probe_counts, answer.word_part
    first = results[0]
    hits = first["hits"]
    extras = results[1:n_queries]
    total = int(first.get("totalHits", 0))
    if _reranked(" ".join(words), page, page_size, sort):
        start = (page - 1) * page_size
        about = extras.pop(0)
        if word_part:
            n = len(probed)
            ordered, added = _promote(
                hits, about, word_part[:n], probe_counts, _count(word_part[n]), word_part[n + 1]
            )
            total += added
        else:
            ordered = _rerank(hits, about)
        hits = ordered[start : start + page_size]
    distribution: dict[str, dict[str, int]] = dict(first.get("facetDistribution") or {})
    for extra in extras:
        distribution.update(extra.get("facetDistribution") or {})
    by_param = {name: distribution.get(FACET_ATTRIBUTES[name], {}) for name in facets}
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


class _Answer(NamedTuple):
    """The page's multi-search: its results, how many of them belong to the page (the
    page, its about-fields query, the facet counts), and the words counted on their own."""

    results: list[Any]
    n_queries: int
    probed: list[str]

    @property
    def probe_counts(self) -> list[int]:
        return [_count(r) for r in self.results[self.n_queries : self.n_queries + len(self.probed)]]

    @property
    def word_part(self) -> list[Any]:
        """Each word in the about-fields, the number of entries, the full query's members."""
        return self.results[self.n_queries + len(self.probed) :]


async def _search_rewritten(
    client: AsyncClient,
    uid: str,
    words: list[str],
    filters: dict[str, list[str]],
    page: int,
    page_size: int,
    facets: list[str],
    sort: list[tuple[str, bool]] | None,
    pool: MultiSearchPool | None,
) -> _Answer:
    """The page's multi-search for the rewritten words of a query (search/understanding.py
    ``rewrite``), the same whether the rewrite was just worked out or known already."""
    # The query changed: its words must match as complete words (a trailing space ends
    # prefix matching), or "Apfelkuchen backen" would find "Backstube".
    text = " ".join(words) + " "
    probed = words[:MAX_PROBED_WORDS] if len(words) > 1 else []
    filter_expression = _filter_expression(filters)
    queries = _queries(uid, text, filters, page, page_size, facets, sort)
    queries += word_probes(probed, uid, filter_expression, prefix_last=False)
    queries += _word_about_queries(uid, text, probed, filters, sort, prefix_last=False)
    # With fewer words the page may no longer be reranked (no about-fields query).
    n_queries = 1 + _reranked(text, page, page_size, sort) + sum(name in filters for name in facets)
    return _Answer(await multi_search(client, queries, pool), n_queries, probed)


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
