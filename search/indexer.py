"""Drain the search outbox into Meilisearch: never stale, never lost.

Each pending outbox row names a slug. The indexer reads that entry's *current*
row (not a payload stored with the change), upserts the document or deletes it
when the entry is gone or unpublished, waits for Meilisearch to report the task,
and only then marks the rows it read as done. A failure leaves them pending with
the error and a later ``next_attempt_at`` (exponential backoff).
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import msgspec
from meilisearch_python_sdk import AsyncClient

from core.content.model import PUBLISHED
from core.db.tables import Entry, SearchOutbox
from search.documents import Enrich, build_document, index_settings, indexed_hash

MAX_BACKOFF_SECONDS = 300
# Changes pushed per round. The entries' rows and documents of a round are in memory at
# once: 200 keeps the indexing worker near the RSS of a rebuild (search/rebuild.py).
DRAIN_BATCH = 200


class DrainResult(msgspec.Struct, kw_only=True):
    upserted: int = 0
    deleted: int = 0
    failed: int = 0
    error: str | None = None


async def ensure_index(
    client: AsyncClient,
    uid: str,
    settings: dict[str, Any] | None = None,
    *,
    apply_settings: bool = True,
) -> None:
    """Create the index with primary key ``slug`` if missing and (re)apply its settings
    (a new index always gets them; an existing one only with ``apply_settings``).

    Idempotent: safe at every start and before every rebuild.
    """
    http = client.http_client
    if (await http.get(f"indexes/{uid}")).status_code == 404:
        created = await http.post("indexes", json={"uid": uid, "primaryKey": "slug"})
        created.raise_for_status()
        await wait_for(client, created.json()["taskUid"])
    elif not apply_settings:
        return
    updated = await http.patch(f"indexes/{uid}/settings", json=settings or index_settings())
    updated.raise_for_status()
    await wait_for(client, updated.json()["taskUid"])


async def reconcile(client: AsyncClient, uid: str) -> int:
    """Queue every slug whose document is missing, outdated or should not be there.

    Run at startup, after ``ensure_index``: it repairs an index that lost data or
    missed changes while the outbox could not tell (e.g. a restored backup), and
    rebuilds documents of an older shape after an upgrade (``DOCUMENT_SHAPE``).
    """
    indexed: dict[str, str] = {}
    offset = 0
    while True:
        response = await client.http_client.get(
            f"indexes/{uid}/documents",
            params={"fields": "slug,content_hash", "limit": 1000, "offset": offset},
        )
        response.raise_for_status()
        page = response.json()
        indexed.update({doc["slug"]: doc.get("content_hash", "") for doc in page["results"]})
        offset += len(page["results"])
        if not page["results"] or offset >= page["total"]:
            break
    wanted = {
        row["slug"]: indexed_hash(row["content_hash"])
        for row in await Entry.select(Entry.slug, Entry.content_hash).where(
            Entry.status == PUBLISHED
        )
    }
    stale = sorted(
        {slug for slug, digest in wanted.items() if indexed.get(slug) != digest}
        | (set(indexed) - set(wanted))
    )
    await SearchOutbox.enqueue(stale)
    return len(stale)


async def wait_for(client: AsyncClient, task_uid: int, *, timeout_s: int = 60) -> None:
    """Wait for a Meilisearch task; raise unless it succeeded."""
    result = await client.wait_for_task(task_uid, timeout_in_ms=timeout_s * 1000)
    if result.status != "succeeded":
        raise RuntimeError(f"Meilisearch task {task_uid} {result.status}: {result.error}")


async def drain_outbox(
    client: AsyncClient, uid: str, *, batch_size: int = DRAIN_BATCH, enrich: Enrich | None = None
) -> DrainResult:
    """Push one batch of pending changes; return what happened."""
    now = dt.datetime.now(dt.UTC)
    rows = await (
        SearchOutbox.select(SearchOutbox.id, SearchOutbox.entry_slug, SearchOutbox.attempts)
        .where(SearchOutbox.done_at.is_null() & (SearchOutbox.next_attempt_at <= now))
        .order_by(SearchOutbox.id)
        .limit(batch_size)
    )
    if not rows:
        return DrainResult()
    slugs = sorted({row["entry_slug"] for row in rows})
    current = await (
        Entry.select()
        .where(Entry.slug.is_in(slugs) & (Entry.status == PUBLISHED))
        .output(load_json=True)
    )
    # Building documents is CPU work (compound splitting; the model loads on first use):
    # off the event loop, so requests and the indexer's lease heartbeat are not held up.
    documents = await asyncio.to_thread(lambda: [build_document(row, enrich) for row in current])
    gone = sorted(set(slugs) - {doc["slug"] for doc in documents})
    index = client.index(uid)
    try:
        if documents:
            await wait_for(
                client, (await index.add_documents(documents, primary_key="slug")).task_uid
            )
        if gone:
            await wait_for(client, (await index.delete_documents(gone)).task_uid)
    except Exception as exc:
        await _mark_failed(rows, f"{type(exc).__name__}: {exc}", now)
        return DrainResult(failed=len(rows), error=f"{type(exc).__name__}: {exc}")
    ids = [row["id"] for row in rows]
    await SearchOutbox.update({SearchOutbox.done_at: dt.datetime.now(dt.UTC)}).where(
        SearchOutbox.id.is_in(ids)
    )
    return DrainResult(upserted=len(documents), deleted=len(gone))


class OutboxStatus(msgspec.Struct, kw_only=True):
    published_entries: int
    pending: int
    failing: int
    oldest_pending: dt.datetime | None
    last_error: str | None


async def outbox_status() -> OutboxStatus:
    """What waits to reach the index, from the database alone (works while Meilisearch is down)."""
    waiting = SearchOutbox.done_at.is_null()
    oldest = (
        await SearchOutbox.select(SearchOutbox.created_at)
        .where(waiting)
        .order_by(SearchOutbox.id)
        .first()
    )
    failing = (
        await SearchOutbox.select(SearchOutbox.last_error)
        .where(waiting & (SearchOutbox.attempts > 0))
        .order_by(SearchOutbox.id, ascending=False)
        .first()
    )
    return OutboxStatus(
        published_entries=await Entry.count().where(Entry.status == PUBLISHED),
        pending=await SearchOutbox.count().where(waiting),
        failing=await SearchOutbox.count().where(waiting & (SearchOutbox.attempts > 0)),
        oldest_pending=oldest["created_at"] if oldest else None,
        last_error=failing["last_error"] if failing else None,
    )


async def _mark_failed(rows: list[dict[str, Any]], error: str, now: dt.datetime) -> None:
    for row in rows:
        attempts = row["attempts"] + 1
        delay = min(2**attempts, MAX_BACKOFF_SECONDS)
        await SearchOutbox.update(
            {
                SearchOutbox.attempts: attempts,
                SearchOutbox.last_error: error[:2000],
                SearchOutbox.next_attempt_at: now + dt.timedelta(seconds=delay),
            }
        ).where(SearchOutbox.id == row["id"])
