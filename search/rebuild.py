"""Full rebuild: fill a fresh index from the database, replay what changed meanwhile, swap.

Searches keep hitting the live index until the atomic swap; changes committed
while the rebuild ran are queued again afterwards, so none is lost between the
snapshot and the swap. The old index is deleted at the end.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from meilisearch_python_sdk import AsyncClient
from piccolo.query.functions.aggregate import Max

from core.content.model import PUBLISHED
from core.db.tables import Entry, SearchOutbox
from search.documents import Enrich, build_document
from search.indexer import ensure_index, wait_for

BATCH_SIZE = 1000
Progress = Callable[[int, int], None]


async def _last_outbox_id() -> int:
    row = await SearchOutbox.select(Max(SearchOutbox.id, alias="last")).first()
    return int(row["last"] or 0) if row else 0


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
    await ensure_index(client, uid, settings)  # the swap needs both to exist
    try:
        published = Entry.status == PUBLISHED
        total = await Entry.count().where(published)
        done = 0
        tasks: list[int] = []
        while done < total:
            rows = await (
                Entry.select()
                .where(published)
                .order_by(Entry.id)
                .limit(BATCH_SIZE)
                .offset(done)
                .output(load_json=True)
            )
            if not rows:
                break
            task = await client.index(fresh).add_documents(
                [build_document(row, enrich) for row in rows], primary_key="slug"
            )
            # Queue every batch before waiting: Meilisearch then indexes them together.
            tasks.append(task.task_uid)
            done += len(rows)
            if progress:
                progress(done, total)
        for task_uid in tasks:
            await wait_for(client, task_uid)
        await wait_for(client, (await client.swap_indexes([(uid, fresh)])).task_uid)
    finally:
        # After the swap this is the old index; on failure, the half-built one.
        await wait_for(client, (await client.index(fresh).delete()).task_uid)
    await _requeue_changed_since(started_after)
    return done


async def _requeue_changed_since(last_id: int) -> None:
    """Queue again every slug changed after the snapshot, so the new index gets it."""
    rows = await SearchOutbox.select(SearchOutbox.entry_slug).where(SearchOutbox.id > last_id)
    await SearchOutbox.enqueue(sorted({row["entry_slug"] for row in rows}))
