"""GET /api/v1/entries and /api/v1/entries/{slug}."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIType
from litestar.params import FromPath

from core.api.caching import NOT_MODIFIED, stored_answer
from core.api.params import NUMBER, TEXT, TEXTS, optional_query
from core.api.schemas import EntryList, EntryOne
from core.content import queries, rendered
from core.content.facets import FILTER_PARAMS
from core.content.rendered import RenderedStore
from core.editing import service as editing
from core.http.numbers import whole_number
from core.http.problems import ProblemError, bad_request, problem_responses
from core.settings import Settings

MAX_PAGE_SIZE = 100
MAX_PAGE = queries.MAX_PAGE
DEFAULT_PAGE_SIZE = 20
LIST_PARAMS = frozenset({*FILTER_PARAMS, "sort", "page", "page_size"})


def word_list_pattern(words: Iterable[str], *, prefix: str = "", skip_empty: bool = False) -> str:
    """A regular expression (for the OpenAPI document) of a comma-separated list of
    ``words``, each optionally preceded by ``prefix``, with spaces around them; with
    ``skip_empty`` empty items (``a,,b``) are allowed too, as the parser skips them."""
    word = f"{prefix}({'|'.join(words)})"
    if skip_empty:
        return rf"^[\s,]*({word}(\s*,[\s,]*{word})*)?[\s,]*$"
    return rf"^\s*({word}\s*(,\s*{word}\s*)*)?$"


SORT_PATTERN = word_list_pattern(queries.SORT_COLUMNS, prefix="-?")
# What _positive_int accepts, in the OpenAPI document.
PAGE: dict[str, Any] = {"minimum": 1, "maximum": MAX_PAGE}
PAGE_SIZE: dict[str, Any] = {"minimum": 1, "maximum": MAX_PAGE_SIZE}

Filter = Annotated[
    list[str] | None,
    optional_query(
        "Repeat the parameter (or separate values by commas) for OR.", OpenAPIType.ARRAY, **TEXTS
    ),
]


class EntryController(Controller):
    path = "/api/v1/entries"
    tags = ("Werkzeugkasten",)

    @get(
        "/",
        summary="List toolbox entries",
        description=(
            "Published entries, filtered by taxonomy values (OR within a parameter, AND across "
            "parameters), sorted and paged. `page_size` is at most "
            f"{MAX_PAGE_SIZE}; more is a 400. Unknown parameters and values are a 400."
        ),
        responses={**NOT_MODIFIED, **problem_responses(400)},
    )
    async def list_entries(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        topic: Filter = None,
        phase: Filter = None,
        audience: Filter = None,
        kind: Filter = None,
        source: Filter = None,
        tag: Filter = None,
        sort: Annotated[
            str | None,
            optional_query(
                "Comma-separated fields; `-` for descending. "
                "Fields: title, updated_at, slug. Default: title.",
                TEXT,
                pattern=SORT_PATTERN,
            ),
        ] = None,
        page: Annotated[int | None, optional_query("1-based page number.", NUMBER, **PAGE)] = None,
        page_size: Annotated[
            int | None,
            optional_query(
                f"Entries per page, 1–{MAX_PAGE_SIZE} (default {DEFAULT_PAGE_SIZE}).",
                NUMBER,
                **PAGE_SIZE,
            ),
        ] = None,
    ) -> Response[EntryList]:
        store: RenderedStore = request.app.state.rendered
        key = rendered.LIST + request.scope["query_string"].decode("latin-1")
        doc = store.get(key)
        if doc is None:
            version = store.current_version()
            body = await rendered.render_entry_list(await parse_entry_query(request))
            doc = rendered.compress(body)
            store.remember(key, version, doc)
        return stored_answer(request, doc, settings)

    @get(
        "/{slug:str}",
        summary="One toolbox entry with its body and links",
        responses={
            **NOT_MODIFIED,
            301: ResponseSpec(
                data_container=None,
                description="The entry was renamed; `Location` is its new resource.",
            ),
            **problem_responses(
                400,
                (404, "There is no published entry with this slug."),
                (410, "The entry was unpublished by the editors (it existed)."),
            ),
        },
    )
    async def get_entry(
        self,
        request: Request[Any, Any, Any],
        settings: NamedDependency[Settings],
        slug: FromPath[str],
    ) -> Response[EntryOne]:
        store: RenderedStore = request.app.state.rendered
        key = rendered.ENTRY + slug
        doc = store.get(key)
        if doc is None:
            version = store.current_version()
            body = await rendered.render_entry(slug)
            if body is None:
                return await _not_published(slug)
            doc = rendered.compress(body)
            store.remember(key, version, doc)
        return stored_answer(request, doc, settings)


async def _not_published(slug: str) -> Response[Any]:
    """A renamed entry's old slug answers 301 to the new one; an unpublished entry 410;
    anything else 404."""
    if (renamed := await editing.redirect_for(slug)) is not None:
        return Response(
            content=None,
            status_code=301,
            headers={"Location": f"/api/v1/entries/{quote(renamed, safe='')}"},
        )
    if await editing.is_gone(slug):
        raise ProblemError(
            410,
            f"The entry {slug!r} was unpublished by the editors; it is no longer "
            "served. GET /api/v1/entries lists the published entries.",
        )
    raise ProblemError(
        404,
        f"There is no published entry with the slug {slug!r}; "
        "GET /api/v1/entries lists the entries there are.",
    )


async def parse_entry_query(
    request: Request[Any, Any, Any], allowed: frozenset[str] = LIST_PARAMS
) -> queries.EntryQuery:
    """Validate the list parameters against what the database knows; raise a 400 that names
    the parameter, the bad value and what is allowed."""
    params = request.query_params
    unknown = sorted(set(params.keys()) - allowed)
    if unknown:
        raise bad_request(
            unknown[0],
            f"Unknown query parameter {unknown[0]!r}; allowed are: {', '.join(sorted(allowed))}.",
        )
    # Only a request that filters pays for looking up the allowed values.
    known = await queries.filter_values() if any(n in params for n in FILTER_PARAMS) else {}
    filters: dict[str, list[str]] = {}
    for name in FILTER_PARAMS:
        values = [v.strip() for raw in params.getall(name, []) for v in raw.split(",") if v.strip()]
        if not values:
            continue
        if name != "tag":
            valid = known.get(name, set())
            for value in values:
                if value not in valid:
                    raise bad_request(
                        name,
                        f"Unknown {name} {value!r}; allowed values are: "
                        f"{', '.join(sorted(valid))} (see GET /api/v1/taxonomy).",
                    )
        filters[name] = list(dict.fromkeys(values))
    return queries.EntryQuery(
        filters=filters,
        sort=_parse_sort(params.get("sort")),
        page=_positive_int(params, "page", 1, MAX_PAGE),
        page_size=_positive_int(params, "page_size", DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE),
    )


def _parse_sort(raw: str | None) -> list[tuple[str, bool]]:
    if raw is None or not raw.strip():
        return [("title", False)]
    fields = []
    for part in raw.split(","):
        part = part.strip()
        name = part.removeprefix("-")
        if name not in queries.SORT_COLUMNS:
            raise bad_request(
                "sort",
                f"Cannot sort by {name!r}; sortable fields are: "
                f"{', '.join(queries.SORT_COLUMNS)} (prefix with - for descending).",
            )
        fields.append((name, part.startswith("-")))
    return fields


def _positive_int(params: Any, name: str, default: int, maximum: int) -> int:
    raw = params.get(name)
    return default if raw is None else whole_number(raw, name, maximum=maximum)
