"""The app's exception handlers: every error becomes an RFC 9457 problem document (or, for
a browser asking for a page, the HTML error page; see core.http.problems), a database
outage a 503 with Retry-After, anything unexpected a logged 500."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException

from core.http.problems import InvalidParam, ProblemDetails, ProblemError, problem_response

log = logging.getLogger("mentoring40.api")


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


__all__ = ["DATABASE_RETRY_AFTER_SECONDS", "EXCEPTION_HANDLERS", "database_unavailable"]
