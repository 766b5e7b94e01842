"""What the ``mentoring40`` commands share: the plugin registry, the database opened
(and migrated) around the work of one command, SIGTERM handling, the content report."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from core.content.model import Problem
from core.db.engine import engine_from_url, migrate, use_engine

# Commands build their registry through this name (``runtime.build_registry``), so a test
# can hand every command the same test plugins by replacing it in one place.
from core.plugins import build_registry
from core.settings import Settings

T = TypeVar("T")


def run_on_database(
    settings: Settings, work: Callable[[], Awaitable[T]], *, migrate_first: bool = True
) -> T:
    """Open the database of ``settings``, apply pending migrations, then run ``work``.

    Everything runs in one event loop, so the engine's connections belong to it. Without
    ``migrate_first`` the database is used as it is (e.g. a check that must not create it).
    """
    use_engine(engine_from_url(settings.database_url))

    async def run() -> T:
        if migrate_first:
            await migrate()
        return await work()

    return asyncio.run(run())


def migrate_database(settings: Settings) -> list[str]:
    """Apply pending migrations; the names of those applied."""
    return run_on_database(settings, migrate, migrate_first=False)


def exit_on_sigterm() -> None:
    """SIGTERM (a service manager, ``kill``) ends the command as Ctrl-C does: through the
    ``finally`` that stops the Meilisearch it started. Python's default for SIGTERM ends
    the process on the spot; the kernel's death signal would still stop Meilisearch, but
    its state file would stay behind."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))


def report_problems(problems: list[Problem]) -> None:
    """The content problems on standard error, under the promise that nothing changed."""
    click.echo(f"Content has {len(problems)} problem(s); nothing was changed:", err=True)
    for problem in problems:
        click.echo(f"  {problem}", err=True)


__all__ = [
    "build_registry",
    "exit_on_sigterm",
    "migrate_database",
    "report_problems",
    "run_on_database",
]
