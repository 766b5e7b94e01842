"""Sites: who embeds what. One YAML file per partner site (``sites/<id>.yaml`` in the
content folder, or contributed by a plugin through the ``sites`` hook).

A site names its theme, the web origins allowed to embed it (and to call the JSON API
from a browser), which sources and topics it shows and its default language. Nothing is
embeddable from an origin that no site lists.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from core.content.model import Problem
from core.content.yamlfile import line_of, read_yaml_file
from core.plugins import PluginRegistry
from core.settings import Settings
from core.web.origins import OriginError, parse_origin

SITE_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class SiteFile(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What a site file holds; the id is the file name without ``.yaml``."""

    label: str
    theme: str = "default"
    description: str | None = None
    # Origins (scheme://host[:port]) whose pages may embed this site and call the API.
    origins: list[str] = msgspec.field(default_factory=list)
    # Content sources shown (e.g. core, nrw); missing: all.
    sources: list[str] | None = None
    # Topics shown; missing: all. An entry is shown if it has at least one of them.
    topics: list[str] | None = None
    # Questionnaires offered; missing: every published assessment questionnaire.
    questionnaires: list[str] | None = None
    language: str = "de"


@dataclass(frozen=True)
class Site:
    id: str
    label: str
    theme: str
    description: str
    origins: tuple[str, ...]
    sources: tuple[str, ...] | None
    topics: tuple[str, ...] | None
    questionnaires: tuple[str, ...] | None
    language: str
    plugin: str
    file: Path

    def __post_init__(self) -> None:
        # CSP frame-ancestors and CORS are built from these: checked, normalised origins
        # only, however the Site was made.
        for origin in self.origins:
            if parse_origin(origin) != origin:
                raise OriginError(f"{origin!r} is not in its normal form {parse_origin(origin)}")

    def shows(self, entry: dict[str, Any]) -> bool:
        """Whether an entry (a row with ``source`` and ``topics``) belongs to this site."""
        if self.sources is not None and entry["source"] not in self.sources:
            return False
        return self.topics is None or any(t in self.topics for t in entry.get("topics") or [])

    def scope(self, filters: dict[str, list[str]]) -> dict[str, list[str]] | None:
        """Narrow a visitor's filters to this site; None if nothing can match."""
        scoped = dict(filters)
        for name, allowed in (("source", self.sources), ("topic", self.topics)):
            if allowed is None:
                continue
            wanted = filters.get(name)
            kept = [v for v in wanted if v in allowed] if wanted else list(allowed)
            if not kept:
                return None
            scoped[name] = kept
        return scoped


def site_sources(registry: PluginRegistry, settings: Settings) -> list[tuple[str, Path]]:
    """(plugin, site file or folder) from every ``sites`` hook, built-ins first."""
    return registry.paths("sites", "paths of site YAML files or folders", settings=settings)


def load_sites(
    sources: Iterable[tuple[str, Path]],
    *,
    themes: set[str],
    sources_known: set[str] | None = None,
    topics_known: set[str] | None = None,
    questionnaires_known: set[str] | None = None,
) -> tuple[dict[str, Site], list[Problem]]:
    """Read and check every site file. The ``*_known`` sets, when given, are checked
    against (the content check passes them; startup checks themes only)."""
    problems: list[Problem] = []
    sites: dict[str, Site] = {}
    files: list[tuple[str, Path, Path]] = []  # (plugin, file, the folder it must stay in)
    for plugin, path in sources:
        if path.is_dir():
            files.extend((plugin, f, path) for f in sorted(path.glob("*.yaml")))
        elif os.path.lexists(path):  # a file, or something that is reported as not one
            files.append((plugin, path, path.parent))
        else:
            problems.append(Problem(file=str(path), message="site file or folder does not exist"))
    for plugin, file, folder in files:
        shown = str(file)
        site_id = file.stem
        if not SITE_ID_RE.match(site_id):
            problems.append(
                Problem(file=shown, message=f"{site_id!r} is not a site id (a-z, 0-9 and -)")
            )
            continue
        read = read_yaml_file(file, folder, shown, SiteFile, problems)
        if read is None:
            continue
        site, root = read
        before = len(problems)

        def problem(
            path: list[str | int], message: str, shown: str = shown, root: Any = root
        ) -> None:
            field = "".join(
                f"[{p}]" if isinstance(p, int) else (f".{p}" if i else p)
                for i, p in enumerate(path)
            )
            problems.append(
                Problem(file=shown, field=field, line=line_of(root, path, 0), message=message)
            )

        if site.theme not in themes:
            problem(["theme"], f"unknown theme {site.theme!r}; themes: {', '.join(sorted(themes))}")
        # Only the normalised origins go into headers (CSP frame-ancestors, CORS).
        origins: list[str] = []
        for i, origin in enumerate(site.origins):
            try:
                origins.append(parse_origin(origin))
            except OriginError as exc:
                problem(["origins", i], f"{origin!r} is not an origin we accept: {exc}")
        for name, values, known in (
            ("sources", site.sources, sources_known),
            ("topics", site.topics, topics_known),
            ("questionnaires", site.questionnaires, questionnaires_known),
        ):
            if values is None or known is None:
                continue
            if not values:
                problem([name], f"an empty list shows nothing; leave {name} out to show all")
            for i, value in enumerate(values):
                if value not in known:
                    problem(
                        [name, i],
                        f"unknown {name[:-1]} {value!r}; known: {', '.join(sorted(known))}",
                    )
        if not re.match(r"^[a-z]{2}$", site.language):
            problem(["language"], f"{site.language!r} is not a two-letter language code")
        if site_id in sites:
            problem([], f"site {site_id!r} is also defined in {sites[site_id].file}")
            continue
        if len(problems) == before:
            sites[site_id] = Site(
                id=site_id,
                label=site.label,
                theme=site.theme,
                description=site.description or "",
                origins=tuple(dict.fromkeys(origins)),
                sources=tuple(site.sources) if site.sources is not None else None,
                topics=tuple(site.topics) if site.topics is not None else None,
                questionnaires=tuple(site.questionnaires)
                if site.questionnaires is not None
                else None,
                language=site.language,
                plugin=plugin,
                file=file,
            )
    return sites, problems


def all_origins(sites: Iterable[Site]) -> list[str]:
    return sorted({origin for site in sites for origin in site.origins})
