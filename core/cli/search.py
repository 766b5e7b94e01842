"""``mentoring40 search serve|status|reindex``: the Meilisearch index of the toolbox."""

from __future__ import annotations

from pathlib import Path

import click

import core.cli.runtime as runtime
from core.cli.errors import friendly_errors
from core.cli.runtime import exit_on_sigterm, run_on_database
from core.settings import Settings


@click.group("search")
def search_group() -> None:
    """The local Meilisearch of the embedded default."""


@search_group.command("serve")
@click.option("--port", default=7700, show_default=True, type=int, help="Port on 127.0.0.1.")
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the index data, log and master key live (default: MENTORING40_SEARCH_DATA).",
)
@friendly_errors
def search_serve(port: int, data_dir: Path | None) -> None:
    """Install (if needed) and run the pinned Meilisearch until Ctrl-C or SIGTERM."""
    from search.local_server import MEILISEARCH_VERSION, LocalMeilisearch, MeilisearchError

    server = LocalMeilisearch(data_dir or Settings.from_env().search_data, port=port)
    exit_on_sigterm()
    try:
        try:
            server.start()
        except MeilisearchError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"Meilisearch {MEILISEARCH_VERSION} on {server.url}")
        click.echo(
            f"  data and log: {server.data_dir}   master key: {server.data_dir / 'master.key'}"
        )
        assert server.process is not None
        server.process.wait()
    except KeyboardInterrupt:
        click.echo("Stopping Meilisearch ...")
    finally:
        server.stop()


@search_group.command("status")
@friendly_errors
def search_status() -> None:
    """Index documents against database entries, and what waits in the outbox."""
    import datetime as dt

    from search.admin import meili_connection, search_status

    settings = Settings.from_env()
    connection = meili_connection(settings)
    status = run_on_database(settings, lambda: search_status(settings, connection))
    if connection is None:
        documents = "no MEILI_URL set and no embedded Meilisearch running (`mentoring40 serve`)"
    elif status.documents is None:
        documents = f"unreachable ({status.unreachable})"
    else:
        documents = str(status.documents)
    outbox, indexer = status.outbox, status.indexer
    click.echo(f"Entries in the database (published): {outbox.published_entries}")
    click.echo(f"Documents in index {settings.meili_index!r}: {documents}")
    if indexer is None:
        click.echo("Indexer: none running (no app worker holds the indexer lease)")
    else:
        click.echo(f"Indexer: {indexer[0]} (lease until {indexer[1]:%Y-%m-%d %H:%M:%S} UTC)")
    click.echo(f"Outbox pending: {outbox.pending} (failing: {outbox.failing})")
    if outbox.oldest_pending is not None:
        age = dt.datetime.now(dt.UTC) - outbox.oldest_pending
        click.echo(f"Oldest pending change: {int(age.total_seconds())} s ago")
    if outbox.last_error:
        click.echo(f"Last error: {outbox.last_error}")


@search_group.command("reindex")
@friendly_errors
def search_reindex() -> None:
    """Rebuild the index from the database into a fresh index and swap it in."""
    from search.admin import meili_connection, reindex
    from search.config import search_setup

    settings = Settings.from_env()
    index_settings, enrich = search_setup(runtime.build_registry(settings), settings)
    connection = meili_connection(settings)
    if connection is None:
        raise click.ClickException(
            "No Meilisearch to rebuild: set MEILI_URL (and MEILI_ADMIN_KEY), or start the "
            "embedded one with `mentoring40 serve`."
        )

    async def run() -> int:
        with click.progressbar(length=1, label="Indexing", show_pos=True) as bar:

            def progress(done: int, total: int) -> None:
                bar.length = total
                bar.update(done - bar.pos)

            return await reindex(
                connection, settings.meili_index, progress, settings=index_settings, enrich=enrich
            )

    count = run_on_database(settings, run)
    click.echo(f"Rebuilt index {settings.meili_index!r} with {count} documents and swapped it in.")
