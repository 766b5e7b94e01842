"""Read answers rendered once when content changes, served many times.

The published content changes a few times a day and is read on every partner page view,
so the JSON of every entry (with its links and backlinks), of the unfiltered first page
of the list and of the taxonomy is rendered to bytes when the content changes, with its
strong ETag and gzip and brotli variants, and stored in ``rendered_document``. A number
in ``rendered_version`` grows with every change; each worker process polls it
(``RenderedStore``) and reloads the documents when it moves, so every worker and every
instance on the same database serves the change within a second.

**Whoever changes published content calls** :func:`refresh` inside the same transaction
as the change (``mentoring40 content sync`` does, in ``core.content.sync``; an editorial
publish does the same). It renders everything again (the backlinks and titles of one
entry appear in its neighbours, and the whole set renders in milliseconds), stores the
documents whose bytes changed, deletes those that are gone and bumps the version. Stores
in the calling process are told at once; other processes see it at their next poll.

Any other list query (filters, sort, page) is rendered on its first request from the
database and kept by the worker until the content changes (``RenderedStore.remember``).
The bytes are the ones the API sent before they were stored (tests/test_rendered.py
compares both for every shipped entry and list query).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import hashlib
import logging
import math
import os
import time
import weakref
from collections import defaultdict
from typing import Any

import brotli  # type: ignore[import-untyped]
import msgspec
from piccolo.engine.sqlite import SQLiteEngine

from core.content import queries
from core.content.documents import (
    EntryDetail,
    EntryList,
    EntryOne,
    EntryRef,
    EntrySummary,
    ListMeta,
    Pagination,
    Taxonomy,
    TaxonomyOne,
)
from core.content.markdown import entry_url
from core.content.model import PUBLISHED
from core.db.tables import Entry as EntryRow
from core.db.tables import RenderedDocument, RenderedVersion

log = logging.getLogger("mentoring40.rendered")

ENTRY = "entry:"  # + slug
LIST = "entries:"  # + the raw query string; only the unfiltered list ("") is stored
TAXONOMY = "taxonomy"
VERSION_ROW = "content"
# How often each worker reads the version row (one primary-key read): a change is
# served everywhere within this plus the time to load the documents.
POLL_SECONDS = 0.25
# A local change is served from the database until the store has loaded it, at most
# this long (the change's transaction may also have rolled back).
EXPECT_SECONDS = 5.0
# Answers rendered on request and kept per worker (any filter, sort and page combination
# of the list): at most this many bytes (all variants) until the content changes.
MAX_REMEMBERED_BYTES = 32 * 1024 * 1024
BROTLI_QUALITY = 6  # ~2 ms for a long entry; 11 took ~80 ms for the same bytes


class Rendered(msgspec.Struct, frozen=True):
    """One answer: the identity bytes, their strong ETag, compressed variants (None when
    not smaller)."""

    body: bytes
    etag: str
    gzip: bytes | None = None
    br: bytes | None = None


def etag_for(body: bytes) -> str:
    """A strong ETag: any change in the bytes sent changes it (same since the API began,
    so ETags survive restarts and this change)."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def compress(body: bytes) -> Rendered:
    """``body`` with its ETag and its gzip and brotli variants (each only when smaller)."""
    gz = gzip.compress(body, compresslevel=9, mtime=0)
    br = brotli.compress(body, quality=BROTLI_QUALITY)
    return Rendered(
        body=body,
        etag=etag_for(body),
        gzip=gz if len(gz) < len(body) else None,
        br=br if len(br) < len(body) else None,
    )


# -- rendering ------------------------------------------------------------------------


def _ref(row: dict[str, Any]) -> EntryRef:
    return EntryRef(
        slug=row["slug"],
        title=row["title"],
        summary=row["summary"],
        kind=row["kind"],
        source=row["source"],
        url=entry_url(row["slug"]),
    )


def _detail_bytes(row: dict[str, Any]) -> bytes:
    row = {
        **row,
        "url": entry_url(row["slug"]),
        "links_to": [_ref(r) for r in row["links_to"]],
        "linked_from": [_ref(r) for r in row["linked_from"]],
    }
    return msgspec.json.encode(EntryOne(data=msgspec.convert(row, EntryDetail, strict=False)))


async def render_entry(slug: str) -> bytes | None:
    """The answer of ``GET /api/v1/entries/{slug}`` read from the database now (None: no
    published entry), for a request the store cannot answer yet."""
    row = await queries.get_entry(slug)
    return None if row is None else _detail_bytes(row)


async def render_entries() -> dict[str, bytes]:
    """Every published entry's answer, with links and backlinks worked out once for all."""
    rows = await (
        EntryRow.select(
            *queries.SUMMARY_COLUMNS,
            EntryRow.title_sort,
            EntryRow.materials,
            EntryRow.related,
            EntryRow.links,
            EntryRow.body_markdown,
            EntryRow.body_html,
        )
        .where(EntryRow.status == PUBLISHED)
        .output(load_json=True)
    )
    by_slug = {row["slug"]: row for row in rows}
    backlinks: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for target in row["links"]:
            if target != row["slug"]:
                backlinks[target].add(row["slug"])
    answers = {}
    for row in rows:
        slug = row["slug"]
        back = sorted(backlinks[slug], key=lambda s: (by_slug[s]["title_sort"], s))
        entry = {key: value for key, value in row.items() if key != "title_sort"}
        entry["links_to"] = [by_slug[s] for s in row["links"] if s in by_slug]
        entry["linked_from"] = [by_slug[s] for s in back]
        answers[slug] = _detail_bytes(entry)
    return answers


async def render_entry_list(query: queries.EntryQuery) -> bytes:
    """The answer of ``GET /api/v1/entries`` for a validated ``query``."""
    rows, total = await queries.list_entries(query)
    pagination = Pagination(
        page=query.page,
        page_size=query.page_size,
        page_count=math.ceil(total / query.page_size),
        total=total,
    )
    data = [msgspec.convert({**row, "url": entry_url(row["slug"])}, EntrySummary) for row in rows]
    return msgspec.json.encode(EntryList(data=data, meta=ListMeta(pagination=pagination)))


async def render_taxonomy() -> bytes:
    """The answer of ``GET /api/v1/taxonomy``."""
    taxonomy = msgspec.convert(await queries.taxonomy_with_counts(), Taxonomy)
    return msgspec.json.encode(TaxonomyOne(data=taxonomy))


async def render_all() -> dict[str, bytes]:
    """Every stored answer by key: each entry, the unfiltered list, the taxonomy."""
    answers = {ENTRY + slug: body for slug, body in (await render_entries()).items()}
    answers[LIST] = await render_entry_list(queries.EntryQuery())
    answers[TAXONOMY] = await render_taxonomy()
    return answers


# -- storing --------------------------------------------------------------------------


async def refresh() -> int | None:
    """Render every answer again and store what changed; call it inside the transaction
    that changed published content (sync, editorial publish). Returns the new version,
    or None when no answer changed. Workers of this process serve the change at once
    (from the database until they have loaded it); other processes within a second."""
    answers = await render_all()
    stored = {
        row["key"]: row["etag"]
        for row in await RenderedDocument.select(RenderedDocument.key, RenderedDocument.etag)
    }
    gone = sorted(set(stored) - set(answers))
    changed = 0
    if gone:
        await RenderedDocument.delete().where(RenderedDocument.key.is_in(gone))
    for key, body in answers.items():
        etag = etag_for(body)
        if stored.get(key) == etag:
            continue
        doc = compress(body)
        values: dict[str, Any] = {
            "etag": doc.etag,
            "body": doc.body,
            "body_gzip": doc.gzip,
            "body_br": doc.br,
        }
        if key in stored:
            await RenderedDocument.update(
                {getattr(RenderedDocument, k): v for k, v in values.items()}
            ).where(RenderedDocument.key == key)
        else:
            await RenderedDocument.insert(RenderedDocument(key=key, **values))
        changed += 1
    if not changed and not gone:
        return None
    version = await _bump_version()
    log.info("rendered answers: %d changed, %d removed, version %d", changed, len(gone), version)
    for store in list(_STORES):
        if store.database == database_identity():
            store.expect(version)
    return version


async def _bump_version() -> int:
    # One UPDATE ... RETURNING: concurrent changes on PostgreSQL queue on the row lock
    # and each gets its own number.
    rows = await (
        RenderedVersion.update({RenderedVersion.version: RenderedVersion.version + 1})
        .where(RenderedVersion.name == VERSION_ROW)
        .returning(RenderedVersion.version)
    )
    if rows:
        return int(rows[0]["version"])
    await RenderedVersion.insert(RenderedVersion(name=VERSION_ROW, version=1))
    return 1


def database_identity() -> str:
    """Which database the tables point at now (a file, or a PostgreSQL address), to tell
    the stores of this process that serve the same database."""
    engine = RenderedVersion._meta.db
    if isinstance(engine, SQLiteEngine):
        return "sqlite:" + os.path.realpath(str(engine.path))
    config = getattr(engine, "config", {})
    return "postgres:" + repr(sorted((k, str(v)) for k, v in config.items()))


# -- serving --------------------------------------------------------------------------


class Snapshot(msgspec.Struct):
    version: int
    documents: dict[str, Rendered]
    remembered_bytes: int = 0


_STORES: weakref.WeakSet[RenderedStore] = weakref.WeakSet()


class RenderedStore:
    """The stored answers in one worker process, kept current by polling the version."""

    def __init__(self) -> None:
        self._snapshot = Snapshot(version=-1, documents={})
        self._expected = 0
        self._expected_until = 0.0
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self.database = ""
        _STORES.add(self)

    @property
    def version(self) -> int:
        """The version served (-1: nothing loaded yet)."""
        return self._snapshot.version

    def _behind(self) -> bool:
        return self._expected > self._snapshot.version and time.monotonic() < self._expected_until

    def get(self, key: str) -> Rendered | None:
        """The stored answer for ``key``, or None: not there, or a change made in this
        process is not loaded yet (then the caller renders from the database)."""
        if self._behind():
            return None
        return self._snapshot.documents.get(key)

    def current_version(self) -> int | None:
        """The version an answer rendered from the database now may be remembered under
        (None: this store is behind a local change)."""
        return None if self._behind() else self._snapshot.version

    def remember(self, key: str, version: int | None, doc: Rendered) -> None:
        """Keep ``doc`` (rendered at ``version``) until the content changes."""
        snapshot = self._snapshot
        if version is None or version != snapshot.version or self._behind():
            return
        if key not in snapshot.documents:
            size = len(doc.body) + len(doc.gzip or b"") + len(doc.br or b"")
            if snapshot.remembered_bytes + size > MAX_REMEMBERED_BYTES:
                return
            snapshot.remembered_bytes += size
        snapshot.documents[key] = doc

    def expect(self, version: int) -> None:
        """A change to ``version`` was made in this process: serve from the database until
        it is loaded."""
        self._expected = max(self._expected, version)
        self._expected_until = time.monotonic() + EXPECT_SECONDS

    async def load(self) -> bool:
        """Load the documents if the version moved; True if it did."""
        row = await RenderedVersion.select(RenderedVersion.version).where(
            RenderedVersion.name == VERSION_ROW
        )
        version = int(row[0]["version"]) if row else 0
        if version == self._snapshot.version:
            return False
        rows = await RenderedDocument.select(
            RenderedDocument.key,
            RenderedDocument.etag,
            RenderedDocument.body,
            RenderedDocument.body_gzip,
            RenderedDocument.body_br,
        )
        # A change committed between the two reads is loaded now and again at the next
        # poll (its version is higher than the one recorded here): never older bytes
        # under a newer number.
        documents = {
            row["key"]: Rendered(
                body=bytes(row["body"]),
                etag=row["etag"],
                gzip=_bytes_or_none(row["body_gzip"]),
                br=_bytes_or_none(row["body_br"]),
            )
            for row in rows
        }
        self._snapshot = Snapshot(version=version, documents=documents)
        return True

    async def _poll(self) -> None:
        while True:
            try:
                if await self.load():
                    log.debug("rendered answers: version %d loaded", self.version)
                if self._failing:
                    log.warning("rendered answers: the database answers again")
                self._failing = False
            except Exception as exc:  # keep serving what was loaded
                if not self._failing:
                    log.warning("rendered answers: cannot read the version (%s)", exc)
                self._failing = True
            await asyncio.sleep(POLL_SECONDS)

    async def start(self) -> None:
        """Load once (errors are logged, reads then go to the database) and poll."""
        self.database = database_identity()
        with contextlib.suppress(Exception):
            await self.load()
        self._task = asyncio.create_task(self._poll(), name="rendered-store")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def _bytes_or_none(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


__all__ = [
    "ENTRY",
    "LIST",
    "TAXONOMY",
    "Rendered",
    "RenderedStore",
    "compress",
    "etag_for",
    "refresh",
    "render_entry",
    "render_entry_list",
    "render_taxonomy",
]
