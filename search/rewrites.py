"""Query understanding's outcome, kept per app worker for one state of the index.

A query with a word that finds nothing on its own costs one multi-search to find that
out, one to three follow-ups (search/understanding.py) and then the page's multi-search
again with the rewritten words. What the follow-ups find depends only on the query's
words, the filter expression and the index; so the rewritten word list (or "an empty
page") is kept here, keyed by the stemmed words, the words as typed and the filter
expression, and a query seen before sends the rewritten query's multi-search at once:
one request, like a query without such a word (for "finds nothing", one count, so that
an engine down or an index gone fails as before). Only rewrites are kept, never hits:
the page itself is always asked for.

**When a rewrite is stale.** A rewrite holds for one state of the index. The state is
read as the index's ``createdAt`` and ``updatedAt`` (``GET /indexes/UID``, admin key, a
few hundred bytes). Meilisearch sets ``updatedAt`` in the same write transaction as every
change it applies to the index (documents added, even unchanged ones, or deleted,
settings such as synonyms and stop words), and does not touch it for a failed task or
another index; a swap (search/rebuild.py) or a deleted and recreated index brings other
dates. A reader that sees the new date therefore also sees the new documents. Measured
on Meilisearch 1.21 (docs/SEARCH.md). Not chosen: the newest succeeded task
(``GET /tasks?indexUids=UID&statuses=succeeded&limit=1``): after a swap the task
history moves with the index it belongs to and the filter answered no task at all, and
task uids start again at 0 on an engine with a new database, so two states could share
one.

The date is read at most every ``CHECK_SECONDS / 2`` per worker, in the background,
started by a search, never awaited by one, so a search neither waits for the check nor
fails with it; an idle worker sends nothing. A rewrite is served only while the date was
confirmed within the last ``CHECK_SECONDS``: a rewrite outlives a change of the index by
at most that long (the indexer itself takes about as long to pick up a changed entry,
search/worker.py ``IDLE_SECONDS``). When the date differs, every rewrite is dropped. When
the check fails (engine down or slow), nothing is served from here until a check succeeds:
the search takes the uncached path and fails or answers exactly as before. A rewrite
worked out while a check changed the date is not kept (``generation``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable

from meilisearch_python_sdk import AsyncClient

log = logging.getLogger("mentoring40.search")

SIZE = 2048  # rewrites kept per worker, least recently used dropped first
CHECK_SECONDS = 1.0  # a rewrite is served only while the index's date is this fresh

# (stemmed words, the words as typed, filter expression)
Key = tuple[tuple[str, ...], tuple[tuple[str, str], ...], tuple[str, ...]]
# The rewritten words; () means the query finds nothing (an empty page).
Rewrite = tuple[str, ...]


async def index_state(client: AsyncClient, uid: str) -> tuple[str, str]:
    """The index's ``createdAt`` and ``updatedAt``: which state of it a rewrite holds for.
    Raises when the engine cannot tell (unreachable, index missing, key refused)."""
    response = await client.http_client.get(f"indexes/{uid}")
    response.raise_for_status()
    index = response.json()
    return str(index["createdAt"]), str(index["updatedAt"])


def rewrite_key(words: list[str], typed: dict[str, str], filters: list[str]) -> Key:
    """Everything query understanding reads besides the index."""
    return tuple(words), tuple(typed.items()), tuple(filters)


class Rewrites:
    """Bounded LRU of rewrites, valid for the index state ``read_version`` returns."""

    def __init__(
        self,
        read_version: Callable[[], Awaitable[Hashable]],
        *,
        size: int = SIZE,
        check_seconds: float = CHECK_SECONDS,
    ) -> None:
        self._read_version = read_version
        self.size = size
        self.check_seconds = check_seconds
        self._entries: OrderedDict[Key, Rewrite] = OrderedDict()
        self._version: Hashable = None
        self._confirmed_at = -math.inf  # when the last successful check started
        self._next_check = -math.inf
        self._check: asyncio.Task[None] | None = None
        # Bumped whenever the rewrites are dropped; a rewrite worked out before is not kept.
        self.generation = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Key) -> Rewrite | None:
        """The rewrite for ``key``, or None: not known, or the index's state not confirmed
        recently enough (a check is started; this search goes the uncached way)."""
        if not self._confirmed() or key not in self._entries:
            return None
        self._entries.move_to_end(key)
        return self._entries[key]

    def put(self, key: Key, rewrite: Rewrite, generation: int) -> None:
        """Keep ``rewrite``, worked out since ``generation`` was read, if still valid."""
        if generation != self.generation:
            return  # the index changed (or was first seen) meanwhile
        self._entries[key] = rewrite
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)

    def _confirmed(self) -> bool:
        now = time.monotonic()
        age = now - self._confirmed_at
        # Checked again half-way, so that a busy worker never goes uncached between checks.
        if age >= self.check_seconds / 2 and self._check is None and now >= self._next_check:
            self._next_check = now + self.check_seconds / 2
            self._check = asyncio.get_running_loop().create_task(
                self._run_check(now), name="search-rewrites-check"
            )
            self._check.add_done_callback(self._check_done)
        return age < self.check_seconds

    def _check_done(self, check: asyncio.Task[None]) -> None:
        if self._check is check:
            self._check = None

    async def refresh(self) -> None:
        """Check the index's state now and wait for the answer (tests; a search never
        waits for a check)."""
        await self._run_check(time.monotonic())

    async def _run_check(self, started: float) -> None:
        try:
            version = await self._read_version()
        except Exception as exc:  # engine down or slow: serve nothing until a check succeeds
            self._confirmed_at = -math.inf
            log.debug("Search rewrites: index state not read: %s", exc)
            return
        if version != self._version:
            self._version = version
            self._entries.clear()
            self.generation += 1
        self._confirmed_at = started

    async def aclose(self) -> None:
        """Stop a check under way (before its client closes)."""
        check, self._check = self._check, None
        if check is not None:
            check.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await check
