"""Query understanding kept per worker (search/rewrites.py), against a real Meilisearch:
a known rewrite answers exactly as working it out does, with one request instead of
several; a change of the index drops every rewrite; a failed check serves none."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from litestar.testing import TestClient
from meilisearch_python_sdk import AsyncClient

from core.app import create_app
from core.content.facets import EXCLUDE_SLUGS_KEY
from core.plugins import build_registry
from core.settings import Settings
from search.config import search_setup
from search.indexer import drain_outbox, ensure_index, wait_for
from search.local_server import LocalMeilisearch
from search.multisearch import MultiSearchPool
from search.query import _filter_expression, search_entries
from search.rewrites import Rewrites, index_state, rewrite_key
from search.understanding import query_words, typed_words
from tests.conftest import SHIPPED_CONTENT, on_meilisearch, run, sync

UID = "rewrites"
FACETS = ["topic", "kind"]
# Queries with a word that finds nothing on its own, on the shipped content: compounds
# the content has only as parts, a typo inside a compound, unknown words dropped beside
# known ones, queries that must find nothing; some narrowed by filters.
CASES: list[tuple[str, dict[str, list[str]]]] = [
    ("Fotoablage", {}),
    ("Kompetenzübersicht", {}),
    ("Passwortmanagerliste", {}),
    ("Tandemvereinbarng", {}),
    ("Tandemkonflikt lösen", {}),
    ("Bildschirmvideo aufgenommen", {}),
    ("Phishingmail xyzzy was tun", {}),
    ("Apfelkuchen backen", {}),
    ("Quantenphysik", {}),
    ("Kreuzfahrt", {}),
    # Editors list these as search terms; narrowed, their entry is gone and they are dead.
    ("Urlaubskalender", {"kind": ["leitfaden"]}),
    ("Teamkalender", {EXCLUDE_SLUGS_KEY: ["gemeinsamer-kalender"]}),
    ("Wikiseite", {"kind": ["software", "checkliste"]}),
    ("Tandemkonflikt lösen", {"topic": ["motivation", "generationen"]}),
]


# The first page, a later one (reranked differently) and one sorted by title.
PAGES: list[tuple[int, int, list[tuple[str, bool]] | None]] = [
    (1, 20, None), (2, 3, None), (1, 5, [("title", False)]),
]  # fmt: skip


class CountingPool(MultiSearchPool):
    """The lean pool, counting the multi-searches it sends (instrumentation, no fake)."""

    sent = 0

    async def search(self, queries: list[dict[str, Any]]) -> list[Any]:
        self.sent += 1
        return await super().search(queries)


@pytest.fixture(scope="module")
def shipped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMeilisearch]:
    """The shipped toolbox indexed as the app indexes it."""
    folder = tmp_path_factory.mktemp("rewrites")
    settings = Settings(
        database_url=f"sqlite:///{folder / 'db.sqlite'}", content_dir=SHIPPED_CONTENT
    )
    registry = build_registry(settings)
    sync(settings, registry)
    index_settings, enrich = search_setup(registry, settings)
    with LocalMeilisearch(folder / "meili") as server:

        async def index() -> None:
            async with AsyncClient(server.url, server.master_key) as client:
                await ensure_index(client, UID, index_settings)
                while (await drain_outbox(client, UID, enrich=enrich)).upserted:
                    pass

        run(index())
        yield server


def _comparable(result: dict[str, Any]) -> bytes:
    # The engine's own timing differs between any two searches, cached or not.
    return msgspec.json.encode({**result, "processing_time_ms": None})


def test_a_known_rewrite_answers_byte_identically_with_one_request(
    shipped: LocalMeilisearch,
) -> None:
    async def compare() -> list[tuple[str, int, int, bool]]:
        sent = []
        async with AsyncClient(shipped.url, shipped.master_key) as client:
            pool = CountingPool(shipped.url, shipped.master_key, timeout=5)
            # Long enough that no check falls into the test (the state does not change).
            rewrites = Rewrites(lambda: index_state(client, UID), check_seconds=600)
            await rewrites.refresh()
            try:
                for q, filters in CASES:
                    for page, page_size, sort in PAGES:
                        args: dict[str, Any] = {
                            "q": q, "filters": filters, "page": page, "page_size": page_size,
                            "facets": FACETS, "sort": sort, "pool": pool,
                        }  # fmt: skip
                        pool.sent = 0
                        plain = await search_entries(client, UID, **args)
                        uncached = pool.sent
                        worked_out = await search_entries(client, UID, **args, rewrites=rewrites)
                        pool.sent = 0
                        known = await search_entries(client, UID, **args, rewrites=rewrites)
                        key = rewrite_key(
                            query_words(q), typed_words(q), _filter_expression(filters)
                        )
                        sent.append((q, uncached, pool.sent, rewrites.get(key) == ()))
                        label = (q, filters, page, sort)
                        assert _comparable(worked_out) == _comparable(plain), label
                        assert _comparable(known) == _comparable(plain), label
            finally:
                await pool.aclose()
                await rewrites.aclose()
        return sent

    sent = run(compare())
    for q, uncached, known, _ in sent:
        assert uncached >= 3, q  # every case goes through query understanding
        # One request: the rewritten page's, or a count for a rewrite that finds nothing.
        assert known == 1, q
    assert {q for q, *_, nothing in sent if nothing} >= {"Apfelkuchen backen", "Kreuzfahrt"}
    assert {q for q, *_, nothing in sent if not nothing} >= {"Fotoablage", "Tandemvereinbarng"}


def test_a_query_without_dead_words_is_not_kept(shipped: LocalMeilisearch) -> None:
    async def search() -> int:
        async with AsyncClient(shipped.url, shipped.master_key) as client:
            rewrites = Rewrites(lambda: index_state(client, UID), check_seconds=600)
            await rewrites.refresh()
            for q in ["Passwort", "Tandem Konflikt lösen", ""]:
                await search_entries(
                    client, UID, q=q, filters={}, page=1, page_size=5, facets=[],
                    rewrites=rewrites,
                )  # fmt: skip
            return len(rewrites)

    assert run(search()) == 0


def test_rewrites_are_bounded_least_recently_used_first(shipped: LocalMeilisearch) -> None:
    queries = ["Fotoablage", "Kompetenzübersicht", "Wikiseite"]

    async def search() -> list[bool]:
        async with AsyncClient(shipped.url, shipped.master_key) as client:
            rewrites = Rewrites(lambda: index_state(client, UID), size=2, check_seconds=600)
            await rewrites.refresh()
            for q in [*queries[:2], queries[0], queries[2]]:  # the second is used least
                await search_entries(
                    client, UID, q=q, filters={}, page=1, page_size=5, facets=[],
                    rewrites=rewrites,
                )  # fmt: skip
            keys = [rewrite_key(query_words(q), typed_words(q), []) for q in queries]
            return [rewrites.get(key) is not None for key in keys]

    assert run(search()) == [True, False, True]


def test_a_failed_check_serves_no_rewrite(shipped: LocalMeilisearch) -> None:
    """The index named by the check is missing (a 404): until a check succeeds again,
    every search works its rewrite out (and answers as before)."""
    q = "Fotoablage"
    key = rewrite_key(query_words(q), typed_words(q), [])

    async def search() -> tuple[bool, bool, int]:
        async with AsyncClient(shipped.url, shipped.master_key) as client:
            state = {"uid": UID}
            rewrites = Rewrites(lambda: index_state(client, state["uid"]))
            await rewrites.refresh()
            args: dict[str, Any] = {"q": q, "filters": {}, "page": 1, "page_size": 5, "facets": []}
            await search_entries(client, UID, **args, rewrites=rewrites)
            before = rewrites.get(key) is not None
            state["uid"] = "no_such_index"
            await rewrites.refresh()
            after = rewrites.get(key) is not None
            pool = CountingPool(shipped.url, shipped.master_key, timeout=5)
            try:
                await search_entries(client, UID, **args, pool=pool, rewrites=rewrites)
            finally:
                await pool.aclose()
            return before, after, pool.sent

    before, after, sent = run(search())
    assert before
    assert not after
    assert sent > 1  # worked out again, not served from what was kept


def test_the_index_state_changes_with_every_applied_change(shipped: LocalMeilisearch) -> None:
    async def states() -> list[tuple[str, str]]:
        async with AsyncClient(shipped.url, shipped.master_key) as client:
            uid = f"state_{uuid.uuid4().hex[:8]}"
            await ensure_index(client, uid, {})
            seen = [await index_state(client, uid)]
            index = client.index(uid)
            for change in [
                index.add_documents([{"slug": "a", "title": "Zeiterfassung"}], primary_key="slug"),
                index.add_documents([{"slug": "a", "title": "Zeiterfassung"}]),  # unchanged
                index.update_stop_words(["und"]),
                index.delete_document("a"),
            ]:
                await wait_for(client, (await change).task_uid)
                seen.append(await index_state(client, uid))
            return seen

    seen = run(states())
    assert len(set(seen)) == len(seen)


# --- the app: a rewrite never outlives the index state it was worked out for ----------


@pytest.fixture
def meili(tmp_path: Path) -> Iterator[LocalMeilisearch]:
    with LocalMeilisearch(tmp_path / "meili") as server:
        yield server


NEW_ENTRY = """---
title: Zeiterfassung im Tandem
summary: Wer wie viel Zeit ins Tandem steckt, festhalten.
kind: vorlage
topics: [wissen-sichern]
phases: [tandem-treffen]
audiences: [mentor]
tags: [Zeit]
updated_at: 2026-11-20
---

## Vorlage

Eine Tabelle genügt.
"""


def _search(client: TestClient[Any], q: str) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/api/v1/search", params={"q": q}).json()
    assert body["meta"]["search"]["engine"] == "meilisearch", body["meta"]
    return body


def _wait(client: TestClient[Any], q: str, slugs: list[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        body: dict[str, Any] = client.get("/api/v1/search", params={"q": q}).json()
        from_index = body["meta"]["search"]["engine"] == "meilisearch"
        if from_index and [hit["slug"] for hit in body["data"]] == slugs:
            return
        assert time.monotonic() < deadline, f"{q!r} never found {slugs}: {body}"
        time.sleep(0.2)


def test_a_word_dead_before_finds_the_entry_indexed_since(
    meili: LocalMeilisearch, fixture_settings: Settings, content_dir: Path
) -> None:
    settings = on_meilisearch(fixture_settings, meili)
    sync(settings)
    app = create_app(settings, build_registry(settings, load_installed=False))
    with TestClient(app) as client:
        _wait(client, "Tandem", ["aufgabenliste"])
        rewrites: Rewrites = app.state.search.rewrites
        key = rewrite_key(query_words("Zeiterfassung"), typed_words("Zeiterfassung"), [])
        # The unknown word is worked out once the index state is confirmed, then kept.
        deadline = time.monotonic() + 10
        while rewrites.get(key) is None:
            assert _search(client, "Zeiterfassung")["data"] == []
            assert time.monotonic() < deadline, "the rewrite was never kept"
            time.sleep(0.1)
        assert rewrites.get(key) == ()  # kept: "finds nothing"
        assert _search(client, "Zeiterfassung")["data"] == []

        (content_dir / "entries" / "zeiterfassung.md").write_text(NEW_ENTRY, encoding="utf-8")
        sync(settings)
        # Indexed by the app's own worker; the kept "finds nothing" must not outlive it.
        _wait(client, "Zeiterfassung", ["zeiterfassung"])
        assert rewrites.get(key) is None


def test_engine_down_with_a_kept_rewrite_fails_as_without(shipped: LocalMeilisearch) -> None:
    """Meilisearch stopped while rewrites are still served: a search raises what the
    uncached search raises (the API tells an unreachable engine by it), also one whose
    kept rewrite is "finds nothing"."""
    queries = ["Fotoablage", "Kreuzfahrt"]
    loop = asyncio.new_event_loop()
    try:
        client = AsyncClient(shipped.url, shipped.master_key)
        pool = MultiSearchPool(shipped.url, shipped.master_key, timeout=5)
        rewrites = Rewrites(lambda: index_state(client, UID), check_seconds=60)
        loop.run_until_complete(rewrites.refresh())
        kept = []
        for q in queries:
            args = {"q": q, "filters": {}, "page": 1, "page_size": 5, "facets": [], "pool": pool}
            loop.run_until_complete(search_entries(client, UID, **args, rewrites=rewrites))
            key = rewrite_key(query_words(q), typed_words(q), _filter_expression({}))
            kept.append(rewrites.get(key))
        assert kept[0]  # split into parts
        assert kept[1] == ()  # finds nothing
        shipped.stop()
        try:
            for q in queries:
                args = {
                    "q": q,
                    "filters": {},
                    "page": 1,
                    "page_size": 5,
                    "facets": [],
                    "pool": pool,
                }
                errors = []
                for served in (rewrites, None):
                    with pytest.raises(ConnectionRefusedError) as raised:
                        loop.run_until_complete(
                            search_entries(client, UID, **args, rewrites=served)
                        )
                    errors.append(type(raised.value))
                assert errors[0] is errors[1], q
        finally:
            shipped.start()
    finally:
        loop.run_until_complete(pool.aclose())
        loop.run_until_complete(client.aclose())
        loop.run_until_complete(rewrites.aclose())
        loop.close()
