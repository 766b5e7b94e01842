"""Sites: who embeds what. One YAML file per partner site (``sites/<id>.yaml`` in the
content folder, or contributed by a plugin through the ``sites`` hook).

A site names its theme, the web origins allowed to embed it (and to call the JSON API
from a browser), which sources and topics it shows and its default language. Nothing is
embeddable from an origin that no site lists.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import msgspec

from core.content.facets import DIMENSION_PARAM, EXCLUDE_SLUGS_KEY
from core.content.model import PUBLISHED, ContentSet, Problem
from core.content.yamlfile import line_of, read_yaml_file
from core.plugins import PluginRegistry
from core.quickcheck.overlay import BandEntries, Overlay, QuestionnaireOverlay
from core.settings import Settings
from core.web.origins import OriginError, parse_origin

# The filter key that leaves out a site's hidden entries (core.content.queries, search.query).
EXCLUDE_SLUGS = EXCLUDE_SLUGS_KEY

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
    # Region overrides, on this site only. Core terms in the region's words, by taxonomy
    # dimension (topics, phases, audiences, kinds) and slug.
    terms: dict[str, dict[str, TermOverride]] = msgspec.field(default_factory=dict)
    # Slugs of entries this site does not show (e.g. core entries a region replaces).
    hide: list[str] = msgspec.field(default_factory=list)
    # The region's own entries recommended in Quickcheck results, by questionnaire id.
    recommendations: dict[str, QuestionnaireOverlay] = msgspec.field(default_factory=dict)


class TermOverride(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    label: Annotated[str, msgspec.Meta(min_length=1, max_length=120)]
    description: str | None = None


# The taxonomy dimensions a site may relabel (the keys of ``terms``).
TERM_DIMENSIONS = ("topics", "phases", "audiences", "kinds")


@dataclass(frozen=True)
class Catalogue:
    """What the content holds, for checking a site's overrides (``content check``):
    term slugs by dimension, published entries (slug -> source) and the assessment
    questionnaires with their dimension ids."""

    terms: dict[str, set[str]]
    entries: dict[str, str]
    questionnaires: dict[str, set[str]]


def catalogue_of(content: ContentSet) -> Catalogue:
    """The catalogue of loaded content (``core.content.collect.load_all``)."""
    return Catalogue(
        terms={dim: {t.slug for t in content.terms(dim)} for dim in TERM_DIMENSIONS},
        entries={e.slug: e.source for e in content.entries if e.status == PUBLISHED},
        questionnaires={
            q.definition.id: {dim.id for dim in q.definition.dimensions}
            for q in content.questionnaires
            if q.definition.purpose == "assessment"
        },
    )


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
    # dimension -> slug -> (label, description or None)
    terms: dict[str, dict[str, tuple[str, str | None]]] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()
    # The site's recommendations of its own entries (None: it has none).
    overlay: Overlay | None = None

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
        if entry.get("slug") in self.hidden:
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
        if self.hidden:
            scoped[EXCLUDE_SLUGS] = sorted(self.hidden)
        return scoped

    def relabel(self, labels: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        """Taxonomy labels by filter name (``queries.taxonomy_labels``) in this site's words."""
        if not self.terms:
            return labels
        changed = {name: dict(values) for name, values in labels.items()}
        for dimension, terms in self.terms.items():
            param = DIMENSION_PARAM[dimension]
            for slug, (label, _) in terms.items():
                if slug in changed.get(param, {}):
                    changed[param][slug] = label
        return changed

    def term(self, dimension: str, term: dict[str, Any]) -> dict[str, Any]:
        """A taxonomy term (a dict with slug, label, description) in this site's words."""
        override = self.terms.get(dimension, {}).get(term["slug"])
        if override is None:
            return term
        label, description = override
        return {**term, "label": label, "description": description or term["description"]}


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
    catalogue: Catalogue | None = None,
) -> tuple[dict[str, Site], list[Problem]]:
    """Read and check every site file. The ``*_known`` sets and the ``catalogue`` (for the
    region overrides), when given, are checked against (the content check passes them;
    startup checks themes and the overrides' shape only)."""
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
        if catalogue is not None:
            _check_overrides(site, catalogue, problem)
        for dimension in site.terms:
            if dimension not in TERM_DIMENSIONS:
                problem(
                    ["terms", dimension],
                    f"{dimension!r} is not a taxonomy dimension; terms may relabel "
                    + ", ".join(TERM_DIMENSIONS),
                )
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
                terms={
                    dim: {slug: (t.label, t.description) for slug, t in terms.items()}
                    for dim, terms in site.terms.items()
                },
                hidden=frozenset(site.hide),
                overlay=Overlay(
                    site=site_id,
                    label=site.label,
                    questionnaires=dict(site.recommendations),
                    hidden=frozenset(site.hide),
                )
                if site.recommendations or site.hide
                else None,
            )
    return sites, problems


Report = Callable[[list[str | int], str], None]


def _check_overrides(site: SiteFile, catalogue: Catalogue, problem: Report) -> None:
    """Every relabelled term, hidden entry and recommended entry must exist; an entry a
    site recommends must be one it shows."""
    for dimension, terms in site.terms.items():
        known = catalogue.terms.get(dimension)
        if known is None:
            continue  # reported as an unknown dimension by the caller
        for slug in terms:
            if slug not in known:
                problem(
                    ["terms", dimension, slug],
                    f"unknown term {slug!r} in {dimension}; known: {', '.join(sorted(known))}",
                )
    for i, slug in enumerate(site.hide):
        if slug not in catalogue.entries:
            problem(["hide", i], f"no published entry {slug!r} to hide")
    for qid, overlay in site.recommendations.items():
        dimensions = catalogue.questionnaires.get(qid)
        if dimensions is None:
            problem(
                ["recommendations", qid],
                f"unknown questionnaire {qid!r}; assessment questionnaires: "
                + ", ".join(sorted(catalogue.questionnaires)),
            )
            continue
        places: list[tuple[list[str | int], BandEntries]] = [
            (["recommendations", qid, "overall"], overlay.overall)
        ]
        for dim, dim_bands in overlay.dimensions.items():
            if dim not in dimensions:
                problem(
                    ["recommendations", qid, "dimensions", dim],
                    f"questionnaire {qid!r} has no dimension {dim!r}; dimensions: "
                    + ", ".join(sorted(dimensions)),
                )
                continue
            places.append((["recommendations", qid, "dimensions", dim], dim_bands))
        for path, bands in places:
            for ampel, slugs in bands.items():
                for i, slug in enumerate(slugs):
                    where = [*path, ampel, i]
                    source = catalogue.entries.get(slug)
                    if source is None:
                        problem(
                            where,
                            f"recommends {slug!r}, but there is no published entry with that slug",
                        )
                    elif slug in site.hide:
                        problem(where, f"recommends {slug!r}, which this site hides")
                    elif site.sources is not None and source not in site.sources:
                        problem(
                            where,
                            f"recommends {slug!r} from source {source!r}, which "
                            f"this site does not show (sources: {', '.join(site.sources)})",
                        )


def all_origins(sites: Iterable[Site]) -> list[str]:
    return sorted({origin for site in sites for origin in site.origins})
