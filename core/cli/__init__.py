"""The ``mentoring40`` command: one module per command group, assembled here.

``core.cli:main`` is the console script; ``python -m core.cli`` runs the same.
"""

from __future__ import annotations

import click

from core import __version__
from core.cli.backup import backup_group
from core.cli.content import content
from core.cli.keys import keys_group
from core.cli.responses import responses_group
from core.cli.search import search_group
from core.cli.serve import migrate_command, serve, serve_worker_app
from core.cli.settings import settings_command
from core.cli.sites import plugins_command, sites_command, themes_command
from core.cli.users import users_group


@click.group()
@click.version_option(__version__, prog_name="mentoring40")
def main() -> None:
    """mentoring40: the toolbox content API of Mentoring 4.0."""


for command in (
    serve,
    migrate_command,
    settings_command,
    content,
    plugins_command,
    search_group,
    keys_group,
    responses_group,
    sites_command,
    themes_command,
    backup_group,
    users_group,
):
    main.add_command(command)

__all__ = ["main", "serve_worker_app"]
