"""Write the content stored in the database back into the content file format.

Per source: the core's pack goes into the target folder itself (``taxonomy.yaml`` and
``entries/<slug>.md``), so ``MENTORING40_CONTENT_DIR=<folder> mentoring40 content check``
reads it as the core content; every plugin's pack goes into ``<folder>/<source>/`` in the
same layout (plugins bring their own folders, so those are for inspection or to put back
into the plugin's package; the core loader ignores them).

Every stored entry is written, drafts too (with ``status: draft``; they are stored but never
served), so a sync of the exported folder gives the same entries with the same content
hashes. The front matter keeps the order of the shipped files; the body is
``body_markdown``. Questionnaires, search vocabulary and sites are not stored as files in
the database and are not exported; except for a region made in the editor, whose
``--pack`` export also holds its theme and partner sites (``write_pack``).
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path
from typing import Any

import msgspec
import yaml

from core.content.facets import DIMENSIONS
from core.content.model import CORE_SOURCE
from core.content.sync import EDITABLE_FIELDS
from core.db.tables import ContentSource, Entry, PartnerSite, RegionSource, TaxonomyTerm
from core.ops.scaffold import Region, staged_folder, theme_files, write_files

# Names a plugin source cannot take: they are folders of the core's own pack.
RESERVED = {"entries", "questionnaires", "search", "sites"}
_WIDE = 1_000_000
_LINE = 100


class _Dumper(yaml.SafeDumper):
    """Indents list items under their key ("  - slug: ..."), as the shipped files do."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


class ExportError(RuntimeError):
    """The export cannot be written; the message says why."""


class ExportReport(msgspec.Struct, kw_only=True):
    entries: dict[str, int] = {}  # source -> entries written
    folders: dict[str, str] = {}  # source -> folder


def _dump(key: str, value: Any) -> str:
    """One front matter field as in the shipped files: lists inline (``materials`` one item
    a line), a long summary folded (``>-``)."""
    if key == "summary" and isinstance(value, str) and len(value) > _LINE - 10:
        lines = textwrap.wrap(value, 78, break_long_words=False, break_on_hyphens=False)
        if " ".join(lines) == value and not value.startswith((" ", "#")):
            return "summary: >-\n" + "".join(f"  {line}\n" for line in lines)
    inline = isinstance(value, list)
    text: str = yaml.dump(
        {key: value},
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=None if inline else False,
        width=_WIDE,
    )
    if inline and value and (key == "materials" or len(text) > 4 * _LINE):
        text = yaml.dump(
            {key: value},
            Dumper=_Dumper,
            allow_unicode=True,
            sort_keys=False,
            default_flow_style=False,
            width=_WIDE,
        )
    return text


def _json(value: Any) -> Any:
    if isinstance(value, str | bytes):
        try:
            return msgspec.json.decode(value)
        except msgspec.DecodeError:
            return value  # typed by an editor, not stored: the loader explains it
    return value


# The front matter fields in the order of the shipped files: what an editor edits (one
# list, core.content.sync), the body aside, then the status.
FIELD_ORDER = (*(f for f in EDITABLE_FIELDS if f != "body"), "status")
_LISTS = {"topics", "phases", "audiences", "tags", "search_terms", "materials", "related"}
# Optional fields written only when they hold something (a file without them means the
# same, and the files of entries without search terms stay as they were).
_LEFT_OUT_EMPTY: dict[str, tuple[Any, ...]] = {"duration": (None,), "search_terms": (None, [])}


def entry_file(row: dict[str, Any]) -> str:
    """One entry as a Markdown file with YAML front matter, fields in the shipped order.

    A stored row has every field; the editor also writes what an editor typed (fields may
    be missing or of the wrong type), so that the loader reports exactly what ``content
    check`` would report for such a file."""
    fields: list[tuple[str, Any]] = []
    for key in FIELD_ORDER:
        if key not in row:
            continue
        value = row[key]
        if key in _LISTS:
            value = _json(value)
        if value in _LEFT_OUT_EMPTY.get(key, ()):
            continue
        if key == "updated_at":
            value = _date(value)
        fields.append((key, value))
    front = "".join(_dump(k, v) for k, v in fields)
    body = str(row.get("body_markdown", "")).strip("\n") + "\n"
    return f"---\n{front}---\n\n{body}"


def _date(value: Any) -> Any:
    """A stored date as a date; anything else as it is (the loader then says what is wrong)."""
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return value


def taxonomy_file(terms: list[dict[str, Any]], source: str) -> str:
    data: dict[str, list[dict[str, str]]] = {}
    for dimension in DIMENSIONS:
        chosen = sorted(
            (t for t in terms if t["dimension"] == dimension and t["source"] == source),
            key=lambda t: t["position"],
        )
        if chosen:
            data[dimension] = [
                {"slug": t["slug"], "label": t["label"]}
                | ({"description": t["description"]} if t["description"] else {})
                for t in chosen
            ]
    header = f"# Exported from the database by `mentoring40 content export` (source {source}).\n"
    body: str = yaml.dump(
        data,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=_WIDE,
    )
    return header + (body if data else "{}\n")


class Stored(msgspec.Struct, kw_only=True):
    entries: list[dict[str, Any]]
    terms: list[dict[str, Any]]
    sources: list[str]
    # Regions made in the editor (region_source rows) and the partner sites in the database.
    regions: list[dict[str, Any]] = []
    sites: list[dict[str, Any]] = []


async def read_stored() -> Stored:
    """Entries, taxonomy terms and source names as the last sync stored them; the regions
    made in the editor and the partner sites kept in the database."""
    entries = await Entry.select().order_by(Entry.slug)
    terms = await TaxonomyTerm.select().order_by(TaxonomyTerm.position)
    names = await ContentSource.select(ContentSource.name).order_by(ContentSource.position)
    regions = await RegionSource.select().order_by(RegionSource.name)
    sites = await PartnerSite.select().order_by(PartnerSite.site_id).output(load_json=True)
    return Stored(
        entries=entries,
        terms=terms,
        sources=[r["name"] for r in names],
        regions=regions,
        sites=sites,
    )


def write_pack(target: Path, stored: Stored, pack: str) -> ExportReport:
    """Write one pack into ``target`` (new or empty folder): its taxonomy and entries laid
    out as a pack (``taxonomy.yaml``, ``entries/<slug>.md``). A region made in the editor
    is written as the package folder of a plugin: ``content/`` (the pack), ``theme/``
    (tokens and logo) and ``sites/`` (its partner sites), which ``plugins new --from-pack``
    takes as they are. Written into a temporary folder beside the target and moved into
    place with one rename: a failed export leaves nothing behind."""
    known = list(dict.fromkeys([*stored.sources, *(r["source"] for r in stored.entries)]))
    if pack not in known:
        raise ExportError(
            f"there is no content pack {pack!r} in the database; known: {', '.join(known)}"
        )
    _require_empty(target)
    target = target.absolute()
    if not target.parent.is_dir():
        raise ExportError(f"the folder {target.parent} does not exist (nothing was written).")
    region = next((r for r in stored.regions if r["name"] == pack), None)
    with staged_folder(target) as staging:
        if region is None:
            report = _write_source(staging, stored, pack, ExportReport())
        else:
            report = _write_source(staging / "content", stored, pack, ExportReport())
            _write_region(staging, stored, region)
    report.folders[pack] = str(target / "content" if region is not None else target)
    return report


# The fields of a site file, in the order the shipped site files use.
_SITE_FIELDS = ("label", "description", "theme", "origins", "sources", "topics",
                "questionnaires", "language")  # fmt: skip


def _write_region(target: Path, stored: Stored, region: dict[str, Any]) -> None:
    """The region's theme (rendered as the editor serves it) and every partner site in the
    database that shows it (its theme is the region's)."""
    name = region["name"]
    shape = Region(name=name, label=region["label"], primary=region["primary"],
                   accent=region["accent"])  # fmt: skip
    write_files(target / "theme", theme_files(shape, logo=region["logo"] or None))
    (target / "sites").mkdir()
    for site in stored.sites:
        if site["theme"] != name or not site["active"]:
            continue
        data = {k: site[k] for k in _SITE_FIELDS if site.get(k) not in (None, "")}
        header = (
            f"# Partner site {site['site_id']} of the region {region['label']}, exported from "
            "the database by `mentoring40 content export`.\n"
        )
        text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=_WIDE)
        (target / "sites" / f"{site['site_id']}.yaml").write_text(header + text, encoding="utf-8")


def _require_empty(target: Path) -> None:
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise ExportError(
            f"{target} exists and is not an empty folder; export into a new or empty folder "
            "(a previous export's files would mix with this one)."
        )


def _write_source(target: Path, stored: Stored, source: str, report: ExportReport) -> ExportReport:
    (target / "entries").mkdir(parents=True, exist_ok=True)
    (target / "taxonomy.yaml").write_text(taxonomy_file(stored.terms, source), encoding="utf-8")
    count = 0
    for row in stored.entries:
        if row["source"] == source:
            path = target / "entries" / f"{row['slug']}.md"
            path.write_text(entry_file(row), encoding="utf-8")
            count += 1
    report.entries[source] = count
    report.folders[source] = str(target)
    return report


def write_export(target: Path, stored: Stored) -> ExportReport:
    """Write every source's taxonomy and entries under ``target`` (new or empty folder)."""
    _require_empty(target)
    rows = stored.entries
    sources = list(dict.fromkeys([CORE_SOURCE, *stored.sources, *(r["source"] for r in rows)]))
    for name in sources:
        if name in RESERVED:
            raise ExportError(f"source {name!r} clashes with a folder of the core content pack")
    report = ExportReport()
    for source in sources:
        _write_source(target if source == CORE_SOURCE else target / source, stored, source, report)
    return report


__all__ = [
    "ExportError",
    "ExportReport",
    "entry_file",
    "read_stored",
    "taxonomy_file",
    "write_export",
    "write_pack",
]
