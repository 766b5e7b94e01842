"""``mentoring40 plugins|sites|themes``: what is installed and configured."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

import core.cli.runtime as runtime
from core.cli.errors import friendly_errors
from core.ops.scaffold import (
    DEFAULT_ACCENT,
    DEFAULT_PRIMARY,
    ScaffoldError,
    check_region,
    region_of_pack,
    write_region_plugin,
)
from core.settings import Settings
from core.web import WebConfigError, load_web


@click.group("plugins", invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.pass_context
@friendly_errors
def plugins_command(ctx: click.Context, as_json: bool) -> None:
    """List registered plugins with their version, supported engine versions and hooks;
    `plugins new NAME` writes a new region plugin."""
    if ctx.invoked_subcommand is not None:
        return
    settings = Settings.from_env()
    registry = runtime.build_registry(settings)
    infos = registry.plugins()
    if as_json:
        rows = [
            {
                "name": p.name,
                "builtin": p.builtin,
                "distribution": p.distribution,
                "version": p.version,
                "hooks": list(p.hooks),
                "module": p.module,
                "supports": p.supports,
            }
            for p in infos
        ]
        click.echo(json.dumps({"plugins": rows, "disabled": registry.disabled}, indent=2))
        return
    width = max(len(p.name) for p in infos)
    for p in infos:
        kind = "built-in" if p.builtin else f"{p.distribution} {p.version}"
        supports = f"  supports: mentoring40 {p.supports}" if p.supports else ""
        click.echo(f"{p.name:<{width}}  {kind:<24}  hooks: {', '.join(p.hooks) or '-'}{supports}")
    for name in registry.disabled:
        click.echo(f"{name:<{width}}  {'disabled':<24}  (not in MENTORING40_LOAD_PLUGINS)")


@plugins_command.command("new")
@click.argument("name")
@click.option(
    "--into",
    type=click.Path(file_okay=False, path_type=Path),
    help="New or empty folder to write to (default: ./mentoring40-NAME).",
)
@click.option("--label", help="The region's name as people read it (default: NAME).")
@click.option(
    "--primary",
    default=DEFAULT_PRIMARY,
    show_default=True,
    help="Main colour (#rrggbb): header, links, buttons; white text must be readable on it.",
)
@click.option(
    "--accent",
    default=DEFAULT_ACCENT,
    show_default=True,
    help="Accent colour (#rrggbb): highlights, the header's border.",
)
@click.option(
    "--from-pack",
    "from_pack",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="A region made in the editor, exported with `content export --pack NAME --to DIR`: "
    "its entries, theme, logo and sites become the plugin's (label and colours from it).",
)
@friendly_errors
def plugins_new(
    name: str,
    into: Path | None,
    label: str | None,
    primary: str,
    accent: str,
    from_pack: Path | None,
) -> None:
    """Write a ready region plugin NAME: package with hooks, content pack with one example
    entry (or, with --from-pack, the exported region's), search vocabulary, theme, site,
    README and a test."""
    try:
        if from_pack is not None:
            region = region_of_pack(name, from_pack)
        else:
            region = check_region(name, label or name.replace("-", " ").title(), primary, accent)
        target = into or Path(f"mentoring40-{name}")
        files = write_region_plugin(region, target, from_pack=from_pack)
    except ScaffoldError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Wrote the region plugin {region.name!r} ({len(files)} files) to {target}:")
    for file in files:
        click.echo(f"  {file.relative_to(target.absolute())}")
    click.echo(
        f"Next: pip install -e {target}  &&  mentoring40 plugins  &&  mentoring40 content check"
    )


@click.command("sites")
@friendly_errors
def sites_command() -> None:
    """List the partner sites: id, theme, allowed origins, sources and topics."""
    settings = Settings.from_env()
    web = _web(settings)
    if not web.sites:
        click.echo("No sites. Add one as content/sites/<id>.yaml (see themes/README.md).")
    for site in sorted(web.sites.values(), key=lambda s: s.id):
        origins = ", ".join(site.origins) or "none (embeds only on this server's pages)"
        sources = ", ".join(site.sources) if site.sources is not None else "all"
        topics = ", ".join(site.topics) if site.topics is not None else "all"
        click.echo(
            f"{site.id}  theme={site.theme}  origins={origins}  sources={sources}  "
            f"topics={topics}  ({site.label}; from {site.plugin})"
        )


@click.command("themes")
@friendly_errors
def themes_command() -> None:
    """List the installed themes with their parent chain."""
    settings = Settings.from_env()
    web = _web(settings)
    for theme in sorted(web.themes.values(), key=lambda t: t.name):
        chain = " -> ".join(theme.lineage)
        used = " (workspace)" if theme.name == web.workspace_theme else ""
        click.echo(f"{theme.name}  {theme.label}{used}  inherits: {chain}  from {theme.plugin}")


def _web(settings: Settings) -> Any:
    web, problems = load_web(runtime.build_registry(settings), settings)
    if problems:
        raise WebConfigError(problems)
    return web
