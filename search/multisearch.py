"""The search request's one call to Meilisearch, on kept-alive connections of our own.

Why not the SDK's client for this call: profiling ``/api/v1/search`` (docs/PERFORMANCE.md)
put about 63 % of the request's CPU in the SDK's HTTP stack (httpx2, httpcore2, h11:
request building, header objects, two socket writes per request, response parsing),
for a request whose shape never changes. Here the request head is built once, each
request is one ``write`` of head and body together, and the answer is read by its
``Content-Length`` (we ask for it uncompressed: compressed answers arrive chunked behind
a ~40 ms delayed ACK, see search/client.py). The follow-up multi-searches of query
understanding (search/understanding.py: compound splits, exact words, entries about)
take the same pool (``multi_search``); indexing and settings keep the SDK's client.

Errors look like the SDK's to the callers: a status error carries ``response`` with
``status_code`` and ``text`` (core/api/search.py tells a missing index, an engine
failure and a refused query apart by them); an unreachable engine raises ``OSError`` and
a slow one ``TimeoutError``, neither with a ``response``.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import msgspec

from search.client import UNCOMPRESSED

if TYPE_CHECKING:
    from meilisearch_python_sdk import AsyncClient

# Idle connections kept per pool; more concurrent searches open more, the surplus closes.
KEEP_IDLE = 16
MAX_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class EngineAnswer:
    """The part of a refused answer that the callers look at (as the SDK's response)."""

    status_code: int
    text: str


class EngineStatusError(Exception):
    """Meilisearch answered with an error status."""

    def __init__(self, status: int, body: bytes) -> None:
        self.response = EngineAnswer(status, body.decode("utf-8", "replace"))
        super().__init__(f"Meilisearch answered {status}: {self.response.text[:500]}")


class _Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()


class MultiSearchPool:
    """``POST /multi-search`` over a small pool of kept-alive HTTP/1.1 connections."""

    def __init__(self, url: str, api_key: str | None, *, timeout: float) -> None:
        parts = urlsplit(url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.ssl = ssl.create_default_context() if parts.scheme == "https" else None
        self.timeout = timeout
        path = parts.path.rstrip("/") + "/multi-search"
        host = parts.netloc.rpartition("@")[2]
        head = [f"POST {path} HTTP/1.1", f"Host: {host}", "Content-Type: application/json"]
        head += [f"{name}: {value}" for name, value in UNCOMPRESSED.items()]
        if api_key:
            head.append(f"Authorization: Bearer {api_key}")
        self._head = ("\r\n".join(head) + "\r\nContent-Length: ").encode("latin-1")
        self._idle: list[_Connection] = []
        self._closed = False

    async def search(self, queries: list[dict[str, Any]]) -> list[Any]:
        """The ``results`` of one multi-search; raises EngineStatusError, OSError or
        TimeoutError (after ``timeout`` seconds for the whole call)."""
        status, _, body = await self.exchange(msgspec.json.encode({"queries": queries}))
        if status >= 400:
            raise EngineStatusError(status, body)
        results: list[Any] = msgspec.json.decode(body)["results"]
        return results

    async def exchange(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        """Send one request body; the answer's status, headers (lower-case) and body."""
        request = self._head + str(len(body)).encode() + b"\r\n\r\n" + body
        async with asyncio.timeout(self.timeout):
            while self._idle:
                connection = self._idle.pop()
                try:
                    return await self._round_trip(connection, request)
                except _StaleConnection:
                    continue  # the engine closed it while idle (a restart): take the next
            return await self._round_trip(await self._connect(), request, fresh=True)

    async def aclose(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(self.host, self.port, ssl=self.ssl)
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            # One write per request already; this keeps any later write from waiting too.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Connection(reader, writer)

    async def _round_trip(
        self, connection: _Connection, request: bytes, *, fresh: bool = False
    ) -> tuple[int, dict[str, str], bytes]:
        reusable = False
        try:
            connection.writer.write(request)  # head and body in one write
            try:
                head = await connection.reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                if not fresh and not getattr(exc, "partial", b""):
                    raise _StaleConnection from exc
                raise
            status, headers = _parse_head(head)
            body = await _read_body(connection.reader, headers)
            reusable = headers.get("connection", "").lower() != "close"
            return status, headers, body
        except asyncio.LimitOverrunError as exc:
            raise ConnectionError("Meilisearch sent an answer head that is too long") from exc
        finally:
            if reusable and not self._closed and len(self._idle) < KEEP_IDLE:
                self._idle.append(connection)
            else:
                connection.close()


async def multi_search(
    client: AsyncClient, queries: list[dict[str, Any]], pool: MultiSearchPool | None
) -> list[Any]:
    """The ``results`` of one multi-search: over ``pool`` when there is one (the search
    request's way), else through the SDK's ``client``. Both raise errors the API reads
    alike (a status error with ``response``; unreachable or slow without one)."""
    if pool is not None:
        return await pool.search(queries)
    response = await client.http_client.post("multi-search", json={"queries": queries})
    response.raise_for_status()
    # msgspec decodes the engine's answer several times faster than the client's json().
    results: list[Any] = msgspec.json.decode(response.content)["results"]
    return results


class _StaleConnection(Exception):
    """An idle connection was closed by the engine before our request reached it."""


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    if not version.startswith("HTTP/1."):
        raise ConnectionError(f"Not an HTTP/1.x answer from Meilisearch: {lines[0][:100]!r}")
    headers = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    return int(rest[:3]), headers


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    if "content-length" in headers:
        return await reader.readexactly(int(headers["content-length"]))
    if headers.get("transfer-encoding", "").lower() == "chunked":
        # Not what Meilisearch sends for an uncompressed answer; read correctly anyway.
        chunks = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
        while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
            pass
        return b"".join(chunks)
    raise ConnectionError("Meilisearch answered without a length")
