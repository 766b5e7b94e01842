"""The shapes of the published content as the read API sends it (msgspec Structs): an
entry with its links, a page of entries, the taxonomy. core.content.rendered encodes
them once when content changes; core.api.schemas shows them in the OpenAPI document."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec


class Pagination(msgspec.Struct, frozen=True):
    page: int
    page_size: int
    page_count: int
    total: int


class ListMeta(msgspec.Struct, frozen=True):
    pagination: Pagination


class EntrySummary(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    title: str
    summary: str
    kind: str
    topics: list[str]
    phases: list[str]
    audiences: list[str]
    tags: list[str]
    source: str
    duration: str | None
    updated_at: dt.date
    url: str


class EntryRef(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    title: str
    summary: str
    kind: str
    source: str
    url: str


class EntryDetail(EntrySummary, frozen=True, kw_only=True):
    materials: list[str]
    related: list[str]
    body_markdown: str
    body_html: str
    links_to: list[EntryRef]
    linked_from: list[EntryRef]


class EntryList(msgspec.Struct, frozen=True):
    data: list[EntrySummary]
    meta: ListMeta


class EntryOne(msgspec.Struct, frozen=True):
    data: EntryDetail
    meta: dict[str, Any] = {}


class TermOut(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    label: str
    description: str = ""
    source: str = "core"
    count: int


class Taxonomy(msgspec.Struct, frozen=True, kw_only=True):
    topics: list[TermOut]
    phases: list[TermOut]
    audiences: list[TermOut]
    kinds: list[TermOut]
    sources: list[TermOut]


class TaxonomyOne(msgspec.Struct, frozen=True):
    data: Taxonomy
    meta: dict[str, Any] = {}
