"""Region overrides on a region's own site: its words for core terms, hidden core entries,
its own entries recommended in Quickcheck results (without a new questionnaire version),
checked by `content check`; and plugin compatibility (MENTORING40_VERSIONS)."""

from __future__ import annotations

import types
import uuid
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from core.db.engine import engine_from_url, use_engine
from core.plugins import PluginError, build_registry, check_compatible
from core.quickcheck import store
from core.settings import Settings
from search.local_server import LocalMeilisearch
from tests.conftest import run, sync, write_region_pack
from tests.test_search_api import wait_for_hits
from tests.test_web_quickcheck import COMPLETE
from tests.web_support import (
    Client,
    RegionPlugin,
    SitePlugin,
    app_client,
    page_of,
    registry_with,
    run_cli,
    sqlite_settings,
)

REGION_SITE = """\
label: Region Test
sources: [core, region]
terms:
  topics:
    barrieren:
      label: Stolpersteine
      description: Was in der Region bremst.
hide: [aufgabenliste]
recommendations:
  probe:
    overall:
      rot: [region-stammtisch]
      gelb: [region-stammtisch]
      gruen: [region-stammtisch]
"""


@pytest.fixture
def region_settings(tmp_path: Path, content_dir: Path) -> Settings:
    return sqlite_settings(tmp_path, content_dir)


def region_plugins(tmp_path: Path, site_text: str = REGION_SITE) -> dict[str, object]:
    pack = write_region_pack(
        tmp_path / "region", "region-stammtisch", "Regionaler Stammtisch", "ueberblick",
        "Ein Treffen der Betriebe in der Region.",
    )  # fmt: skip
    sites = tmp_path / "region-sites"
    sites.mkdir()
    (sites / "region.yaml").write_text(site_text, encoding="utf-8")
    return {"region": RegionPlugin(pack), "region_sites": SitePlugin(sites)}


@pytest.fixture
def region_client(tmp_path: Path, region_settings: Settings) -> Iterator[Client]:
    registry = registry_with(region_settings, **region_plugins(tmp_path))
    sync(region_settings, registry)
    with app_client(region_settings, registry) as client:
        yield client


def test_a_region_site_shows_a_core_topic_in_its_own_words(region_client: Client) -> None:
    topic = page_of(region_client.get("/embed/region/topics/barrieren"))
    assert topic.find("h1").text() == "Stolpersteine"
    assert "Was in der Region bremst." in topic.find("main").text()
    # The facet of the site's search page uses the region's word too ...
    assert "Stolpersteine" in page_of(region_client.get("/embed/region")).find("main").text()
    # ... while the core, the API and the workspace keep the core's label.
    core_label = page_of(region_client.get("/")).find("main").text()
    assert "Stolpersteine" not in core_label
    topics = region_client.get("/api/v1/taxonomy").json()["data"]["topics"]
    assert next(t for t in topics if t["slug"] == "barrieren")["label"] != "Stolpersteine"


def test_a_region_site_hides_the_core_entries_it_names(region_client: Client) -> None:
    listed = page_of(region_client.get("/embed/region")).find("main").text()
    assert "Regionaler Stammtisch" in listed
    assert "Aufgabenliste" not in listed
    page = page_of(region_client.get("/embed/region/entries/aufgabenliste"), 404)
    assert "Es gibt keinen Eintrag" in page.find("main").text()
    # Elsewhere the entry is there.
    assert region_client.get("/entries/aufgabenliste").status_code == 200
    assert "Aufgabenliste" in page_of(region_client.get("/")).find("main").text()


def test_the_quickcheck_on_a_region_site_recommends_the_regions_entries(
    region_client: Client, region_settings: Settings
) -> None:
    published = region_client.get("/api/v1/questionnaires/probe").json()["data"]
    response = region_client.post(
        "/embed/region/quickcheck/probe", data=COMPLETE, follow_redirects=False
    )
    assert response.status_code == 303
    location = response.headers["location"]
    page = page_of(region_client.get(location))
    regional = page.find("ul", "regional")
    assert [a.text() for a in regional.find_all("a")] == ["Regionaler Stammtisch"]
    assert "Empfehlungen von Region Test" in page.find("main").text()
    # The API shows the same result as the region's, for the same version and hash.
    token = location.rsplit("/", 1)[1]
    result = region_client.get(f"/api/v1/results/{token}").json()["data"]
    assert result["site"] == "region"
    assert result["region"] == "Region Test"
    assert [r["slug"] for r in result["overall"]["regional"]] == ["region-stammtisch"]
    assert result["questionnaire"]["version"] == published["version"]
    assert result["questionnaire"]["hash"] == published["hash"]
    # Submitted in the workspace: no region, no regional recommendation.
    posted = region_client.post("/quickcheck/probe", data=COMPLETE, follow_redirects=False)
    plain = region_client.get(f"/api/v1/results/{posted.headers['location'].rsplit('/', 1)[1]}")
    assert plain.json()["data"]["overall"]["regional"] == []
    assert plain.json()["data"]["site"] is None
    # The statistics can be read per site.
    use_engine(engine_from_url(region_settings.database_url))
    assert len(run(store.responses("probe", sites=["region"]))) == 1
    assert len(run(store.responses("probe"))) == 2


def test_content_check_names_every_bad_override(
    tmp_path: Path, region_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = """\
label: Region Test
sources: [core, region]
terms:
  topics:
    gibt-es-nicht: {label: Unbekannt}
  farben:
    rot: {label: Rot}
hide: [fehlt]
recommendations:
  probe:
    overall:
      rot: [region-fehlt, aufgabenliste]
    dimensions:
      keine-dimension: {rot: [region-stammtisch]}
  kein-fragebogen:
    overall: {rot: [region-stammtisch]}
"""
    bad = bad.replace("hide: [fehlt]", "hide: [fehlt, aufgabenliste]")
    result = run_cli(
        region_settings, "content", "check",
        plugins=region_plugins(tmp_path, bad), monkeypatch=monkeypatch,
    )  # fmt: skip
    assert result.exit_code == 1
    out = result.output
    assert "terms.topics.gibt-es-nicht: unknown term 'gibt-es-nicht' in topics" in out
    assert "'farben' is not a taxonomy dimension" in out
    assert "hide[0]: no published entry 'fehlt' to hide" in out
    assert "recommends 'region-fehlt', but there is no published entry with that slug" in out
    assert "recommends 'aufgabenliste', which this site hides" in out
    assert "questionnaire 'probe' has no dimension 'keine-dimension'" in out
    assert "unknown questionnaire 'kein-fragebogen'" in out


def test_the_shipped_nrw_site_passes_the_check_with_its_overlay(
    region_settings: Settings,
) -> None:
    result = run_cli(
        Settings(database_url=region_settings.database_url), "content", "check", load_plugins="nrw"
    )
    assert result.exit_code == 0, result.output


# -- compatibility ------------------------------------------------------------------------------


def plugin_module(versions: str | None) -> types.ModuleType:
    module = types.ModuleType("mentoring40_sachsen")
    if versions is not None:
        module.MENTORING40_VERSIONS = versions  # type: ignore[attr-defined]
    return module


def test_a_plugin_for_other_engine_versions_is_refused_naming_both_versions() -> None:
    with pytest.raises(PluginError) as caught:
        check_compatible(plugin_module(">=0.3,<0.4"), "sachsen", "mentoring40-sachsen", "1.2.0",
                         engine="0.1.0")  # fmt: skip
    assert str(caught.value) == (
        "Plugin 'sachsen' (mentoring40-sachsen 1.2.0) supports mentoring40 <0.4,>=0.3, but this "
        "is mentoring40 0.1.0; install a version of the plugin made for mentoring40 0.1.0, or "
        "a mentoring40 within <0.4,>=0.3."
    )
    assert check_compatible(plugin_module(">=0.1,<0.2"), "sachsen", engine="0.1.5") == (
        "<0.2,>=0.1"
    )
    assert check_compatible(plugin_module(None), "sachsen", engine="0.1.0") == ""
    with pytest.raises(PluginError, match="'lieber neu', which is not a version specifier"):
        check_compatible(plugin_module("lieber neu"), "sachsen", engine="0.1.0")


def test_an_incompatible_plugin_stops_registration() -> None:
    registry = build_registry(Settings(), load_installed=False)
    with pytest.raises(PluginError, match=r"Plugin 'sachsen' supports mentoring40 >=99"):
        registry.register(plugin_module(">=99"), name="sachsen")
    assert "sachsen" not in registry.infos


def test_the_nrw_plugin_states_the_versions_it_supports() -> None:
    result = run_cli(Settings(), "plugins", "--json", load_plugins="nrw")
    assert result.exit_code == 0, result.output
    assert '"supports": "<0.2,>=0.1"' in result.output


def test_the_search_engine_leaves_out_what_a_region_site_hides(
    tmp_path: Path, region_settings: Settings
) -> None:
    with LocalMeilisearch(tmp_path / "meili") as meili:
        settings = msgspec.structs.replace(
            region_settings, meili_url=meili.url, meili_admin_key=meili.master_key,
            meili_index=f"test_{uuid.uuid4().hex[:10]}",
        )  # fmt: skip
        registry = registry_with(settings, **region_plugins(tmp_path))
        sync(settings, registry)
        with app_client(settings, registry) as client:
            wait_for_hits(client, "", 4)  # the three core entries and the region's
            workspace = page_of(client.get("/", params={"q": "Liste"})).find("main").text()
            assert "Aufgabenliste" in workspace
            site = client.get("/embed/region", params={"q": "Liste"})
            text = page_of(site).find("main").text()
            assert "Aufgabenliste" not in text
            assert "Volltextsuche ist gerade nicht erreichbar" not in text  # the engine answered
