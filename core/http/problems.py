"""RFC 9457 problem documents (application/problem+json), and the one function that
answers with one: a browser asking for a page gets the HTML error page instead, if the
app factory handed one in (``use_error_page``; core.web renders it)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any, Protocol

import msgspec
from litestar import Litestar, Request, Response
from litestar.openapi.datastructures import ResponseSpec

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("mentoring40.api")


class InvalidParam(msgspec.Struct, frozen=True):
    name: str
    reason: str


class ProblemDetails(msgspec.Struct, frozen=True, omit_defaults=True, kw_only=True):
    """An RFC 9457 problem document; ``invalid_params`` lists each bad parameter."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    invalid_params: list[InvalidParam] = []


class ProblemError(Exception):
    """Raise from a handler or service to answer with a problem document."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        invalid_params: list[InvalidParam] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.invalid_params = invalid_params or []
        self.headers = headers or {}


# What each problem status means, for the OpenAPI document; routes may say it more exactly.
PROBLEM_MEANINGS: dict[int, str] = {
    400: "A parameter or the body is invalid; `invalid_params` names each one and says what "
    "is allowed.",
    401: "No valid API key (missing, unknown, revoked or expired); send "
    "`Authorization: Bearer <token>`.",
    403: "The API key does not have the scope this route needs.",
    404: "There is nothing with this identifier.",
    413: "The request body is larger than the server accepts.",
    415: "The body is not sent as `Content-Type: application/json` (UTF-8), the only type "
    "accepted.",
    422: "The body is well-formed but its content is not acceptable; `invalid_params` lists "
    "each problem.",
    429: "Too many requests from this client; try again after `Retry-After` seconds.",
    503: "A service this route needs is unavailable; try again later.",
}


def problem_responses(*statuses: int | tuple[int, str]) -> dict[int, ResponseSpec]:
    """``responses=`` for a route: each status (or ``(status, meaning)``) is documented as
    an RFC 9457 problem document, the way the exception handlers (core.http.errors)
    answer it."""
    specs = {}
    for item in statuses:
        status, meaning = item if isinstance(item, tuple) else (item, PROBLEM_MEANINGS[item])
        specs[status] = ResponseSpec(
            data_container=ProblemDetails,
            media_type=PROBLEM_MEDIA_TYPE,
            description=meaning,
            generate_examples=False,
        )
    return specs


def bad_request(name: str, reason: str) -> ProblemError:
    """A 400 about one query parameter; ``reason`` says what was wrong and what is allowed."""
    return ProblemError(400, reason, invalid_params=[InvalidParam(name=name, reason=reason)])


# Machine paths always answer with problem documents, whatever the Accept header says.
MACHINE_PATHS = ("/api/", "/schema", "/health", "/ready", "/metrics", "/embed.js", "/static/")


def wants_html(request: Request[Any, Any, Any]) -> bool:
    """A browser asking for a page (not the API): it gets a themed error page."""
    path = request.url.path
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not path.startswith(MACHINE_PATHS)


class ErrorPage(Protocol):
    """Renders the HTML page for an error ``status``; ``params`` names the parts of the
    request that were wrong (core.web's error page)."""

    def __call__(
        self,
        request: Request[Any, Any, Any],
        status: int,
        headers: dict[str, str] | None = None,
        *,
        params: list[str] | None = None,
    ) -> Response[Any]: ...


# Where the app keeps its ErrorPage (app.state): the plumbing never imports a front end.
_ERROR_PAGE_KEY = "error_page"


def use_error_page(app: Litestar, page: ErrorPage) -> None:
    """Let ``app`` answer browsers' errors with ``page`` (called by the app factory)."""
    app.state[_ERROR_PAGE_KEY] = page


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    invalid_params: list[InvalidParam] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    """The answer to a problem: the HTML error page for a browser asking for a page (when
    the app has one), else the problem document."""
    page: ErrorPage | None = request.app.state.get(_ERROR_PAGE_KEY)
    if page is not None and wants_html(request):
        try:
            names = [p.name for p in invalid_params or []]
            return page(request, status, headers, params=names)
        except Exception:  # the page itself failed: the problem document still says what
            log.exception("Error page for %s failed", status)
    body = ProblemDetails(
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=request.url.path,
        invalid_params=invalid_params or [],
    )
    return Response(
        content=body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers or {}
    )


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "ErrorPage",
    "InvalidParam",
    "ProblemDetails",
    "ProblemError",
    "bad_request",
    "problem_response",
    "problem_responses",
    "use_error_page",
    "wants_html",
]
