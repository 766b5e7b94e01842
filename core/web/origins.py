"""Web origins of partner sites, checked strictly.

An origin from a site file ends up in two response headers: ``frame-ancestors`` of the
embed pages' Content-Security-Policy and ``Access-Control-Allow-Origin``. Anything more
than an origin there changes what the header means (a space adds a second source, a
``;`` a second directive, a line break ends the header), so a site's origins are parsed
into scheme, host and port, each part is checked, and only the normalised text rebuilt
from those parts is used.

The rules: scheme ``https`` (``http`` only for this machine: localhost, 127.0.0.1,
[::1]); a host that is a DNS name valid under IDNA 2008 (RFC 5891, checked with the
``idna`` package; Python's own ``idna`` codec implements the withdrawn IDNA 2003), an
IPv4 address or a bracketed IPv6 address; an optional port 1–65535 that is not the
scheme's default; nothing else, and lower case, the way browsers send the ``Origin``
header. A name with non-ASCII letters is refused with its punycode form as the fix:
the file then says exactly what the browser sends and what the headers contain.
"""

from __future__ import annotations

import ipaddress
import re

import idna

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})
DEFAULT_PORTS = {"http": 80, "https": 443}
# scheme://host[:port] with nothing before or after; the parts are checked below.
_SHAPE = re.compile(
    r"(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<host>\[[^\]/]*\]|[^:/?#@\[\]]*)(?::(?P<port>[0-9]*))?"
)
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
EXAMPLE = "e.g. https://www.example.org"


class OriginError(ValueError):
    """Why a text is not an origin we accept; the message says what to write instead."""


def parse_origin(text: str) -> str:
    """The origin ``text`` names, normalised (``scheme://host[:port]``), or OriginError."""
    if not isinstance(text, str) or not text:
        raise OriginError(f"an origin is scheme and host, {EXAMPLE}")
    if bad := next((c for c in text if not "\x21" <= c <= "\x7e"), None):
        raise OriginError(_bad_character(text, bad))
    if text != text.lower():
        raise OriginError(f"write origins in lower case, as browsers send them: {text.lower()}")
    match = _SHAPE.fullmatch(text)
    if match is None:
        raise OriginError(
            "write scheme and host (and port) only, without user, path, query or wildcard, "
            + EXAMPLE
        )
    scheme, host, port_text = match["scheme"], match["host"], match["port"]
    if scheme not in DEFAULT_PORTS:
        raise OriginError(f"the scheme must be https (http only for localhost), {EXAMPLE}")
    host = _checked_host(host)
    if scheme == "http" and host not in LOCAL_HOSTS:
        raise OriginError(
            "http is allowed only for localhost, 127.0.0.1 and [::1]; partner pages are "
            f"embedded over https, {EXAMPLE}"
        )
    if port_text is None:
        return f"{scheme}://{host}"
    if not re.fullmatch(r"[1-9][0-9]{0,4}", port_text) or int(port_text) > 65535:
        raise OriginError(f"the port {port_text!r} is not a number from 1 to 65535")
    if int(port_text) == DEFAULT_PORTS[scheme]:
        raise OriginError(
            f"leave out :{port_text}, the default port of {scheme}; browsers do not send it: "
            f"{scheme}://{host}"
        )
    return f"{scheme}://{host}:{port_text}"


def _bad_character(text: str, bad: str) -> str:
    if bad == " ":
        return "contains a space; write each origin as its own list item"
    if bad.isascii() or not bad.isprintable():
        return f"contains the control character {bad!r}; write only scheme, host and port"
    # A name in Unicode: say which punycode form to write, if it has one.
    try:
        scheme, _, rest = text.partition("://")
        host, sep, port = rest.partition(":")
        ascii_host = idna.encode(host, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        return (
            f"contains {bad!r}, and the host is not a valid internationalised domain name; "
            "write the host in ASCII (punycode)"
        )
    return f"write the host in its ASCII (punycode) form: {scheme}://{ascii_host}{sep}{port}"


def _checked_host(host: str) -> str:
    if host.startswith("["):
        try:
            address = ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            raise OriginError(f"{host} is not an IPv6 address") from None
        if host[1:-1] != address.compressed:
            raise OriginError(f"write the IPv6 address the short way: [{address.compressed}]")
        return host
    if not host:
        raise OriginError(f"the host is missing, {EXAMPLE}")
    labels = host.split(".")
    if labels[-1].isdigit():  # browsers read a name ending in a number as an IPv4 address
        try:
            ipv4 = ipaddress.IPv4Address(host)
        except ValueError:
            raise OriginError(f"{host} is not an IPv4 address") from None
        return str(ipv4)
    if len(host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise OriginError(
            f"{host!r} is not a host name: labels of a-z, 0-9 and - (not at either end), "
            "separated by single dots, at most 63 characters each"
        )
    try:
        idna.decode(host)  # checks punycode labels (xn--) and the hyphen rules of IDNA 2008
    except (idna.IDNAError, UnicodeError) as exc:
        raise OriginError(f"{host!r} is not a valid domain name under IDNA: {exc}") from None
    return host


__all__ = ["OriginError", "parse_origin"]
