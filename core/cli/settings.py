"""``mentoring40 settings``: the effective settings and where each comes from."""

from __future__ import annotations

import click

from core.cli.errors import friendly_errors
from core.settings import Settings


@click.command("settings")
@friendly_errors
def settings_command() -> None:
    """Show the effective settings, where each comes from, with secrets masked."""
    from core.settings import resolve
    from core.settings_variables import VARIABLES

    origins = {field: origin for field, (_, origin) in resolve().items()}
    shown = Settings.from_env().public()
    for var in VARIABLES:
        value = shown[var.field]
        text = "(unset)" if value is None else str(value)
        if isinstance(value, tuple):
            text = ",".join(value)
        click.echo(f"{var.name:36} {text}  [{origins.get(var.field, 'default')}]")
