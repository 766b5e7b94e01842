"""Reads of published content for every front end (the JSON API, the pages, the CLI):
entries filtered, sorted and paged, one entry with its links, and the taxonomy."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import msgspec
from piccolo.custom_types import Combinable
from piccolo.query.functions.aggregate import Count

from core.content.facets import DIMENSION_PARAM, DIMENSIONS, EXCLUDE_SLUGS_KEY
from core.content.model import PUBLISHED
from core.db.tables import ContentSource, EntryTerm, TaxonomyTerm
from core.db.tables import Entry as EntryRow

# Far beyond any real list; a larger page number overflows the database's and the search
# engine's integers (a 500 and a false "search engine unreachable" before this limit).
MAX_PAGE = 10_000
SORT_COLUMNS = {
    "title": EntryRow.title_sort,
    "updated_at": EntryRow.updated_at,
    "slug": EntryRow.slug,
}

SUMMARY_COLUMNS = (
    EntryRow.slug,
    EntryRow.title,
    EntryRow.summary,
    EntryRow.kind,
    EntryRow.topics,
    EntryRow.phases,
    EntryRow.audiences,
    EntryRow.tags,
    EntryRow.source,
    EntryRow.duration,
    EntryRow.updated_at,
)


class EntryQuery(msgspec.Struct, frozen=True, kw_only=True):
    """A validated list request: filters (OR within, AND across), sort, page."""

    filters: dict[str, list[str]] = msgspec.field(default_factory=dict)
    # (field, descending) pairs
    sort: list[tuple[str, bool]] = msgspec.field(default_factory=lambda: [("title", False)])
    page: int = 1
    page_size: int = 20


async def filter_values() -> dict[str, set[str]]:
    """The values each taxonomy filter accepts (tags are free text and not listed)."""
    known: dict[str, set[str]] = defaultdict(set)
    for row in await TaxonomyTerm.select(TaxonomyTerm.dimension, TaxonomyTerm.slug):
        known[DIMENSION_PARAM[row["dimension"]]].add(row["slug"])
    known["source"] = {row["name"] for row in await ContentSource.select(ContentSource.name)}
    return dict(known)


async def list_entries(query: EntryQuery) -> tuple[list[dict[str, Any]], int]:
    """One page of published entries and the total number that match."""
    where: Combinable = EntryRow.status == PUBLISHED
    for dimension, values in query.filters.items():
        if dimension == EXCLUDE_SLUGS_KEY:
            where &= EntryRow.slug.not_in(values)
        elif dimension == "source":
            where &= EntryRow.source.is_in(values)
        else:
            if dimension == "tag":
                values = [v.casefold() for v in values]
            matching = EntryTerm.select(EntryTerm.entry).where(
                (EntryTerm.dimension == dimension) & EntryTerm.value.is_in(values)
            )
            where &= EntryRow.id.is_in(matching)
    total = await EntryRow.count().where(where)
    select = EntryRow.select(*SUMMARY_COLUMNS).where(where).output(load_json=True)
    for field, descending in [*query.sort, ("slug", False)]:
        select = select.order_by(SORT_COLUMNS[field], ascending=not descending)
    rows = await select.limit(query.page_size).offset((query.page - 1) * query.page_size)
    return rows, total


async def get_entry(slug: str) -> dict[str, Any] | None:
    """A published entry with everything, plus ``links_to`` and ``linked_from`` references."""
    rows = await (
        EntryRow.select(
            *SUMMARY_COLUMNS,
            EntryRow.materials,
            EntryRow.related,
            EntryRow.links,
            EntryRow.body_markdown,
            EntryRow.body_html,
        )
        .where((EntryRow.slug == slug) & (EntryRow.status == PUBLISHED))
        .output(load_json=True)
    )
    if not rows:
        return None
    entry = rows[0]
    refs = await _refs(entry["links"])
    entry["links_to"] = [refs[s] for s in entry["links"] if s in refs]
    # Backlinks: the JSON ``links`` column is not queryable on every engine, but the
    # candidates are few (entries are hand-written), so filter in Python.
    linking = await (
        EntryRow.select(EntryRow.slug, EntryRow.links)
        .where((EntryRow.status == PUBLISHED) & (EntryRow.slug != slug))
        .output(load_json=True)
    )
    back = [row["slug"] for row in linking if slug in row["links"]]
    back_refs = await _refs(back)
    entry["linked_from"] = [
        back_refs[s] for s in sorted(back_refs, key=lambda s: back_refs[s]["title_sort"])
    ]
    return entry


async def entry_summaries(slugs: list[str]) -> dict[str, dict[str, Any]]:
    """Published entries (list columns) by slug; unknown or draft slugs are left out."""
    if not slugs:
        return {}
    rows = await (
        EntryRow.select(*SUMMARY_COLUMNS)
        .where(EntryRow.slug.is_in(list(slugs)) & (EntryRow.status == PUBLISHED))
        .output(load_json=True)
    )
    return {row["slug"]: row for row in rows}


async def entries_linking_questionnaire(questionnaire_id: str) -> list[dict[str, Any]]:
    """Published entries (list columns) whose text links to the questionnaire, by title;
    e.g. the paper version of a questionnaire."""
    # The rendered HTML marks such links with data-questionnaire (core.content.markdown).
    marker = f'%data-questionnaire="{questionnaire_id}"%'
    return list(
        await EntryRow.select(*SUMMARY_COLUMNS)
        .where((EntryRow.status == PUBLISHED) & EntryRow.body_html.like(marker))
        .order_by(EntryRow.title_sort)
        .output(load_json=True)
    )


async def _refs(slugs: list[str]) -> dict[str, dict[str, Any]]:
    if not slugs:
        return {}
    rows = await EntryRow.select(
        EntryRow.slug,
        EntryRow.title,
        EntryRow.title_sort,
        EntryRow.summary,
        EntryRow.kind,
        EntryRow.source,
    ).where(EntryRow.slug.is_in(slugs) & (EntryRow.status == PUBLISHED))
    return {row["slug"]: row for row in rows}


async def taxonomy_labels() -> dict[str, dict[str, str]]:
    """Labels of every taxonomy value and source by filter name (topic, phase, audience,
    kind, source), in display order. No counts: cheaper than ``taxonomy_with_counts``."""
    labels: dict[str, dict[str, str]] = {param: {} for param in DIMENSION_PARAM.values()}
    terms = await (
        TaxonomyTerm.select(TaxonomyTerm.dimension, TaxonomyTerm.slug, TaxonomyTerm.label)
        .order_by(TaxonomyTerm.dimension)
        .order_by(TaxonomyTerm.position)
    )
    for term in terms:
        labels[DIMENSION_PARAM[term["dimension"]]][term["slug"]] = term["label"]
    sources = await ContentSource.select(ContentSource.name, ContentSource.label).order_by(
        ContentSource.position
    )
    labels["source"] = {row["name"]: row["label"] for row in sources}
    return labels


async def taxonomy_with_counts() -> dict[str, list[dict[str, Any]]]:
    """Every taxonomy dimension and the sources, with the number of published entries each."""
    counts: dict[tuple[str, str], int] = {}
    rows = await (
        EntryTerm.select(EntryTerm.dimension, EntryTerm.value, Count(alias="count"))
        .where(EntryTerm.entry._.status == PUBLISHED)
        .group_by(EntryTerm.dimension, EntryTerm.value)
    )
    for row in rows:
        counts[(row["dimension"], row["value"])] = row["count"]
    result: dict[str, list[dict[str, Any]]] = {dim: [] for dim in DIMENSIONS}
    terms = (
        await TaxonomyTerm.select().order_by(TaxonomyTerm.dimension).order_by(TaxonomyTerm.position)
    )
    for term in terms:
        param = DIMENSION_PARAM[term["dimension"]]
        result[term["dimension"]].append(
            {
                "slug": term["slug"],
                "label": term["label"],
                "description": term["description"],
                "source": term["source"],
                "count": counts.get((param, term["slug"]), 0),
            }
        )
    source_counts = {
        row["source"]: row["count"]
        for row in await EntryRow.select(EntryRow.source, Count(alias="count"))
        .where(EntryRow.status == PUBLISHED)
        .group_by(EntryRow.source)
    }
    result["sources"] = [
        {"slug": row["name"], "label": row["label"], "count": source_counts.get(row["name"], 0)}
        for row in await ContentSource.select().order_by(ContentSource.position)
    ]
    return result


async def entry_count() -> int:
    """Published entries in the database (for /health)."""
    return int(await EntryRow.count().where(EntryRow.status == PUBLISHED))
