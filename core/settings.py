"""One typed settings object, read from environment variables and an optional file.

Every setting is one row of ``VARIABLES``: its variable name, the field it fills, how
its text is parsed and what it means. A bad value stops startup with a message that
names the variable (and the file and line it came from) and says what is allowed;
nothing else in the code reads ``os.environ``. Secrets never appear in messages or in
``repr(settings)``.

``MENTORING40_SETTINGS_FILE`` names a file of ``NAME=value`` lines, the format of
``deploy/.env.example`` (and of systemd's EnvironmentFile and compose's env_file).
Environment variables win over the file.
"""

from __future__ import annotations

import difflib
import ipaddress
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'mentoring40.sqlite'}"
DEFAULT_CONTENT_DIR = PROJECT_ROOT / "content"
DEFAULT_SEARCH_DATA = PROJECT_ROOT / "var" / "meilisearch"
SETTINGS_FILE_VARIABLE = "MENTORING40_SETTINGS_FILE"
# Read by the deployment (compose, systemd), not by the app; allowed in a settings file.
DEPLOYMENT_ONLY = frozenset(
    {"POSTGRES_PASSWORD", "MENTORING40_WORKERS", "MENTORING40_PORT", "MENTORING40_IMAGE_TAG"}
)
MASK = "***"


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


class RateLimit(msgspec.Struct, frozen=True):
    """At most ``requests`` per ``seconds`` per client."""

    requests: int
    seconds: int

    def __str__(self) -> str:
        unit = {1: "second", 60: "minute", 3600: "hour"}[self.seconds]
        return f"{self.requests}/{unit}"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = DEFAULT_DATABASE_URL
    content_dir: Path = DEFAULT_CONTENT_DIR
    # None: every installed plugin loads. A tuple: only these entry-point names.
    load_plugins: tuple[str, ...] | None = None
    cache_max_age: int = 60
    debug: bool = False
    # Questionnaire statistics withhold every group smaller than this.
    stats_min_group: int = 5
    # The theme of the Lotse workspace at / (embeds use their site's theme).
    theme: str = "default"
    # /ready fails when a change waits longer than this (seconds) to reach the index.
    ready_max_outbox_age: int = 300
    # Largest request body accepted (bytes); larger ones get 413.
    max_body_bytes: int = 1_000_000
    # Exactly one worker indexes; if it dies, another takes over after this many seconds.
    indexer_lease_seconds: int = 60
    # "text" (readable, development) or "json" (one object per line, production).
    log_format: str = "text"
    log_level: str = "INFO"
    # Per client address; None: no limit. Shared across workers through ``rate_limit_store``.
    rate_limit_search: RateLimit | None = RateLimit(600, 60)
    rate_limit_submit: RateLimit | None = RateLimit(30, 60)
    # "memory" (per process) or a redis:// URL (shared by all workers and instances).
    rate_limit_store: str = "memory"
    # Addresses and networks of reverse proxies whose X-Forwarded-For is believed (see
    # core.http.proxies). Empty: the header is ignored; the connection's peer is the client.
    trusted_proxies: tuple[str, ...] = ()
    # Bearer token for /metrics; None: /metrics answers only clients on this machine.
    metrics_token: str | None = None
    # Meilisearch. No URL: search is off, except that `mentoring40 serve` starts the
    # embedded one and fills these in. Production sets MEILI_URL and keys.
    meili_url: str | None = None
    meili_admin_key: str | None = None
    meili_search_key: str | None = None
    meili_index: str = "entries"
    # The embedded Meilisearch's data, log, master key and running.json (which tells
    # `search status` and `search reindex` where it answers).
    search_data: Path = DEFAULT_SEARCH_DATA

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in self.public().items())
        return f"Settings({fields})"

    __str__ = __repr__

    def public(self) -> dict[str, object]:
        """Every field, with secrets masked: what may be logged or printed."""
        shown: dict[str, object] = {}
        for name in self.__struct_fields__:
            value = getattr(self, name)
            if name in SECRET_FIELDS and value is not None:
                value = MASK
            elif name in URL_FIELDS and isinstance(value, str):
                value = mask_url(value)
            shown[name] = value
        return shown

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``) and the settings file it
        names; raise SettingsError naming the variable."""
        return cls(**{field: value for field, (value, _) in resolve(environ).items()})  # type: ignore[arg-type]


def resolve(environ: Mapping[str, str] | None = None) -> dict[str, tuple[object, str]]:
    """Each field that is set: its parsed value and where it came from."""
    env = os.environ if environ is None else environ
    values: dict[str, tuple[str, str]] = {}  # variable -> (text, origin)
    if path := env.get(SETTINGS_FILE_VARIABLE, "").strip():
        values.update(read_settings_file(Path(path)))
    values.update({name: (env[name], "environment") for name in KNOWN if name in env})
    resolved: dict[str, tuple[object, str]] = {}
    for var in VARIABLES:
        # The first name with a value (MEILI_ADMIN_KEY, else MEILI_MASTER_KEY); empty: default.
        present = [(n, values[n][0].strip(), values[n][1]) for n in var.names if n in values]
        found = next((p for p in present if p[1]), None)
        if found is None:
            if not (present and var.empty_means_none):
                continue
            found = present[0]
        name, text, origin = found
        try:
            resolved[var.field] = (var.parse(text), origin)
        except SettingsError as exc:
            shown = MASK if var.secret else mask_url(text)
            where = "" if origin == "environment" else f" (from {origin})"
            raise SettingsError(f"{name}={shown!r}{where} {exc}") from None
    return resolved


def read_settings_file(path: Path) -> dict[str, tuple[str, str]]:
    """``NAME=value`` lines of ``path``; blank lines and ``#`` comments are skipped."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise SettingsError(
            f"{SETTINGS_FILE_VARIABLE}={str(path)!r} cannot be read: {exc.strerror}."
        ) from None
    values: dict[str, tuple[str, str]] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.removeprefix("export ").partition("=")
        name = name.strip()
        where = f"{path}:{number}"
        if not sep or not re.fullmatch(r"[A-Z][A-Z0-9_]*", name):
            raise SettingsError(f"{where}: expected NAME=value, found {raw.strip()[:60]!r}.")
        if name not in KNOWN and name not in DEPLOYMENT_ONLY:
            if name.startswith(("MENTORING40_", "MEILI_")) or name == "DATABASE_URL":
                close = difflib.get_close_matches(name, sorted(KNOWN), n=1)
                hint = f" Did you mean {close[0]}?" if close else ""
                raise SettingsError(f"{where}: {name} is not a setting.{hint}")
            continue  # someone else's variable (the file may also feed compose or systemd)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = (value, where)
    return values


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
KNOWN = frozenset({SETTINGS_FILE_VARIABLE} | {n for v in VARIABLES for n in v.names})
SECRET_FIELDS = frozenset(v.field for v in VARIABLES if v.secret)
URL_FIELDS = frozenset({"database_url", "rate_limit_store"})
