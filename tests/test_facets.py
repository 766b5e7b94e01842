"""The filter vocabulary (core/content/facets.py) matches what it names: the entry
fields and columns, the taxonomy file's sections and the API's documented parameters."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.testing import TestClient

from core.content.facets import DIMENSIONS, ENTRY_FIELD, FACETS, FILTER_PARAMS
from core.content.model import Entry, TaxonomyFile
from core.db.tables import Entry as EntryRow

Client = TestClient[Any]


def test_every_filter_names_an_entry_field_and_an_entry_column() -> None:
    fields = {f.name for f in msgspec.structs.fields(Entry)}
    columns = {c._meta.name for c in EntryRow._meta.columns}
    for param, field in ENTRY_FIELD.items():
        assert field in fields, f"filter {param!r}: the content model has no field {field!r}"
        assert field in columns, f"filter {param!r}: the entry table has no column {field!r}"


def test_the_taxonomy_dimensions_are_the_taxonomy_file_sections() -> None:
    assert list(DIMENSIONS) == [f.name for f in msgspec.structs.fields(TaxonomyFile)]


def test_the_api_documents_every_filter_and_facet(fixture_client: Client) -> None:
    schema = fixture_client.get("/schema/openapi.json").json()
    entries = schema["paths"]["/api/v1/entries"]["get"]["parameters"]
    assert set(FILTER_PARAMS) <= {p["name"] for p in entries}
    search = schema["paths"]["/api/v1/search"]["get"]["parameters"]
    assert set(FACETS) <= {p["name"] for p in search}
    (facets,) = [p for p in search if p["name"] == "facets"]
    assert facets["description"] == f"Comma-separated: {', '.join(FACETS)}."
