"""Checks every routed request passes before its handler runs, in the API, the pages and
plugin routes alike (Litestar middleware, inside the security headers and rate limits):

- The path and the query may not hold text that PostgreSQL cannot store: NUL (``%00``)
  and lone surrogates. Otherwise a lookup by slug or tag fails in the driver (a 500 with
  a traceback per request on PostgreSQL, while SQLite answers "not found"). Refused here,
  both databases answer the same 400.
- A single-valued query parameter given twice (``?page=1&page=2``) is a 400 that names
  it, never silently one of the values. Single-valued are the query parameters a handler
  declares without a list type, and the names a page lists in its ``opt`` under
  ``SINGLE_PARAMS`` (pages read their parameters themselves).

The answer is a problem document, or the German error page for a browser
(core.http.problems.problem_response), the way the other middleware answers.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.constants import RESERVED_KWARGS
from litestar.enums import ScopeType
from litestar.handlers import BaseRouteHandler
from litestar.params import ParameterKwarg
from litestar.types import ASGIApp, Receive, Scope, Send
from litestar.typing import FieldDefinition

from core.http.problems import InvalidParam, ProblemError, bad_request, problem_response

SINGLE_PARAMS = "single_params"
# NUL, and lone surrogates (not UTF-8 at all): text no PostgreSQL text column accepts.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
# Per handler, worked out on its first request. (Not weak: Litestar's handlers have no
# weak references; an app has a few dozen handlers.)
_single_cache: dict[BaseRouteHandler, frozenset[str]] = {}


def check_input(app: ASGIApp) -> ASGIApp:
    """Litestar middleware: refuse unstorable text in the path or query and repeated
    single-valued parameters with a 400 before the handler runs."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        try:
            _check(request, scope)
        except ProblemError as exc:
            # Answered here, inside the other middleware (headers, request id, access log).
            response = problem_response(request, exc.status, exc.detail, exc.invalid_params)
            await response.to_asgi_response(app=None, request=request)(scope, receive, send)
            return
        await app(scope, receive, send)

    return middleware


def _check(request: Request[Any, Any, Any], scope: Scope) -> None:
    if UNSTORABLE.search(scope["path"]):
        reason = "contains a NUL character (%00) or bytes that are not text"
        raise ProblemError(
            400,
            f"The address {reason}; no entry, questionnaire or other identifier has one.",
            invalid_params=[InvalidParam(name="path", reason=reason)],
        )
    params = request.query_params
    names = list(dict.fromkeys(params.keys()))
    for name in names:
        if UNSTORABLE.search(name) or any(UNSTORABLE.search(v) for v in params.getall(name)):
            shown = "query" if UNSTORABLE.search(name) else name
            raise bad_request(
                shown,
                f"The query parameter {shown!r} contains a NUL character (%00) or bytes that "
                "are not text; no value can contain them.",
            )
    single = _single_params(scope["route_handler"], frozenset(scope.get("path_params", {})))
    for name in names:
        count = len(params.getall(name))
        if count > 1 and name in single:
            raise bad_request(
                name,
                f"The query parameter {name!r} may be given only once; it was given {count} times.",
            )


def _single_params(handler: BaseRouteHandler, path_params: frozenset[str]) -> frozenset[str]:
    if (known := _single_cache.get(handler)) is not None:
        return known
    names = set(handler.opt.get(SINGLE_PARAMS, ()))
    skip = RESERVED_KWARGS | set(handler.resolve_dependencies()) | path_params
    for name, field in handler.parsed_fn_signature.parameters.items():
        query = _query_name(name, field)
        if query and name not in skip and not _is_list(field):
            names.add(query)
    _single_cache[handler] = frozenset(names)
    return _single_cache[handler]


def _query_name(name: str, field: FieldDefinition) -> str | None:
    """The query parameter a handler argument reads, if it reads one."""
    kwarg = field.kwarg_definition
    if kwarg is None:
        return name
    if isinstance(kwarg, ParameterKwarg) and not (kwarg.header or kwarg.cookie):
        return kwarg.query or name
    return None  # a body, a dependency


def _is_list(field: FieldDefinition) -> bool:
    return field.is_non_string_collection or any(
        inner.is_non_string_collection for inner in field.inner_types
    )


__all__ = ["SINGLE_PARAMS", "check_input"]
