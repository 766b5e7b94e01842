"""Response shapes of the API (msgspec Structs; they also make the OpenAPI document)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import msgspec

# Litestar's own schema plugin for msgspec Structs; its import path is internal.
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.openapi.spec import Schema
    from litestar.typing import FieldDefinition


class StrictStructSchemaPlugin(StructSchemaPlugin):
    """Structs that refuse unknown fields (``forbid_unknown_fields=True``, such as request
    bodies) say so in the OpenAPI document with ``additionalProperties: false``; Litestar's
    plugin leaves that out, so the document allowed fields the API answers with 400."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        return super().is_plugin_supported_field(field_definition) and bool(
            getattr(field_definition.type_, "__struct_config__", None)
            and field_definition.type_.__struct_config__.forbid_unknown_fields
        )

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        schema = super().to_openapi_schema(field_definition, schema_creator)
        schema.additional_properties = False
        return schema


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


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    version: str
    database: str
    entries: int | None
