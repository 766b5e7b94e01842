"""docs/PLUGINS.md: its Python blocks are one working plugin, and every hook is documented
there with an example."""

from __future__ import annotations

import re
import sys
import types
from pathlib import Path

import pytest
from litestar.testing import TestClient

from core import hookspecs
from core.app import create_app
from core.content.packs import collect_packs
from core.settings import PROJECT_ROOT, Settings
from tests.web_support import registry_with

GUIDE = PROJECT_ROOT / "docs" / "PLUGINS.md"
SPECS = {name for name in dir(hookspecs) if hasattr(getattr(hookspecs, name), "mentoring40_spec")}


def guide_plugin(folder: Path) -> types.ModuleType:
    """The guide's Python blocks as the module ``mentoring40_sachsen`` living in ``folder``."""
    blocks = re.findall(r"^```python\n(.*?)^```", GUIDE.read_text(encoding="utf-8"), re.S | re.M)
    module = types.ModuleType("mentoring40_sachsen")
    module.__file__ = str(folder / "__init__.py")
    exec(compile("\n".join(blocks), str(GUIDE), "exec"), module.__dict__)
    return module


def test_every_hook_has_a_section_with_an_example_in_the_guide() -> None:
    headings = re.findall(r"^### (.*)$", GUIDE.read_text(encoding="utf-8"), re.M)
    documented = {name for h in headings for name in re.findall(r"`(\w+)\(", h)}
    assert documented == SPECS


def test_the_guides_example_plugin_implements_every_hook_and_works(
    tmp_path: Path, content_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "mentoring40_sachsen"
    for sub in ("content/entries", "questionnaires", "sites", "theme"):
        (folder / sub).mkdir(parents=True)
    (folder / "theme" / "theme.yaml").write_text(
        "name: sachsen\nlabel: Sachsen\ntokens: {color-primary: '#00508c'}\n", encoding="utf-8"
    )
    plugin = guide_plugin(folder)
    # Litestar reads a route's annotations through its module, as for an installed plugin.
    monkeypatch.setitem(sys.modules, plugin.__name__, plugin)
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'db.sqlite'}", content_dir=content_dir)
    registry = registry_with(settings, sachsen=plugin)
    assert set(registry.infos["sachsen"].hooks) == SPECS
    assert registry.infos["sachsen"].supports == "<0.2,>=0.1"
    assert [p.name for p in collect_packs(registry, settings)][-1] == "sachsen"

    doc: dict[str, str] = {}
    registry.call("search_document", entry={"source": "sachsen"}, doc=doc)
    assert doc["text_terms"] == "Sachsen"
    index_settings: dict[str, dict[str, list[str]]] = {"synonyms": {}}
    registry.call("search_settings", index_settings=index_settings, settings=settings)
    assert index_settings["synonyms"]["sn"] == ["sachsen"]

    app = create_app(settings, registry)
    assert "sachsen" in app.state.web.themes
    with TestClient(app) as client:
        assert app.state.sachsen_sites == []  # the startup hook ran
        answer = client.get("/api/v1/sachsen/ping")
        assert answer.status_code == 401  # the route's scope needs a key
        assert "/api/v1/sachsen/ping" in client.get("/schema/openapi.json").json()["paths"]
