"""Every extension point of mentoring40, in one place.

Hooks are always called with keyword arguments; an implementation may accept
any subset of them. Built-in behaviour is implemented on these same hooks (see
``core.plugins.DEFAULT_PLUGINS``), so a third-party plugin can do everything
the core does — with one difference: the core's own routes are mounted by the app
factory, a plugin's through ``register_routes``; both pass the same scope guard and
appear in the same OpenAPI document. A plugin marks its functions with
``pluggy.HookimplMarker("mentoring40")``, the ``hookimpl`` below (also importable as
``core.hookimpl``). Implementations return their contribution; ``tryfirst`` and
``trylast`` order them; ``wrapper``/``hookwrapper`` implementations are refused when
the plugin is registered. A plugin module may state the mentoring40 versions it supports in
``MENTORING40_VERSIONS`` (``core.plugins.check_compatible``). docs/PLUGINS.md has a working
example of every hook; docs/CHANGELOG.md records every change of these specifications.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pluggy

from core import PROJECT_NAME

if TYPE_CHECKING:
    from litestar import Litestar

    from core.settings import Settings

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


@hookspec
def content_packs(settings: Settings) -> list[Any]:  # type: ignore[empty-body]
    """Return content packs: each a ``core.content.ContentPack`` or a mapping with
    ``name`` (the entries' ``source``), ``path`` (a folder holding ``entries/*.md``
    and optionally ``taxonomy.yaml``) and optionally ``label``."""


@hookspec
def register_routes(settings: Settings) -> list[Any]:  # type: ignore[empty-body]
    """Return Litestar route handlers, controllers or routers to mount on the app;
    they appear in the OpenAPI document like the core's own routes."""


@hookspec
def api_scopes(settings: Settings) -> dict[str, str]:  # type: ignore[empty-body]
    """Return the API-key scopes this plugin's routes need, ``{scope: what it allows}``,
    e.g. the NRW plugin's ``{"nrw:stats:read": "anonymous Quickcheck figures of the NRW
    sites (GET /api/v1/nrw/questionnaires/{id}/stats)"}``. A route asks for one with
    ``opt={"scope": "nrw:stats:read"}`` (``mentoring40_nrw/figures.py``); the app checks it
    on every request, and ``mentoring40 keys create --scope`` accepts it."""


@hookspec
def startup(app: Litestar, settings: Settings) -> None:
    """Run once when the app starts, after the database is ready; may be async."""


@hookspec
def questionnaires(settings: Settings) -> list[Any]:  # type: ignore[empty-body]
    """Return paths of questionnaire definitions: YAML files, or folders whose ``*.yaml``
    files are definitions (format: ``core.quickcheck.model``, documented in the core
    ``content/README.md``). They are validated and synced with the content."""


@hookspec
def themes(settings: Settings) -> list[Any]:  # type: ignore[empty-body]
    """Return theme folders: each holds ``theme.yaml`` (name, label, parent, design
    tokens), and optionally ``templates/`` and ``static/``; what a theme lacks comes from
    its parent, ultimately ``default`` (see ``core.web.themes`` and ``themes/README.md``)."""


@hookspec
def sites(settings: Settings) -> list[Any]:  # type: ignore[empty-body]
    """Return paths of site files (``<id>.yaml``) or folders of them: a partner's theme,
    allowed origins, sources, topics and questionnaires (see ``core.web.sites``)."""


@hookspec
def search_document(entry: dict[str, Any], doc: dict[str, Any]) -> None:
    """Enrich ``doc``, the search document built from the ``entry`` row, in place
    (add a field, append synonyms of a term); return nothing."""


@hookspec
def search_settings(index_settings: dict[str, Any], settings: Settings) -> None:
    """Adjust ``index_settings`` (Meilisearch settings in the API's camelCase) in place
    before they are applied to the index; return nothing."""
