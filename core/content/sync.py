"""Bring the database in line with the content files, in one transaction.

Every entry added, changed or removed also gets a search outbox row in the same
transaction, so the search index can never silently miss a change.

Questionnaire definitions are synced in the same transaction; a file that would change
a published version aborts the whole sync (``ContentRejected``).

Only what changed is written (compared by content hash), so a second sync of
the same files changes nothing; entries whose file is gone are removed. The
caller validates first: ``sync_content`` is only ever given a clean ContentSet.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from typing import Any

import msgspec

from core.content.facets import DIMENSION_FIELD, DIMENSION_PARAM, DIMENSIONS
from core.content.model import ContentSet, Entry
from core.content.rendered import refresh as refresh_rendered
from core.db.engine import write_transaction
from core.db.tables import (
    ContentSource,
    EditorialEntry,
    EditorialSlugRedirect,
    EntryTerm,
    RegionSource,
    SearchOutbox,
    TaxonomyTerm,
)
from core.db.tables import Entry as EntryRow
from core.quickcheck.store import QuestionnaireSyncReport, sync_questionnaires

# The fields an editor edits (core.editing.model.FIELDS; defined here too, as core.editing
# builds on this module).
EDITABLE_FIELDS = (
    "title",
    "summary",
    "kind",
    "topics",
    "phases",
    "audiences",
    "tags",
    "search_terms",
    "duration",
    "materials",
    "related",
    "updated_at",
    "body",
)


class SyncReport(msgspec.Struct, kw_only=True):
    added: list[str] = []
    updated: list[str] = []
    removed: list[str] = []
    unchanged: int = 0
    # Entries under editing whose file differs from what the editorial line is based on
    # (slug -> why): the live revision is kept; the Freigabe decides (docs/EDITING.md).
    conflicts: dict[str, str] = {}
    taxonomy_changed: bool = False
    sources_changed: bool = False
    # Regions made in the editor whose name a pack from files (a plugin) now provides.
    regions_in_files: list[str] = []
    questionnaires: QuestionnaireSyncReport = msgspec.field(default_factory=QuestionnaireSyncReport)
    # The version of the rendered read answers this sync made (None: none changed).
    rendered_version: int | None = None

    @property
    def changed(self) -> bool:
        return bool(
            self.added
            or self.updated
            or self.removed
            or self.taxonomy_changed
            or self.sources_changed
            or bool(
                self.questionnaires.added
                or self.questionnaires.updated
                or self.questionnaires.removed
            )
        )


def sort_key(title: str) -> str:
    """German sort key after DIN 5007-1: umlauts sort as their base letter, ß as ss."""
    folded = title.casefold().replace("ß", "ss")
    decomposed = unicodedata.normalize("NFKD", folded)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


async def sync_content(content: ContentSet) -> SyncReport:
    """Apply ``content`` to the database atomically and report what changed."""
    report = SyncReport()
    now = dt.datetime.now(dt.UTC)
    async with write_transaction(EntryRow._meta.db):
        existing = {
            row["slug"]: row
            for row in await EntryRow.select(EntryRow.id, EntryRow.slug, EntryRow.content_hash)
        }
        wanted = {entry.slug: entry for entry in content.entries}
        # Entries with editorial history are never written by a sync (docs/EDITING.md).
        protected = await _editorial_guard(wanted, existing, report, now)
        wanted = {slug: e for slug, e in wanted.items() if slug not in protected}

        gone = sorted(set(existing) - set(wanted) - protected)
        if gone:
            ids = [existing[slug]["id"] for slug in gone]
            await EntryTerm.delete().where(EntryTerm.entry.is_in(ids))
            await EntryRow.delete().where(EntryRow.id.is_in(ids))
            report.removed = gone

        for slug, entry in sorted(wanted.items()):
            row = existing.get(slug)
            if row is None:
                result = await EntryRow.insert(EntryRow(**_row_values(entry, now))).returning(
                    EntryRow.id
                )
                await _write_terms(result[0]["id"], entry)
                report.added.append(slug)
            elif row["content_hash"] != entry.content_hash:
                values = _row_values(entry, now)
                await EntryRow.update({getattr(EntryRow, k): v for k, v in values.items()}).where(
                    EntryRow.id == row["id"]
                )
                await EntryTerm.delete().where(EntryTerm.entry == row["id"])
                await _write_terms(row["id"], entry)
                report.updated.append(slug)
            else:
                report.unchanged += 1

        # Same transaction: a change is searchable-pending exactly when it is stored.
        await SearchOutbox.enqueue([*report.removed, *report.added, *report.updated])

        report.taxonomy_changed = await _replace_if_changed(
            TaxonomyTerm,
            [msgspec.structs.asdict(t) for t in content.taxonomy],
            ("dimension", "slug", "label", "description", "position", "source"),
        )
        # Regions made in the editor (region_source) are sources without files: kept after
        # the packs. One whose name a pack from files now has (its plugin was installed)
        # is that pack from now on; reported, its entries stay as the editorial rules say.
        packs = [(p.name, p.label) for p in content.packs]
        file_packs = {name for name, _ in packs}
        for region in await RegionSource.select(RegionSource.name, RegionSource.label).order_by(
            RegionSource.name
        ):
            if region["name"] in file_packs:
                report.regions_in_files.append(region["name"])
            else:
                packs.append((region["name"], region["label"]))
        report.sources_changed = await _replace_if_changed(
            ContentSource,
            [
                {"name": name, "label": label, "position": i}
                for i, (name, label) in enumerate(packs)
            ],
            ("name", "label", "position"),
        )
        # Raises ContentRejected (and so rolls everything back) rather than change a
        # published questionnaire version in place.
        report.questionnaires = await sync_questionnaires(content.questionnaires)
        # Same transaction: the answers the API serves change exactly when the content does.
        report.rendered_version = await refresh_rendered()
    return report


async def store_entry(entry: Entry, now: dt.datetime) -> None:
    """Insert or replace one entry's row and its filter terms (inside the caller's
    transaction); the caller queues it for the indexer."""
    values = _row_values(entry, now)
    found = await EntryRow.select(EntryRow.id).where(EntryRow.slug == entry.slug).first()
    if found is None:
        result = await EntryRow.insert(EntryRow(**values)).returning(EntryRow.id)
        await _write_terms(result[0]["id"], entry)
        return
    await EntryRow.update({getattr(EntryRow, k): v for k, v in values.items()}).where(
        EntryRow.id == found["id"]
    )
    await EntryTerm.delete().where(EntryTerm.entry == found["id"])
    await _write_terms(found["id"], entry)


async def _editorial_guard(
    wanted: dict[str, Entry],
    existing: dict[str, Any],
    report: SyncReport,
    now: dt.datetime,
) -> set[str]:
    """The slugs sync must leave alone: every entry with an editorial row, and every old
    slug of a renamed entry. A file that differs both from the file the editorial line
    started from and from the live entry is a conflict: stored for the Freigabe, reported."""
    editorial = {
        row["slug"]: row
        for row in await EditorialEntry.select(
            EditorialEntry.slug, EditorialEntry.file_hash, EditorialEntry.conflict
        ).output(load_json=True)
    }
    renamed = {
        row["old_slug"]: row["new_slug"]
        for row in await EditorialSlugRedirect.select(
            EditorialSlugRedirect.old_slug, EditorialSlugRedirect.new_slug
        )
    }
    for slug, new_slug in sorted(renamed.items()):
        if slug in wanted and slug not in existing:
            report.conflicts[slug] = (
                f"renamed to {new_slug!r} in the editor; the file under the old name is "
                "ignored (`content export` writes it under the new name)"
            )
    for slug, ed in sorted(editorial.items()):
        file_entry = wanted.get(slug)
        if file_entry is None:
            continue
        live = existing.get(slug)
        if file_entry.content_hash == ed["file_hash"]:
            continue  # the file the editorial line started from: nothing new
        if live is not None and file_entry.content_hash == live["content_hash"]:
            # The file caught up with the live revision (an export was committed).
            await EditorialEntry.update(
                {EditorialEntry.file_hash: file_entry.content_hash, EditorialEntry.conflict: None}
            ).where(EditorialEntry.slug == slug)
            continue
        conflict = ed["conflict"] or {}
        if conflict.get("file_hash") != file_entry.content_hash:
            await EditorialEntry.update(
                {
                    EditorialEntry.conflict: msgspec.json.encode(
                        {
                            "file_hash": file_entry.content_hash,
                            "source_path": file_entry.source_path,
                            "data": _editable(file_entry),
                            "found_at": now.isoformat(),
                        }
                    ).decode()
                }
            ).where(EditorialEntry.slug == slug)
        report.conflicts[slug] = (
            "the file changed while the entry is edited in the browser; the live revision "
            "is kept until the Freigabe decides (Redaktion → Konflikte)"
        )
    return set(editorial) | {slug for slug in renamed if slug not in existing}


def _editable(entry: Entry) -> dict[str, Any]:
    """The editable fields of a loaded entry (as core.editing stores them in revisions)."""
    values = msgspec.to_builtins(entry)
    return {
        **{k: values[k] for k in EDITABLE_FIELDS if k != "body"},
        "body": entry.body_markdown,
    }


def _row_values(entry: Entry, now: dt.datetime) -> dict[str, Any]:
    values = msgspec.structs.asdict(entry)
    values["title_sort"] = sort_key(entry.title)
    values["synced_at"] = now
    return values


async def _write_terms(entry_id: int, entry: Entry) -> None:
    rows = []
    for dimension in DIMENSIONS:
        value = getattr(entry, DIMENSION_FIELD[dimension])
        for item in [value] if isinstance(value, str) else value:
            rows.append(EntryTerm(entry=entry_id, dimension=DIMENSION_PARAM[dimension], value=item))
    rows.extend(
        EntryTerm(entry=entry_id, dimension="tag", value=tag.casefold())
        for tag in dict.fromkeys(entry.tags)
    )
    if rows:
        await EntryTerm.insert(*rows)


async def _replace_if_changed(
    table: Any, wanted: list[dict[str, Any]], keys: tuple[str, ...]
) -> bool:
    columns = [getattr(table, k) for k in keys]
    current = await table.select(*columns).order_by(table.id)
    if [tuple(r[k] for k in keys) for r in current] == [tuple(w[k] for k in keys) for w in wanted]:
        return False
    await table.delete(force=True)
    if wanted:
        await table.insert(*(table(**{k: w[k] for k in keys}) for w in wanted))
    return True
