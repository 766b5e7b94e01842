"""Strong ETags from the response body, 304 for a matching If-None-Match, Cache-Control;
and the stored read answers (core.content.rendered) in the encoding the client accepts."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.enums import MediaType
from litestar.openapi.datastructures import ResponseSpec

from core.content.rendered import Rendered, etag_for
from core.settings import Settings

# For the OpenAPI document of every route that answers with cached_json.
NOT_MODIFIED: dict[int, ResponseSpec] = {
    304: ResponseSpec(
        data_container=None,
        description="Not modified: `If-None-Match` names the current `ETag`; no body.",
    )
}
# A compressed variant carries the identity's ETag, weakened (W/"..."), as nginx and
# Apache do when they compress: the bytes differ, the content does not. If-None-Match
# compares weakly (RFC 9110 13.1.2), so a client holding either variant gets its 304.


def _candidates(if_none_match: str) -> list[str]:
    # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x".
    return [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = _candidates(if_none_match)
    return "*" in candidates or etag in candidates


def matches_any_variant(if_none_match: str, etag: str) -> bool:
    """Whether ``If-None-Match`` names ``etag`` (strong) or a variant of it (weak)."""
    return _matches(if_none_match, etag)


@lru_cache(maxsize=256)
def preferred_encoding(accept_encoding: str) -> str | None:
    """ "br", "gzip" or None (identity) for an ``Accept-Encoding`` value, honouring q=0."""
    weights: dict[str, float] = {}
    for part in accept_encoding.lower().split(","):
        coding, _, params = part.partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    weight = float(value.strip())
                except ValueError:
                    weight = 0.0
        if coding.strip():
            weights[coding.strip()] = weight
    default = weights.get("*", 0.0)
    for coding in ("br", "gzip"):
        if weights.get(coding, default) > 0:
            return coding
    return None


def variant(doc: Rendered, accept_encoding: str | None) -> tuple[bytes, str, str | None]:
    """The body, ETag and Content-Encoding (None: identity) to send for ``doc``."""
    coding = preferred_encoding(accept_encoding) if accept_encoding else None
    if coding == "br" and doc.br is not None:
        return doc.br, "W/" + doc.etag, "br"
    if coding in ("br", "gzip") and doc.gzip is not None:
        return doc.gzip, "W/" + doc.etag, "gzip"
    return doc.body, doc.etag, None


def cache_control(settings: Settings) -> str:
    return f"public, max-age={settings.cache_max_age}"


def cached_json(request: Request[Any, Any, Any], payload: Any, settings: Settings) -> Response[Any]:
    """Encode ``payload`` once, tag it, and answer 304 if the client already has it."""
    body = msgspec.json.encode(payload)
    etag = etag_for(body)
    headers = {
        "ETag": etag,
        "Cache-Control": cache_control(settings),
        "Vary": "Accept-Encoding",
    }
    if (inm := request.headers.get("if-none-match")) and _matches(inm, etag):
        return Response(content=b"", status_code=304, headers=headers)
    return Response(content=body, media_type=MediaType.JSON, headers=headers)


def stored_answer(
    request: Request[Any, Any, Any], doc: Rendered, settings: Settings
) -> Response[Any]:
    """A rendered answer as a Litestar response, in the encoding the client accepts; the
    same status, headers and bytes as core.api.stored sends without Litestar."""
    body, etag, coding = variant(doc, request.headers.get("accept-encoding"))
    headers = {"ETag": etag, "Cache-Control": cache_control(settings), "Vary": "Accept-Encoding"}
    if (inm := request.headers.get("if-none-match")) and matches_any_variant(inm, doc.etag):
        return Response(content=b"", status_code=304, headers=headers)
    if coding is not None:
        headers["Content-Encoding"] = coding
    return Response(content=body, media_type=MediaType.JSON, headers=headers)
