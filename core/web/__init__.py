"""The browser side: themes, partner sites, the Lotse workspace and the embeds.

``load_web`` reads themes and sites from every plugin; the app builds one ``Web`` at
startup and a broken theme or site stops startup with the same messages as
``mentoring40 content check``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.content.model import Problem
from core.plugins import PluginRegistry
from core.settings import Settings
from core.web.sites import Catalogue, Site, all_origins, load_sites, site_sources
from core.web.themes import Theme, load_themes, theme_sources


class WebConfigError(RuntimeError):
    """Themes or sites have problems; the message lists them all."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        listed = "\n".join(f"  {p}" for p in problems)
        super().__init__(f"Themes or sites have {len(problems)} problem(s):\n{listed}")


@dataclass(frozen=True)
class Web:
    themes: dict[str, Theme]
    sites: dict[str, Site]
    # The theme of the Lotse workspace at / (MENTORING40_THEME).
    workspace_theme: str = "default"
    origins: list[str] = field(default_factory=list)

    def overlays(self) -> dict[str | None, Any]:
        """Each site's recommendation overlay (``core.quickcheck.overlay.Overlay``) by site
        id, for results of responses submitted there."""
        return {sid: site.overlay for sid, site in self.sites.items() if site.overlay}


def load_web(
    registry: PluginRegistry,
    settings: Settings,
    *,
    sources_known: set[str] | None = None,
    topics_known: set[str] | None = None,
    questionnaires_known: set[str] | None = None,
    catalogue: Catalogue | None = None,
) -> tuple[Web, list[Problem]]:
    themes, problems = load_themes(theme_sources(registry, settings))
    sites, more = load_sites(
        site_sources(registry, settings),
        themes=set(themes),
        sources_known=sources_known,
        topics_known=topics_known,
        questionnaires_known=questionnaires_known,
        catalogue=catalogue,
    )
    problems += more
    if themes and settings.theme not in themes:
        problems.append(
            Problem(
                file="MENTORING40_THEME",
                message=f"unknown theme {settings.theme!r}; themes: {', '.join(sorted(themes))}",
            )
        )
    web = Web(
        themes=themes,
        sites=sites,
        workspace_theme=settings.theme,
        origins=all_origins(sites.values()),
    )
    return web, problems
