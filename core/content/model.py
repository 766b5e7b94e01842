"""The content model: what a content pack, a taxonomy and an entry are.

Everything that comes from a file is decoded into a Struct with unknown fields
forbidden, so a typo in a field name is an error rather than silently ignored.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

SLUG_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SLUG_RE = re.compile(SLUG_PATTERN)

Slug = Annotated[str, msgspec.Meta(pattern=SLUG_PATTERN, max_length=120)]
NonEmpty = Annotated[str, msgspec.Meta(min_length=1)]

# Search terms (``search_terms``): words people ask with that the entry's text does not
# use. Search metadata only: indexed, editable, never shown or sent by the read API.
MAX_SEARCH_TERM = 60
MAX_SEARCH_TERMS = 30
SearchTerm = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_SEARCH_TERM)]

# Only entries with this status are served and searchable.
PUBLISHED = "published"
# An entry taken down on purpose: not served, but the API says 410 Gone rather than 404.
UNPUBLISHED = "unpublished"

# The source name of the shipped toolbox; every other pack is optional.
CORE_SOURCE = "core"


class ContentPack(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A folder of content contributed by the core or a plugin.

    ``name`` becomes the ``source`` of every entry in it.
    """

    name: Slug
    path: Path
    label: str = ""


class Term(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    slug: Slug
    label: NonEmpty
    description: str = ""


class TaxonomyFile(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    topics: list[Term] = []
    phases: list[Term] = []
    audiences: list[Term] = []
    kinds: list[Term] = []


class FrontMatter(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    title: Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
    summary: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    kind: NonEmpty
    topics: Annotated[list[NonEmpty], msgspec.Meta(min_length=1)]
    phases: Annotated[list[NonEmpty], msgspec.Meta(min_length=1)]
    audiences: Annotated[list[NonEmpty], msgspec.Meta(min_length=1)]
    tags: list[NonEmpty] = []
    search_terms: Annotated[list[SearchTerm], msgspec.Meta(max_length=MAX_SEARCH_TERMS)] = []
    duration: str | None = None
    materials: list[NonEmpty] = []
    related: list[NonEmpty] = []
    updated_at: dt.date
    # "unpublished": taken down by the editorial workflow; kept, and the API answers 410 Gone.
    status: Literal["published", "draft", "unpublished"] = "published"


class Entry(msgspec.Struct, frozen=True, kw_only=True):
    """A validated entry, ready to store."""

    slug: str
    source: str
    source_path: str
    title: str
    summary: str
    kind: str
    topics: list[str]
    phases: list[str]
    audiences: list[str]
    tags: list[str]
    search_terms: list[str]
    duration: str | None
    materials: list[str]
    related: list[str]
    updated_at: dt.date
    status: str
    body_markdown: str
    body_html: str
    # Every entry this one points to: ``related`` first, then links in the body.
    links: list[str]
    content_hash: str


class TaxonomyTerm(msgspec.Struct, frozen=True, kw_only=True):
    dimension: str
    slug: str
    label: str
    description: str
    position: int
    source: str


class Problem(msgspec.Struct, frozen=True, kw_only=True):
    """One thing wrong with the content, said so that an editor can fix it."""

    file: str
    message: str
    field: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ContentSet(msgspec.Struct, frozen=True, kw_only=True):
    """Everything loaded from all content packs."""

    packs: list[ContentPack]
    taxonomy: list[TaxonomyTerm]
    entries: list[Entry]
    # core.quickcheck.model.LoadedQuestionnaire (not imported: that module builds on this one)
    questionnaires: list[Any] = []

    def terms(self, dimension: str) -> list[TaxonomyTerm]:
        return [t for t in self.taxonomy if t.dimension == dimension]
