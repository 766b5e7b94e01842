"""core.server: uvicorn with several workers, but with Nagle's algorithm off on every
accepted connection (without it, each keep-alive request waited ~40 ms for a delayed
ACK; docs/PERFORMANCE.md)."""

from __future__ import annotations

import asyncio
import http.client
import os
import socket
from collections.abc import Callable
from pathlib import Path

import psutil
import uvicorn.config

from core import server
from search.local_server import free_port
from tests.conftest import make_settings, sync
from tests.processes import App


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


def test_a_keep_alive_client_is_served_by_every_worker(
    content_dir: Path, tmp_path: Path, apps: Callable[..., App]
) -> None:
    """N workers, one client holding 4N keep-alive connections: every worker serves some
    of them (each worker listens on its own SO_REUSEPORT socket; with uvicorn's shared
    socket the first worker to wake often took every connection). The kernel picks a
    worker by a hash of the connection's addresses, so 4N connections miss a worker with
    probability N·((N-1)/N)^4N (2⁻⁷ for N=2); a second set of 4N connections is opened
    only then, which a real spread passes with probability 1 - 2⁻¹⁴."""
    fixture_settings = make_settings(f"sqlite:///{tmp_path / 'spread.sqlite'}", content_dir)
    sync(fixture_settings)
    (tmp_path / "metrics").mkdir()
    env = {
        **os.environ,
        "DATABASE_URL": fixture_settings.database_url,
        "MENTORING40_CONTENT_DIR": str(content_dir),
        "MENTORING40_LOAD_PLUGINS": "",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
    }
    env.pop("MEILI_URL", None)
    workers = 2
    app = apps(env, tmp_path / "app.log", workers=workers)
    pids = {w.pid for w in app.workers()}
    assert len(pids) == workers
    held: list[http.client.HTTPConnection] = []
    try:
        for _round in range(2):
            for _ in range(4 * workers):
                conn = http.client.HTTPConnection("127.0.0.1", app.port, timeout=30)
                held.append(conn)
            for conn in held:  # two requests each, on the same kept-alive connection
                for _ in range(2):
                    conn.request("GET", "/api/v1/entries/ueberblick")
                    response = conn.getresponse()
                    assert response.status == 200
                    response.read()
                    assert response.getheader("connection") != "close"
            client_ports = {conn.sock.getsockname()[1] for conn in held}
            serving = {
                pid
                for pid in pids
                for c in psutil.Process(pid).net_connections(kind="tcp")
                if c.status == psutil.CONN_ESTABLISHED and c.raddr and c.raddr.port in client_ports
            }
            if serving == pids:
                break
        assert serving == pids, f"only {serving} of {pids} served the {len(held)} connections"
    finally:
        for conn in held:
            conn.close()
