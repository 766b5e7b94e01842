"""How the ``mentoring40`` commands fail: one clear message and a non-zero exit, no
traceback, for every failure an operator can fix (a setting, a plugin, the database)."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import asyncpg
import click

from core.db.engine import MigrationError, describe
from core.http.errors import database_unavailable
from core.plugins import PluginError
from core.settings import Settings
from core.settings_variables import SettingsError

F = TypeVar("F", bound=Callable[..., Any])
# What the drivers raise (a wrong password or database name too), and unresolvable hosts;
# refused or lost connections are recognised as the app recognises them (503).
DATABASE_ERRORS = (socket.gaierror, sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError)


def _database_error(exc: BaseException) -> bool:
    return isinstance(exc, DATABASE_ERRORS) or database_unavailable(exc)


def friendly_errors(func: F) -> F:
    """Known failures print one clear message and exit non-zero, without a traceback."""
    from core.accounts.service import AccountError
    from core.auth import ApiKeyError
    from core.ops.archive import BackupError
    from core.ops.export import ExportError
    from core.web import WebConfigError
    from search.config import SearchConfigError

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SettingsError as exc:
            raise click.ClickException(f"Setting error: {exc}") from exc
        except PluginError as exc:
            raise click.ClickException(f"Plugin error: {exc}") from exc
        except (MigrationError, SearchConfigError, WebConfigError) as exc:
            raise click.ClickException(str(exc)) from exc
        except (AccountError, ApiKeyError, BackupError, ExportError) as exc:  # say what to change
            raise click.ClickException(str(exc)) from exc
        except Exception as exc:
            if not _database_error(exc):
                raise
            raise click.ClickException(
                f"The database {describe(Settings.from_env().database_url)} cannot be used: "
                f"{type(exc).__name__}: {exc}. Check DATABASE_URL and that the database "
                "server runs (`mentoring40 settings` shows the settings)."
            ) from exc

    return wrapper  # type: ignore[return-value]
