"""Who may use which editorial route, proven for every route × every role (issue 15):
each route of the app's route table that names ``roles`` in its opt is requested by
nobody (anonymous) and by an account of each role, on SQLite and PostgreSQL.

- anonymous: pages answer 303 to the sign-in page, paths under /api/ 401;
- a role the route does not name: 403;
- a role it names (admin always): GET answers (200 or a redirect that is not to the
  sign-in page); an unsafe method without the CSRF token is refused *as a CSRF failure*,
  which proves the role check let it pass without running the handler (a real POST
  would change data the other requests rely on).

The routes are read from the app itself, so a route another branch adds is walked
without a change here; a path parameter needs a known value in ``KNOWN`` (the test says
which is missing).
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from litestar.routes import HTTPRoute

from core.accounts import ROLES
from core.accounts.guard import route_roles
from core.accounts.sessions import COOKIE
from core.app import create_app
from core.plugins import build_registry
from core.runs.model import RunIn
from core.runs.service import create_run
from core.settings import Settings
from core.web.region_store import RegionValues, create_region
from core.web.site_store import SiteValues
from tests.accounts_support import make_account, reset_schema, sign_in
from tests.conftest import FIXTURE_CONTENT, make_settings, run, sync
from tests.web_support import Client, write_site

SITE = "werkzeugkasten"
# A run of the Lotse's (the run pages show only a Lotse's own runs, and every run to admin).
TEST_RUN = RunIn(
    company="Testbetrieb", site=SITE, region="bayern", sector="handel", size_class="klein",
    starts_on=dt.date(2026, 9, 1), ends_on=dt.date(2027, 2, 1),
)  # fmt: skip
_PARAM = re.compile(r"\{(\w+):\w+\}")
UNSAFE = ("POST", "PUT", "PATCH", "DELETE")


def _settings(url: str, content: Path) -> Settings:
    return make_settings(url, content, rate_limit_search=None, rate_limit_submit=None)


def guarded_routes() -> list[tuple[str, str, tuple[str, ...]]]:
    """(method, path, roles) of every handler with ``roles`` in its opt."""
    with tempfile.TemporaryDirectory() as folder:
        content = Path(folder) / "content"
        shutil.copytree(FIXTURE_CONTENT, content)
        write_site(content, SITE, "label: Werkzeugkasten\n")
        settings = _settings(f"sqlite:///{folder}/unused.sqlite", content)
        app = create_app(settings, build_registry(settings, load_installed=False))
        found = []
        for route in app.routes:
            if not isinstance(route, HTTPRoute):
                continue
            for handler in route.route_handlers:
                roles = route_roles(handler.opt)
                if roles is None:
                    continue
                for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                    found.append((method, route.path, roles))
        return sorted(found)


GUARDED = guarded_routes()


@dataclass
class Walk:
    client: Client
    cookies: dict[str, str]  # role -> session cookie
    known: dict[str, str]  # path parameter -> an existing value


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def walk(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Walk]:
    tmp = tmp_path_factory.mktemp("roles")
    content = tmp / "content"
    shutil.copytree(FIXTURE_CONTENT, content)
    write_site(content, SITE, "label: Werkzeugkasten\norigins: [https://partner.example]\n")
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'roles.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_database")
        run(reset_schema(url))
    settings = _settings(url, content)
    registry = build_registry(settings, load_installed=False)
    sync(settings, registry)
    from litestar.testing import TestClient

    with TestClient(create_app(settings, registry)) as client:
        cookies = {}
        accounts = {}
        for role in ROLES:
            account = make_account(client, role, sources=["core"])
            sign_in(client, account.email)
            cookies[role] = client.cookies[COOKIE]
            accounts[role] = account
        client.cookies.clear()
        lotse_run = client.blocking_portal.call(
            lambda: create_run(TEST_RUN, owner_account=accounts["lotse"].id, sites=[SITE])
        )
        client.blocking_portal.call(
            lambda: create_region(
                RegionValues(name="rollenland", label="Rollenland", primary="#5b2a86",
                             accent="#8a3b12"),
                None,
                SiteValues(site_id="rollenland", label="Rollenland", theme="rollenland"),
                by="test",
            )
        )  # fmt: skip
        known = {
            "name": "rollenland",
            "run_id": str(lotse_run.id),
            "code": lotse_run.codes[0].code,
            "account_id": str(accounts["redaktion"].id),
            "site_id": SITE,
            "slug": "ueberblick",
            "pseudonym": "Lernfuchs",
        }
        yield Walk(client=client, cookies=cookies, known=known)


def fill(path: str, known: dict[str, str]) -> str:
    missing = [name for name in _PARAM.findall(path) if name not in known]
    assert not missing, f"{path}: give a known value for {missing} in tests/test_roles.py"
    return _PARAM.sub(lambda m: known[m.group(1)], path)


def request_as(walk: Walk, identity: str | None, method: str, url: str) -> Any:
    walk.client.cookies.clear()
    if identity is not None:
        walk.client.cookies.set(COOKIE, walk.cookies[identity])
    headers = {"Accept": "application/json" if url.startswith("/api/") else "text/html"}
    options: dict[str, Any] = {"headers": headers, "follow_redirects": False}
    if method in UNSAFE:
        options["data"] = {"x": "1"}  # a form post without the CSRF token
    return walk.client.request(method, url, **options)


def _is_sign_in_redirect(answer: Any) -> bool:
    return answer.status_code == 303 and answer.headers["location"].startswith("/anmelden")


def test_there_are_guarded_routes_to_walk() -> None:
    paths = {path for _method, path, _roles in GUARDED}
    assert {"/redaktion", "/abmelden"} <= paths


@pytest.mark.parametrize("identity", [None, *ROLES], ids=lambda i: i or "anonymous")
@pytest.mark.parametrize(
    ("method", "path", "roles"), GUARDED, ids=[f"{m} {p}" for m, p, _ in GUARDED]
)
def test_every_guarded_route_answers_each_role_as_declared(
    walk: Walk, method: str, path: str, roles: tuple[str, ...], identity: str | None
) -> None:
    url = fill(path, walk.known)
    answer = request_as(walk, identity, method, url)
    api = path.startswith("/api/")
    if identity is None:
        if api:
            assert answer.status_code == 401, (url, answer.text[:300])
        else:
            assert _is_sign_in_redirect(answer), (url, answer.status_code)
        return
    allowed = identity == "admin" or identity in roles
    if not allowed:
        assert answer.status_code == 403, (url, identity, answer.status_code)
        expected = "may not" if api else "Nicht erlaubt"
        assert expected in answer.text, (url, identity, answer.text[:300])
        return
    if method in UNSAFE:
        assert answer.status_code == 403, (url, identity, answer.status_code)
        expected = "CSRF" if api else "Formular abgelaufen"
        assert expected in answer.text, (url, identity, answer.text[:300])
        return
    assert answer.status_code < 400, (url, identity, answer.status_code, answer.text[:300])
    assert not _is_sign_in_redirect(answer), (url, identity)
