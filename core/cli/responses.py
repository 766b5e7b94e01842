"""``mentoring40 responses export|verify``: the anonymous questionnaire responses."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from core.cli.errors import friendly_errors
from core.cli.runtime import run_on_database
from core.settings import Settings


@click.group("responses")
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
    from core.quickcheck.responses import export_responses

    exported = run_on_database(
        Settings.from_env(),
        lambda: export_responses(questionnaire_id, version, include_test=include_test),
    )
    if exported is None:
        raise click.ClickException(
            f"No questionnaire {questionnaire_id!r}"
            + (f" version {version}" if version else " with a published version")
            + " in the database (run `mentoring40 content sync`)."
        )
    if output is None:
        click.echo(exported.csv, nl=False)
    else:
        output.write_text(exported.csv, encoding="utf-8")
    click.echo(f"Exported {exported.count} response(s).", err=True)


@responses_group.command("verify")
@friendly_errors
def responses_verify() -> None:
    """Recompute every stored result from its answers and stored definition; report changes."""
    from core.quickcheck.engine import ENGINE_VERSION
    from core.quickcheck.responses import recompute_results

    recomputed = run_on_database(Settings.from_env(), recompute_results)
    click.echo(f"Recomputed {recomputed.checked} result(s): {len(recomputed.differ)} differ.")
    for d in recomputed.differ:
        if d.response_id is None:
            click.echo(f"  {d.questionnaire_id} v{d.version}: definition missing")
        else:
            click.echo(
                f"  {d.questionnaire_id} v{d.version} response {d.response_id} "
                f"(engine {d.engine_version} → {ENGINE_VERSION})"
            )
    if recomputed.differ:
        sys.exit(1)
