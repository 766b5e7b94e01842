"""Every route of the app's route table (API, pages, embeds, fragments, theme assets, the
OpenAPI routes and a plugin's route), on SQLite and PostgreSQL with a real Meilisearch:

- answers HEAD like GET: the same status and headers, no body;
- never answers 5xx to hostile paths, queries and bodies: NUL, RTL marks, byte order
  marks, bytes that are not UTF-8, encoded dot segments, huge numbers, digits that are
  not ASCII, repeated parameters, markup, line breaks.

The fuzzing is a bounded, derandomized Hypothesis test (the same requests every run),
MENTORING40_ROUTE_FUZZ_EXAMPLES examples per route and database (default 20); ``make
fuzz`` runs more. The routes are read from the app itself, so a new route is fuzzed
without a change here (and a path parameter nobody knows a value for fails loudly).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import asyncpg
import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Response, get, head
from litestar.params import FromPath, FromQuery
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from core.app import create_app
from core.content import queries
from core.http.input_checks import SINGLE_PARAMS
from core.http.problems import ProblemError
from core.plugins import PluginRegistry, build_registry
from core.settings import Settings
from search.local_server import LocalMeilisearch
from tests.conftest import FIXTURE_CONTENT, make_settings, run, sync
from tests.web_support import Client, hookimpl, write_site

EXAMPLES = int(os.environ.get("MENTORING40_ROUTE_FUZZ_EXAMPLES", "20"))
SITE = "werkzeugkasten"
# Valid answers to the fixture's probe questionnaire (as in tests/test_fuzz.py).
PROBE_ANSWERS = {"geraete": "voll", "chaos": "nicht", "wlan": "ja", "programm": "nein"}
PROBE_ANSWERS["offenheit"] = "teils"
NO_RATE_LIMITS: dict[str, Any] = {"rate_limit_search": None, "rate_limit_submit": None}


# -- a third party's route -------------------------------------------------------------------


@get("/plugin/titles/{slug:str}", include_in_schema=False)
async def plugin_title(
    slug: FromPath[str], upper: FromQuery[bool] = False, limit: FromQuery[int | None] = None
) -> dict[str, str]:
    """What a plugin might add: a lookup by a path value, with typed query parameters."""
    entry = await queries.get_entry(slug)
    if entry is None:
        raise ProblemError(404, f"No entry {slug!r}.")
    title: str = entry["title"][:limit]
    return {"title": title.upper() if upper else title}


class TitlePlugin:
    @hookimpl
    def register_routes(self) -> list[Any]:
        return [plugin_title]


def registry_for(settings: Settings) -> PluginRegistry:
    registry = build_registry(settings, load_installed=False)
    registry.register(TitlePlugin(), name="titles")
    return registry


def fuzzed_settings(database_url: str, content: Path, **kwargs: Any) -> Settings:
    return make_settings(database_url, content, **NO_RATE_LIMITS, **kwargs)


def route_table() -> list[HTTPRoute]:
    """The app's HTTP routes, built from the code alone (no database is opened), so that
    pytest makes one test per route while collecting."""
    with tempfile.TemporaryDirectory() as folder:
        content = Path(folder) / "content"
        shutil.copytree(FIXTURE_CONTENT, content)
        write_site(content, SITE, "label: Werkzeugkasten\n")
        settings = fuzzed_settings(f"sqlite:///{folder}/unused.sqlite", content)
        app = create_app(settings, registry_for(settings))
        return [r for r in app.routes if isinstance(r, HTTPRoute)]


ROUTES = route_table()
_PARAM = re.compile(r"\{(\w+):\w+\}")


# -- the served app ------------------------------------------------------------------------


@dataclass(frozen=True)
class Served:
    client: Client
    # Values that exist, per path parameter name, so that requests reach past 404.
    known: dict[str, list[str]]


@pytest.fixture(scope="module")
def meili(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMeilisearch]:
    with LocalMeilisearch(tmp_path_factory.mktemp("meili")) as server:
        yield server


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def served(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    meili: LocalMeilisearch,
) -> Iterator[Served]:
    """The app over the fixture content, a partner site and the plugin's route, on a
    fresh SQLite file or PostgreSQL schema, with its own Meilisearch index, every entry
    indexed; and a stored Quickcheck result."""
    tmp = tmp_path_factory.mktemp("routes")
    content = tmp / "content"
    shutil.copytree(FIXTURE_CONTENT, content)
    write_site(content, SITE, "label: Werkzeugkasten\norigins: [https://partner.example]\n")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'routes.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_database")
        run(reset_schema(url))
    app_settings = fuzzed_settings(
        url,
        content,
        meili_url=meili.url,
        meili_admin_key=meili.master_key,
        meili_index=f"routes_{uuid.uuid4().hex[:10]}",
    )
    registry = registry_for(app_settings)
    sync(app_settings, registry)
    with TestClient(create_app(app_settings, registry)) as client:
        wait_until_ready(client)
        answer = client.post(
            "/api/v1/questionnaires/probe/responses",
            json={"version": 1, "perspective": "mitarbeitende", "answers": PROBE_ANSWERS},
        )
        assert answer.status_code == 201, answer.text
        known = {
            "slug": ["ueberblick", "arbeitsablauf"],
            "site_id": [SITE],
            "questionnaire_id": ["probe", "probe-profil"],
            "token": [answer.json()["data"]["token"]],
            "topic": ["barrieren"],
            "theme_name": ["default"],
            "path": ["base.css", "embed.js"],
            # Editor routes (opt roles): unsigned requests are sent to the sign-in page
            # before the value is looked at; tests/test_roles.py walks them signed in.
            "run_id": ["1"],
            "account_id": ["1"],
            "code": ["AAAAAAAAAAAAAAAAAAAAAA"],
            "pseudonym": ["Lernfuchs"],
            "name": ["sachsen"],
        }
        yield Served(client=client, known=known)


async def reset_schema(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


def wait_until_ready(client: Client, timeout: float = 30) -> None:
    """Every entry indexed and /ready 200, so that search answers rather than 503."""
    deadline = time.monotonic() + timeout
    while True:
        ready = client.get("/ready")
        total = client.get("/api/v1/search").json().get("meta", {}).get("pagination", {})
        if ready.status_code == 200 and total.get("total", 0) > 0:
            return
        assert time.monotonic() < deadline, f"not ready: {ready.text} {total}"
        time.sleep(0.2)


def fill(path: str, values: dict[str, str]) -> str:
    return _PARAM.sub(lambda m: values[m.group(1)], path)


def known_values(route: HTTPRoute, served: Served) -> dict[str, str]:
    """The first existing value of each path parameter."""
    values = {name: quote(found[0], safe="") for name, found in served.known.items()}
    return values


# Litestar's catch-all under /schema answers unknown documentation paths with 404.
ONLY_404 = {"/schema/{path:str}"}


# Answers only clients on this machine or with MENTORING40_METRICS_TOKEN; the test
# client's address ("testclient") is neither, so it gets the 403 (tests/test_operations.py
# checks the answer with the token).
NEEDS_LOOPBACK_OR_TOKEN = {"/metrics"}


def answers_without_a_key(route: HTTPRoute) -> bool:
    return (
        route.path not in ONLY_404
        and route.path not in NEEDS_LOOPBACK_OR_TOKEN
        and not any("scope" in h.opt or "runs_access" in h.opt for h in route.route_handlers)
        # JSON routes for signed-in accounts only (e.g. a run's tandems): 401 without one.
        and not (
            route.path.startswith("/api/") and any("roles" in h.opt for h in route.route_handlers)
        )
    )


# -- HEAD ------------------------------------------------------------------------------------

# Bodies that change from one request to the next (counters, timings): their length may
# differ between the GET and the HEAD.
# Answers that may differ between two requests: the search (API and the search page "/")
# comes from the engine or, while it is still indexing, from the database.
CHANGING_BODIES = {"/metrics", "/ready", "/health", "/api/v1/search", "/"}
SAME_HEADERS = ("content-type", "etag", "cache-control", "content-security-policy", "allow")


@pytest.mark.parametrize("route", [r for r in ROUTES if "GET" in r.methods], ids=lambda r: r.path)
def test_head_answers_like_get_without_a_body(route: HTTPRoute, served: Served) -> None:
    url = fill(route.path, known_values(route, served))
    for accept in ("application/json", "text/html"):
        got = served.client.get(url, headers={"Accept": accept})
        head = served.client.head(url, headers={"Accept": accept})
        if answers_without_a_key(route):
            assert got.status_code < 400, (url, got.status_code, got.text[:500])
        assert head.status_code == got.status_code, (url, accept)
        assert head.content == b"", url
        for name in SAME_HEADERS:
            assert head.headers.get(name) == got.headers.get(name), (url, name)
        if route.path not in CHANGING_BODIES:
            assert head.headers.get("content-length") == got.headers.get("content-length"), url


def test_head_on_a_post_only_route_is_405_like_get(served: Served) -> None:
    got = served.client.get("/api/v1/tandem-checks")
    head = served.client.head("/api/v1/tandem-checks")
    assert (got.status_code, head.status_code) == (405, 405)
    assert head.content == b""
    assert head.headers["allow"] == got.headers["allow"]


# -- fuzzing -----------------------------------------------------------------------------------

# Written as they go on the wire (percent-encoded where it matters).
HOSTILE = [
    "%00",
    "a%00b",
    "%2e%2e",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%2F..%2Fcore%2Fapp.py",
    "%C2%B2",  # superscript two: isdigit() but not int()
    "%D9%A3",  # Arabic-Indic three
    "%E2%80%AE",  # right-to-left override
    "%E2%80%8F",  # right-to-left mark
    "%EF%BB%BF",  # byte order mark
    "%FF%FE",  # not UTF-8
    "%ED%A0%80",  # an encoded surrogate: not UTF-8 either
    "%C0%AE",  # an overlong dot
    "9" * 25,
    "1" * 5001,
    "-1",
    "0",
    "1e9",
    "NaN",
    "%20",
    "",
    "%25",
    "%2F",
    "%3Cscript%3Ealert(1)%3C%2Fscript%3E",
    "%0D%0AX-Injected:%201",
    "x" * 3000,
]
QUERY_NAMES = [
    "page", "page_size", "q", "topic", "phase", "audience", "kind", "source", "tag", "sort",
    "facets", "e", "titel", "partial", "perspective", "probelauf", "version", "lang", "v",
    "upper", "limit",
]  # fmt: skip
BODIES: list[tuple[str, bytes]] = [
    ("application/x-www-form-urlencoded", b"perspective=mitarbeitende&version=%C2%B2"),
    ("application/x-www-form-urlencoded", b"perspective=%00&version=1&a.geraete=%00"),
    ("application/x-www-form-urlencoded", b"version=" + b"1" * 5001),
    (
        "application/x-www-form-urlencoded",
        b"perspective=mitarbeitende&version=1&a.programm=ja&r.hindernisse.zeit=%C2%B2"
        b"&a.stunden=" + b"9" * 400,
    ),
    ("application/x-www-form-urlencoded", b"perspective=mitarbeitende&perspective=x&%FF=%FF"),
    ("application/json", b'{"version": 1, "perspective": "\xff", "answers": {}}'),
    (
        "application/json",
        b'{"version": 1, "perspective": "mitarbeitende", "answers": {"anmerkung": "\\u0000"}}',
    ),
    ("application/json", b'{"version": ' + b"9" * 30 + b', "answers": {}}'),
    ("application/json", b'{"mentor": "\\u0000", "mentee": "\\ud800"}'),
    ("application/json", b"[" * 5000),
    ("application/json", b""),
    ("text/plain", b"\x00\xff"),
    ("multipart/form-data; boundary=x", b"--x\r\n\r\n--x--"),
]


# What broke single requests before (issue 12), drawn as often as all the rest together.
BROKE_BEFORE = ["%00", "a%00b", "%C2%B2", "1" * 5001, "99999999999999999999"]


def values_for(known: list[str]) -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(BROKE_BEFORE),
        st.sampled_from(HOSTILE),
        st.text(max_size=12).map(lambda text: quote(text, safe="")),
        st.sampled_from(known or ["x"]).map(lambda text: quote(text, safe="")),
    )


NOT_QUERY = {"request", "settings", "data", "scope", "headers"}


def query_names(route: HTTPRoute) -> list[str]:
    """The query parameters the route's handlers read (declared, or listed by a page)."""
    path_params = set(_PARAM.findall(route.path))
    names = {
        name
        for handler in route.route_handlers
        for name in [
            *handler.parsed_fn_signature.parameters,
            *handler.opt.get(SINGLE_PARAMS, ()),
        ]
    }
    return sorted(names - NOT_QUERY - path_params) or QUERY_NAMES


@st.composite
def requests(draw: st.DrawFn, route: HTTPRoute, served: Served) -> tuple[str, str, Any]:
    methods = sorted(route.methods | ({"HEAD"} if "GET" in route.methods else set()))
    method = draw(st.sampled_from(methods), label="method")
    path = _PARAM.sub(
        lambda m: draw(values_for(served.known.get(m.group(1), [])), label=m.group(1)),
        route.path,
    )
    names = st.one_of(st.sampled_from(query_names(route)), st.sampled_from(QUERY_NAMES))
    pairs = draw(st.lists(st.tuples(names, values_for([])), max_size=4), label="query")
    repeat = draw(st.booleans(), label="repeat")
    if pairs and repeat:
        pairs.append(pairs[0])
    query = "&".join(f"{name}={value}" for name, value in pairs)
    url = f"{path}?{query}" if query else path
    accept = draw(st.sampled_from(["text/html", "application/json", "*/*"]), label="accept")
    options: dict[str, Any] = {"headers": {"Accept": accept}}
    if method == "POST":
        content_type, body = draw(st.sampled_from(BODIES), label="body")
        options = {"headers": {"Accept": accept, "Content-Type": content_type}, "content": body}
    return method, url, options


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: f"{','.join(sorted(r.methods))} {r.path}")
@given(data=st.data())
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    # Each example is a request to the app; the module's app fixture is shared on purpose.
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
def test_no_route_answers_5xx_to_hostile_requests(
    route: HTTPRoute, served: Served, data: st.DataObject
) -> None:
    method, url, options = data.draw(requests(route, served), label="request")
    response = served.client.request(method, url, **options)
    assert response.status_code < 500, (method, url[:300], response.text[:500])
    if method == "HEAD":
        assert response.content == b"", url[:300]


def test_every_route_is_fuzzed_and_every_path_parameter_has_known_values(
    served: Served,
) -> None:
    """A route added later is in the table (so it is fuzzed); its path parameters need
    existing values here, or HEAD and fuzzing stop at 404."""
    paths = {route.path for route in ROUTES}
    assert {"/", "/api/v1/entries", "/static/{theme_name:str}/{path:path}"} <= paths
    assert "/plugin/titles/{slug:str}" in paths
    for route in ROUTES:
        for name in _PARAM.findall(route.path):
            assert name in served.known, (route.path, name)


def test_known_values_are_real(served: Served) -> None:
    """The values the tests rely on exist (a fixture change would otherwise turn every
    HEAD comparison into a comparison of two 404s)."""
    entry = served.client.get("/plugin/titles/ueberblick").json()
    assert entry["title"]
    assert msgspec.json.decode(served.client.get("/api/v1/taxonomy").content)["data"]["topics"]


# -- a route that answers HEAD itself ---------------------------------------------------------


@get("/plugin/ping", include_in_schema=False)
async def ping_get() -> str:
    return "pong"


@head("/plugin/ping", include_in_schema=False)
async def ping_head() -> Response[None]:
    return Response(None, headers={"X-Answered-By": "head"})


class PingPlugin:
    @hookimpl
    def register_routes(self) -> list[Any]:
        return [ping_get, ping_head]


def test_a_route_that_declares_head_answers_it_itself(tmp_path: Path) -> None:
    settings = make_settings(f"sqlite:///{tmp_path / 'ping.sqlite'}", FIXTURE_CONTENT)
    registry = build_registry(settings, load_installed=False)
    registry.register(PingPlugin(), name="ping")
    with TestClient(create_app(settings, registry)) as client:
        answer = client.head("/plugin/ping")
        assert answer.status_code == 200
        assert answer.headers["x-answered-by"] == "head"
        assert answer.content == b""
        assert client.get("/plugin/ping").text == "pong"
