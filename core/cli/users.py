"""``mentoring40 users``: accounts of the editor (/redaktion).

Passwords are read from standard input (one line) or prompted without echo, never taken
as an argument: arguments end up in shell histories and process lists.
"""

from __future__ import annotations

import sys

import click

import core.cli.runtime as runtime
from core.accounts import ROLES
from core.cli.errors import friendly_errors
from core.cli.runtime import run_on_database
from core.settings import Settings


def _read_password() -> str:
    if sys.stdin is not None and not sys.stdin.isatty():
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


def _known_sources(settings: Settings) -> set[str]:
    from core.content.packs import collect_packs

    return {pack.name for pack in collect_packs(runtime.build_registry(settings), settings)}


def _sources(text: str) -> list[str]:
    return [s.strip() for s in text.split(",") if s.strip()]


@click.group("users")
def users_group() -> None:
    """Accounts of the editor at /redaktion (passwords are stored as argon2 hashes)."""


@users_group.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(ROLES), help="What the account may do.")
@click.option(
    "--sources",
    default="",
    help="Comma-separated content packs a redaktion account may edit, e.g. core,nrw.",
)
@click.option("--name", "display_name", default="", help="The name shown in the editor.")
@friendly_errors
def users_create(email: str, role: str, sources: str, display_name: str) -> None:
    """Create an account; the password comes from standard input or a prompt."""
    from core.accounts.audit import record
    from core.accounts.service import create_account

    settings = Settings.from_env()
    known = _known_sources(settings)
    password = _read_password()

    async def work() -> None:
        account = await create_account(
            email, password, role, sources=_sources(sources), display_name=display_name,
            known_sources=known,
        )  # fmt: skip
        await record(
            "account.create", email="cli", object_type="account", object_id=account.email,
            detail={"role": account.role, "sources": account.sources, "by": "cli"},
        )  # fmt: skip

    run_on_database(settings, work)
    click.echo(f"Created {email.strip().lower()} with role {role}. Sign in at /anmelden.")


@users_group.command("list")
@friendly_errors
def users_list() -> None:
    """List accounts: e-mail, role, sources, state; never passwords."""
    from core.accounts.service import list_accounts

    accounts = run_on_database(Settings.from_env(), list_accounts)
    if not accounts:
        click.echo("No accounts. Create the first admin with `mentoring40 users create`.")
    for a in accounts:
        state = f"disabled {a.disabled_at:%Y-%m-%d}" if a.disabled_at else "active"
        sources = ",".join(a.sources) or "-"
        click.echo(f"{a.email}  {a.role}  sources={sources}  {state}")


@users_group.command("disable")
@click.argument("email")
@friendly_errors
def users_disable(email: str) -> None:
    """Disable an account; its sessions end at once."""
    from core.accounts.audit import record
    from core.accounts.service import disable_account

    async def work() -> None:
        account = await disable_account(email)
        await record(
            "account.disable", email="cli", object_type="account", object_id=account.email,
            detail={"by": "cli"},
        )  # fmt: skip

    run_on_database(Settings.from_env(), work)
    click.echo(f"Disabled {email.strip().lower()}.")


@users_group.command("enable")
@click.argument("email")
@friendly_errors
def users_enable(email: str) -> None:
    """Enable a disabled account again."""
    from core.accounts.audit import record
    from core.accounts.service import enable_account

    async def work() -> None:
        account = await enable_account(email)
        await record(
            "account.enable", email="cli", object_type="account", object_id=account.email,
            detail={"by": "cli"},
        )  # fmt: skip

    run_on_database(Settings.from_env(), work)
    click.echo(f"Enabled {email.strip().lower()}.")


@users_group.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--sources", default=None, help="Also set the sources (comma-separated).")
@friendly_errors
def users_set_role(email: str, role: str, sources: str | None) -> None:
    """Change an account's role (and, with --sources, its content packs)."""
    from core.accounts.audit import record
    from core.accounts.service import update_account

    settings = Settings.from_env()
    known = _known_sources(settings) if sources is not None else None

    async def work() -> None:
        account, changed = await update_account(
            email, role=role, sources=_sources(sources) if sources is not None else None,
            known_sources=known,
        )  # fmt: skip
        if changed:
            await record(
                "account.update", email="cli", object_type="account", object_id=account.email,
                detail={**changed, "by": "cli"},
            )  # fmt: skip

    run_on_database(settings, work)
    click.echo(f"{email.strip().lower()} now has role {role}.")


@users_group.command("set-password")
@click.argument("email")
@friendly_errors
def users_set_password(email: str) -> None:
    """Set a new password (standard input or prompt); the account's sessions end."""
    from core.accounts.audit import record
    from core.accounts.service import set_password

    password = _read_password()

    async def work() -> None:
        account = await set_password(email, password)
        await record(
            "account.password", email="cli", object_type="account", object_id=account.email,
            detail={"by": "cli"},
        )  # fmt: skip

    run_on_database(Settings.from_env(), work)
    click.echo(f"New password set for {email.strip().lower()}; its sessions have ended.")
