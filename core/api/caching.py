"""Strong ETags from the response body, 304 for a matching If-None-Match, Cache-Control."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.openapi.datastructures import ResponseSpec

from core.settings import Settings

# For the OpenAPI document of every route that answers with cached_json.
NOT_MODIFIED: dict[int, ResponseSpec] = {
    304: ResponseSpec(
        data_container=None,
        description="Not modified: `If-None-Match` names the current `ETag`; no body.",
    )
}


def etag_for(body: bytes) -> str:
    """A strong ETag: any change in the bytes sent changes it."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x".
    candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in candidates or etag in candidates


def cached_json(request: Request[Any, Any, Any], payload: Any, settings: Settings) -> Response[Any]:
    """Encode ``payload`` once, tag it, and answer 304 if the client already has it."""
    body = msgspec.json.encode(payload)
    etag = etag_for(body)
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={settings.cache_max_age}",
        "Vary": "Accept-Encoding",
    }
    if (inm := request.headers.get("if-none-match")) and _matches(inm, etag):
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=body, media_type=MediaType.JSON, headers=headers)
