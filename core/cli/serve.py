"""``mentoring40 serve`` and ``mentoring40 migrate``: the HTTP app and its database schema."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click
import msgspec

import core.cli.runtime as runtime
from core.cli.errors import friendly_errors
from core.cli.runtime import exit_on_sigterm, migrate_database
from core.db.engine import describe
from core.settings import Settings


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to bind.")
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
@click.option(
    "--search/--no-search",
    default=True,
    show_default=True,
    help="Without MEILI_URL: start the embedded Meilisearch (data under var/meilisearch).",
)
@click.option(
    "--search-data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data folder of the embedded Meilisearch (default: MENTORING40_SEARCH_DATA).",
)
@friendly_errors
def serve(host: str, port: int, workers: int, search: bool, search_data: Path | None) -> None:
    """Apply migrations and run the HTTP API (and, by default, the embedded Meilisearch)."""
    import uvicorn

    from core.app import create_app
    from search.local_server import LocalMeilisearch, MeilisearchError

    settings = Settings.from_env()
    registry = runtime.build_registry(settings)
    migrate_database(settings)
    click.echo(f"Database: {describe(settings.database_url)}")
    local = None
    exit_on_sigterm()
    if settings.meili_url is None and search:
        local = LocalMeilisearch(search_data or settings.search_data)
        try:
            local.start()
        except MeilisearchError as exc:
            raise click.ClickException(str(exc)) from exc
        except BaseException:
            local.stop()  # SIGTERM or Ctrl-C while it was starting
            raise
        settings = msgspec.structs.replace(
            settings, meili_url=local.url, meili_admin_key=local.master_key
        )
        # Worker processes build their own settings from the environment.
        os.environ["MEILI_URL"] = local.url
        os.environ["MEILI_MASTER_KEY"] = local.master_key or ""
        click.echo(f"Search: embedded Meilisearch on {local.url} (data in {local.data_dir})")
    elif settings.meili_url:
        click.echo(f"Search: {settings.meili_url}")
    else:
        click.echo("Search: off (--no-search and no MEILI_URL)")
    click.echo(f"Serving on http://{host}:{port}  (workspace /, API /api/v1, docs /schema)")
    # uvicorn re-raises SIGTERM after its graceful shutdown; _exit_on_sigterm's handler
    # then exits through the finally below, which stops the embedded Meilisearch.
    try:
        # The app writes its own access lines (request id, result tokens masked).
        if workers > 1:
            from core.server import install

            install()  # TCP_NODELAY with several workers (see core/server.py)
            uvicorn.run(
                "core.cli:serve_worker_app",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="info",
                access_log=False,
                proxy_headers=False,  # core.http.proxies (MENTORING40_TRUSTED_PROXIES)
                log_config=None,  # core.logs formats every line (uvicorn's too)
            )
        else:
            uvicorn.run(
                create_app(settings, registry),
                host=host,
                port=port,
                log_level="info",
                access_log=False,
                proxy_headers=False,  # core.http.proxies (MENTORING40_TRUSTED_PROXIES)
                log_config=None,
            )
    finally:
        if local is not None:
            local.stop()


def serve_worker_app() -> Any:
    """The app in each worker of ``serve --workers N``. The worker ends with ``serve``
    even when that is killed; uvicorn stops its workers only when it can clean up."""
    import multiprocessing

    from core.app import create_app_from_env
    from core.lifetime import die_with_parent

    parent = multiprocessing.parent_process()  # uvicorn's supervisor (serve itself)
    if parent is not None and parent.pid is not None:
        die_with_parent(parent.pid)
    return create_app_from_env()


@click.command("migrate")
@friendly_errors
def migrate_command() -> None:
    """Apply pending database migrations."""
    settings = Settings.from_env()
    applied = migrate_database(settings)
    click.echo(
        f"Applied {len(applied)} migration(s)." if applied else "Database schema is up to date."
    )
