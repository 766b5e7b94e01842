"""uvicorn, with the one-line fix for TCP_NODELAY under ``--workers N`` (measurement only).

With ``--workers N`` uvicorn binds the listening socket itself and leaves its protocol
at 0; accepted connections inherit that, and asyncio switches Nagle's algorithm off only
for sockets that say IPPROTO_TCP. On Linux every keep-alive request after the first then
waits about 40 ms for the client's delayed ACK (uvicorn issue #3149, fix proposed
upstream). This wrapper re-wraps the bound socket with IPPROTO_TCP and runs uvicorn's
normal command line. `load.py --tcp-nodelay` uses it to show what the fix is worth; the
deployment (deploy/systemd, deploy/compose.yaml) runs plain uvicorn.
"""

from __future__ import annotations

import socket
import sys

import uvicorn.config
from uvicorn.main import main

_bind_socket = uvicorn.config.Config.bind_socket


def bind_socket(self: uvicorn.config.Config) -> socket.socket:
    sock = _bind_socket(self)
    if sock.family not in (socket.AF_INET, socket.AF_INET6):
        return sock
    # The same bound descriptor, now known to Python (and asyncio) as TCP.
    return socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())


uvicorn.config.Config.bind_socket = bind_socket  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main())
