"""The table of settings: every environment variable the app reads is one ``Variable``
row of ``VARIABLES`` with the field it fills, how its text is parsed and what it means.

A parser turns the text into a value or raises SettingsError saying what is allowed;
``core.settings.resolve`` puts the variable's name (and file and line) in front.
A new setting is a row here, a field of ``core.settings.Settings``, a line in
``.env.example`` and one in the README's settings list.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import msgspec


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


class RateLimit(msgspec.Struct, frozen=True):
    """At most ``requests`` per ``seconds`` per client."""

    requests: int
    seconds: int

    def __str__(self) -> str:
        unit = {1: "second", 60: "minute", 3600: "hour"}[self.seconds]
        return f"{self.requests}/{unit}"


# --- parsers: text -> value, or SettingsError saying what is allowed ------------------


def database_kind(url: str) -> str:
    """Return ``"sqlite"`` or ``"postgres"`` for a DATABASE_URL, or raise SettingsError."""
    kind, problem = _database_check(url)
    if problem:
        raise SettingsError(f"DATABASE_URL={mask_url(url)!r} {problem}")
    return kind


def _database_check(url: str) -> tuple[str, str | None]:
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or len(url) == len("sqlite:///"):
            return scheme, (
                "has no file path; write sqlite:///relative/path.sqlite "
                "or sqlite:////absolute/path.sqlite."
            )
        return "sqlite", None
    if scheme in {"postgres", "postgresql"}:
        parts = urlsplit(url)
        if not parts.hostname or not parts.path.strip("/"):
            return "postgres", (
                "needs a host and a database name: "
                "postgresql://user[:password]@host[:port]/database."
            )
        return "postgres", None
    return scheme, (
        f"uses the scheme {scheme!r}; allowed are "
        "sqlite:///path/to/file.sqlite and postgresql://user@host:port/database."
    )


def mask_url(url: str) -> str:
    """``url`` without its password (``user:***@host``), for messages and logs."""
    parts = urlsplit(url)
    if parts.password:
        return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()
    return url


def _database_url(text: str) -> str:
    _, problem = _database_check(text)
    if problem:
        raise SettingsError(problem)
    return text


def _directory(text: str) -> Path:
    path = Path(text).expanduser().resolve()
    if not path.is_dir():
        raise SettingsError(
            "is not a directory; point it at a folder that holds taxonomy.yaml and entries/."
        )
    return path


def _folder(text: str) -> Path:
    path = Path(text).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise SettingsError("is a file; point it at a folder (it is created if missing).")
    return path


def _names(text: str) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip())


def _whole(low: int, meaning: str = "") -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not text.isdigit() or int(text) < low:
            raise SettingsError(f"is not a whole number of at least {low}{meaning}.")
        return int(text)

    return parse


def _boolean(text: str) -> bool:
    lowered = text.lower()
    if lowered not in {"0", "1", "true", "false", "yes", "no"}:
        raise SettingsError("is not a boolean; use 1/0, true/false or yes/no.")
    return lowered in {"1", "true", "yes"}


def _pattern(regex: str, allowed: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if not re.fullmatch(regex, text):
            raise SettingsError(f"is not allowed; {allowed}.")
        return text

    return parse


def _choice(*choices: str) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in choices:
            raise SettingsError(f"is not allowed; use one of {', '.join(choices)}.")
        return text.lower()

    return parse


def _http_url(text: str) -> str:
    if urlsplit(text).scheme not in {"http", "https"} or not urlsplit(text).hostname:
        raise SettingsError("is not an http(s) URL such as http://127.0.0.1:7700.")
    return text.rstrip("/")


def _token(text: str) -> str:
    if len(text) < 16 or not re.fullmatch(r"[A-Za-z0-9._~+/=-]+", text):
        raise SettingsError(
            "is not usable as a bearer token; use at least 16 letters, digits or ._~+/=- "
            "(e.g. the output of `openssl rand -hex 32`)."
        )
    return text


def _rate_limit(text: str) -> RateLimit | None:
    if text.lower() == "off":
        return None
    match = re.fullmatch(r"(\d+)\s*/\s*(second|minute|hour)", text.lower())
    if not match or int(match[1]) < 1:
        raise SettingsError(
            "is not a rate; write e.g. 30/minute (N/second, N/minute or N/hour, N ≥ 1) or off."
        )
    return RateLimit(int(match[1]), {"second": 1, "minute": 60, "hour": 3600}[match[2]])


def _store(text: str) -> str:
    if text == "memory":
        return text
    parts = urlsplit(text)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise SettingsError("is neither memory nor a Redis URL such as redis://127.0.0.1:6379/0.")
    return text


def _networks(text: str) -> tuple[str, ...]:
    networks = []
    for part in _names(text):
        try:
            network = ipaddress.ip_network(part)
        except ValueError as exc:
            raise SettingsError(
                f"has {part!r}, which is not an IP address or network ({exc}); list the "
                "reverse proxies' addresses or networks, e.g. 127.0.0.1,10.0.0.0/8"
            ) from None
        networks.append(str(network.network_address if network.num_addresses == 1 else network))
    return tuple(networks)


@dataclass(frozen=True)
class Variable:
    name: str
    field: str
    parse: Callable[[str], object]
    help: str
    secret: bool = False
    aliases: tuple[str, ...] = ()
    empty_means_none: bool = False  # an empty value is a value, not "use the default"

    @property
    def names(self) -> tuple[str, ...]:
        return (self.name, *self.aliases)


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "DATABASE_URL",
        "database_url",
        _database_url,
        "sqlite:///path.sqlite or postgresql://user[:password]@host[:port]/db",
    ),
    Variable("MENTORING40_CONTENT_DIR", "content_dir", _directory, "the core content folder"),
    Variable(
        "MENTORING40_LOAD_PLUGINS",
        "load_plugins",
        _names,
        "comma-separated entry-point names of the plugins to load; empty: none",
        empty_means_none=True,
    ),
    Variable(
        "MENTORING40_CACHE_MAX_AGE",
        "cache_max_age",
        _whole(0, " (seconds)"),
        "seconds in Cache-Control: max-age of API reads",
    ),
    Variable(
        "MENTORING40_STATS_MIN_GROUP",
        "stats_min_group",
        _whole(2, " (the smallest group of responses whose statistics are shown; default 5)"),
        "smallest group the questionnaire statistics show",
    ),
    Variable(
        "MENTORING40_RUN_MIN_GROUP",
        "run_min_group",
        _whole(2, " (a run's employee answers count in whole blocks of this size; default 3)"),
        "smallest group of employee (and feedback) answers of a run that is shown",
    ),
    Variable(
        "MENTORING40_THEME",
        "theme",
        _pattern(
            r"[a-z][a-z0-9-]{1,39}",
            "a theme name has a-z, 0-9 and -; `mentoring40 themes` lists the installed themes",
        ),
        "theme of the Lotse workspace at /",
    ),
    Variable(
        "MENTORING40_READY_MAX_OUTBOX_AGE",
        "ready_max_outbox_age",
        _whole(1),
        "seconds a change may wait for the search index before /ready fails",
    ),
    Variable(
        "MENTORING40_MAX_BODY_BYTES",
        "max_body_bytes",
        _whole(1024),
        "largest request body in bytes; larger ones get 413",
    ),
    Variable(
        "MENTORING40_INDEXER_LEASE_SECONDS",
        "indexer_lease_seconds",
        _whole(2),
        "seconds after which another worker takes over from a dead search indexer",
    ),
    Variable("MENTORING40_LOG_FORMAT", "log_format", _choice("text", "json"), "text or json"),
    Variable(
        "MENTORING40_LOG_LEVEL",
        "log_level",
        lambda text: _choice("debug", "info", "warning", "error")(text).upper(),
        "debug, info, warning or error",
    ),
    Variable(
        "MENTORING40_RATE_LIMIT_SEARCH",
        "rate_limit_search",
        _rate_limit,
        "searches per client, e.g. 600/minute, or off",
    ),
    Variable(
        "MENTORING40_RATE_LIMIT_SUBMIT",
        "rate_limit_submit",
        _rate_limit,
        "questionnaire submissions per client, e.g. 30/minute, or off",
    ),
    Variable(
        "MENTORING40_RATE_LIMIT_STORE",
        "rate_limit_store",
        _store,
        "memory (per process) or redis://host:port/db (shared)",
    ),
    Variable(
        "MENTORING40_TRUSTED_PROXIES",
        "trusted_proxies",
        _networks,
        "comma-separated addresses/networks of reverse proxies whose X-Forwarded-For "
        "names the client; empty: none (the connection's address is the client)",
    ),
    Variable(
        "MENTORING40_METRICS_TOKEN",
        "metrics_token",
        _token,
        "bearer token that /metrics requires; empty: /metrics answers loopback clients only",
        secret=True,
    ),
    Variable("MENTORING40_DEBUG", "debug", _boolean, "Litestar debug mode"),
    Variable(
        "MENTORING40_SECURE_COOKIES",
        "secure_cookies",
        _boolean,
        "send the editor's session cookie over HTTPS only (Secure); true in production",
    ),
    Variable(
        "MENTORING40_SESSION_HOURS",
        "session_hours",
        _whole(1, " (hours)"),
        "hours after sign-in when an editor's session ends",
    ),
    Variable(
        "MENTORING40_SESSION_IDLE_MINUTES",
        "session_idle_minutes",
        _whole(5, " (minutes)"),
        "minutes without a request after which an editor's session ends",
    ),
    Variable(
        "MENTORING40_LOGIN_FAILURES_PER_ACCOUNT",
        "login_failures_per_account",
        _whole(1),
        "failed sign-ins to one account before it pauses for MENTORING40_LOGIN_LOCK_MINUTES",
    ),
    Variable(
        "MENTORING40_LOGIN_FAILURES_PER_ADDRESS",
        "login_failures_per_address",
        _whole(1),
        "failed sign-ins from one client address before it pauses",
    ),
    Variable(
        "MENTORING40_LOGIN_LOCK_MINUTES",
        "login_lock_minutes",
        _whole(1, " (minutes)"),
        "minutes sign-in pauses after too many failures (also the window they are counted in)",
    ),
    Variable(
        "MENTORING40_SITES_REFRESH_SECONDS",
        "sites_refresh_seconds",
        _whole(1, " (seconds)"),
        "seconds after which each worker sees partner-site and region changes made in /redaktion",
    ),
    Variable("MEILI_URL", "meili_url", _http_url, "an external Meilisearch"),
    Variable(
        "MEILI_ADMIN_KEY",
        "meili_admin_key",
        str,
        "key for indexing",
        secret=True,
        aliases=("MEILI_MASTER_KEY",),
    ),
    Variable(
        "MEILI_SEARCH_KEY", "meili_search_key", str, "search-only key for queries", secret=True
    ),
    Variable(
        "MEILI_INDEX",
        "meili_index",
        _pattern(r"[A-Za-z0-9_-]+", "it may contain only letters, digits, - and _"),
        "index name",
    ),
    Variable(
        "MENTORING40_SEARCH_DATA",
        "search_data",
        _folder,
        "folder of the embedded Meilisearch (data, log, master key) when MEILI_URL is unset",
    ),
)
SECRET_FIELDS = frozenset(v.field for v in VARIABLES if v.secret)
URL_FIELDS = frozenset({"database_url", "rate_limit_store"})
