"""/api/v1/search answers from the first second: from the database until the index is
filled, while Meilisearch is unreachable, and on a server without one (meta.search)."""

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

from core.app import create_app
from core.content.model import PUBLISHED
from core.db import lease
from core.db.tables import Entry
from core.plugins import build_registry
from core.settings import Settings
from search.client import meilisearch_client
from search.documents import build_document
from search.indexer import ensure_index, wait_for
from search.local_server import LocalMeilisearch
from tests.conftest import run, sync

Client = TestClient[Any]


def found(client: Client, **params: str) -> tuple[list[str], dict[str, Any]]:
    response = client.get("/api/v1/search", params=params)
    assert response.status_code == 200, response.text
    body = response.json()
    return [hit["slug"] for hit in body["data"]], body["meta"]


def test_without_a_search_engine_the_database_matches_words_of_title_summary_and_tags(
    fixture_client: Client,
) -> None:
    slugs, meta = found(fixture_client, q="liste")
    assert meta["search"] == {"engine": "database", "reason": "not_configured"}
    assert slugs == ["aufgabenliste"]  # case-insensitive, inside a word
    assert found(fixture_client, q="ueberblick")[0] == ["ueberblick"]  # umlaut spelt out
    assert found(fixture_client, q="ÜBERBLICK Lotse")[0] == ["ueberblick"]  # all words
    # No entry holds both: those holding the most words, the one whose title or tags
    # hold them first (as the engine ranks), not the title order.
    assert found(fixture_client, q="Tandem Überblick")[0] == ["ueberblick", "aufgabenliste"]
    assert found(fixture_client, q="Aufga")[0] == ["aufgabenliste"]  # while typing
    assert found(fixture_client, q="Dokumentation")[0] == ["arbeitsablauf"]  # a tag
    assert found(fixture_client, q="Entwurf")[0] == []  # drafts never


def test_the_database_understands_a_query_as_the_engine_does(fixture_client: Client) -> None:
    # Stop words (the packs' own) fall away, and a word matches in its stem too: a whole
    # question and an inflected form find the entry, on both databases.
    assert found(fixture_client, q="wie schreibe ich einen Ablauf auf")[0] == ["arbeitsablauf"]
    assert found(fixture_client, q="Aufgabenlisten")[0] == ["aufgabenliste"]
    assert found(fixture_client, q="Überblicke")[0] == ["ueberblick"]
    # A word that matches nothing is dropped when the rest names an entry's subject ...
    assert found(fixture_client, q="Überblick Apfelkuchen")[0] == ["ueberblick"]
    # ... but not when the rest is only a guess, and fragments match no word's inside.
    assert found(fixture_client, q="Apfelkuchen backen")[0] == []
    assert found(fixture_client, q="Kreuzfahrt")[0] == []
    assert found(fixture_client, q="ng")[0] == []
    # A query of stop words only still asks for them (it is not the whole list).
    assert found(fixture_client, q="wie")[0] == []
    everything, meta = found(fixture_client, facets="topic")
    assert everything == ["arbeitsablauf", "aufgabenliste", "ueberblick"]  # by title
    assert meta["pagination"]["total"] == 3
    assert meta["facets"] == {"topic": {"wissen-sichern": 2, "barrieren": 2}}


def test_database_answer_filters_sorts_and_counts_like_the_engine_would(
    fixture_client: Client,
) -> None:
    slugs, meta = found(fixture_client, topic="barrieren", facets="topic,kind")
    assert slugs == ["arbeitsablauf", "ueberblick"]
    assert meta["facets"]["topic"] == {"barrieren": 2, "wissen-sichern": 2}  # disjunctive
    assert meta["facets"]["kind"] == {"methode": 2}
    assert found(fixture_client, tag="ÜBERBLICK,aufgaben")[0] == ["aufgabenliste", "ueberblick"]
    for sort in ("-title", "-updated_at,title", "slug"):
        entries = fixture_client.get("/api/v1/entries", params={"sort": sort}).json()["data"]
        assert found(fixture_client, sort=sort)[0] == [e["slug"] for e in entries], sort
    slugs, meta = found(fixture_client, page="2", page_size="2")
    assert slugs == ["ueberblick"]
    assert meta["pagination"] == {"page": 2, "page_size": 2, "page_count": 2, "total": 3}


@pytest.fixture
def meili(tmp_path: Path) -> Iterator[LocalMeilisearch]:
    with LocalMeilisearch(tmp_path / "meili") as server:
        yield server


def test_fresh_start_answers_from_the_database_until_the_index_is_filled(
    meili: LocalMeilisearch, fixture_settings: Settings
) -> None:
    settings = msgspec.structs.replace(
        fixture_settings, meili_url=meili.url, meili_admin_key=meili.master_key,
        meili_index=f"test_{uuid.uuid4().hex[:10]}",
    )  # fmt: skip
    sync(settings)
    # Another worker holds the indexer lease: this app only searches, so we decide below
    # when the index appears and fills, as the indexing worker would on a fresh start.
    assert run(lease.acquire("search-indexer", "elsewhere:1", 600))
    # What the indexer would send, read now: the app's database pool belongs to its loop.
    rows = run(Entry.select().where(Entry.status == PUBLISHED).output(load_json=True).run())
    documents = [build_document(row) for row in rows]
    with TestClient(create_app(settings, build_registry(settings, load_installed=False))) as app:
        slugs, meta = found(app, q="Arbeitsablauf")
        assert meta["search"] == {"engine": "database", "reason": "index_not_ready"}
        assert slugs == ["arbeitsablauf"]

        async def create_empty_index() -> None:
            async with meilisearch_client(meili.url, meili.master_key, timeout=10) as client:
                await ensure_index(client, settings.meili_index)

        run(create_empty_index())  # exists, but nothing indexed yet: still the database
        time.sleep(1.1)  # past the app's once-per-second check
        slugs, meta = found(app, q="Arbeitsablauf")
        assert meta["search"]["engine"] == "database"
        assert slugs == ["arbeitsablauf"]

        async def fill() -> None:
            async with meilisearch_client(meili.url, meili.master_key, timeout=10) as client:
                task = await client.index(settings.meili_index).add_documents(documents)
                await wait_for(client, task.task_uid)

        run(fill())
        deadline = time.monotonic() + 10
        while (meta := found(app, q="Arbeitsablaf")[1])["search"]["engine"] != "meilisearch":
            assert time.monotonic() < deadline, meta
            time.sleep(0.2)
        assert meta["search"] == {"engine": "meilisearch", "reason": None}
        assert found(app, q="Arbeitsablaf")[0][0] == "arbeitsablauf"  # typo: the engine


def test_the_first_searches_after_a_start_all_go_to_a_filled_index(
    meili: LocalMeilisearch, fixture_settings: Settings
) -> None:
    # A worker's first burst of searches after a start arrives while its one look at
    # the index (is it filled?) is under way: each waits for that look instead of being
    # answered from the database as "not ready" (which on a large corpus held the
    # worker's event loop for seconds right after every restart).
    settings = msgspec.structs.replace(
        fixture_settings, meili_url=meili.url, meili_admin_key=meili.master_key,
        meili_index=f"test_{uuid.uuid4().hex[:10]}",
    )  # fmt: skip
    sync(settings)
    assert run(lease.acquire("search-indexer", "elsewhere:1", 600))  # this app only searches
    rows = run(Entry.select().where(Entry.status == PUBLISHED).output(load_json=True).run())

    async def fill() -> None:
        async with meilisearch_client(meili.url, meili.master_key, timeout=10) as client:
            await ensure_index(client, settings.meili_index)
            documents = [build_document(row) for row in rows]
            task = await client.index(settings.meili_index).add_documents(documents)
            await wait_for(client, task.task_uid)

    run(fill())

    async def first_burst() -> list[tuple[int, dict[str, Any]]]:
        app = create_app(settings, build_registry(settings, load_installed=False))
        async with app.lifespan():
            # Straight through the ASGI interface: the test client sends one at a time.
            return await asyncio.gather(*(asgi_get(app, "q=Arbeitsablaf") for _ in range(8)))

    for status, body in run(first_burst()):
        assert status == 200, body
        assert body["meta"]["search"] == {"engine": "meilisearch", "reason": None}
        assert [hit["slug"] for hit in body["data"]][:1] == ["arbeitsablauf"]  # typo: engine


async def asgi_get(app: Any, query: str) -> tuple[int, dict[str, Any]]:
    """GET /api/v1/search?``query`` through the ASGI interface: status and JSON body."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/api/v1/search", "raw_path": b"/api/v1/search",
        "query_string": query.encode(), "root_path": "", "headers": [(b"host", b"localhost")],
        "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8000),
    }  # fmt: skip
    status, body = 0, b""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status, body
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            body += message.get("body", b"")

    await app(scope, receive, send)
    return status, msgspec.json.decode(body)
