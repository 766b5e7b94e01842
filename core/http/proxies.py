"""Which address a request comes from, and whether it was HTTPS, behind reverse proxies.

Rate limits count per client address, so that address must be one a client cannot choose.
``X-Forwarded-For`` is written by whoever sends the request; it is believed only when the
connection comes from a proxy listed in ``MENTORING40_TRUSTED_PROXIES`` (addresses or
networks). By default the list is empty: the header is ignored and the connection's peer
is the client, also for anything else on the same host (uvicorn itself would trust
127.0.0.1, so ``mentoring40 serve`` and ``core.server`` switch its proxy handling off and
leave it to this module).

Behind trusted proxies the client is the right-most address in ``X-Forwarded-For`` that
is not itself a trusted proxy. Each proxy appends the address it received the connection
from, so the entries on the right are written by our proxies and the ones on the left by
the client (which may put anything there). Walking from the right, the first address that
is not one of our proxies was written by a trusted proxy about the machine that connected
to it: that is the client, and no value the client sends can change it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from litestar.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_SCHEMES = {"http": {"http", "https"}, "websocket": {"ws", "wss"}}


class TrustedProxies:
    """The reverse proxies whose forwarding headers are believed."""

    def __init__(self, networks: Iterable[str]) -> None:
        self.networks: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in networks)

    def __contains__(self, address: str) -> bool:
        ip = _ip(address)
        return ip is not None and any(ip in network for network in self.networks)

    def client(self, peer: str, forwarded_for: list[str]) -> str:
        """The client's address, given the connection's ``peer`` and the values of every
        X-Forwarded-For header (in the order received)."""
        if not self.networks or peer not in self:
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        hops = [hop for hop in hops if hop]
        for hop in reversed(hops):
            if hop not in self:
                # One of our proxies wrote it. As an address (1.2.3.4:5678 -> 1.2.3.4, so a
                # new port is not a new budget); if it is none, bounded all the same.
                ip = _ip(hop)
                return hop[:100] if ip is None else str(ip)
        # Every hop is one of our proxies (a request from inside): the first one it names.
        return hops[0] if hops else peer


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address in ``text`` (also ``1.2.3.4:80`` and ``[::1]:80``), IPv4-mapped IPv6
    as IPv4; None for anything else ("testclient", a Unix socket path, garbage)."""
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        ip = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:127.0.0.1 on a dual-stack socket is 127.0.0.1
    return ip


def forwarded(app: ASGIApp, proxies: TrustedProxies) -> ASGIApp:
    """ASGI middleware: ``scope["client"]`` and ``scope["scheme"]`` as the trusted proxy
    saw them (X-Forwarded-For, X-Forwarded-Proto); unchanged for anyone else."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        peer = (scope.get("client") or ("", 0))[0] if scope["type"] in _SCHEMES else ""
        if peer and proxies.networks and peer in proxies:
            headers = scope.get("headers", [])
            chain = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
            scope["client"] = (proxies.client(peer, chain), 0)
            proto = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-proto"]
            scheme = proto[-1].split(",")[-1].strip().lower() if proto else ""
            if scheme in _SCHEMES[scope["type"]]:
                scope["scheme"] = scheme
        await app(scope, receive, send)

    return middleware


__all__ = ["TrustedProxies", "forwarded"]
