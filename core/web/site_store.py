"""Partner sites kept in the database: admins add a partner, or change a file-defined
site's origins, theme and scope, at /redaktion/partnerseiten, without a redeploy.

The files (``content/sites``, plugins' ``sites`` hook) stay the baseline. A database row
with a new id adds a site; a row with a file site's id *replaces* that site's settings
(an overlay; removing the row brings the file's back); a row marked inactive hides the
site (its embeds answer "unknown site", its origins lose CORS and framing).

``LiveSites`` is what the app asks: it holds the merged sites and their origins in
memory and re-reads the table at most every ``MENTORING40_SITES_REFRESH_SECONDS`` (one
small query, on the first request after the interval: an ASGI layer, see ``refreshing``).
A change made in this worker takes effect at once; other workers and instances see it
within the interval. CSP frame-ancestors, CORS and the embed pages all read from here.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import re
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import msgspec
from litestar.enums import ScopeType
from litestar.types import ASGIApp, Receive, Scope, Send

from core.db.tables import PartnerSite
from core.web.origins import OriginError, parse_origin
from core.web.sites import SITE_ID_RE, Site, all_origins


class ThemeSource(Protocol):
    """Themes kept in the database (core.web.region_store.LiveRegions), re-read with the
    sites: their names are themes a stored site may use."""

    async def refresh(self) -> None: ...

    def theme_names(self) -> frozenset[str]: ...


log = logging.getLogger("mentoring40.web")
DATABASE_FILE = Path("(Datenbank)")
DATABASE_PLUGIN = "redaktion"
MAX_ORIGINS = 50


class SiteValues(msgspec.Struct, kw_only=True):
    """What an admin sets for a site (a form, or a row of the table)."""

    site_id: str
    label: str
    theme: str = "default"
    description: str = ""
    origins: list[str] = msgspec.field(default_factory=list)
    sources: list[str] | None = None
    topics: list[str] | None = None
    questionnaires: list[str] | None = None
    language: str = "de"
    active: bool = True


class SiteRecord(SiteValues, kw_only=True):
    """A row of the table, with who changed it when."""

    updated_at: dt.datetime
    updated_by: str


def values_of(site: Site) -> SiteValues:
    """The values of a (file-defined) site, to start an overlay from."""
    return SiteValues(
        site_id=site.id,
        label=site.label,
        theme=site.theme,
        description=site.description,
        origins=list(site.origins),
        sources=list(site.sources) if site.sources is not None else None,
        topics=list(site.topics) if site.topics is not None else None,
        questionnaires=list(site.questionnaires) if site.questionnaires is not None else None,
        language=site.language,
    )


class SiteProblem(msgspec.Struct, frozen=True):
    field: str
    code: str  # what is wrong; the page says it in German
    value: str = ""
    detail: str = ""


def check_values(
    values: SiteValues,
    *,
    themes: Iterable[str],
    sources_known: set[str] | None = None,
    topics_known: set[str] | None = None,
    questionnaires_known: set[str] | None = None,
) -> tuple[SiteValues, list[SiteProblem]]:
    """``values`` normalised (origins in their normal form), and every problem at once.
    The same rules as a site file (core.web.sites.load_sites)."""
    problems: list[SiteProblem] = []
    if not SITE_ID_RE.match(values.site_id):
        problems.append(SiteProblem("site_id", "id_invalid", values.site_id))
    label = " ".join(values.label.split())
    if not label or len(label) > 200:
        problems.append(SiteProblem("label", "label_invalid", label[:40]))
    if values.theme not in set(themes):
        problems.append(SiteProblem("theme", "theme_unknown", values.theme))
    origins: list[str] = []
    for origin in values.origins[:MAX_ORIGINS]:
        try:
            origins.append(parse_origin(origin))
        except OriginError as exc:
            problems.append(SiteProblem("origins", "origin_invalid", origin[:200], str(exc)))
    if len(values.origins) > MAX_ORIGINS:
        problems.append(SiteProblem("origins", "too_many", str(len(values.origins))))
    for name, chosen, known in (
        ("sources", values.sources, sources_known),
        ("topics", values.topics, topics_known),
        ("questionnaires", values.questionnaires, questionnaires_known),
    ):
        for value in chosen or []:
            if known is not None and value not in known:
                problems.append(SiteProblem(name, "unknown", value[:80]))
    if not re.fullmatch(r"[a-z]{2}", values.language):
        problems.append(SiteProblem("language", "language_invalid", values.language[:10]))
    if len(values.description) > 2000:
        problems.append(SiteProblem("description", "description_long"))
    cleaned = msgspec.structs.replace(
        values,
        label=label,
        origins=list(dict.fromkeys(origins)),
        sources=sorted(set(values.sources)) if values.sources else None,
        topics=sorted(set(values.topics)) if values.topics else None,
        questionnaires=sorted(set(values.questionnaires)) if values.questionnaires else None,
        description=values.description.strip(),
    )
    return cleaned, problems


def _site(values: SiteValues, base: Site | None) -> Site:
    return Site(
        id=values.site_id,
        label=values.label,
        theme=values.theme,
        description=values.description,
        origins=tuple(values.origins),
        sources=tuple(values.sources) if values.sources is not None else None,
        topics=tuple(values.topics) if values.topics is not None else None,
        questionnaires=tuple(values.questionnaires) if values.questionnaires is not None else None,
        language=values.language,
        plugin=base.plugin if base else DATABASE_PLUGIN,
        file=base.file if base else DATABASE_FILE,
    )


async def stored_sites() -> list[SiteRecord]:
    rows = await PartnerSite.select().order_by(PartnerSite.site_id).output(load_json=True)
    return [msgspec.convert(r, SiteRecord, strict=False) for r in rows]


async def save_site(values: SiteValues, by: str) -> None:
    """Insert or replace the row of ``values.site_id`` (values already checked)."""
    data = msgspec.to_builtins(values)
    columns = {getattr(PartnerSite, k): v for k, v in data.items()}
    columns[PartnerSite.updated_at] = dt.datetime.now(dt.UTC)
    columns[PartnerSite.updated_by] = by
    if await PartnerSite.exists().where(PartnerSite.site_id == values.site_id):
        await PartnerSite.update(columns).where(PartnerSite.site_id == values.site_id)
    else:
        await PartnerSite.insert(PartnerSite(**{c._meta.name: v for c, v in columns.items()}))


async def delete_site(site_id: str) -> bool:
    """Remove the row (a file site gets its file's settings back); whether there was one."""
    existed: bool = await PartnerSite.exists().where(PartnerSite.site_id == site_id)
    await PartnerSite.delete().where(PartnerSite.site_id == site_id)
    return existed


@dataclasses.dataclass
class LiveSites:
    """The sites as they are now: files and plugins, with the database's rows over them."""

    file_sites: dict[str, Site]
    themes: frozenset[str]
    refresh_seconds: float = 5.0
    sites: dict[str, Site] = dataclasses.field(default_factory=dict)
    stored: dict[str, SiteRecord] = dataclasses.field(default_factory=dict)
    _origins: frozenset[str] = frozenset()
    _due: float = 0.0
    _lock: asyncio.Lock | None = None
    _last_error: str = ""
    # Regions made in the editor: their themes are re-read with the sites.
    regions: ThemeSource | None = None

    def __post_init__(self) -> None:
        self._apply([])

    def get(self, site_id: str) -> Site | None:
        return self.sites.get(site_id)

    def origins(self) -> frozenset[str]:
        return self._origins

    def _apply(self, records: list[SiteRecord]) -> None:
        sites = dict(self.file_sites)
        stored: dict[str, SiteRecord] = {}
        for record in records:
            stored[record.site_id] = record
            if not record.active:
                sites.pop(record.site_id, None)
                continue
            values, problems = check_values(record, themes=self.themes)
            if problems:  # e.g. its theme was uninstalled: keep the file's version, say why
                said = ", ".join(f"{p.field} {p.code} {p.value}" for p in problems)
                log.warning("Partner site %r in the database is not used: %s", record.site_id, said)
                continue
            sites[record.site_id] = _site(values, self.file_sites.get(record.site_id))
        self.sites = sites
        self.stored = stored
        self._origins = frozenset(all_origins(sites.values()))

    async def refresh(self, *, force: bool = False) -> None:
        """Re-read the table if the interval is over (or ``force``); a database that does
        not answer leaves the sites as they were until the next try."""
        now = time.monotonic()
        if not force and now < self._due:
            return
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if not force and time.monotonic() < self._due:
                return
            self._due = time.monotonic() + self.refresh_seconds
            try:
                if self.regions is not None:
                    await self.regions.refresh()
                    self.themes = self.regions.theme_names()
                records = await stored_sites()
            except Exception as exc:  # the database is down or not migrated yet
                said = f"{type(exc).__name__}: {exc}"
                # Said once per reason, not on every try while the database is down.
                (log.debug if said == self._last_error else log.warning)(
                    "Partner sites in the database not read (the files' sites are used): %s",
                    said,
                )
                self._last_error = said
                return
            self._last_error = ""
            self._apply(records)


# Paths whose answers depend on no partner site: health checks and metrics stay free of
# database reads (they must answer while the database is slow or down), assets too.
NO_SITES_PATHS = ("/health", "/ready", "/metrics", "/static/", "/themes/")


def refreshing(app: ASGIApp, live: LiveSites) -> ASGIApp:
    """ASGI layer: bring ``live`` up to date (at most once per interval) before a request
    is answered, so CORS, frame-ancestors and embeds see a change without a restart."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == ScopeType.HTTP and not scope["path"].startswith(NO_SITES_PATHS):
            await live.refresh()
        await app(scope, receive, send)

    return middleware


def live_sites_of(state: Any) -> LiveSites:
    live: LiveSites = state.live_sites
    return live


__all__ = [
    "LiveSites",
    "SiteProblem",
    "SiteRecord",
    "SiteValues",
    "check_values",
    "delete_site",
    "refreshing",
    "save_site",
    "stored_sites",
    "values_of",
]
