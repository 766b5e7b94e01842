"""core.server: uvicorn with several workers, but with Nagle's algorithm off on every
accepted connection (without it, each keep-alive request waited ~40 ms for a delayed
ACK; docs/PERFORMANCE.md)."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable

import uvicorn.config

from core import server
from search.local_server import free_port


async def _nodelay_of_accepted(bind: Callable[[uvicorn.config.Config], socket.socket]) -> int:
    """Bind like uvicorn's --workers mode, accept one connection, read its TCP_NODELAY."""
    config = uvicorn.config.Config(app=None, host="127.0.0.1", port=free_port(), workers=2)
    listening = bind(config)
    seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            accepted = transport.get_extra_info("socket")
            seen.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    srv = await asyncio.get_running_loop().create_server(Probe, sock=listening)
    try:
        _, writer = await asyncio.open_connection("127.0.0.1", config.port)
        value = await asyncio.wait_for(seen, 10)
        writer.close()
        return value
    finally:
        srv.close()
        await srv.wait_closed()


def test_accepted_connections_have_nagle_off() -> None:
    assert asyncio.run(_nodelay_of_accepted(server.bind_socket)) == 1


def test_plain_uvicorn_still_needs_the_fix() -> None:
    """When this fails, uvicorn has fixed issue #3149: drop core/server.py's patch."""
    assert asyncio.run(_nodelay_of_accepted(server._uvicorn_bind_socket)) == 0
