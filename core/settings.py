"""One typed settings object, read from environment variables.

A bad value stops startup with a message that names the variable and says what
is allowed; nothing else in the code reads ``os.environ``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

import msgspec

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'var' / 'mentoring40.sqlite'}"
DEFAULT_CONTENT_DIR = PROJECT_ROOT / "content"


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable."""


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
    # Meilisearch. No URL: search is off, except that `mentoring40 serve` starts the
    # embedded one and fills these in. Production sets MEILI_URL and keys.
    meili_url: str | None = None
    meili_admin_key: str | None = None
    meili_search_key: str | None = None
    meili_index: str = "entries"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Build settings from ``environ`` (default ``os.environ``); raise SettingsError."""
        env = os.environ if environ is None else environ
        kwargs: dict[str, object] = {}
        if url := env.get("DATABASE_URL", "").strip():
            database_kind(url)  # validates, raises SettingsError naming DATABASE_URL
            kwargs["database_url"] = url
        if content := env.get("MENTORING40_CONTENT_DIR", "").strip():
            path = Path(content).expanduser().resolve()
            if not path.is_dir():
                raise SettingsError(
                    f"MENTORING40_CONTENT_DIR={content!r} is not a directory; "
                    "point it at a folder that holds taxonomy.yaml and entries/."
                )
            kwargs["content_dir"] = path
        if "MENTORING40_LOAD_PLUGINS" in env:
            names = env["MENTORING40_LOAD_PLUGINS"]
            kwargs["load_plugins"] = tuple(n.strip() for n in names.split(",") if n.strip())
        if (max_age := env.get("MENTORING40_CACHE_MAX_AGE", "").strip()) != "":
            if not max_age.isdigit():
                raise SettingsError(
                    f"MENTORING40_CACHE_MAX_AGE={max_age!r} is not a whole number of seconds "
                    "(0 or more)."
                )
            kwargs["cache_max_age"] = int(max_age)
        if (k := env.get("MENTORING40_STATS_MIN_GROUP", "").strip()) != "":
            if not k.isdigit() or int(k) < 2:
                raise SettingsError(
                    f"MENTORING40_STATS_MIN_GROUP={k!r} is not a whole number of at least 2 "
                    "(the smallest group of responses whose statistics are shown; default 5)."
                )
            kwargs["stats_min_group"] = int(k)
        if (debug := env.get("MENTORING40_DEBUG", "").strip().lower()) != "":
            if debug not in {"0", "1", "true", "false", "yes", "no"}:
                raise SettingsError(
                    f"MENTORING40_DEBUG={debug!r} is not a boolean; use 1/0, true/false or yes/no."
                )
            kwargs["debug"] = debug in {"1", "true", "yes"}
        for name, field, low in (
            ("MENTORING40_READY_MAX_OUTBOX_AGE", "ready_max_outbox_age", 1),
            ("MENTORING40_MAX_BODY_BYTES", "max_body_bytes", 1024),
            ("MENTORING40_INDEXER_LEASE_SECONDS", "indexer_lease_seconds", 2),
        ):
            if (raw := env.get(name, "").strip()) != "":
                if not raw.isdigit() or int(raw) < low:
                    raise SettingsError(f"{name}={raw!r} is not a whole number of at least {low}.")
                kwargs[field] = int(raw)
        if theme := env.get("MENTORING40_THEME", "").strip():
            if not re.match(r"^[a-z][a-z0-9-]{1,39}$", theme):
                raise SettingsError(
                    f"MENTORING40_THEME={theme!r} is not a theme name (a-z, 0-9 and -); "
                    "`mentoring40 themes` lists the installed themes."
                )
            kwargs["theme"] = theme
        if url := env.get("MEILI_URL", "").strip():
            if urlsplit(url).scheme not in {"http", "https"} or not urlsplit(url).hostname:
                raise SettingsError(
                    f"MEILI_URL={url!r} is not an http(s) URL such as http://127.0.0.1:7700."
                )
            kwargs["meili_url"] = url.rstrip("/")
        # The admin key indexes; the search key only searches (falls back to the admin key).
        if key := (env.get("MEILI_ADMIN_KEY") or env.get("MEILI_MASTER_KEY") or "").strip():
            kwargs["meili_admin_key"] = key
        if key := env.get("MEILI_SEARCH_KEY", "").strip():
            kwargs["meili_search_key"] = key
        if index := env.get("MEILI_INDEX", "").strip():
            if not index.replace("_", "").replace("-", "").isalnum():
                raise SettingsError(
                    f"MEILI_INDEX={index!r} may contain only letters, digits, - and _."
                )
            kwargs["meili_index"] = index
        return cls(**kwargs)  # type: ignore[arg-type]


def database_kind(url: str) -> str:
    """Return ``"sqlite"`` or ``"postgres"`` for a DATABASE_URL, or raise SettingsError."""
    scheme = urlsplit(url).scheme
    if scheme == "sqlite":
        if not url.startswith("sqlite:///") or len(url) == len("sqlite:///"):
            raise SettingsError(
                f"DATABASE_URL={url!r} has no file path; write sqlite:///relative/path.sqlite "
                "or sqlite:////absolute/path.sqlite."
            )
        return "sqlite"
    if scheme in {"postgres", "postgresql"}:
        parts = urlsplit(url)
        if not parts.hostname or not parts.path.strip("/"):
            raise SettingsError(
                f"DATABASE_URL={url!r} needs a host and a database name: "
                "postgresql://user[:password]@host[:port]/database."
            )
        return "postgres"
    raise SettingsError(
        f"DATABASE_URL={url!r} uses the scheme {scheme!r}; allowed are "
        "sqlite:///path/to/file.sqlite and postgresql://user@host:port/database."
    )
