"""``mentoring40 content check|sync|export``: the toolbox content files and the database."""

from __future__ import annotations

import sys
from pathlib import Path

import click

import core.cli.runtime as runtime
from core.cli.errors import friendly_errors
from core.cli.runtime import report_problems, run_on_database
from core.content.collect import load_all
from core.content.model import ContentSet
from core.db.engine import describe, sqlite_file_missing
from core.ops.export import read_stored, write_export, write_pack
from core.plugins import PluginRegistry
from core.quickcheck.store import ContentRejected
from core.settings import Settings
from core.web import load_web
from core.web.sites import catalogue_of


@click.group()
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
    try:
        report = run_on_database(settings, lambda: sync_content(loaded))
    except ContentRejected as exc:
        report_problems(exc.problems)
        sys.exit(1)
    click.echo(
        f"Synced {len(loaded.entries)} entries into {describe(settings.database_url)}: "
        f"{len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.removed)} removed, {report.unchanged} unchanged"
        + ("; taxonomy updated" if report.taxonomy_changed else "")
        + ("; sources updated" if report.sources_changed else "")
        + "."
    )
    if report.conflicts:
        click.echo(
            f"{len(report.conflicts)} entries are edited in the browser and were left as they "
            "are live (docs/EDITING.md):"
        )
        for slug, reason in report.conflicts.items():
            click.echo(f"  conflict: {slug}: {reason}")
    for name in report.regions_in_files:
        click.echo(
            f"  region {name}: made in the editor and now also a pack from files (its plugin); "
            "the pack's files, theme and site are used, entries edited in the browser stay "
            "as they are live (docs/REGION.md)"
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


@content.command("export")
@click.option(
    "--output",
    "-o",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="New or empty folder to write every pack to [default: content-export].",
)
@click.option(
    "--pack",
    default=None,
    help="Write only this content pack (e.g. core or nrw), as its own pack folder.",
)
@click.option(
    "--to",
    "to",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="With --pack: the new or empty folder the pack is written to.",
)
@friendly_errors
def content_export(output: Path | None, pack: str | None, to: Path | None) -> None:
    """Write the live content (published editorial revisions included) back as files:
    every pack (core into the folder, plugins into <folder>/<source>/), or with
    --pack NAME --to DIR one pack as a folder its plugin or the core can use as it is."""
    settings = Settings.from_env()
    stored = run_on_database(settings, read_stored)
    if pack is not None:
        if to is None or output is not None:
            raise click.UsageError("--pack writes to the folder given with --to (not --output)")
        report = write_pack(to, stored, pack)
        click.echo(f"{pack}: {report.entries[pack]} entries in {report.folders[pack]}")
        click.echo("Commit the folder, or check it with `mentoring40 content check` in place.")
        return
    if to is not None:
        raise click.UsageError("--to goes with --pack; for every pack use --output")
    output = output or Path("content-export")
    report = write_export(output, stored)
    for source, count in report.entries.items():
        click.echo(f"{source}: {count} entries in {report.folders[source]}")
    click.echo(f"Check it with: MENTORING40_CONTENT_DIR={output} mentoring40 content check")


def _load(settings: Settings) -> ContentSet:
    """Load all content, themes and sites; on any problem print the full report and exit 1."""
    registry: PluginRegistry = runtime.build_registry(settings)
    loaded, problems = load_all(registry, settings)
    _, web_problems = load_web(
        registry,
        settings,
        sources_known={p.name for p in loaded.packs},
        topics_known={t.slug for t in loaded.terms("topics")},
        questionnaires_known={q.definition.id for q in loaded.questionnaires},
        catalogue=catalogue_of(loaded),
    )
    problems = problems + web_problems
    if problems:
        report_problems(problems)
        sys.exit(1)
    return loaded


def _check_against_database(settings: Settings, loaded: ContentSet) -> str:
    """Compare questionnaire versions with the database, if there is one; exit 1 on problems.

    The check needs the stored hashes, so it runs only where the database exists (sync
    repeats it inside its transaction).
    """
    from core.quickcheck.store import compare_with_published

    url = settings.database_url
    if sqlite_file_missing(url):
        return f"No database at {describe(url)} yet: published questionnaires not compared."
    try:
        compared = run_on_database(
            settings, lambda: compare_with_published(loaded.questionnaires), migrate_first=False
        )
    except Exception as exc:  # an unreachable server must not hide the files being fine
        return f"Database {describe(url)} not reachable ({exc}): questionnaires not compared."
    if compared is None:
        return f"Database {describe(url)} has no questionnaires yet."
    if compared.problems:
        report_problems(compared.problems)
        sys.exit(1)
    return f"Questionnaires match the {compared.stored} stored versions in {describe(url)}."
