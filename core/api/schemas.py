"""Response shapes of the API (msgspec Structs; they also make the OpenAPI document)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

# Litestar's own schema plugin for msgspec Structs; its import path is internal.
from litestar._openapi.schema_generation.plugins.struct import StructSchemaPlugin

# The read answers' shapes belong to the content domain, which renders them once when
# content changes (core.content.rendered); the API shows them under these names.
from core.content.documents import (
    EntryDetail,
    EntryList,
    EntryOne,
    EntryRef,
    EntrySummary,
    ListMeta,
    Pagination,
    Taxonomy,
    TaxonomyOne,
    TermOut,
)

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


class Health(msgspec.Struct, frozen=True, kw_only=True):
    status: str
    version: str
    database: str
    entries: int | None


__all__ = [
    "EntryDetail",
    "EntryList",
    "EntryOne",
    "EntryRef",
    "EntrySummary",
    "Health",
    "ListMeta",
    "Pagination",
    "StrictStructSchemaPlugin",
    "Taxonomy",
    "TaxonomyOne",
    "TermOut",
]
