"""Theme assets: static files, the design tokens as CSS, and the embed loader script.

With ``?v=`` (the file's hash, which the templates add) an asset is cached for a year;
without it for five minutes.
"""

from __future__ import annotations

import mimetypes
from typing import Any

from litestar import Response, get
from litestar.params import FromPath
from litestar.response import File

from core.http.input_checks import SINGLE_PARAMS
from core.web.base import Req, live_sites, web_of
from core.web.themes import Theme

ASSET = {SINGLE_PARAMS: ("v",)}
IMMUTABLE = "public, max-age=31536000, immutable"
# Stated rather than guessed: with nosniff a browser refuses a stylesheet or script
# served under another type, and the system's MIME table differs between machines.
# Litestar appends "; charset=utf-8" to text/* types itself.
MEDIA_TYPES = {
    ".css": "text/css",
    ".js": "text/javascript",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".woff2": "font/woff2",
    ".json": "application/json",
}


async def _region_theme(request: Req, theme_name: str) -> Theme | None:
    """A theme this worker does not know yet may be a region made in the editor a moment
    ago in another worker (assets skip the per-request refresh): bring the sites and
    regions up to date if the interval is over (not forced: a stream of unknown names
    costs at most one query per interval)."""
    await live_sites(request).refresh()
    web, _ = web_of(request)
    return web.themes.get(theme_name)


@get("/static/{theme_name:str}/{path:path}", include_in_schema=False, opt=ASSET)
async def static_file(
    request: Req, theme_name: FromPath[str], path: FromPath[str]
) -> Response[Any]:
    web, _ = web_of(request)
    theme = web.themes.get(theme_name) or await _region_theme(request, theme_name)
    found = theme.static_file(path.lstrip("/")) if theme else None
    if found is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    cache = IMMUTABLE if request.query_params.get("v") else "public, max-age=300"
    media_type = MEDIA_TYPES.get(found.suffix.lower()) or (
        mimetypes.guess_type(found.name)[0] or "application/octet-stream"
    )
    return File(
        path=found,
        filename=found.name,
        media_type=media_type,
        content_disposition_type="inline",
        headers={
            "Cache-Control": cache,
            "X-Content-Type-Options": "nosniff",
            "Access-Control-Allow-Origin": "*",
        },
    )


@get("/themes/{theme_name:str}/tokens.css", include_in_schema=False, opt=ASSET)
async def tokens_css(request: Req, theme_name: FromPath[str]) -> Response[str]:
    web, _ = web_of(request)
    theme = web.themes.get(theme_name) or await _region_theme(request, theme_name)
    if theme is None:
        return Response("/* unknown theme */", status_code=404, media_type="text/css")
    cache = IMMUTABLE if request.query_params.get("v") else "public, max-age=300"
    return Response(
        theme.tokens_css(),
        media_type="text/css",
        headers={"Cache-Control": cache, "X-Content-Type-Options": "nosniff"},
    )


@get("/embed.js", include_in_schema=False)
async def embed_js(request: Req) -> Response[Any]:
    """The loader partners put on their page: mounts the iframe and resizes it."""
    web, _ = web_of(request)
    found = web.themes["default"].static_file("embed.js")
    assert found is not None, "the default theme ships static/embed.js"
    return File(
        path=found,
        filename="embed.js",
        content_disposition_type="inline",
        media_type="text/javascript",
        headers={
            "Cache-Control": "public, max-age=300",
            "X-Content-Type-Options": "nosniff",
            "Access-Control-Allow-Origin": "*",
        },
    )
