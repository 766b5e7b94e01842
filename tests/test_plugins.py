"""The plugin engine: a fresh registry per test, test plugins defined inline."""

from __future__ import annotations

import json
import re
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pluggy
import pytest
from click.testing import CliRunner
from litestar import get
from litestar.testing import TestClient

from core import hookspecs
from core.app import create_app
from core.cli import main
from core.content.packs import collect_packs
from core.plugins import PluginError, _import_entry_point, build_registry, new_registry
from core.settings import Settings
from tests.conftest import sync, write_region_pack

# Written the way a third party writes it: no import from core needed.
hookimpl = pluggy.HookimplMarker("mentoring40")


class RegionPlugin:
    """Contributes a content pack with one entry and a route."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @hookimpl
    def content_packs(self) -> list[dict[str, Any]]:
        return [{"name": "region", "path": str(self.folder), "label": "Testregion"}]

    @hookimpl
    def register_routes(self) -> list[Any]:
        @get("/api/v1/region/info", summary="Region info", sync_to_thread=False)
        def region_info() -> dict[str, str]:
            return {"region": "Testregion"}

        return [region_info]


@pytest.fixture
def offline_settings(content_dir: Path) -> Settings:
    """Settings for tests that never touch a database."""
    return Settings(content_dir=content_dir)


@pytest.fixture
def region_folder(tmp_path: Path) -> Path:
    return write_region_pack(
        tmp_path / "region", "region-stammtisch", "Regionaler Stammtisch", "ueberblick",
        "Text mit Link auf den [Überblick](ueberblick.md).",
    )  # fmt: skip


def test_every_hookspec_has_a_docstring_saying_what_it_returns() -> None:
    specs = [
        getattr(hookspecs, name)
        for name in dir(hookspecs)
        if hasattr(getattr(hookspecs, name), "mentoring40_spec")
    ]
    assert {s.__name__ for s in specs} >= {"content_packs", "register_routes", "startup"}
    for spec in specs:
        assert spec.__doc__, spec.__name__
        assert len(spec.__doc__.split()) >= 6, spec.__name__


def test_plugin_content_pack_adds_entries_with_its_source(
    fixture_settings: Settings, region_folder: Path
) -> None:
    registry = build_registry(fixture_settings, load_installed=False)
    registry.register(RegionPlugin(region_folder), name="region")
    packs = collect_packs(registry, fixture_settings)
    assert [p.name for p in packs] == ["core", "region"]  # built-in first
    report = sync(fixture_settings, registry)
    assert "region-stammtisch" in report.added
    with TestClient(create_app(fixture_settings, registry)) as client:
        data = client.get("/api/v1/entries?source=region").json()["data"]
        assert [e["slug"] for e in data] == ["region-stammtisch"]
        assert data[0]["source"] == "region"


def test_plugin_routes_are_served_and_in_the_openapi_document(
    fixture_settings: Settings, region_folder: Path
) -> None:
    sync(fixture_settings)
    registry = build_registry(fixture_settings, load_installed=False)
    registry.register(RegionPlugin(region_folder), name="region")
    with TestClient(create_app(fixture_settings, registry)) as client:
        assert client.get("/api/v1/region/info").json() == {"region": "Testregion"}
        assert "/api/v1/region/info" in client.get("/schema/openapi.json").json()["paths"]


def test_a_raising_hook_names_the_plugin_the_hook_and_the_cause(offline_settings: Settings) -> None:
    class Broken:
        @hookimpl
        def content_packs(self) -> list[Any]:
            raise FileNotFoundError("package data missing")

    registry = build_registry(offline_settings, load_installed=False)
    registry.register(Broken(), name="broken")
    with pytest.raises(PluginError) as info:
        collect_packs(registry, offline_settings)
    assert str(info.value) == (
        "Plugin 'broken' failed in hook 'content_packs': FileNotFoundError: package data missing"
    )


def test_a_raising_route_hook_stops_app_creation(offline_settings: Settings) -> None:
    class Broken:
        @hookimpl
        def register_routes(self) -> list[Any]:
            raise RuntimeError("boom")

    registry = new_registry()
    registry.register(Broken(), name="broken-routes")
    with pytest.raises(PluginError, match="'broken-routes' failed in hook 'register_routes'"):
        create_app(offline_settings, registry)


def test_an_async_startup_hook_runs_when_the_app_starts(fixture_settings: Settings) -> None:
    calls: list[str] = []

    class Starter:
        @hookimpl
        async def startup(self, app: Any) -> None:
            calls.append(app.openapi_config.title)

    sync(fixture_settings)
    registry = build_registry(fixture_settings, load_installed=False)
    registry.register(Starter(), name="starter")
    with TestClient(create_app(fixture_settings, registry)):
        assert calls == ["mentoring40 API"]


def test_invalid_content_pack_from_a_plugin_is_named(offline_settings: Settings) -> None:
    class Sloppy:
        @hookimpl
        def content_packs(self) -> list[Any]:
            return [{"name": "sloppy", "folder": "/tmp"}]

    registry = new_registry()
    registry.register(Sloppy(), name="sloppy")
    with pytest.raises(PluginError, match="Plugin 'sloppy' returned an invalid content pack"):
        collect_packs(registry, offline_settings)


def test_a_plugin_with_an_unknown_hook_is_refused() -> None:
    class Typo:
        @hookimpl
        def content_pack(self) -> list[Any]:  # missing "s"
            return []

    registry = new_registry()
    with pytest.raises(PluginError, match=r"Plugin 'typo' cannot be registered.*content_pack"):
        registry.register(Typo(), name="typo")
    assert registry.plugins() == []


@pytest.mark.parametrize("marker", [{"wrapper": True}, {"hookwrapper": True}])
def test_a_wrapper_implementation_is_refused_with_the_plugin_and_hook_named(
    marker: dict[str, bool],
) -> None:
    class Wrapping:
        @hookimpl(**marker)
        def content_packs(self) -> Any:
            yield

    registry = new_registry()
    with pytest.raises(PluginError) as info:
        registry.register(Wrapping(), name="wrapping")
    kind = next(iter(marker))
    assert str(info.value).startswith(
        f"Plugin 'wrapping' cannot be registered: its implementation of hook "
        f"'content_packs' is marked {kind}=True"
    )
    assert registry.plugins() == []
    assert registry.manager.get_plugins() == set()


def test_tryfirst_and_trylast_order_the_results_of_a_hook() -> None:
    class Early:
        @hookimpl(tryfirst=True)
        def api_scopes(self) -> dict[str, str]:
            return {"early": "first"}

    class Plain:
        @hookimpl
        def api_scopes(self) -> dict[str, str]:
            return {"plain": "middle"}

    class Late:
        @hookimpl(trylast=True)
        def api_scopes(self) -> dict[str, str]:
            return {"late": "last"}

    registry = new_registry()
    for plugin, name in ((Late(), "late"), (Plain(), "plain"), (Early(), "early")):
        registry.register(plugin, name=name)
    assert [name for name, _ in registry.call("api_scopes")] == ["early", "plain", "late"]


def test_core_scopes_come_through_the_api_scopes_hook(offline_settings: Settings) -> None:
    from core.auth import known_scopes

    without_builtins = new_registry()
    assert known_scopes(without_builtins, offline_settings) == {}
    builtins = build_registry(offline_settings, load_installed=False)
    assert set(known_scopes(builtins, offline_settings)) == {
        "stats:read",
        "responses:export",
        "entries:write",
        "runs:read",
        "runs:write",
    }
    assert builtins.infos["core.api"].hooks == ("api_scopes",)


def test_a_plugin_that_fails_to_import_is_named() -> None:
    ep = EntryPoint(name="ghost", value="mentoring40_ghost_does_not_exist", group="mentoring40")
    with pytest.raises(PluginError) as info:
        _import_entry_point(ep)
    message = str(info.value)
    assert message.startswith("Plugin 'ghost' failed to import (mentoring40_ghost_does_not_exist)")
    assert "ModuleNotFoundError" in message


def test_load_plugins_setting_selects_and_rejects_unknown_names(content_dir: Path) -> None:
    none = build_registry(Settings(content_dir=content_dir, load_plugins=()))
    assert [p.name for p in none.plugins()] == ["core.api", "core.content", "core.web"]
    assert none.disabled == ["nrw"]
    only_nrw = build_registry(Settings(content_dir=content_dir, load_plugins=("nrw",)))
    assert [p.name for p in only_nrw.plugins()] == ["core.api", "core.content", "core.web", "nrw"]
    with pytest.raises(
        PluginError, match="names 'nope', which is not installed; installed plugins: nrw"
    ):
        build_registry(Settings(content_dir=content_dir, load_plugins=("nope",)))


def test_plugins_command_lists_builtins_and_installed_with_versions_and_hooks() -> None:
    result = CliRunner().invoke(main, ["plugins"], env={"MENTORING40_LOAD_PLUGINS": None})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["core.api", "built-in", "hooks:", "api_scopes"]
    lines = lines[1:]
    assert lines[0].split() == [
        "core.content",
        "built-in",
        "hooks:",
        "content_packs,",
        "questionnaires",
    ]
    assert lines[1].split() == ["core.web", "built-in", "hooks:", "sites,", "themes"]
    assert lines[2].split() == [
        "nrw",
        "mentoring40-nrw",
        "0.1.0",
        "hooks:",
        "api_scopes,",
        "content_packs,",
        "register_routes,",
        "search_document,",
        "search_settings,",
        "sites,",
        "startup,",
        "themes",
        "supports:",
        "mentoring40",
        "<0.2,>=0.1",
    ]

    as_json = CliRunner().invoke(main, ["plugins", "--json"], env={"MENTORING40_LOAD_PLUGINS": ""})
    data = json.loads(as_json.output)
    assert [p["name"] for p in data["plugins"]] == ["core.api", "core.content", "core.web"]
    assert data["disabled"] == ["nrw"]
    disabled = CliRunner().invoke(main, ["plugins"], env={"MENTORING40_LOAD_PLUGINS": ""})
    assert re.search(r"^nrw\s+disabled", disabled.output, re.MULTILINE)
