"""API keys from the CLI (create, list, expire, revoke, scopes) and scopes on every
protected route, plugin routes included. Real databases."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pluggy
import pytest
from litestar import get
from litestar.testing import TestClient

from core.app import create_app
from core.auth import create_key, known_scopes
from core.db.engine import engine_from_url, migrate, use_engine
from core.plugins import PluginError, PluginRegistry, build_registry
from core.settings import Settings
from tests.conftest import run, sync
from tests.test_quickcheck_api import bearer, cli

hookimpl = pluggy.HookimplMarker("mentoring40")
STATS = "/api/v1/questionnaires/probe/stats"


class ReportsPlugin:
    """A region's plugin with a protected route of its own."""

    def __init__(self, scope: str = "region:reports", declare: bool = True) -> None:
        self.scope = scope
        self.declare = declare

    @hookimpl
    def api_scopes(self) -> dict[str, str] | None:
        if not self.declare:
            return None
        return {"region:reports": "regional reports (GET /api/v1/region/reports)"}

    @hookimpl
    def register_routes(self) -> list[Any]:
        @get("/api/v1/region/reports", opt={"scope": self.scope}, sync_to_thread=False)
        def reports() -> dict[str, int]:
            return {"reports": 3}

        return [reports]


def registry_with(settings: Settings, plugin: object) -> PluginRegistry:
    registry = build_registry(settings, load_installed=False)
    registry.manager.register(plugin, name="region")
    return registry


def test_a_plugin_route_is_guarded_by_its_own_scope(fixture_settings: Settings) -> None:
    sync(fixture_settings)
    registry = registry_with(fixture_settings, ReportsPlugin())
    allowed = known_scopes(registry, fixture_settings)
    assert set(allowed) == {
        "stats:read",
        "responses:export",
        "entries:write",
        "runs:read",
        "runs:write",
        "region:reports",
    }
    use_engine(engine_from_url(fixture_settings.database_url))

    async def keys() -> tuple[str, str]:
        await migrate()
        reports, _ = await create_key("reports", ["region:reports"], allowed=allowed)
        stats, _ = await create_key("stats", ["stats:read"], allowed=allowed)
        return reports, stats

    reports, stats = run(keys())
    with TestClient(create_app(fixture_settings, registry)) as client:
        assert client.get("/api/v1/region/reports").status_code == 401
        wrong = client.get("/api/v1/region/reports", headers=bearer(stats))
        assert wrong.status_code == 403
        assert "does not have the scope 'region:reports'" in wrong.json()["detail"]
        right = client.get("/api/v1/region/reports", headers=bearer(reports))
        assert (right.status_code, right.json()) == (200, {"reports": 3})
        # ... and the key for the plugin's route opens nothing of the core.
        assert client.get(STATS, headers=bearer(reports)).status_code == 403
        # The OpenAPI document says the plugin's route needs the key, like the core's.
        paths = client.get("/schema/openapi.json").json()["paths"]
        assert paths["/api/v1/region/reports"]["get"]["security"] == [{"apiKey": []}]


def test_a_route_with_an_undeclared_scope_stops_startup(fixture_settings: Settings) -> None:
    registry = registry_with(fixture_settings, ReportsPlugin(scope="region:secret"))
    with pytest.raises(PluginError, match=r"/api/v1/region/reports: 'region:secret'"):
        create_app(fixture_settings, registry)


def test_a_plugin_cannot_redeclare_a_core_scope(fixture_settings: Settings) -> None:
    class Greedy:
        @hookimpl
        def api_scopes(self) -> dict[str, str]:
            return {"stats:read": "mine now"}

    registry = registry_with(fixture_settings, Greedy())
    with pytest.raises(PluginError, match="declares the scope 'stats:read' again"):
        known_scopes(registry, fixture_settings)


def test_keys_expire_from_the_cli(fixture_settings: Settings) -> None:
    sync(fixture_settings)
    created = cli(fixture_settings, "keys", "create", "--name", "eval", "--scope", "stats:read")
    token = created.stdout.splitlines()[0]
    later = cli(fixture_settings, "keys", "create", "--name", "later", "--scope", "stats:read")
    later_token = later.stdout.splitlines()[0]

    in_30 = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=30)
    soon = cli(fixture_settings, "keys", "expire", "later", "--in-days", "30")
    assert soon.exit_code == 0
    assert f"Key 'later' runs out on {in_30}." in soon.output
    now = cli(fixture_settings, "keys", "expire", "eval")
    assert (now.exit_code, now.output.strip()) == (0, "Key 'eval' expired.")

    listed = cli(fixture_settings, "keys", "list").output
    assert "eval" in listed
    assert "stats:read  expired" in listed
    assert f"stats:read  active  created {dt.datetime.now(dt.UTC).date()}, until {in_30}" in listed

    registry = build_registry(fixture_settings, load_installed=False)
    with TestClient(create_app(fixture_settings, registry)) as client:
        assert client.get(STATS, headers=bearer(token)).status_code == 401
        assert client.get(STATS, headers=bearer(later_token)).status_code == 200

    missing = cli(fixture_settings, "keys", "expire", "nobody")
    assert missing.exit_code != 0
    assert "there is no key named 'nobody'" in missing.output


def test_keys_scopes_lists_what_a_key_can_carry(fixture_settings: Settings) -> None:
    listed = cli(fixture_settings, "keys", "scopes")
    assert listed.exit_code == 0
    assert "stats:read" in listed.output
    assert "responses:export" in listed.output
    unknown = cli(fixture_settings, "keys", "create", "--name", "x", "--scope", "everything")
    assert unknown.exit_code != 0
    assert (
        "unknown scope(s) everything; allowed: stats:read, responses:export, entries:write"
        in unknown.output
    )
