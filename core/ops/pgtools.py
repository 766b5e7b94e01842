"""PostgreSQL's own tools for backup and restore: ``pg_dump``/``pg_restore`` of the
server's major version, called with the password in the environment, not on the
command line.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from core.db.engine import engine_from_url
from core.ops.archive import BackupError


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password (for the command line) and the environment with it."""
    parts = urlsplit(url)
    env = dict(os.environ)
    netloc = parts.netloc
    if parts.password is not None:
        env["PGPASSWORD"] = parts.password
        netloc = netloc.replace(f":{parts.password}@", "@")
    env.setdefault("PGCONNECT_TIMEOUT", "10")
    scheme = "postgresql"
    return urlunsplit((scheme, netloc, parts.path, parts.query, "")), env


def server_major(url: str) -> int:
    engine = engine_from_url(url)
    version = asyncio.run(engine.get_version())
    if not version:
        raise BackupError("The PostgreSQL server of DATABASE_URL is not reachable.")
    return int(version)


def _tool_major(path: str) -> int | None:
    try:
        out = subprocess.run(
            [path, "--version"], capture_output=True, text=True, check=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"\)\s*(\d+)", out) or re.search(r"(\d+)", out)
    return int(match.group(1)) if match else None


def pg_tool(name: str, server_major: int) -> str:
    """``pg_dump``/``pg_restore`` of the server's major version (or the nearest newer one)."""
    candidates: list[str] = []
    on_path = shutil.which(name)
    if on_path:
        candidates.append(on_path)
    candidates += [str(p) for p in sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"))]
    versions = {c: _tool_major(c) for c in dict.fromkeys(candidates)}
    exact = [c for c, v in versions.items() if v == server_major]
    if exact:
        return exact[0]
    newer = sorted((v, c) for c, v in versions.items() if v is not None and v > server_major)
    if newer:
        return newer[0][1]
    found = ", ".join(f"{c} ({v})" for c, v in versions.items()) or "none"
    raise BackupError(
        f"No {name} for PostgreSQL {server_major} found (found: {found}). Install the "
        f"PostgreSQL {server_major} client tools (e.g. postgresql-client-{server_major})."
    )


def run_tool(args: list[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    except OSError as exc:
        raise BackupError(f"{what} could not start: {exc}") from exc
    if done.returncode != 0:
        raise BackupError(f"{what} failed (exit {done.returncode}):\n{done.stderr.strip()}")
