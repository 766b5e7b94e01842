"""The search request's lean multi-search connections (search/multisearch.py), against a
real Meilisearch: same answers as the SDK, one write per request, kept alive, no stall,
and the faults the API maps (engine down, restarted, silent, index missing)."""

from __future__ import annotations

import asyncio
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.content.model import PUBLISHED
from core.db.tables import Entry
from core.settings import Settings
from search.client import meilisearch_client
from search.documents import build_document
from search.indexer import ensure_index, wait_for
from search.local_server import LocalMeilisearch, free_port
from search.multisearch import EngineStatusError, MultiSearchPool
from search.query import search_entries
from tests.conftest import sync

DOCUMENTS = [
    {"slug": "aufgabenliste", "title": "Aufgabenliste", "summary": "Eine Liste der Aufgaben"},
    {"slug": "passwort", "title": "Passwort-Manager", "summary": "Passwörter sicher ablegen"},
]


@pytest.fixture
def meili(tmp_path: Path) -> Iterator[LocalMeilisearch]:
    with LocalMeilisearch(tmp_path / "meili") as server:
        yield server


async def _filled_index(meili: LocalMeilisearch) -> str:
    uid = f"test_{uuid.uuid4().hex[:10]}"
    async with meilisearch_client(meili.url, meili.master_key, timeout=10) as client:
        await ensure_index(client, uid, {"searchableAttributes": ["title", "summary"]})
        task = await client.index(uid).add_documents(DOCUMENTS, primary_key="slug")
        await wait_for(client, task.task_uid)
    return uid


def _queries(uid: str, q: str) -> list[dict[str, Any]]:
    return [{"indexUid": uid, "q": q, "attributesToHighlight": ["title"]}]


def test_answers_are_the_sdk_clients_answers(meili: LocalMeilisearch) -> None:
    async def both() -> tuple[list[Any], Any]:
        uid = await _filled_index(meili)
        pool = MultiSearchPool(meili.url, meili.master_key, timeout=5)
        try:
            ours = await pool.search(_queries(uid, "Liste") + _queries(uid, "Passwrt"))
        finally:
            await pool.aclose()
        async with meilisearch_client(meili.url, meili.master_key, timeout=5) as client:
            body = {"queries": _queries(uid, "Liste") + _queries(uid, "Passwrt")}
            sdk = (await client.http_client.post("multi-search", json=body)).json()["results"]
        return ours, sdk

    ours, sdk = asyncio.run(both())
    assert [hit["slug"] for hit in ours[0]["hits"]] == ["aufgabenliste"]
    assert [hit["slug"] for hit in ours[1]["hits"]] == ["passwort"]  # typo tolerated
    for mine, theirs in zip(ours, sdk, strict=True):
        mine.pop("processingTimeMs"), theirs.pop("processingTimeMs")
        assert mine == theirs


def _count_writes(writer: asyncio.StreamWriter, writes: list[int]) -> None:
    """Record the size of each write, then write as before (instrumentation, not a fake)."""
    write = writer.write

    def counted(data: bytes | bytearray | memoryview) -> None:
        writes.append(len(data))
        write(data)

    writer.write = counted  # type: ignore[method-assign]


def test_one_write_per_request_on_one_kept_alive_nodelay_connection(
    meili: LocalMeilisearch,
) -> None:
    """What keeps the 40 ms stall away (search/client.py): the request leaves in one write,
    the answer comes uncompressed with its length, and the next request reuses the socket."""

    async def check() -> tuple[list[dict[str, str]], list[int], set[int], int]:
        uid = await _filled_index(meili)
        pool = MultiSearchPool(meili.url, meili.master_key, timeout=5)
        writes: list[int] = []
        headers, sockets = [], set()
        try:
            body = b'{"queries":[{"indexUid":"%s","q":"Liste"}]}' % uid.encode()
            for _ in range(3):
                status, answer_headers, _ = await pool.exchange(body)
                assert status == 200
                headers.append(answer_headers)
                (connection,) = pool._idle
                sock = connection.writer.get_extra_info("socket")
                sockets.add(id(connection))
                if not writes:
                    _count_writes(connection.writer, writes)
            nodelay = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        finally:
            await pool.aclose()
        return headers, writes, sockets, nodelay

    headers, writes, sockets, nodelay = asyncio.run(check())
    for answer in headers:
        assert "content-encoding" not in answer  # uncompressed: not the stalling path
        assert "content-length" in answer  # one answer of known length, not chunked
    assert len(writes) == 2  # the second and third request: one write each
    assert len(sockets) == 1  # kept alive: every request on the same connection
    assert nodelay == 1


def test_engine_down_then_restarted_is_an_os_error_then_answers_again(
    meili: LocalMeilisearch,
) -> None:
    async def before() -> tuple[str, MultiSearchPool]:
        uid = await _filled_index(meili)
        pool = MultiSearchPool(meili.url, meili.master_key, timeout=5)
        await pool.search(_queries(uid, "Liste"))  # leaves an idle connection
        return uid, pool

    async def search(pool: MultiSearchPool, uid: str) -> list[Any]:
        return await pool.search(_queries(uid, "Liste"))

    loop = asyncio.new_event_loop()
    try:
        uid, pool = loop.run_until_complete(before())
        meili.stop()  # a real outage: the idle connection is closed by the engine
        with pytest.raises(ConnectionRefusedError):
            loop.run_until_complete(search(pool, uid))
        with LocalMeilisearch(meili.data_dir, port=meili.port, master_key=meili.master_key):
            results = loop.run_until_complete(search(pool, uid))
            assert [hit["slug"] for hit in results[0]["hits"]] == ["aufgabenliste"]
            # The engine restarts again while a connection idles: the stale one is retried.
        with LocalMeilisearch(meili.data_dir, port=meili.port, master_key=meili.master_key):
            results = loop.run_until_complete(search(pool, uid))
            assert [hit["slug"] for hit in results[0]["hits"]] == ["aufgabenliste"]
        loop.run_until_complete(pool.aclose())
    finally:
        loop.close()


def test_an_engine_that_never_answers_times_out() -> None:
    """A real socket that accepts and stays silent (a hung engine)."""

    async def silent() -> float:
        accepted: list[asyncio.StreamWriter] = []

        async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.append(writer)

        port = free_port()
        server = await asyncio.start_server(hold, "127.0.0.1", port)
        pool = MultiSearchPool(f"http://127.0.0.1:{port}", "key", timeout=0.5)
        started = time.monotonic()
        try:
            with pytest.raises(TimeoutError):
                await pool.search([{"indexUid": "x", "q": "Liste"}])
            return time.monotonic() - started
        finally:
            await pool.aclose()
            for writer in accepted:
                writer.close()
            server.close()
            await server.wait_closed()

    assert asyncio.run(silent()) < 5


def test_a_missing_index_is_a_status_error_the_api_can_read(meili: LocalMeilisearch) -> None:
    async def missing() -> EngineStatusError:
        pool = MultiSearchPool(meili.url, meili.master_key, timeout=5)
        try:
            with pytest.raises(EngineStatusError) as refused:
                await pool.search(_queries("gibt_es_nicht", "Liste"))
            # The connection stays usable after an error answer.
            with pytest.raises(EngineStatusError):
                await pool.search(_queries("gibt_es_nicht", "Liste"))
            assert len(pool._idle) == 1
            return refused.value
        finally:
            await pool.aclose()

    error = asyncio.run(missing())
    assert error.response.status_code == 400  # multi-search: 400 with the code below
    assert "index_not_found" in error.response.text


def test_a_wrong_key_is_a_status_error_not_an_outage(meili: LocalMeilisearch) -> None:
    async def wrong() -> EngineStatusError:
        pool = MultiSearchPool(meili.url, "not-the-key", timeout=5)
        try:
            with pytest.raises(EngineStatusError) as refused:
                await pool.search(_queries("any", "Liste"))
            return refused.value
        finally:
            await pool.aclose()

    assert asyncio.run(wrong()).response.status_code in {401, 403}


# Each needs follow-up requests: a compound the index has only as parts, an unknown word
# dropped because the rest names an entry's subject, and one the rest cannot carry.
UNDERSTOOD = [
    "Lotsenüberblick",
    "Ablaufdokumentation",
    "Überblick Apfelkuchen",
    "Apfelkuchen backen",
]


def test_query_understanding_asks_over_the_pool_too(
    meili: LocalMeilisearch, fixture_settings: Settings
) -> None:
    """A query with a word the index lacks needs follow-up multi-searches (compound cuts,
    exact words, entries about: search/understanding.py). With a pool, they take it like
    the main query: the SDK client here points at a port nobody listens on (a real
    refused connection), and the answers are still the engine's."""
    sync(fixture_settings)
    rows = asyncio.run(Entry.select().where(Entry.status == PUBLISHED).output(load_json=True).run())
    documents = [build_document(row) for row in rows]

    async def answers(client_url: str, *, with_pool: bool) -> dict[str, list[str]]:
        uid = f"test_{uuid.uuid4().hex[:10]}"
        async with meilisearch_client(meili.url, meili.master_key, timeout=10) as admin:
            await ensure_index(admin, uid)
            task = await admin.index(uid).add_documents(documents, primary_key="slug")
            await wait_for(admin, task.task_uid)
        pool = MultiSearchPool(meili.url, meili.master_key, timeout=5)
        found = {}
        try:
            async with meilisearch_client(client_url, meili.master_key, timeout=5) as client:
                for q in UNDERSTOOD:
                    result = await search_entries(
                        client, uid, q=q, filters={}, page=1, page_size=5, facets=[],
                        pool=pool if with_pool else None,
                    )  # fmt: skip
                    found[q] = [hit["slug"] for hit in result["hits"]]
        finally:
            await pool.aclose()
        return found

    nobody = f"http://127.0.0.1:{free_port()}"
    over_the_pool = asyncio.run(answers(nobody, with_pool=True))
    assert over_the_pool == {
        "Lotsenüberblick": ["ueberblick"],  # "Überblick für Lotsen"
        "Ablaufdokumentation": ["arbeitsablauf"],  # "Ablauf" in its summary, tag Dokumentation
        "Überblick Apfelkuchen": ["ueberblick"],  # the unknown word dropped
        "Apfelkuchen backen": [],  # the rest is only a guess: nothing
    }
    # The SDK's way (no pool: search_cpu.py's "before" arm) still answers the same.
    assert asyncio.run(answers(meili.url, with_pool=False)) == over_the_pool
