"""GET /api/v1/taxonomy."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency

from core.api.caching import NOT_MODIFIED, stored_answer
from core.api.schemas import TaxonomyOne
from core.content import rendered
from core.content.rendered import RenderedStore
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
    store: RenderedStore = request.app.state.rendered
    doc = store.get(rendered.TAXONOMY)
    if doc is None:
        version = store.current_version()
        doc = rendered.compress(await rendered.render_taxonomy())
        store.remember(rendered.TAXONOMY, version, doc)
    return stored_answer(request, doc, settings)
