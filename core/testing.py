"""The test kit for plugin authors: a pytest plugin shipped with mentoring40.

Installed with mentoring40 and registered through the ``pytest11`` entry point, so a
plugin's tests use its fixtures without importing anything. The plugin's
``tests/conftest.py`` names its entry point once::

    @pytest.fixture(scope="session")
    def mentoring40_plugin() -> str:
        return "sachsen"

(or ``mentoring40_plugin = sachsen`` in the pytest configuration), and then:

``mentoring40_settings``
    settings for the core content plus just that plugin, on a SQLite file in a
    temporary folder (nothing of ``var/`` is touched);
``mentoring40_registry``
    the built-in plugins and that plugin (``MENTORING40_LOAD_PLUGINS`` semantics);
``mentoring40_database``
    the database URL, migrated and synced with all content; fails the test with every
    content problem listed, as ``mentoring40 content check`` would;
``mentoring40_app``
    the app (``core.app.create_app``) over that database, without a search engine;
``mentoring40_client``
    a Litestar test client of that app (``.get``, ``.post``; the app's startup hooks ran).

The database is synced once per test run, the app built once per test module; the
client is fresh for every test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from litestar import Litestar

    from core.plugins import PluginRegistry
    from core.settings import Settings

INI_NAME = "mentoring40_plugin"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(INI_NAME, "entry-point name of the mentoring40 plugin under test", default="")


@pytest.fixture(scope="session")
def mentoring40_plugin(pytestconfig: pytest.Config) -> str:
    """The entry-point name of the plugin under test; override it in your conftest.py."""
    name = str(pytestconfig.getini(INI_NAME) or "")
    if not name:
        raise pytest.UsageError(
            "The mentoring40 test kit needs to know your plugin: define a session fixture "
            "'mentoring40_plugin' returning its entry-point name in tests/conftest.py, or set "
            f"'{INI_NAME} = <name>' in the pytest configuration."
        )
    return name


@pytest.fixture(scope="session")
def mentoring40_settings(
    mentoring40_plugin: str, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    from core.settings import Settings

    folder: Path = tmp_path_factory.mktemp("mentoring40")
    return Settings(
        database_url=f"sqlite:///{folder / 'mentoring40.sqlite'}",
        load_plugins=(mentoring40_plugin,),
        search_data=folder / "meilisearch",
    )


@pytest.fixture(scope="session")
def mentoring40_registry(mentoring40_settings: Settings) -> PluginRegistry:
    from core.plugins import build_registry

    return build_registry(mentoring40_settings)


@pytest.fixture(scope="session")
def mentoring40_database(
    mentoring40_settings: Settings, mentoring40_registry: PluginRegistry
) -> str:
    import asyncio

    from core.content.collect import load_all
    from core.content.sync import sync_content
    from core.db.engine import engine_from_url, migrate, use_engine

    loaded, problems = load_all(mentoring40_registry, mentoring40_settings)
    if problems:
        pytest.fail(
            "The content has problems (as `mentoring40 content check` lists them):\n"
            + "\n".join(f"  {p}" for p in problems),
            pytrace=False,
        )
    use_engine(engine_from_url(mentoring40_settings.database_url))

    async def go() -> None:
        await migrate()
        await sync_content(loaded)

    asyncio.run(go())
    return mentoring40_settings.database_url


@pytest.fixture(scope="module")
def mentoring40_app(
    mentoring40_settings: Settings, mentoring40_registry: PluginRegistry, mentoring40_database: str
) -> Litestar:
    from core.app import create_app

    return create_app(mentoring40_settings, mentoring40_registry)


@pytest.fixture
def mentoring40_client(mentoring40_app: Litestar) -> Iterator[Any]:
    from litestar.testing import TestClient

    # Per test: entering the client runs the app's startup, which makes its database the
    # current one again (another test may have opened another in between).
    with TestClient(mentoring40_app) as client:
        yield client
