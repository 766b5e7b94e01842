"""``mentoring40 backup create|verify|restore``: the database in one archive."""

from __future__ import annotations

from pathlib import Path

import click

import core.cli.runtime as runtime
from core.cli.errors import friendly_errors
from core.db.engine import describe
from core.ops.archive import SEARCH_NOTE, default_archive_name, verify_backup
from core.ops.backup import create_backup
from core.ops.restore import restore_backup
from core.plugins import PluginError
from core.settings import Settings


@click.group("backup")
def backup_group() -> None:
    """Back up the database into one archive, verify it, restore it.

    The search index is not backed up: after a restore, rebuild it with
    `mentoring40 search reindex`.
    """


@backup_group.command("create")
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Archive to write (default: mentoring40-backup-<UTC time>.tar.gz here).",
)
@friendly_errors
def backup_create(output: Path | None) -> None:
    """Write database and manifest (versions, plugins, migrations, checksums) to one .tar.gz."""
    settings = Settings.from_env()
    target = output or Path(default_archive_name())
    try:
        manifest = create_backup(settings, runtime.build_registry(settings), target)
    except PluginError as exc:  # said as it is, without the usual "Plugin error:" prefix
        raise click.ClickException(str(exc)) from exc
    click.echo(
        f"Backup of {describe(settings.database_url)} ({manifest.database_kind}, "
        f"mentoring40 {manifest.app_version}, {len(manifest.migrations)} migrations) "
        f"written to {target}."
    )


@backup_group.command("verify")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@friendly_errors
def backup_verify(archive: Path) -> None:
    """Check an archive's integrity and checksums and show its manifest; changes nothing."""
    manifest = verify_backup(archive)
    click.echo(
        f"{archive}: OK. {manifest.database_kind} backup made {manifest.created_at} by "
        f"mentoring40 {manifest.app_version}; plugins: "
        + (", ".join(f"{p.name} {p.version}" for p in manifest.plugins) or "none")
    )


@backup_group.command("restore")
@click.argument("archive", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--force",
    is_flag=True,
    help="Replace a database that already holds entries, responses or API keys.",
)
@click.option(
    "--safety-copy-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="With --force: where the backup of the replaced data is written first.",
)
@click.option(
    "--no-safety-copy", is_flag=True, help="With --force: replace without a backup first."
)
@friendly_errors
def backup_restore(archive: Path, force: bool, safety_copy_dir: Path, no_safety_copy: bool) -> None:
    """Restore an archive into the (empty) database of DATABASE_URL, then migrate.

    SQLite to SQLite and PostgreSQL to PostgreSQL only. The archive is verified first; a
    damaged one changes nothing.
    """
    settings = Settings.from_env()
    report = restore_backup(
        settings, archive, force=force, safety_copy_to=None if no_safety_copy else safety_copy_dir
    )
    m = report.manifest
    if report.safety_copy is not None:
        click.echo(f"The replaced data was backed up first to {report.safety_copy}.")
    click.echo(
        f"Restored the {m.database_kind} backup of {m.created_at} (mentoring40 "
        f"{m.app_version}) into {describe(settings.database_url)}."
    )
    if report.migrations_applied:
        click.echo(f"Applied {len(report.migrations_applied)} newer migration(s).")
    for warning in report.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(f"Next: {SEARCH_NOTE}")
