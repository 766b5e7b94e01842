"""``mentoring40 plugins|sites|themes``: what is installed and configured."""

from __future__ import annotations

import json
from typing import Any

import click

import core.cli.runtime as runtime
from core.cli.errors import friendly_errors
from core.settings import Settings
from core.web import WebConfigError, load_web


@click.command("plugins")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@friendly_errors
def plugins_command(as_json: bool) -> None:
    """List registered plugins with their version and hooks."""
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
            }
            for p in infos
        ]
        click.echo(json.dumps({"plugins": rows, "disabled": registry.disabled}, indent=2))
        return
    width = max(len(p.name) for p in infos)
    for p in infos:
        kind = "built-in" if p.builtin else f"{p.distribution} {p.version}"
        click.echo(f"{p.name:<{width}}  {kind:<24}  hooks: {', '.join(p.hooks) or '-'}")
    for name in registry.disabled:
        click.echo(f"{name:<{width}}  {'disabled':<24}  (not in MENTORING40_LOAD_PLUGINS)")


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
