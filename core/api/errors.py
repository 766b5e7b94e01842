"""One place that turns errors into RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
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
    422: "The body is well-formed but its content is not acceptable; `invalid_params` lists "
    "each problem.",
    429: "Too many requests from this client; try again after `Retry-After` seconds.",
    503: "A service this route needs is unavailable; try again later.",
}


def problem_responses(*statuses: int | tuple[int, str]) -> dict[int, ResponseSpec]:
    """``responses=`` for a route: each status (or ``(status, meaning)``) is documented as
    an RFC 9457 problem document, the way EXCEPTION_HANDLERS answers it."""
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


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    invalid_params: list[InvalidParam] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[ProblemDetails]:
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


def _on_problem(request: Request[Any, Any, Any], exc: ProblemError) -> Response[ProblemDetails]:
    return problem_response(request, exc.status, exc.detail, exc.invalid_params, exc.headers)


def _on_validation(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[ProblemDetails]:
    params = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            name = str(item.get("key") or item.get("source") or "request")
            params.append(InvalidParam(name=name, reason=str(item.get("message", "is invalid"))))
    if params:
        detail = "; ".join(f"parameter {p.name!r}: {p.reason}" for p in params)
        detail = f"The request has invalid parameters: {detail}."
    else:
        detail = f"The request is invalid: {exc.detail}."
    return problem_response(request, 400, detail, params)


def _on_not_found(
    request: Request[Any, Any, Any], exc: NotFoundException
) -> Response[ProblemDetails]:
    detail = (
        exc.detail
        if exc.detail and exc.detail != "Not Found"
        else (
            f"There is nothing at {request.url.path}; the API lives under /api/v1 and is "
            "described at /schema."
        )
    )
    return problem_response(request, 404, detail)


def _on_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[ProblemDetails]:
    return problem_response(request, exc.status_code, exc.detail, headers=exc.headers)


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[ProblemDetails]:
    log.exception("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        request, 500, "An unexpected error occurred on the server; it has been logged."
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ProblemError: _on_problem,
    ValidationException: _on_validation,
    NotFoundException: _on_not_found,
    HTTPException: _on_http,
    Exception: _on_unexpected,
}
