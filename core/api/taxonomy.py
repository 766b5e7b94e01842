"""GET /api/v1/taxonomy."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, Response, get
from litestar.di import NamedDependency

from core.api.caching import NOT_MODIFIED, cached_json
from core.api.schemas import Taxonomy, TaxonomyOne
from core.content import queries
from core.settings import Settings


@get(
    "/api/v1/taxonomy",
    tags=["Werkzeugkasten"],
    summary="Topics, phases, audiences, kinds and sources with entry counts",
    responses=NOT_MODIFIED,
)
async def get_taxonomy(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings]
) -> Response[TaxonomyOne]:
    taxonomy = msgspec.convert(await queries.taxonomy_with_counts(), Taxonomy)
    return cached_json(request, TaxonomyOne(data=taxonomy), settings)
