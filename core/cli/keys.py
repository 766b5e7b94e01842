"""``mentoring40 keys``: API keys for statistics and raw export."""

from __future__ import annotations

import click

import core.cli.runtime as runtime
from core.cli.errors import friendly_errors
from core.cli.runtime import run_on_database
from core.settings import Settings


@click.group("keys")
def keys_group() -> None:
    """API keys for statistics and raw export (only their hash is stored)."""


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

    from core.auth import create_key, known_scopes

    settings = Settings.from_env()
    allowed = known_scopes(runtime.build_registry(settings), settings)
    expires = (
        dt.datetime.now(dt.UTC).date() + dt.timedelta(days=expires_in_days)
        if expires_in_days
        else None
    )
    token, info = run_on_database(
        settings, lambda: create_key(name, list(scopes), expires, allowed)
    )
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

    keys = run_on_database(Settings.from_env(), list_keys)
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
    for scope, description in known_scopes(runtime.build_registry(settings), settings).items():
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

    from core.auth import expire_key

    on = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=in_days)
    run_on_database(Settings.from_env(), lambda: expire_key(name, on))
    click.echo(f"Key {name!r} expired." if in_days == 0 else f"Key {name!r} runs out on {on}.")


@keys_group.command("revoke")
@click.argument("name")
@friendly_errors
def keys_revoke(name: str) -> None:
    """Revoke a key by name; requests with it get 401 from now on."""
    from core.auth import revoke_key

    run_on_database(Settings.from_env(), lambda: revoke_key(name))
    click.echo(f"Revoked key {name!r}.")
