"""Run the app the way it is deployed: ``python -m core.server core.app:create_app_from_env
--factory --workers 2 …`` takes uvicorn's command line, with uvicorn's proxy headers off
(the app reads X-Forwarded-For itself, see ``proxy_headers_off``).

It exists for that and for one fix. With ``--workers N`` uvicorn binds the listening socket itself
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


def proxy_headers_off(argv: list[str]) -> list[str]:
    """``argv`` with uvicorn's own X-Forwarded-For handling switched off.

    By default uvicorn believes the header from 127.0.0.1, so anything on the host could
    pick its address and escape the rate limits; the app decides instead, from
    MENTORING40_TRUSTED_PROXIES (core.http.proxies). Asking uvicorn for it is an error, so
    that two lists of trusted proxies cannot disagree."""
    given = [a for a in argv if a in {"--proxy-headers", "--forwarded-allow-ips"}]
    given += [a for a in argv if a.startswith("--forwarded-allow-ips=")]
    if given:
        raise SystemExit(
            f"core.server: {given[0]} is not used; the app reads X-Forwarded-For itself, "
            "from the proxies listed in MENTORING40_TRUSTED_PROXIES."
        )
    return [*argv, "--no-proxy-headers"]


def main() -> None:
    from uvicorn.main import main as uvicorn_main

    install()
    sys.exit(uvicorn_main(args=proxy_headers_off(sys.argv[1:])))


if __name__ == "__main__":
    main()
