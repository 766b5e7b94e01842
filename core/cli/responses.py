"""``mentoring40 responses export|verify``: the anonymous questionnaire responses."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import msgspec

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

    text, count = run_on_database(Settings.from_env(), run)
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

    checked, differ = run_on_database(Settings.from_env(), run)
    click.echo(f"Recomputed {checked} result(s): {len(differ)} differ.")
    for line in differ:
        click.echo(f"  {line}")
    if differ:
        sys.exit(1)
