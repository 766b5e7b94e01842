"""Query parameters in the OpenAPI document: optional ones documented as what a client can
send. (Parsing whole numbers, for the API and the pages: core.http.numbers.)"""

from __future__ import annotations

from typing import Any

from litestar.openapi.spec import OpenAPIType, Schema
from litestar.params import QueryParameter

TEXT = OpenAPIType.STRING
NUMBER = OpenAPIType.INTEGER
TEXTS: dict[str, Any] = {"items": Schema(type=OpenAPIType.STRING)}


def optional_query(description: str, type_: OpenAPIType, **schema: Any) -> QueryParameter:
    """The ``QueryParameter`` of an optional ``T | None = None`` parameter. Litestar documents
    it as ``oneOf: [T, null]``, but a query parameter is absent or text, never null (a
    client that sends ``null`` sends the text "null"): the schema is plain ``T``, not
    required, with ``schema`` (limits, pattern) as the handler checks them."""
    return QueryParameter(
        description=description, schema_extra={"one_of": None, "type": type_, **schema}
    )
