"""One typed settings object, read from environment variables and an optional file.

Every setting is one row of ``VARIABLES`` (``core.settings_variables``): its variable
name, the field it fills, how its text is parsed and what it means. A bad value stops
startup with a message that names the variable (and the file and line it came from) and
says what is allowed; nothing else in the code reads ``os.environ``. Secrets never
appear in messages or in ``repr(settings)``.

``MENTORING40_SETTINGS_FILE`` names a file of ``NAME=value`` lines, the format of
``deploy/.env.example`` (and of systemd's EnvironmentFile and compose's env_file), read
by ``core.settings_file``. Environment variables win over the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import msgspec

from core.settings_file import KNOWN, SETTINGS_FILE_VARIABLE, read_settings_file
from core.settings_variables import (
    SECRET_FIELDS,
    URL_FIELDS,
    VARIABLES,
    RateLimit,
    SettingsError,
    mask_url,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'mentoring40.sqlite'}"
DEFAULT_CONTENT_DIR = PROJECT_ROOT / "content"
DEFAULT_SEARCH_DATA = PROJECT_ROOT / "var" / "meilisearch"
MASK = "***"


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    database_url: str = DEFAULT_DATABASE_URL
    content_dir: Path = DEFAULT_CONTENT_DIR
    # None: every installed plugin loads. A tuple: only these entry-point names.
    load_plugins: tuple[str, ...] | None = None
    cache_max_age: int = 60
    debug: bool = False
    # Questionnaire statistics withhold every group smaller than this.
    stats_min_group: int = 5
    # A run's employee and feedback answers count only in whole blocks of this size.
    run_min_group: int = 3
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
    # The editor (/redaktion, core.accounts): session cookies only over HTTPS (production).
    secure_cookies: bool = False
    # A session ends this many hours after sign-in, or after this many idle minutes.
    session_hours: int = 12
    session_idle_minutes: int = 120
    # Failed sign-ins before a pause of ``login_lock_minutes``: per account, per address.
    login_failures_per_account: int = 5
    login_failures_per_address: int = 20
    login_lock_minutes: int = 15
    # How often each worker re-reads the partner sites kept in the database (seconds).
    sites_refresh_seconds: int = 5

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
