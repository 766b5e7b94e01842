"""The in-process search service: clients, index setup and the outbox worker.

Every app worker has a search service, but only the one holding the database lease
``search-indexer`` drains the outbox, so exactly one indexer runs across all workers
and instances; when it dies, its lease runs out and another takes over.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from core.content.model import PUBLISHED
from core.db import lease
from core.db.tables import Entry
from core.plugins import PluginRegistry
from core.settings import Settings
from search.client import meilisearch_client
from search.config import search_setup
from search.indexer import drain_outbox, ensure_index, reconcile
from search.multisearch import MultiSearchPool
from search.rewrites import Rewrites, index_state

log = logging.getLogger("mentoring40.search")

IDLE_SECONDS = 1.0
# A heartbeat renews the lease three times per lease period, apart from the indexing work
# (which may wait on Meilisearch for long); a dead holder is replaced after
# MENTORING40_INDEXER_LEASE_SECONDS.
LEASE_NAME = "search-indexer"
READY_CHECK_SECONDS = 1.0


class SearchService:
    """One admin client (indexing) and one search client per app, plus the worker task."""

    def __init__(self, settings: Settings, registry: PluginRegistry) -> None:
        assert settings.meili_url is not None
        self.index_settings, self.enrich = search_setup(registry, settings)
        self.uid = settings.meili_index
        self.admin = meilisearch_client(settings.meili_url, settings.meili_admin_key, timeout=10)
        search_key = settings.meili_search_key or settings.meili_admin_key
        self.searcher = meilisearch_client(settings.meili_url, search_key, timeout=5)
        # The search request's own multi-search (the hot call), same key and timeout.
        self.multi_search = MultiSearchPool(settings.meili_url, search_key, timeout=5)
        # Query understanding's outcomes for the index's current state (search/rewrites.py);
        # the state is read with the admin key (a search-only key may not read the index).
        self.rewrites = Rewrites(lambda: index_state(self.admin, self.uid))
        self._tasks: list[asyncio.Task[None]] = []
        self._index_ready = False
        self.holder = lease.holder_id()
        self.lease_seconds = settings.indexer_lease_seconds
        self._indexer = False
        # Whether the index has been seen filled (see serves_queries); checked at most
        # once per READY_CHECK_SECONDS until then.
        self._filled = False
        self._next_fill_check = 0.0
        # The last check's failure: until the next check, a search is told the same
        # (Meilisearch unreachable), not "index not ready".
        self._fill_check_failure: Exception | None = None
        # The check under way, which searches arriving meanwhile wait for.
        self._fill_check: asyncio.Future[bool] | None = None

    @property
    def is_indexer(self) -> bool:
        """Whether this process held the indexer lease at its last check."""
        return self._indexer

    @property
    def index_ready(self) -> bool:
        """Whether the index exists (the indexer also applied our settings to it)."""
        return self._index_ready

    async def serves_queries(self) -> bool:
        """Whether searches should go to the index: it exists and holds a document for at
        least every published entry (seen once; later changes arrive through the outbox).

        False right after a fresh start, while the outbox worker still fills a new index:
        an empty index would answer "nothing found", so /api/v1/search answers from the
        database meanwhile. Raises when Meilisearch is unreachable.

        Searches that arrive while a check is under way wait for its answer: a worker's
        first burst of searches after a start would otherwise all be told "not ready"
        and answered from the database (on 10,000 entries that held a worker's event loop
        for seconds, see docs/PERFORMANCE.md, issue #14, sixth session).
        """
        if self._filled:
            return True
        if self._fill_check is not None:
            return await asyncio.shield(self._fill_check)
        now = time.monotonic()
        if now < self._next_fill_check:
            if self._fill_check_failure is not None:
                raise self._fill_check_failure.with_traceback(None)
            return False
        self._next_fill_check = now + READY_CHECK_SECONDS
        check = asyncio.ensure_future(self._check_filled())
        self._fill_check = check
        check.add_done_callback(self._fill_check_done)
        return await asyncio.shield(check)

    def _fill_check_done(self, check: asyncio.Future[bool]) -> None:
        if self._fill_check is check:
            self._fill_check = None
        if not check.cancelled():
            check.exception()  # retrieved: the waiters were told, nothing left to log

    async def _check_filled(self) -> bool:
        try:
            # The admin key: a search-only key may not read index stats.
            response = await self.admin.http_client.get(f"indexes/{self.uid}/stats")
            if response.status_code != 404:
                response.raise_for_status()
        except Exception as exc:
            self._fill_check_failure = exc
            raise
        self._fill_check_failure = None
        if response.status_code == 404:
            return False
        published = await Entry.count().where(Entry.status == PUBLISHED)
        self._filled = response.json()["numberOfDocuments"] >= published
        return self._filled

    def index_missing(self) -> None:
        """The index turned out missing (e.g. deleted by hand): check for it again."""
        self._filled = False
        self._next_fill_check = 0.0

    async def start(self) -> None:
        """Start the lease heartbeat and the outbox worker. Meilisearch being down never
        stops the app."""
        self._tasks = [
            asyncio.create_task(self._heartbeat(), name="search-indexer-lease"),
            asyncio.create_task(self._run(), name="search-outbox-worker"),
        ]

    async def stop(self) -> None:
        if self._fill_check is not None:
            self._fill_check.cancel()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._indexer:
            # Hand over at once instead of letting the others wait for the lease to run out.
            with contextlib.suppress(Exception):
                await lease.release(LEASE_NAME, self.holder)
            self._indexer = False
        await self.rewrites.aclose()
        await self.admin.aclose()
        await self.searcher.aclose()
        await self.multi_search.aclose()

    async def _run(self) -> None:
        while True:
            try:
                if not self._indexer:
                    await asyncio.sleep(IDLE_SECONDS)
                    continue
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

    async def _heartbeat(self) -> None:
        while True:
            await self._hold_lease()
            # The holder renews in time; the others look often enough to take over soon
            # after a release and to see the index appear.
            period = self.lease_seconds / 3
            await asyncio.sleep(period if self._indexer else min(period, 5.0))

    async def _hold_lease(self) -> None:
        """Take or renew the indexer lease. Without it, only watch that the index exists."""
        try:
            held = await lease.acquire(LEASE_NAME, self.holder, self.lease_seconds)
        except Exception as exc:  # database down: nobody can index anyway
            log.warning("Search indexer lease not reachable, will retry: %s", exc)
            held = False
        if held != self._indexer:
            log.info(
                "Search indexer: %s (%s)",
                "this worker indexes" if held else "another worker indexes",
                self.holder,
            )
            self._indexer = held
            self._index_ready = False  # a new holder first (re)applies the index settings
        if not held:
            self._index_ready = await self._index_exists()

    async def _index_exists(self) -> bool:
        try:
            response = await self.admin.http_client.get(f"indexes/{self.uid}")
        except Exception:
            return False
        return response.status_code == 200
