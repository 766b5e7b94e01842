"""Regions made in the editor (/redaktion/regionen): an admin creates a content source for
a new region — name, label, colours, logo, partner site — and its editors write entries in
the browser, with no developer and no redeploy.

A region is one row of ``region_source`` plus, in the same transaction, its pack name in
``content_source`` (so accounts, the editor, the API's ``source`` filter and search know
it at once; ``content sync`` keeps it) and its first partner site in ``partner_site``
(theme: the region's). Its theme is rendered from the same template files as a scaffolded
plugin's theme (``core.ops.scaffold.theme_files``) into a folder of this worker, loaded
like every theme folder (``load_themes``: the same token checks) and put beside the file
themes; ``LiveSites.refresh`` re-reads the rows, so every worker serves a new or changed
region within ``MENTORING40_SITES_REFRESH_SECONDS`` and this worker at once.

A theme of the same name from files (a plugin made later with ``plugins new
--from-pack``) wins: the region's row is then only its record, and the list says so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import logging
import shutil
import tempfile
from importlib.metadata import entry_points
from pathlib import Path

import msgspec
from PIL import Image, UnidentifiedImageError

from core import PROJECT_NAME
from core.content.rendered import refresh as refresh_rendered
from core.db.tables import ContentSource, RegionSource
from core.ops.scaffold import (
    COLOUR_RE,
    LABEL_RE,
    MIN_CONTRAST,
    NAME_MAX,
    NAME_RE,
    RESERVED,
    Region,
    contrast_with_white,
    theme_files,
    write_files,
)
from core.web.site_store import DATABASE_PLUGIN, SiteProblem, SiteValues, save_site
from core.web.themes import Theme, load_themes

log = logging.getLogger("mentoring40.web")

# A logo is shown at header height: a few hundred pixels and kilobytes are plenty.
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_SIDE = 2000


class RegionValues(msgspec.Struct, kw_only=True):
    """What an admin sets for a region."""

    name: str
    label: str
    primary: str
    accent: str


class RegionRecord(RegionValues, kw_only=True):
    logo: bytes | None = None
    logo_type: str = ""
    created_at: dt.datetime
    updated_at: dt.datetime
    updated_by: str = ""

    def region(self) -> Region:
        return Region(name=self.name, label=self.label, primary=self.primary, accent=self.accent)


def check_region_values(
    values: RegionValues, *, taken: set[str] | None = None
) -> tuple[RegionValues, list[SiteProblem]]:
    """``values`` normalised and every problem at once, by the scaffold's rules (name,
    label, colours as #rrggbb with white text at 4.5:1 or more). ``taken``: names that are
    already a content source, theme or site (None: an update, the name stays)."""
    problems: list[SiteProblem] = []
    name = values.name.strip()
    if taken is not None:
        if not NAME_RE.match(name) or not 2 <= len(name) <= NAME_MAX:
            problems.append(SiteProblem("name", "name_invalid", name[:40]))
        elif name in RESERVED:
            problems.append(SiteProblem("name", "name_reserved", name))
        elif name in taken or name in {ep.name for ep in entry_points(group=PROJECT_NAME)}:
            problems.append(SiteProblem("name", "name_taken", name))
    label = " ".join(values.label.split())
    if not LABEL_RE.match(label) or len(label) > 80:
        problems.append(SiteProblem("label", "label_invalid", label[:40]))
    colours = {}
    for field in ("primary", "accent"):
        colour = getattr(values, field).strip()
        if not COLOUR_RE.match(colour):
            problems.append(SiteProblem(field, "colour_invalid", colour[:20]))
        elif (ratio := contrast_with_white(colour)) < MIN_CONTRAST:
            problems.append(SiteProblem(field, "colour_contrast", colour, f"{ratio:.1f}"))
        colours[field] = colour.lower()
    cleaned = RegionValues(name=name, label=label, **colours)
    return cleaned, problems


def check_logo(data: bytes, filename: str = "") -> tuple[bytes | None, SiteProblem | None]:
    """The logo as clean PNG bytes (decoded and written anew: no metadata, no trailing
    data), or the problem. PNG and WebP only: an SVG is a document that can carry scripts
    and links, and no sanitiser for it is part of our stack; a raster image cannot."""
    if not data:
        return None, None
    if len(data) > LOGO_MAX_BYTES:
        return None, SiteProblem("logo", "logo_large", f"{len(data) // 1024} KiB")
    head = data[:512].lstrip().lower()
    if filename.lower().endswith(".svg") or head.startswith((b"<?xml", b"<svg", b"<!doctype")):
        return None, SiteProblem("logo", "logo_svg")
    try:
        with Image.open(io.BytesIO(data), formats=("PNG", "WEBP")) as image:
            if max(image.size) > LOGO_MAX_SIDE:
                return None, SiteProblem("logo", "logo_pixels", "×".join(map(str, image.size)))
            image.load()
            clean = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        return None, SiteProblem("logo", "logo_invalid")
    out = io.BytesIO()
    clean.save(out, format="PNG", optimize=True)
    return out.getvalue(), None


async def stored_regions() -> list[RegionRecord]:
    rows = await RegionSource.select().order_by(RegionSource.name)
    return [msgspec.convert(r, RegionRecord, strict=False) for r in rows]


async def region_names() -> set[str]:
    return {r["name"] for r in await RegionSource.select(RegionSource.name)}


async def create_region(
    values: RegionValues, logo: bytes | None, site: SiteValues, by: str
) -> None:
    """Store the region, its content source and its partner site in one transaction (values
    already checked); the stored read answers (the API's taxonomy lists the sources)
    follow in the same transaction."""
    now = dt.datetime.now(dt.UTC)
    async with RegionSource._meta.db.transaction():
        await RegionSource.insert(
            RegionSource(
                name=values.name, label=values.label, primary=values.primary,
                accent=values.accent, logo=logo, logo_type="image/png" if logo else "",
                created_at=now, updated_at=now, updated_by=by,
            )
        )  # fmt: skip
        last = (
            await ContentSource.select(ContentSource.position)
            .order_by(ContentSource.position, ascending=False)
            .first()
        )
        await ContentSource.insert(
            ContentSource(
                name=values.name,
                label=values.label,
                position=(last or {"position": -1})["position"] + 1,
            )
        )
        await save_site(site, by=by)
        await refresh_rendered()


async def update_region(
    values: RegionValues, logo: bytes | None, by: str, *, drop_logo: bool = False
) -> None:
    """Change label and colours (and the logo, if one is given or ``drop_logo``)."""
    columns: dict[object, object] = {
        RegionSource.label: values.label,
        RegionSource.primary: values.primary,
        RegionSource.accent: values.accent,
        RegionSource.updated_at: dt.datetime.now(dt.UTC),
        RegionSource.updated_by: by,
    }
    if logo is not None or drop_logo:
        columns[RegionSource.logo] = logo
        columns[RegionSource.logo_type] = "image/png" if logo else ""
    async with RegionSource._meta.db.transaction():
        await RegionSource.update(columns).where(RegionSource.name == values.name)  # type: ignore[arg-type]
        await ContentSource.update({ContentSource.label: values.label}).where(
            ContentSource.name == values.name
        )
        await refresh_rendered()


@dataclasses.dataclass
class LiveRegions:
    """The regions' themes in this worker: each rendered into a folder of its own (a new
    folder per change) and added to the Web's theme dict, which every page reads."""

    web_themes: dict[str, Theme]
    file_themes: dict[str, Theme] = dataclasses.field(default_factory=dict)
    records: dict[str, RegionRecord] = dataclasses.field(default_factory=dict)
    shadowed: set[str] = dataclasses.field(default_factory=set)
    _folder: Path | None = None
    _signature: tuple[tuple[str, dt.datetime], ...] | None = None
    _written: dict[str, tuple[dt.datetime, Path]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        self.file_themes = dict(self.web_themes)

    def theme_names(self) -> frozenset[str]:
        return frozenset(self.web_themes)

    def close(self) -> None:
        """Remove this worker's folder of region themes (when the app stops). A refresh
        after that writes them again."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        self._folder, self._signature = None, None
        self._written.clear()

    async def refresh(self) -> None:
        """Re-read the regions if one changed: a small query (names and times, no logos)
        on every refresh, the whole rows only after a change."""
        heads = await RegionSource.select(RegionSource.name, RegionSource.updated_at).order_by(
            RegionSource.name
        )
        if tuple((r["name"], r["updated_at"]) for r in heads) == self._signature:
            return
        self.apply(await stored_regions())

    def apply(self, records: list[RegionRecord]) -> None:
        # Nothing changed since the last look (the usual case): no files, no theme loading.
        signature = tuple((r.name, r.updated_at) for r in records)
        if signature == self._signature:
            return
        self._signature = signature
        self.records = {r.name: r for r in records}
        self.shadowed = {r.name for r in records if r.name in self.file_themes}
        if self._folder is None and records:
            self._folder = Path(tempfile.mkdtemp(prefix="mentoring40-regions-"))
        folders: list[tuple[str, Path]] = []
        for record in records:
            if record.name in self.shadowed:
                continue
            written = self._written.get(record.name)
            if written is None or written[0] != record.updated_at:
                assert self._folder is not None  # made above: there are records
                folder = self._folder / f"{record.name}-{record.updated_at.timestamp():.6f}"
                if not folder.exists():
                    write_files(folder, theme_files(record.region(), logo=record.logo))
                if written is not None and written[1] != folder:
                    shutil.rmtree(written[1], ignore_errors=True)
                written = (record.updated_at, folder)
                self._written[record.name] = written
            folders.append((DATABASE_PLUGIN, written[1]))
        if not folders and not (set(self.web_themes) - set(self.file_themes)):
            return
        sources = [(t.plugin, t.folder) for t in self.file_themes.values()]
        themes, problems = load_themes(sources + folders)
        for problem in problems:
            log.warning("A region's theme in the database is not used: %s", problem)
        for name in set(self.web_themes) - set(self.file_themes):
            if name not in themes:
                del self.web_themes[name]
        for _, folder in folders:
            for name, theme in themes.items():
                if theme.folder == folder:
                    self.web_themes[name] = theme


__all__ = [
    "LOGO_MAX_BYTES",
    "LiveRegions",
    "RegionRecord",
    "RegionValues",
    "check_logo",
    "check_region_values",
    "create_region",
    "region_names",
    "stored_regions",
    "update_region",
]
