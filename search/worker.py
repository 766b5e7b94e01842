"""The in-process search service: clients, index setup and the outbox worker."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from meilisearch_python_sdk import AsyncClient

from core.plugins import PluginRegistry
from core.settings import Settings
from search.config import search_setup
from search.indexer import drain_outbox, ensure_index, reconcile

log = logging.getLogger("mentoring40.search")

IDLE_SECONDS = 1.0


class SearchService:
    """One admin client (indexing) and one search client per app, plus the worker task."""

    def __init__(self, settings: Settings, registry: PluginRegistry) -> None:
        assert settings.meili_url is not None
        self.index_settings, self.enrich = search_setup(registry, settings)
        self.uid = settings.meili_index
        self.admin = AsyncClient(settings.meili_url, settings.meili_admin_key, timeout=10)
        self.searcher = AsyncClient(
            settings.meili_url, settings.meili_search_key or settings.meili_admin_key, timeout=5
        )
        self._task: asyncio.Task[None] | None = None
        self._index_ready = False

    @property
    def index_ready(self) -> bool:
        """Whether the index exists with our settings (applied at start and after outages)."""
        return self._index_ready

    async def start(self) -> None:
        """Start the outbox worker. Meilisearch being down never stops the app."""
        self._task = asyncio.create_task(self._run(), name="search-outbox-worker")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.admin.aclose()
        await self.searcher.aclose()

    async def _run(self) -> None:
        while True:
            try:
                if not self._index_ready:
                    await ensure_index(self.admin, self.uid, self.index_settings)
                    queued = await reconcile(self.admin, self.uid)
                    if queued:
                        log.info("Search index reconcile queued %d entr(y/ies)", queued)
                    self._index_ready = True
                result = await drain_outbox(self.admin, self.uid, enrich=self.enrich)
                if result.error:
                    log.warning("Search outbox: %d change(s) wait: %s", result.failed, result.error)
                if result.upserted or result.deleted:
                    continue  # more may be waiting
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the worker must outlive any outage
                self._index_ready = False
                log.warning("Search index not reachable, will retry: %s", exc)
            await asyncio.sleep(IDLE_SECONDS)
