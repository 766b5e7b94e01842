"""The app's Meilisearch client asks for uncompressed answers: no ~40 ms stall per search.

Asked for gzip, Meilisearch 1.21 streams the compressed body as a chunked response in
several small writes with Nagle's algorithm on; each write after the first waits for the
client's delayed ACK, about 40 ms (search/client.py, docs/PERFORMANCE.md). The check is
structural (what the engine sends back), so it cannot flake on a busy machine.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from meilisearch_python_sdk import AsyncClient

from core.plugins import build_registry
from core.settings import Settings
from search.indexer import ensure_index
from search.local_server import LocalMeilisearch
from search.worker import SearchService
from tests.conftest import FIXTURE_CONTENT


@pytest.fixture(scope="module")
def meili(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalMeilisearch]:
    with LocalMeilisearch(tmp_path_factory.mktemp("meili")) as server:
        yield server


async def _search_through(client: AsyncClient, uid: str) -> tuple[dict[str, str], int]:
    """Headers of a real multi-search answer, and TCP_NODELAY of the connection it used."""
    await ensure_index(client, uid)
    body = {"queries": [{"indexUid": uid, "q": "Liste", "attributesToHighlight": ["title"]}]}
    response = await client.http_client.post("multi-search", json=body)
    response.raise_for_status()
    (connection,) = client.http_client._transport._pool.connections  # type: ignore[attr-defined]
    sock = connection._connection._network_stream.get_extra_info("socket")
    nodelay = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    return dict(response.headers), nodelay


def _service(meili: LocalMeilisearch, tmp_path: Path) -> SearchService:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'unused.sqlite'}",
        content_dir=FIXTURE_CONTENT,
        meili_url=meili.url,
        meili_admin_key=meili.master_key,
        meili_index=f"test_{uuid.uuid4().hex[:10]}",
    )
    return SearchService(settings, build_registry(settings, load_installed=False))


def test_searches_from_the_app_get_uncompressed_answers_in_one_piece(
    meili: LocalMeilisearch, tmp_path: Path
) -> None:
    service = _service(meili, tmp_path)

    async def both() -> list[tuple[dict[str, str], int]]:
        try:
            return [
                await _search_through(service.searcher, service.uid),
                await _search_through(service.admin, service.uid),
            ]
        finally:
            await service.admin.aclose()
            await service.searcher.aclose()

    for headers, nodelay in asyncio.run(both()):
        assert "content-encoding" not in headers  # not compressed: the stalling path
        assert "content-length" in headers  # one answer of known length, not chunked
        assert nodelay == 1  # and our own writes are not held back either


def test_plain_client_still_gets_the_stalling_compressed_answer(meili: LocalMeilisearch) -> None:
    """When this fails, Meilisearch no longer streams compressed answers in pieces (or the
    SDK no longer asks for them): search/client.py's header may go."""

    async def plain() -> dict[str, Any]:
        async with AsyncClient(meili.url, meili.master_key) as client:
            headers, _ = await _search_through(client, f"test_{uuid.uuid4().hex[:10]}")
            return headers

    headers = asyncio.run(plain())
    assert headers.get("content-encoding") in {"gzip", "br", "deflate", "zstd"}
    assert headers.get("transfer-encoding") == "chunked"
