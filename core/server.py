"""Run the app the way it is deployed: ``python -m core.server core.app:create_app_from_env
--factory --workers 2 …`` takes uvicorn's command line unchanged.

It exists for one fix. With ``--workers N`` uvicorn binds the listening socket itself
with protocol 0; accepted connections inherit that, and asyncio switches Nagle's
algorithm off (TCP_NODELAY) only for sockets that say IPPROTO_TCP. Every response on a
kept-alive connection after the first, which is every request nginx forwards, then
waits about 40 ms for the client's delayed ACK (uvicorn issue #3149; measured in
docs/PERFORMANCE.md). Here the bound socket is re-wrapped as IPPROTO_TCP, the fix
proposed upstream. tests/test_server.py fails when uvicorn no longer needs it.
"""

from __future__ import annotations

import socket
import sys

import uvicorn.config

_uvicorn_bind_socket = uvicorn.config.Config.bind_socket


def bind_socket(self: uvicorn.config.Config) -> socket.socket:
    """uvicorn's bind_socket, with the bound TCP socket known to Python as IPPROTO_TCP."""
    sock = _uvicorn_bind_socket(self)
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto:
        return sock
    return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())


def install() -> None:
    """Apply the fix to uvicorn in this process (idempotent)."""
    uvicorn.config.Config.bind_socket = bind_socket  # type: ignore[method-assign]


def main() -> None:
    from uvicorn.main import main as uvicorn_main

    install()
    sys.exit(uvicorn_main())


if __name__ == "__main__":
    main()
