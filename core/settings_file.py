"""The settings file: ``MENTORING40_SETTINGS_FILE`` names a file of ``NAME=value`` lines,
the format of ``deploy/.env.example`` (and of systemd's EnvironmentFile and compose's
env_file). Environment variables win over the file (``core.settings.resolve``).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

from core.settings_variables import VARIABLES, SettingsError

SETTINGS_FILE_VARIABLE = "MENTORING40_SETTINGS_FILE"
# Read by the deployment (compose, systemd), not by the app; allowed in a settings file.
DEPLOYMENT_ONLY = frozenset(
    {"POSTGRES_PASSWORD", "MENTORING40_WORKERS", "MENTORING40_PORT", "MENTORING40_IMAGE_TAG"}
)
# Every variable the app reads, the settings file's own name included.
KNOWN = frozenset({SETTINGS_FILE_VARIABLE} | {n for v in VARIABLES for n in v.names})


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
