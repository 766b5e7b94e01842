"""Run the app the way it is deployed: ``python -m core.server core.app:create_app_from_env
--factory --workers 2 …`` takes uvicorn's command line, with uvicorn's proxy headers off
(the app reads X-Forwarded-For itself, see ``proxy_headers_off``).

It exists for that and for two fixes. With ``--workers N`` uvicorn binds the listening socket itself
with protocol 0; accepted connections inherit that, and asyncio switches Nagle's
algorithm off (TCP_NODELAY) only for sockets that say IPPROTO_TCP. Every response on a
kept-alive connection after the first, which is every request nginx forwards, then
waits about 40 ms for the client's delayed ACK (uvicorn issue #3149; measured in
docs/PERFORMANCE.md). Here the bound socket is re-wrapped as IPPROTO_TCP, the fix
proposed upstream. tests/test_server.py fails when uvicorn no longer needs it.

The second: each worker listens on a socket of its own (SO_REUSEPORT, ``SpreadingServer``)
so that the kernel spreads connections over all workers; tests/test_server.py checks that
a keep-alive client holding 4N connections is served by every one of N workers.
"""

from __future__ import annotations

import socket
import sys

import uvicorn.config
import uvicorn.server
import uvicorn.supervisors.multiprocess as multiprocess

_uvicorn_bind_socket = uvicorn.config.Config.bind_socket
REUSE_PORT = getattr(socket, "SO_REUSEPORT", None)


def bind_socket(self: uvicorn.config.Config) -> socket.socket:
    """uvicorn's bind_socket, with the bound TCP socket known to Python as IPPROTO_TCP,
    and, with several workers, marked SO_REUSEPORT (see ``SpreadingServer``)."""
    sock = _uvicorn_bind_socket(self)
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto:
        return sock
    tcp = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    if self.workers > 1 and REUSE_PORT is not None:
        # Already bound; the option must be on the first socket of the port before the
        # workers bind theirs beside it. The supervisor never listens on it.
        tcp.setsockopt(socket.SOL_SOCKET, REUSE_PORT, 1)
    return tcp


class SpreadingServer(uvicorn.server.Server):
    """uvicorn's server, but each worker listens on a socket of its own (SO_REUSEPORT).

    With one shared listening socket, the first worker that wakes accepts every waiting
    connection in one go; a keep-alive client (nginx's upstream pool, a load balancer)
    then talks to one worker while the others idle (docs/PERFORMANCE.md: 7 of 9 runs).
    With a socket per worker, the kernel spreads new connections over the workers by
    their address hash, and a worker that dies takes only its own socket with it."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if sockets is not None and self.config.workers > 1:
            sockets = [_own_socket(sock) for sock in sockets]
        await super().startup(sockets=sockets)


def _own_socket(shared: socket.socket) -> socket.socket:
    """A listening socket of this worker beside ``shared`` (bound with SO_REUSEPORT)."""
    if REUSE_PORT is None or not shared.getsockopt(socket.SOL_SOCKET, REUSE_PORT):
        return shared
    own = socket.socket(shared.family, shared.type, socket.IPPROTO_TCP)
    own.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    own.setsockopt(socket.SOL_SOCKET, REUSE_PORT, 1)
    own.bind(shared.getsockname())
    own.set_inheritable(False)
    shared.close()
    return own


class SpreadingProcess(multiprocess.Process):
    """uvicorn's worker process, running a ``SpreadingServer``. The worker is started
    with this object's bound ``target``, so the new process imports this module too."""

    @property
    def server(self) -> uvicorn.server.Server:
        if self._server is None:
            self._server = SpreadingServer(config=self.config)
        return self._server


def install() -> None:
    """Apply the fixes to uvicorn in this process (idempotent)."""
    uvicorn.config.Config.bind_socket = bind_socket  # type: ignore[method-assign]
    multiprocess.Process = SpreadingProcess  # type: ignore[misc]


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
