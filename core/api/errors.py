"""One place that turns errors into RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
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
    415: "The body is not sent as `Content-Type: application/json` (UTF-8), the only type "
    "accepted.",
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


# Machine paths always answer with problem documents, whatever the Accept header says.
MACHINE_PATHS = ("/api/", "/schema", "/health", "/ready", "/metrics", "/embed.js", "/static/")


def wants_html(request: Request[Any, Any, Any]) -> bool:
    """A browser asking for a page (not the API): it gets a themed error page."""
    path = request.url.path
    accept = request.headers.get("accept", "")
    return "text/html" in accept and not path.startswith(MACHINE_PATHS)


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    invalid_params: list[InvalidParam] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[Any]:
    if wants_html(request):
        from core.web.errors import error_page

        try:
            names = [p.name for p in invalid_params or []]
            return error_page(request, status, headers, params=names)
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


# PostgreSQL refusing or dropping connections: stopped, restarting, crashed or full.
# (QueryCanceledError shares the class-57 parent but is a timeout, not an outage.)
_DATABASE_DOWN: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08: connection lost or refused by the server
    asyncpg.CannotConnectNowError,  # 57P03: starting up or shutting down
    asyncpg.AdminShutdownError,  # 57P01: fast or immediate shutdown
    asyncpg.CrashShutdownError,  # 57P02: another backend crashed
    asyncpg.TooManyConnectionsError,  # 53300
)
_DATABASE_MODULES = ("asyncpg", "piccolo")
DATABASE_RETRY_AFTER_SECONDS = 5


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) means the database cannot be reached right now:
    a PostgreSQL connection error, or a socket error raised inside the database driver."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _DATABASE_DOWN):
            return True
        if isinstance(current, ConnectionError | TimeoutError) and _raised_in_driver(current):
            return True
        current = current.__cause__ or current.__context__
    return False


def _raised_in_driver(exc: BaseException) -> bool:
    return _raised_in(exc, _DATABASE_MODULES)


# Where Litestar decodes request bodies (JSON with msgspec).
_BODY_DECODERS = ("litestar.serialization",)


def _raised_in(exc: BaseException, modules: tuple[str, ...]) -> bool:
    """Whether ``exc`` passed through a frame of one of ``modules`` (or their submodules)."""
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if any(module == m or module.startswith(f"{m}.") for m in modules):
            return True
        tb = tb.tb_next
    return False


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if isinstance(exc, RecursionError) and "deserializing" in str(exc):
        # msgspec stops decoding JSON nested deeper than it can follow: the client's fault.
        return problem_response(
            request, 400, "The JSON body is nested too deeply; send answers as flat values."
        )
    if isinstance(exc, UnicodeDecodeError) and _raised_in(exc, _BODY_DECODERS):
        # msgspec decodes a JSON string with bytes that are not UTF-8 (Litestar lets this
        # one through as it is): the client's fault, nothing was read.
        return problem_response(
            request,
            400,
            f"The body is not valid UTF-8 (byte {exc.object[exc.start : exc.start + 1]!r} at "
            f"position {exc.start}); send JSON encoded as UTF-8.",
            [InvalidParam(name="body", reason="is not valid UTF-8")],
        )
    if database_unavailable(exc):
        # An outage, not a bug: say so, let clients retry, keep the log to one line.
        log.warning(
            "Database unavailable on %s %s: %s: %s",
            request.method,
            request.url.path,
            type(exc).__name__,
            exc,
        )
        return problem_response(
            request,
            503,
            "The database is unreachable right now, so this request could not be completed; "
            "try again in a few seconds (Retry-After). Die Datenbank ist gerade nicht "
            "erreichbar; bitte in ein paar Sekunden erneut versuchen.",
            headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
        )
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
