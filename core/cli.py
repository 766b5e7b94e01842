"""The ``mentoring40`` command: serve, migrate, content check/sync, plugins."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import msgspec

from core import __version__
from core.cli_errors import friendly_errors
from core.content.collect import load_all
from core.content.model import ContentSet, Problem
from core.db.engine import describe, engine_from_url, migrate, use_engine
from core.ops.cli import backup_group, content_export
from core.plugins import PluginRegistry, build_registry
from core.quickcheck.store import ContentRejected
from core.settings import PROJECT_ROOT, Settings, database_kind
from core.web import WebConfigError, load_web


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
@click.option(
    "--search-data",
    type=click.Path(file_okay=False, path_type=Path),
    default=PROJECT_ROOT / "var" / "meilisearch",
    show_default=True,
    help="Data folder of the embedded Meilisearch.",
)
@friendly_errors
def serve(host: str, port: int, workers: int, search: bool, search_data: Path) -> None:
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
        local = LocalMeilisearch(search_data)
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
    click.echo(f"Serving on http://{host}:{port}  (workspace /, API /api/v1, docs /schema)")
    # uvicorn re-raises SIGTERM after its graceful shutdown; with the default handler the
    # process would die there and leave the embedded Meilisearch running. Exit instead,
    # so the finally below stops it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        # The app writes its own access lines (request id, result tokens masked).
        if workers > 1:
            from core.server import install

            install()  # TCP_NODELAY with several workers (see core/server.py)
            uvicorn.run(
                "core.app:create_app_from_env",
                factory=True,
                host=host,
                port=port,
                workers=workers,
                log_level="info",
                access_log=False,
                log_config=None,  # core.logs formats every line (uvicorn's too)
            )
        else:
            uvicorn.run(
                create_app(settings, registry),
                host=host,
                port=port,
                log_level="info",
                access_log=False,
                log_config=None,
            )
    finally:
        if local is not None:
            local.stop()


@main.command("migrate")
@friendly_errors
def migrate_command() -> None:
    """Apply pending database migrations."""
    settings = Settings.from_env()
    applied = _migrate(settings)
    click.echo(
        f"Applied {len(applied)} migration(s)." if applied else "Database schema is up to date."
    )


@main.command("settings")
@friendly_errors
def settings_command() -> None:
    """Show the effective settings, where each comes from, with secrets masked."""
    from core.settings import VARIABLES, resolve

    origins = {field: origin for field, (_, origin) in resolve().items()}
    shown = Settings.from_env().public()
    for var in VARIABLES:
        value = shown[var.field]
        text = "(unset)" if value is None else str(value)
        if isinstance(value, tuple):
            text = ",".join(value)
        click.echo(f"{var.name:36} {text}  [{origins.get(var.field, 'default')}]")


@main.group()
def content() -> None:
    """Check and load the toolbox content."""


@content.command("check")
@friendly_errors
def content_check() -> None:
    """Validate every content source and list all problems."""
    settings = Settings.from_env()
    loaded = _load(settings)
    compared = _check_against_database(settings, loaded)
    click.echo(
        f"Content OK: {len(loaded.entries)} entries and {len(loaded.questionnaires)} "
        f"questionnaire versions from {', '.join(p.name for p in loaded.packs)}."
    )
    click.echo(compared)


@content.command("sync")
@friendly_errors
def content_sync() -> None:
    """Load all content into the database in one transaction."""
    from core.content.sync import sync_content

    settings = Settings.from_env()
    loaded = _load(settings)
    use_engine(engine_from_url(settings.database_url))

    async def run() -> Any:
        await migrate()
        return await sync_content(loaded)

    try:
        report = asyncio.run(run())
    except ContentRejected as exc:
        _report(exc.problems)
        sys.exit(1)
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
    q = report.questionnaires
    click.echo(
        f"Questionnaires: {len(q.added)} added, {len(q.updated)} updated, "
        f"{len(q.removed)} removed, {q.unchanged} unchanged."
    )
    for label, keys in (("added", q.added), ("updated", q.updated), ("removed", q.removed)):
        for key in keys:
            click.echo(f"  {label}: {key}")


@main.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@friendly_errors
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
@friendly_errors
def search_status() -> None:
    """Index documents against database entries, and what waits in the outbox."""
    import datetime as dt

    from search.client import meilisearch_client
    from search.indexer import outbox_status

    settings = Settings.from_env()
    use_engine(engine_from_url(settings.database_url))

    connection = _meili_connection(settings)

    async def index_count() -> str:
        if connection is None:
            return "no MEILI_URL set and no embedded Meilisearch running (`mentoring40 serve`)"
        try:
            async with meilisearch_client(*connection, timeout=5) as c:
                response = await c.http_client.get(f"indexes/{settings.meili_index}/stats")
                response.raise_for_status()
                return str(response.json()["numberOfDocuments"])
        except Exception as exc:
            return f"unreachable ({type(exc).__name__}: {exc})"

    async def gather() -> tuple[Any, str, Any]:
        from core.db import lease

        await migrate()
        return await outbox_status(), await index_count(), await lease.current("search-indexer")

    status, documents, indexer = asyncio.run(gather())
    click.echo(f"Entries in the database (published): {status.published_entries}")
    click.echo(f"Documents in index {settings.meili_index!r}: {documents}")
    if indexer is None:
        click.echo("Indexer: none running (no app worker holds the indexer lease)")
    else:
        click.echo(f"Indexer: {indexer[0]} (lease until {indexer[1]:%Y-%m-%d %H:%M:%S} UTC)")
    click.echo(f"Outbox pending: {status.pending} (failing: {status.failing})")
    if status.oldest_pending is not None:
        age = dt.datetime.now(dt.UTC) - status.oldest_pending
        click.echo(f"Oldest pending change: {int(age.total_seconds())} s ago")
    if status.last_error:
        click.echo(f"Last error: {status.last_error}")


@search_group.command("reindex")
@friendly_errors
def search_reindex() -> None:
    """Rebuild the index from the database into a fresh index and swap it in."""
    from search.client import meilisearch_client
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
        async with meilisearch_client(*connection, timeout=30) as client:
            with click.progressbar(length=1, label="Indexing", show_pos=True) as bar:

                def progress(done: int, total: int) -> None:
                    bar.length = total
                    bar.update(done - bar.pos)

                return await rebuild_index(
                    client, settings.meili_index, progress, settings=index_settings, enrich=enrich
                )

    count = asyncio.run(run())
    click.echo(f"Rebuilt index {settings.meili_index!r} with {count} documents and swapped it in.")


@main.group("keys")
def keys_group() -> None:
    """API keys for statistics and raw export (only their hash is stored)."""


def _run_db(settings: Settings, coro_factory: Callable[[], Any]) -> Any:
    use_engine(engine_from_url(settings.database_url))

    async def run() -> Any:
        await migrate()
        return await coro_factory()

    return asyncio.run(run())


@keys_group.command("create")
@click.option("--name", required=True, help="Who or what uses the key, e.g. evaluation-team.")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    help="Repeat for several; `mentoring40 keys scopes` lists them.",
)
@click.option(
    "--expires-in-days", type=click.IntRange(min=1), default=None, help="Default: no expiry."
)
@friendly_errors
def keys_create(name: str, scopes: tuple[str, ...], expires_in_days: int | None) -> None:
    """Create a key and print its token once."""
    import datetime as dt

    from core.auth import ApiKeyError, create_key, known_scopes

    settings = Settings.from_env()
    allowed = known_scopes(build_registry(settings), settings)
    expires = (
        dt.datetime.now(dt.UTC).date() + dt.timedelta(days=expires_in_days)
        if expires_in_days
        else None
    )
    try:
        token, info = _run_db(settings, lambda: create_key(name, list(scopes), expires, allowed))
    except ApiKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(token)
    click.echo(
        f"Key {info.name!r} with scope(s) {', '.join(info.scopes)}"
        + (f", valid until {info.expires_on}" if info.expires_on else "")
        + ". The token is shown only now; store it safely. "
        "Send it as 'Authorization: Bearer <token>'.",
        err=True,
    )


@keys_group.command("list")
@friendly_errors
def keys_list() -> None:
    """List keys (name, token prefix, scopes, state); never the tokens."""
    import datetime as dt

    from core.auth import list_keys

    keys = _run_db(Settings.from_env(), list_keys)
    if not keys:
        click.echo("No API keys. Create one with `mentoring40 keys create`.")
    today = dt.datetime.now(dt.UTC).date()
    for k in keys:
        until = f"until {k.expires_on}" if k.expires_on else "no expiry"
        click.echo(
            f"{k.name}  {k.prefix}…  {','.join(k.scopes)}  {k.state(today)}  "
            f"created {k.created_on}, {until}"
        )


@keys_group.command("scopes")
@friendly_errors
def keys_scopes() -> None:
    """List the scopes a key can carry (the core's and the loaded plugins')."""
    from core.auth import known_scopes

    settings = Settings.from_env()
    for scope, description in known_scopes(build_registry(settings), settings).items():
        click.echo(f"{scope:24} {description}")


@keys_group.command("expire")
@click.argument("name")
@click.option(
    "--in-days",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="Days from today; 0: the key stops working now.",
)
@friendly_errors
def keys_expire(name: str, in_days: int) -> None:
    """Set when a key runs out (e.g. a hand-over period after a new key was issued)."""
    import datetime as dt

    from core.auth import ApiKeyError, expire_key

    on = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=in_days)
    try:
        _run_db(Settings.from_env(), lambda: expire_key(name, on))
    except ApiKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Key {name!r} expired." if in_days == 0 else f"Key {name!r} runs out on {on}.")


@keys_group.command("revoke")
@click.argument("name")
@friendly_errors
def keys_revoke(name: str) -> None:
    """Revoke a key by name; requests with it get 401 from now on."""
    from core.auth import ApiKeyError, revoke_key

    try:
        _run_db(Settings.from_env(), lambda: revoke_key(name))
    except ApiKeyError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Revoked key {name!r}.")


@main.group("responses")
def responses_group() -> None:
    """Anonymous questionnaire responses: export and audit."""


@responses_group.command("export")
@click.argument("questionnaire_id")
@click.option("--version", type=int, default=None, help="Default: the latest published.")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: standard output).",
)
@click.option("--include-test", is_flag=True, help="Also test runs (mode test).")
@friendly_errors
def responses_export(
    questionnaire_id: str, version: int | None, output: Path | None, include_test: bool
) -> None:
    """Write the responses of one questionnaire version as CSV."""
    from core.quickcheck import store
    from core.quickcheck.export import export_csv

    async def run() -> tuple[str, int]:
        found = (
            await store.latest_published(questionnaire_id)
            if version is None
            else await store.get_version(questionnaire_id, version)
        )
        if found is None:
            raise click.ClickException(
                f"No questionnaire {questionnaire_id!r}"
                + (f" version {version}" if version else " with a published version")
                + " in the database (run `mentoring40 content sync`)."
            )
        d = found.definition
        rows = await store.responses(questionnaire_id, d.version, include_test=include_test)
        return export_csv(d, rows), len(rows)

    text, count = _run_db(Settings.from_env(), run)
    if output is None:
        click.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
    click.echo(f"Exported {count} response(s).", err=True)


@responses_group.command("verify")
@friendly_errors
def responses_verify() -> None:
    """Recompute every stored result from its answers and stored definition; report changes."""
    from core.quickcheck import engine, store

    async def run() -> tuple[int, list[str]]:
        checked, differ = 0, []
        for qid in await store.version_overview():
            for row in await store.responses(qid, include_test=True):
                found = await store.get_version(qid, row["version"])
                if found is None:
                    differ.append(f"{qid} v{row['version']}: definition missing")
                    continue
                checked += 1
                again = msgspec.to_builtins(
                    engine.score(found.definition, row["perspective"], row["answers"])
                )
                if again != row["result"] or found.hash != row["definition_hash"]:
                    differ.append(
                        f"{qid} v{row['version']} response {row['id']} "
                        f"(engine {row['engine_version']} → {engine.ENGINE_VERSION})"
                    )
        return checked, differ

    checked, differ = _run_db(Settings.from_env(), run)
    click.echo(f"Recomputed {checked} result(s): {len(differ)} differ.")
    for line in differ:
        click.echo(f"  {line}")
    if differ:
        sys.exit(1)


@main.command("sites")
@friendly_errors
def sites_command() -> None:
    """List the partner sites: id, theme, allowed origins, sources and topics."""
    settings = Settings.from_env()
    web = _web(settings)
    if not web.sites:
        click.echo("No sites. Add one as content/sites/<id>.yaml (see themes/README.md).")
    for site in sorted(web.sites.values(), key=lambda s: s.id):
        origins = ", ".join(site.origins) or "none (embeds only on this server's pages)"
        sources = ", ".join(site.sources) if site.sources is not None else "all"
        topics = ", ".join(site.topics) if site.topics is not None else "all"
        click.echo(
            f"{site.id}  theme={site.theme}  origins={origins}  sources={sources}  "
            f"topics={topics}  ({site.label}; from {site.plugin})"
        )


@main.command("themes")
@friendly_errors
def themes_command() -> None:
    """List the installed themes with their parent chain."""
    settings = Settings.from_env()
    web = _web(settings)
    for theme in sorted(web.themes.values(), key=lambda t: t.name):
        chain = " -> ".join(theme.lineage)
        used = " (workspace)" if theme.name == web.workspace_theme else ""
        click.echo(f"{theme.name}  {theme.label}{used}  inherits: {chain}  from {theme.plugin}")


def _web(settings: Settings) -> Any:
    web, problems = load_web(build_registry(settings), settings)
    if problems:
        raise WebConfigError(problems)
    return web


def _meili_connection(settings: Settings) -> tuple[str, str | None] | None:
    """Where to reach Meilisearch: MEILI_URL, else a running embedded one, else None."""
    if settings.meili_url:
        return settings.meili_url, settings.meili_admin_key
    from search.local_server import running_embedded

    return running_embedded(PROJECT_ROOT / "var" / "meilisearch")


def _load(settings: Settings) -> ContentSet:
    """Load all content, themes and sites; on any problem print the full report and exit 1."""
    registry: PluginRegistry = build_registry(settings)
    loaded, problems = load_all(registry, settings)
    _, web_problems = load_web(
        registry,
        settings,
        sources_known={p.name for p in loaded.packs},
        topics_known={t.slug for t in loaded.terms("topics")},
        questionnaires_known={q.definition.id for q in loaded.questionnaires},
    )
    problems = problems + web_problems
    if problems:
        _report(problems)
        sys.exit(1)
    return loaded


def _check_against_database(settings: Settings, loaded: ContentSet) -> str:
    """Compare questionnaire versions with the database, if there is one; exit 1 on problems.

    A published version must not change in place. The check needs the stored hashes, so
    it runs only where the database exists (sync repeats it inside its transaction).
    """
    from core.db.tables import QuestionnaireVersion
    from core.quickcheck.loader import check_immutable
    from core.quickcheck.store import stored_versions

    url = settings.database_url
    if database_kind(url) == "sqlite" and not Path(url[len("sqlite:///") :]).exists():
        return f"No database at {describe(url)} yet: published questionnaires not compared."

    async def stored() -> dict[tuple[str, int], tuple[str, str]] | None:
        use_engine(engine_from_url(url))
        if not await QuestionnaireVersion.table_exists():
            return None
        return await stored_versions()

    try:
        versions = asyncio.run(stored())
    except Exception as exc:  # an unreachable server must not hide the files being fine
        return f"Database {describe(url)} not reachable ({exc}): questionnaires not compared."
    if versions is None:
        return f"Database {describe(url)} has no questionnaires yet."
    problems = check_immutable(loaded.questionnaires, versions)
    if problems:
        _report(problems)
        sys.exit(1)
    return f"Questionnaires match the {len(versions)} stored versions in {describe(url)}."


def _report(problems: list[Problem]) -> None:
    click.echo(f"Content has {len(problems)} problem(s); nothing was changed:", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)


def _migrate(settings: Settings) -> list[str]:
    use_engine(engine_from_url(settings.database_url))
    return asyncio.run(migrate())


main.add_command(backup_group)
content.add_command(content_export)

if __name__ == "__main__":
    main()
