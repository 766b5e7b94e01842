"""The application factory: settings + plugins + database -> a Litestar app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components
from piccolo.engine.postgres import PostgresEngine

from core import __version__
from core.accounts import ROLES
from core.accounts.guard import check_route_roles, role_guard
from core.api.bodies import json_body_guard
from core.api.docs import DOCS_CSP, LocalScalarPlugin
from core.api.entries import EntryController
from core.api.fast_search import FastSearch
from core.api.health import health, ready
from core.api.metrics import metrics
from core.api.questionnaires import ROUTES as QUICKCHECK_ROUTES
from core.api.redaktion import RedaktionController
from core.api.run_tandems import ROUTES as RUN_TANDEM_ROUTES
from core.api.runs import ROUTES as RUN_ROUTES
from core.api.schemas import StrictStructSchemaPlugin
from core.api.search import search
from core.api.stored import stored_reads
from core.api.submissions import quickcheck_submissions
from core.api.taxonomy import get_taxonomy
from core.auth import SECURITY_SCHEMES, check_route_scopes, known_scopes, scope_guard
from core.content.rendered import RenderedStore
from core.db.engine import engine_from_url, start_pool, use_engine
from core.http.cors import cors
from core.http.errors import EXCEPTION_HANDLERS
from core.http.head import answer_head
from core.http.input_checks import check_input
from core.http.metrics import PROMETHEUS
from core.http.problems import use_error_page
from core.http.proxies import TrustedProxies, forwarded
from core.http.ratelimit import Limiter, rate_limit
from core.http.security import security_headers
from core.logs import configure_logging
from core.plugins import PluginError, PluginRegistry, build_registry
from core.settings import Settings
from core.web import WebConfigError, load_web
from core.web.errors import error_page
from core.web.login import EXCEPTION_HANDLERS as SIGN_IN_HANDLERS
from core.web.region_store import LiveRegions
from core.web.render import Renderer
from core.web.routes import ROUTES as WEB_ROUTES
from core.web.site_store import LiveSites, refreshing

log = logging.getLogger("mentoring40")


def create_app(
    settings: Settings | None = None, registry: PluginRegistry | None = None
) -> Litestar:
    """Build the app. Plugin route hooks run here, so a broken plugin stops startup."""
    settings = settings or Settings.from_env()
    configure_logging(settings)
    registry = registry or build_registry(settings)
    engine = engine_from_url(settings.database_url)
    use_engine(engine)

    web, problems = load_web(registry, settings)
    if problems:
        raise WebConfigError(problems)

    plugin_routes: list[Any] = []
    for _plugin, handlers in registry.call("register_routes", settings=settings):
        plugin_routes.extend(handlers if isinstance(handlers, list | tuple) else [handlers])

    store = RenderedStore()
    regions = LiveRegions(web.themes)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        use_engine(engine)
        await start_pool(engine)
        await store.start()
        search_service = None
        if settings.meili_url:
            from search.worker import SearchService

            search_service = SearchService(settings, registry)
            await search_service.start()
        app.state.search = search_service
        try:
            await registry.acall("startup", app=app, settings=settings)
            yield
        finally:
            regions.close()  # the region themes written under the temporary folder
            await app.state.limiter.close()
            await store.stop()
            if search_service is not None:
                await search_service.stop()
            if isinstance(engine, PostgresEngine):
                await engine.close_connection_pool()

    scopes = known_scopes(registry, settings)
    app = Litestar(
        route_handlers=[
            EntryController,
            RedaktionController,
            get_taxonomy,
            search,
            *QUICKCHECK_ROUTES,
            *RUN_ROUTES,
            *RUN_TANDEM_ROUTES,
            health,
            ready,
            metrics,
            *WEB_ROUTES,
            *plugin_routes,
        ],
        dependencies={"settings": Provide(lambda: settings, sync_to_thread=False)},
        # Every route that names roles in its opt (plugin routes too) needs a signed-in
        # account with one of them and, to change anything, its CSRF token
        # (core.accounts.guard); every route that names a scope needs a key with it;
        # every API route that takes a body takes JSON only (core.api.bodies).
        guards=[role_guard, scope_guard, json_body_guard],
        middleware=[PROMETHEUS.middleware, rate_limit, check_input],
        request_max_body_size=settings.max_body_bytes,
        exception_handlers={**EXCEPTION_HANDLERS, **SIGN_IN_HANDLERS},
        plugins=[StrictStructSchemaPlugin()],
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title="mentoring40 API",
            version=__version__,
            description=(
                "Content API of the Mentoring 4.0 toolbox (Werkzeugkasten). Responses use the "
                "envelope {data, meta}; errors are RFC 9457 problem details. No parameter "
                "may contain a NUL character (%00), and a parameter that takes one value may "
                "be given once: either is a 400."
            ),
            path="/schema",
            components=Components(security_schemes=SECURITY_SCHEMES),
            # The viewer is pinned and served by us (core.api.docs): no CDN, works offline.
            render_plugins=[LocalScalarPlugin()],
        ),
        # core.logs configures logging (JSON or text, request ids); unexpected errors are
        # logged by the 500 handler in core.http.errors.
        logging_config=None,
        debug=settings.debug,
    )
    if unknown := check_route_roles(app.routes):
        raise PluginError(
            "Routes name roles that do not exist (roles: "
            + ", ".join(ROLES)
            + ', or "any"): '
            + "; ".join(unknown)
        )
    if unknown := check_route_scopes(app.routes, scopes):
        raise PluginError(
            "Routes ask for API-key scopes that no plugin declares (hook api_scopes): "
            + "; ".join(unknown)
        )
    # Outermost, around Litestar's router: unmatched paths, CORS preflights and errors
    # raised in middleware get the security headers, a request id and an access log line.
    # Inside them, CORS: browsers may call the API (and fetch fragments) only from origins
    # that a site lists; servers and apps are not affected by CORS. No origin is open to all.
    # Inside that, well-formed searches that Meilisearch answers skip the router
    # (core.api.fast_search), plain Quickcheck submissions too (core.api.submissions; the
    # rest by their route), the stored read answers are sent from memory
    # (core.api.stored), and HEAD is answered wherever GET is (core.http.head).
    # Partner sites kept in the database (/redaktion/partnerseiten) overlay the files';
    # each request first brings them up to date (a query at most every few seconds).
    live_sites = LiveSites(
        file_sites=web.sites,
        themes=frozenset(web.themes),
        refresh_seconds=settings.sites_refresh_seconds,
        regions=regions,
    )
    fast_search = FastSearch(
        quickcheck_submissions(
            stored_reads(answer_head(app.asgi_handler), store, settings), settings
        ),
        app,
    )
    app.asgi_handler = security_headers(
        refreshing(cors(fast_search, live_sites.origins), live_sites),
        docs_csp=DOCS_CSP,
    )
    # Outside that: every layer sees the client as a trusted proxy forwarded it.
    app.asgi_handler = forwarded(app.asgi_handler, TrustedProxies(settings.trusted_proxies))
    app.state.settings = settings
    app.state.registry = registry
    app.state.web = web
    app.state.live_sites = live_sites
    # A result shows the recommendations of the region's site it was submitted on.
    app.state.overlays = web.overlays()
    app.state.renderer = Renderer(web)
    app.state.limiter = Limiter(settings)
    app.state.rendered = store
    app.state.fast_search = fast_search
    # Browsers asking for a page get errors as the German HTML page (core.http.problems).
    use_error_page(app, error_page)
    return app


def create_app_from_env() -> Litestar:
    """Factory for ``uvicorn --factory`` (several workers)."""
    return create_app()


__all__ = ["PluginError", "create_app", "create_app_from_env"]
