"""The ``mentoring40`` command: serve, migrate, content check/sync, plugins."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Any, TypeVar

import click
import msgspec

from core import __version__
from core.content.loader import load_content
from core.content.model import ContentSet, Problem
from core.content.packs import collect_packs
from core.db.engine import MigrationError, describe, engine_from_url, migrate, use_engine
from core.plugins import PluginError, PluginRegistry, build_registry
from core.settings import PROJECT_ROOT, Settings, SettingsError
from search.config import SearchConfigError

F = TypeVar("F", bound=Callable[..., Any])


def _friendly_errors(func: F) -> F:
    """Known failures print one clear message and exit non-zero, without a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SettingsError as exc:
            raise click.ClickException(f"Setting error: {exc}") from exc
        except PluginError as exc:
            raise click.ClickException(f"Plugin error: {exc}") from exc
        except (MigrationError, SearchConfigError) as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(__version__, prog_name="mentoring40")
def main() -> None:
    """mentoring40: the toolbox content API of Mentoring 4.0."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", default=8000, show_default=True, type=int, help="Port to bind.")
@click.option("--workers", default=1, show_default=True, type=int, help="Worker processes.")
@click.option(
    "--search/--no-search",
    default=True,
    show_default=True,
    help="Without MEILI_URL: start the embedded Meilisearch (data under var/meilisearch).",
)
@_friendly_errors
def serve(host: str, port: int, workers: int, search: bool) -> None:
    """Apply migrations and run the HTTP API (and, by default, the embedded Meilisearch)."""
    import uvicorn

    from core.app import create_app
    from search.local_server import LocalMeilisearch, MeilisearchError

    settings = Settings.from_env()
    registry = build_registry(settings)
    _migrate(settings)
    click.echo(f"Database: {describe(settings.database_url)}")
    local = None
    if settings.meili_url is None and search:
        local = LocalMeilisearch(PROJECT_ROOT / "var" / "meilisearch")
        try:
            local.start()
        except MeilisearchError as exc:
            raise click.ClickException(str(exc)) from exc
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
    click.echo(f"Serving on http://{host}:{port}  (API /api/v1, docs /schema)")
    try:
        if workers > 1:
            uvicorn.run(
                "core.app:create_app_from_env",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="info",
            )
        else:
            uvicorn.run(create_app(settings, registry), host=host, port=port, log_level="info")
    finally:
        if local is not None:
            local.stop()


@main.command("migrate")
@_friendly_errors
def migrate_command() -> None:
    """Apply pending database migrations."""
    settings = Settings.from_env()
    applied = _migrate(settings)
    click.echo(
        f"Applied {len(applied)} migration(s)." if applied else "Database schema is up to date."
    )


@main.group()
def content() -> None:
    """Check and load the toolbox content."""


@content.command("check")
@_friendly_errors
def content_check() -> None:
    """Validate every content source and list all problems."""
    settings = Settings.from_env()
    loaded = _load(settings)
    click.echo(
        f"Content OK: {len(loaded.entries)} entries from {', '.join(p.name for p in loaded.packs)}."
    )


@content.command("sync")
@_friendly_errors
def content_sync() -> None:
    """Load all content into the database in one transaction."""
    from core.content.sync import sync_content

    settings = Settings.from_env()
    loaded = _load(settings)
    use_engine(engine_from_url(settings.database_url))

    async def run() -> Any:
        await migrate()
        return await sync_content(loaded)

    report = asyncio.run(run())
    click.echo(
        f"Synced {len(loaded.entries)} entries into {describe(settings.database_url)}: "
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {report.unchanged} unchanged"
        + ("; taxonomy updated" if report.taxonomy_changed else "")
        + ("; sources updated" if report.sources_changed else "")
        + "."
    )
    for label, slugs in (
        ("added", report.added),
        ("updated", report.updated),
        ("removed", report.removed),
    ):
        for slug in slugs:
            click.echo(f"  {label}: {slug}")


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@_friendly_errors
def plugins_command(as_json: bool) -> None:
    """List registered plugins with their version and hooks."""
    settings = Settings.from_env()
    registry = build_registry(settings)
    infos = registry.plugins()
    if as_json:
        rows = [
            {
                "name": p.name,
                "builtin": p.builtin,
                "distribution": p.distribution,
                "version": p.version,
                "hooks": list(p.hooks),
                "module": p.module,
            }
            for p in infos
        ]
        click.echo(json.dumps({"plugins": rows, "disabled": registry.disabled}, indent=2))
        return
    width = max(len(p.name) for p in infos)
    for p in infos:
        kind = "built-in" if p.builtin else f"{p.distribution} {p.version}"
        click.echo(f"{p.name:<{width}}  {kind:<24}  hooks: {', '.join(p.hooks) or '-'}")
    for name in registry.disabled:
        click.echo(f"{name:<{width}}  {'disabled':<24}  (not in MENTORING40_LOAD_PLUGINS)")


@main.group("search")
def search_group() -> None:
    """The local Meilisearch of the embedded default."""


@search_group.command("serve")
@click.option("--port", default=7700, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=PROJECT_ROOT / "var" / "meilisearch",
    show_default=True,
    help="Where the index data, log and master key live.",
)
def search_serve(port: int, data_dir: Path) -> None:
    """Install (if needed) and run the pinned Meilisearch until Ctrl-C."""
    from search.local_server import MEILISEARCH_VERSION, LocalMeilisearch, MeilisearchError

    server = LocalMeilisearch(data_dir, port=port)
    try:
        server.start()
    except MeilisearchError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Meilisearch {MEILISEARCH_VERSION} on {server.url}")
    click.echo(f"  data and log: {data_dir}   master key: {data_dir / 'master.key'}")
    try:
        assert server.process is not None
        server.process.wait()
    except KeyboardInterrupt:
        click.echo("Stopping Meilisearch ...")
    finally:
        server.stop()


@search_group.command("status")
@_friendly_errors
def search_status() -> None:
    """Index documents against database entries, and what waits in the outbox."""
    import datetime as dt

    from meilisearch_python_sdk import AsyncClient

    from search.indexer import outbox_status

    settings = Settings.from_env()
    use_engine(engine_from_url(settings.database_url))

    connection = _meili_connection(settings)

    async def index_count() -> str:
        if connection is None:
            return "no MEILI_URL set and no embedded Meilisearch running (`mentoring40 serve`)"
        try:
            async with AsyncClient(*connection, timeout=5) as c:
                response = await c.http_client.get(f"indexes/{settings.meili_index}/stats")
                response.raise_for_status()
                return str(response.json()["numberOfDocuments"])
        except Exception as exc:
            return f"unreachable ({type(exc).__name__}: {exc})"

    async def gather() -> tuple[Any, str]:
        await migrate()
        return await outbox_status(), await index_count()

    status, documents = asyncio.run(gather())
    click.echo(f"Entries in the database (published): {status.published_entries}")
    click.echo(f"Documents in index {settings.meili_index!r}: {documents}")
    click.echo(f"Outbox pending: {status.pending} (failing: {status.failing})")
    if status.oldest_pending is not None:
        age = dt.datetime.now(dt.UTC) - status.oldest_pending
        click.echo(f"Oldest pending change: {int(age.total_seconds())} s ago")
    if status.last_error:
        click.echo(f"Last error: {status.last_error}")


@search_group.command("reindex")
@_friendly_errors
def search_reindex() -> None:
    """Rebuild the index from the database into a fresh index and swap it in."""
    from meilisearch_python_sdk import AsyncClient

    from search.config import search_setup
    from search.rebuild import rebuild_index

    settings = Settings.from_env()
    index_settings, enrich = search_setup(build_registry(settings), settings)
    connection = _meili_connection(settings)
    if connection is None:
        raise click.ClickException(
            "No Meilisearch to rebuild: set MEILI_URL (and MEILI_ADMIN_KEY), or start the "
            "embedded one with `mentoring40 serve`."
        )
    use_engine(engine_from_url(settings.database_url))

    async def run() -> int:
        await migrate()
        async with AsyncClient(*connection, timeout=30) as client:
            with click.progressbar(length=1, label="Indexing", show_pos=True) as bar:

                def progress(done: int, total: int) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)

                return await rebuild_index(
                    client, settings.meili_index, progress, settings=index_settings, enrich=enrich
                )

    count = asyncio.run(run())
    click.echo(f"Rebuilt index {settings.meili_index!r} with {count} documents and swapped it in.")


def _meili_connection(settings: Settings) -> tuple[str, str | None] | None:
    """Where to reach Meilisearch: MEILI_URL, else a running embedded one, else None."""
    if settings.meili_url:
        return settings.meili_url, settings.meili_admin_key
    from search.local_server import running_embedded

    return running_embedded(PROJECT_ROOT / "var" / "meilisearch")


def _load(settings: Settings) -> ContentSet:
    """Load all packs; on any problem print the full report and exit 1."""
    from search.vocabulary import load_vocabulary

    registry: PluginRegistry = build_registry(settings)
    packs = collect_packs(registry, settings)
    loaded, problems = load_content(packs)
    problems += load_vocabulary(packs)[1]
    if problems:
        _report(problems)
        sys.exit(1)
    return loaded


def _report(problems: list[Problem]) -> None:
    click.echo(f"Content has {len(problems)} problem(s); nothing was changed:", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)


def _migrate(settings: Settings) -> list[str]:
    use_engine(engine_from_url(settings.database_url))
    return asyncio.run(migrate())


if __name__ == "__main__":
    main()
