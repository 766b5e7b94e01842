"""What an operator asks of the search side: where Meilisearch is, how the index stands
against the database, and a full rebuild (``mentoring40 search status|reindex``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from core.db import lease
from core.settings import Settings
from search.client import meilisearch_client
from search.documents import Enrich
from search.indexer import OutboxStatus, outbox_status
from search.rebuild import Progress, rebuild_index

# (URL, admin key) of a Meilisearch to talk to.
Connection = tuple[str, str | None]


def meili_connection(settings: Settings) -> Connection | None:
    """Where to reach Meilisearch: MEILI_URL, else a running embedded one, else None."""
    if settings.meili_url:
        return settings.meili_url, settings.meili_admin_key
    from search.local_server import running_embedded

    return running_embedded(settings.search_data)


async def document_count(connection: Connection, index: str) -> int:
    """The documents in ``index``; raises whatever the request raises."""
    async with meilisearch_client(*connection, timeout=5) as client:
        response = await client.http_client.get(f"indexes/{index}/stats")
        response.raise_for_status()
        return int(response.json()["numberOfDocuments"])


class SearchStatus(msgspec.Struct, frozen=True, kw_only=True):
    outbox: OutboxStatus
    # None when there is no Meilisearch to ask, or (with ``unreachable``) asking failed.
    documents: int | None
    unreachable: str | None  # "ErrorType: message" of the failed request
    indexer: tuple[str, dt.datetime] | None  # who holds the indexer lease, and until when


async def search_status(settings: Settings, connection: Connection | None) -> SearchStatus:
    """Database entries and outbox, documents in the index, and the running indexer."""
    outbox = await outbox_status()
    documents, unreachable = None, None
    if connection is not None:
        try:
            documents = await document_count(connection, settings.meili_index)
        except Exception as exc:  # a status report shows the failure instead of failing
            unreachable = f"{type(exc).__name__}: {exc}"
    indexer = await lease.current("search-indexer")
    return SearchStatus(
        outbox=outbox, documents=documents, unreachable=unreachable, indexer=indexer
    )


async def reindex(
    connection: Connection,
    index: str,
    progress: Progress,
    *,
    settings: dict[str, Any] | None,
    enrich: Enrich | None,
) -> int:
    """Rebuild ``index`` from the database into a fresh index and swap it in; the number
    of documents indexed."""
    async with meilisearch_client(*connection, timeout=30) as client:
        return await rebuild_index(client, index, progress, settings=settings, enrich=enrich)
