"""Full rebuild: fill a fresh index from the database, replay what changed meanwhile, swap.

Searches keep hitting the live index until the atomic swap; changes committed
while the rebuild ran are queued again afterwards, so none is lost between the
snapshot and the swap. The old index is deleted at the end.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import tempfile
from collections.abc import AsyncIterator, Callable
from typing import IO, Any

import msgspec
from meilisearch_python_sdk import AsyncClient
from piccolo.query.functions.aggregate import Max

from core.content.model import PUBLISHED
from core.db.tables import Entry, SearchOutbox
from search.documents import Enrich, build_document
from search.indexer import ensure_index, wait_for

# Entries read and turned into documents at a time (bounds the memory of a rebuild: with
# 1000, spooling 10,000 generated entries peaked at 222 MiB in an app process; with 200 at
# 149 MiB, of which ~129 MiB are the app and the word list; docs/PERFORMANCE.md).
BATCH_SIZE = 200
# NDJSON bytes per request at most (a read batch that would pass it starts the next
# request). Requests go out as they are built, so Meilisearch indexes the first while the
# rest are built; the ones that arrive meanwhile it merges into one batch. 10,000
# generated entries (~53 MB): 3 MB requests made 4 batches and took 17.8-18.6 s, one
# request 22.9-23.9 s (A/B on a quiet machine, docs/PERFORMANCE.md). Far below
# Meilisearch's default payload limit (100 MB).
PAYLOAD_BUDGET = 3_000_000
# How long one such request may take to index (10,000 entries: about 40 s on 2 busy cores).
INDEXING_TIMEOUT_S = 1800
Progress = Callable[[int, int], None]


async def _last_outbox_id() -> int:
    row = await SearchOutbox.select(Max(SearchOutbox.id, alias="last")).first()
    return int(row["last"] or 0) if row else 0


class _Cursor:
    """How far the rebuild has read the entries table (by id, not offset: no rescans)."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.last_id = 0
        self.done = 0
        self.total = total
        self.exhausted = False
        self.progress = progress
        # Documents read but not yet sent: they would have passed the payload budget.
        self.held = b""


def _ndjson(rows: list[dict[str, Any]], enrich: Enrich | None) -> bytes:
    encode = msgspec.json.encode
    return b"".join(encode(build_document(row, enrich)) + b"\n" for row in rows)


async def _spool_documents(cursor: _Cursor, enrich: Enrich | None, spool: IO[bytes]) -> int:
    """Write the next published entries as NDJSON documents to ``spool``, at most
    PAYLOAD_BUDGET bytes (unless one read batch alone is larger); return the number of
    bytes written."""
    size = len(cursor.held)
    spool.write(cursor.held)
    cursor.held = b""
    while size < PAYLOAD_BUDGET:
        rows = await (
            Entry.select()
            .where((Entry.status == PUBLISHED) & (Entry.id > cursor.last_id))
            .order_by(Entry.id)
            .limit(BATCH_SIZE)
            .output(load_json=True)
        )
        if not rows:
            cursor.exhausted = True
            break
        # CPU work (compound splitting): off the event loop, like the outbox worker's.
        chunk = await asyncio.to_thread(_ndjson, rows, enrich)
        cursor.last_id = rows[-1]["id"]
        cursor.done += len(rows)
        if cursor.progress:
            cursor.progress(cursor.done, max(cursor.total, cursor.done))
        if size and size + len(chunk) > PAYLOAD_BUDGET:
            cursor.held = chunk
            break
        spool.write(chunk)
        size += len(chunk)
    return size


async def _read(spool: IO[bytes]) -> AsyncIterator[bytes]:
    spool.seek(0)
    while block := spool.read(1 << 20):
        yield block


async def _post_documents(client: AsyncClient, uid: str, spool: IO[bytes], size: int) -> int:
    """Send the spooled NDJSON as one request; return its task uid. Meilisearch refuses a
    chunked body ("payload missing"), so the length is sent up front."""
    response = await client.http_client.post(
        f"indexes/{uid}/documents",
        params={"primaryKey": "slug"},
        content=_read(spool),
        headers={"Content-Type": "application/x-ndjson", "Content-Length": str(size)},
    )
    response.raise_for_status()
    return int(response.json()["taskUid"])


async def rebuild_index(
    client: AsyncClient,
    uid: str,
    progress: Progress | None = None,
    *,
    settings: dict[str, Any] | None = None,
    enrich: Enrich | None = None,
) -> int:
    """Rebuild ``uid`` from the database; return the number of documents indexed."""
    started_after = await _last_outbox_id()
    fresh = f"{uid}_rebuild_{dt.datetime.now(dt.UTC):%Y%m%d%H%M%S%f}"
    await ensure_index(client, fresh, settings)
    # The swap needs both to exist; the live one only has to exist: re-applying changed
    # settings to it would make Meilisearch reindex an index about to be dropped.
    await ensure_index(client, uid, settings, apply_settings=False)
    try:
        cursor = _Cursor(await Entry.count().where(Entry.status == PUBLISHED), progress)
        tasks: list[int] = []
        while not cursor.exhausted or cursor.held:
            # Documents are spooled to a file (which keeps the rebuild's memory small),
            # then sent while the next are built. Meilisearch batches the tasks queued
            # while it indexes: a few batches, not one per request (docs/PERFORMANCE.md).
            with tempfile.TemporaryFile() as spool:
                size = await _spool_documents(cursor, enrich, spool)
                if size:
                    tasks.append(await _post_documents(client, fresh, spool, size))
        for task_uid in tasks:
            await wait_for(client, task_uid, timeout_s=INDEXING_TIMEOUT_S)
        await wait_for(client, (await client.swap_indexes([(uid, fresh)])).task_uid)
    finally:
        # After the swap this is the old index; on failure, the half-built one.
        await wait_for(client, (await client.index(fresh).delete()).task_uid)
    await _settle_superseded(started_after)
    await _requeue_changed_since(started_after)
    return cursor.done


async def _settle_superseded(last_id: int) -> None:
    """Mark changes queued before the snapshot done: the new index read each entry's row
    after them, so draining them again would only rebuild the same documents (for 10,000
    entries, minutes of the worker's time after every ``search reindex``)."""
    await SearchOutbox.update({SearchOutbox.done_at: dt.datetime.now(dt.UTC)}).where(
        SearchOutbox.done_at.is_null() & (SearchOutbox.id <= last_id)
    )


async def _requeue_changed_since(last_id: int) -> None:
    """Queue again every slug changed after the snapshot, so the new index gets it."""
    rows = await SearchOutbox.select(SearchOutbox.entry_slug).where(SearchOutbox.id > last_id)
    await SearchOutbox.enqueue(sorted({row["entry_slug"] for row in rows}))
