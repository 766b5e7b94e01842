"""The one way this app builds its Meilisearch client.

Why not ``AsyncClient(url, key)`` directly: its HTTP library asks for compressed answers
(``Accept-Encoding: gzip, deflate, br``). Meilisearch 1.21 then streams the compressed
body as a chunked response in several small writes on a socket with Nagle's algorithm
on, so every write after the first waits for our delayed ACK: about 40 ms on most
searches, against 1–3 ms uncompressed (measured in docs/PERFORMANCE.md). Our own socket
already has TCP_NODELAY (asyncio sets it), so the fix is on our side of the request: ask
for the answer uncompressed. Between the app and its search engine (loopback or a private
network) compression saves nothing worth 40 ms. tests/test_search_client.py guards it.
"""

from __future__ import annotations

from meilisearch_python_sdk import AsyncClient

# The header that avoids the stall; kept public so tests and the benchmark name it.
UNCOMPRESSED = {"Accept-Encoding": "identity"}


def meilisearch_client(url: str, api_key: str | None, *, timeout: int) -> AsyncClient:
    """A Meilisearch client that asks for uncompressed answers (no ~40 ms stall)."""
    return AsyncClient(url, api_key, timeout=timeout, custom_headers=dict(UNCOMPRESSED))
