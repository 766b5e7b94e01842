"""The filter vocabulary: what a visitor can narrow the toolbox by, defined once.

Each filter joins four names that must never drift apart: the query parameter of the
entries list, the search API and the pages (``topic``); the entry field, which is also
the ``entry`` table's column and the search document's attribute (``topics``); the
taxonomy dimension its values come from (``taxonomy.yaml``'s ``topics``, none for
sources and tags); and the German label the pages show.
"""

from __future__ import annotations

from typing import NamedTuple


class EntryFilter(NamedTuple):
    """One filter; ``facet``: the search engine filters and counts it, the pages list it."""

    param: str
    field: str
    dimension: str | None
    label: str
    facet: bool = True


# In display order (the pages' facet lists, the taxonomy file, the API's messages).
FILTERS: tuple[EntryFilter, ...] = (
    EntryFilter("topic", "topics", "topics", "Thema"),
    EntryFilter("phase", "phases", "phases", "Phase"),
    EntryFilter("audience", "audiences", "audiences", "Zielgruppe"),
    EntryFilter("kind", "kind", "kinds", "Art"),
    EntryFilter("source", "source", None, "Quelle"),
    # Free words, not taxonomy values: the entries list and the search filter by them,
    # but nobody counts them (no facet).
    EntryFilter("tag", "tags", None, "Schlagwort", facet=False),
)

# Query parameter names of every filter of the entries list.
FILTER_PARAMS: tuple[str, ...] = tuple(f.param for f in FILTERS)
# Query parameter -> entry field (= table column = search document attribute).
ENTRY_FIELD: dict[str, str] = {f.param: f.field for f in FILTERS}
# The facets: the filters the search engine filters and counts and the pages list.
FACETS: tuple[str, ...] = tuple(f.param for f in FILTERS if f.facet)
# Facet -> search document attribute.
FACET_ATTRIBUTES: dict[str, str] = {f.param: f.field for f in FILTERS if f.facet}
# Filter -> German label on the pages.
FACET_LABELS: dict[str, str] = {f.param: f.label for f in FILTERS}

# The taxonomy dimensions in display order, with the query parameter and entry field of each.
DIMENSIONS: tuple[str, ...] = tuple(f.dimension for f in FILTERS if f.dimension)
DIMENSION_PARAM: dict[str, str] = {f.dimension: f.param for f in FILTERS if f.dimension}
DIMENSION_FIELD: dict[str, str] = {f.dimension: f.field for f in FILTERS if f.dimension}

# Not a visitor's filter: the key under which a partner site's scope lists the entries it
# hides (``Site.scope``); the entries list and the search leave those slugs out.
EXCLUDE_SLUGS_KEY = "exclude_slug"
