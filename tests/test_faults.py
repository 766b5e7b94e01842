"""Fault drills against the production shape: `uvicorn ... --factory --workers 2` as real
processes, under a small mixed load (entry reads, searches, Quickcheck submissions, result
reads). Each drill breaks one dependency (or a worker) while clients keep sending, and
then judges every answer the clients got. No timing is asserted: every wait polls
against a generous deadline, and every process started here is stopped, also on failure.

- Meilisearch (embedded binary, SQLite database) SIGKILLed: entry reads and submissions
  go on, search answers from the database (meta.search says so), /ready says search
  is down; a content sync during the outage reaches the index after Meilisearch restarts
  on the same data directory and port.
- PostgreSQL (a private cluster on a free port, never the shared server) stopped with an
  immediate shutdown and started again: 503 problems during the outage (entry reads go on:
  they are served from the workers' memory), never a 500 or a hang; the same workers serve
  again afterwards; every 201 is still there.
- An app worker (SQLite database) SIGKILLed, then the other: the remaining worker
  serves, uvicorn starts replacements and a replacement serves.
"""

from __future__ import annotations

import asyncio
import functools
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import psutil
import pytest

from core.http.errors import database_unavailable
from core.settings import PROJECT_ROOT
from search.local_server import LocalMeilisearch, free_port
from search.worker import READY_CHECK_SECONDS
from tests.conftest import FIXTURE_CONTENT
from tests.processes import App, wait_until
from tests.test_quickcheck_api import ANSWERS

CLIENT_TIMEOUT = 15.0  # no request may take longer: an outage must not turn into a hang
PROBLEM = "application/problem+json"
ENTRY = "arbeitsablauf"


def missing(reason: str) -> None:
    """Skip outside CI; in CI the fault drills are required."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI requires the fault drills)")
    pytest.skip(reason)


# -- processes ---------------------------------------------------------------------------


def base_env(database_url: str, content_dir: Path, tmp: Path) -> dict[str, str]:
    """Environment like deploy/.env.example: explicit database, content, no plugins."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "MENTORING40_CONTENT_DIR": str(content_dir),
        "MENTORING40_LOAD_PLUGINS": "",
        "MENTORING40_CACHE_MAX_AGE": "60",
        "MENTORING40_STATS_MIN_GROUP": "5",
        "MENTORING40_THEME": "default",
        "MENTORING40_DEBUG": "false",
        # All drill traffic comes from one address; the limits are tested in test_limits.
        "MENTORING40_RATE_LIMIT_SEARCH": "off",
        "MENTORING40_RATE_LIMIT_SUBMIT": "off",
    }
    for name in ("MEILI_URL", "MEILI_ADMIN_KEY", "MEILI_MASTER_KEY", "MEILI_SEARCH_KEY"):
        env.pop(name, None)
    metrics = tmp / "prometheus"
    metrics.mkdir(exist_ok=True)
    env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics)  # several workers, as deployed
    return env


def content_sync(env: dict[str, str]) -> str:
    """`mentoring40 content sync` (migrates first), as the deploy's one-shot step runs it."""
    result = subprocess.run(
        [sys.executable, "-m", "core.cli", "content", "sync"],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


# -- load --------------------------------------------------------------------------------


@dataclass
class Outcome:
    kind: str
    started: float
    finished: float
    status: int | None = None  # None: no HTTP response (connection error or timeout)
    error: str | None = None
    content_type: str = ""
    retry_after: str | None = None
    body: Any = None

    def describe(self) -> str:
        return f"{self.kind} {self.status or self.error} {str(self.body)[:300]}"


@dataclass
class Load:
    """A few client threads sending a mix of requests until stopped; every outcome is kept."""

    url: str
    kinds: tuple[str, ...]
    threads: int = 3
    outcomes: list[Outcome] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)  # result tokens acknowledged with 201
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def __enter__(self) -> Load:
        for n in range(self.threads):
            thread = threading.Thread(target=self._run, args=(n,), name=f"load-{n}")
            thread.start()
            self._workers.append(thread)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._workers:
            thread.join(timeout=CLIENT_TIMEOUT + 5)
        assert not any(t.is_alive() for t in self._workers), "a load thread hangs"

    def _run(self, n: int) -> None:
        # No keep-alive: every request is a new connection, as from many clients, and the
        # kernel hands each to whichever worker accepts next.
        limits = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=self.url, timeout=CLIENT_TIMEOUT, limits=limits) as client:
            i = n
            while not self._stop.is_set():
                kind = self.kinds[i % len(self.kinds)]
                i += 1
                outcome = self._send(client, kind)
                if outcome is not None:
                    with self._lock:
                        self.outcomes.append(outcome)
                self._stop.wait(0.02)  # a steady trickle, not a benchmark

    def _send(self, client: httpx.Client, kind: str) -> Outcome | None:
        started = time.monotonic()
        try:
            if kind == "entry":
                response = client.get(f"/api/v1/entries/{ENTRY}")
            elif kind == "search":
                response = client.get("/api/v1/search", params={"q": "Ablauf"})
            elif kind == "submit":
                payload = {"version": 1, "perspective": "mitarbeitende", "answers": ANSWERS}
                response = client.post("/api/v1/questionnaires/probe/responses", json=payload)
            elif kind == "result":
                with self._lock:
                    token = (
                        self.tokens[len(self.outcomes) % len(self.tokens)] if self.tokens else None
                    )
                if token is None:
                    return None
                response = client.get(f"/api/v1/results/{token}")
            else:
                raise AssertionError(kind)
        except httpx.HTTPError as exc:  # kept, judged by the test
            return Outcome(kind, started, time.monotonic(), error=f"{type(exc).__name__}: {exc}")
        outcome = Outcome(
            kind,
            started,
            time.monotonic(),
            status=response.status_code,
            content_type=response.headers.get("content-type", ""),
            retry_after=response.headers.get("retry-after"),
        )
        try:
            outcome.body = response.json()
        except ValueError:
            outcome.body = response.text[:500]
        if kind == "submit" and response.status_code == 201:
            with self._lock:
                self.tokens.append(outcome.body["data"]["token"])
        return outcome

    def snapshot(self) -> list[Outcome]:
        with self._lock:
            return list(self.outcomes)

    def served(self, kind: str, after: float, count: int = 3) -> bool:
        """At least ``count`` requests of ``kind`` started after ``after`` have an answer."""
        return sum(1 for o in self.snapshot() if o.kind == kind and o.started > after) >= count

    def wait_served(self, what: str, kinds: tuple[str, ...], after: float, count: int = 3) -> None:
        """Wait until each of ``kinds`` was answered ``count`` times since ``after``."""
        for kind in kinds:
            wait_until(f"{what}: {kind}", functools.partial(self.served, kind, after, count))


def summary(drill: str, outcomes: list[Outcome]) -> None:
    """What the clients saw, per kind and answer (printed; pytest shows it on failure)."""
    counts: dict[str, int] = {}
    for o in outcomes:
        key = f"{o.kind} {o.status or (o.error or '').split(':')[0]}"
        counts[key] = counts.get(key, 0) + 1
    slowest = max((o.finished - o.started for o in outcomes), default=0.0)
    print(f"{drill}: {dict(sorted(counts.items()))}; slowest {slowest:.2f} s")


def failures(outcomes: list[Outcome], ok: set[int]) -> list[str]:
    return [o.describe() for o in outcomes if o.status not in ok]


def assert_unavailable_problem(outcome: Outcome, mentions: str) -> None:
    """A 503 problem document whose detail says what is unreachable."""
    assert outcome.status == 503, outcome.describe()
    assert outcome.content_type.startswith(PROBLEM), outcome.describe()
    assert outcome.body["status"] == 503, outcome.describe()
    assert mentions in outcome.body["detail"], outcome.describe()
    assert outcome.retry_after is not None, outcome.describe()
    assert outcome.retry_after.isdigit(), outcome.describe()


# -- (a) Meilisearch killed during load --------------------------------------------------


def ready(url: str) -> tuple[int, dict[str, Any]]:
    response = httpx.get(f"{url}/ready", timeout=5)
    body: dict[str, Any] = response.json()
    return response.status_code, body


def drained(url: str) -> bool:
    """/ready is 200 and no change waits for the search index."""
    status, body = ready(url)
    return status == 200 and body["checks"]["outbox"]["detail"] == "nothing waiting"


def from_the_index(body: dict[str, Any]) -> bool:
    """Meilisearch answered, not the database fallback."""
    return bool(body["meta"]["search"]["engine"] == "meilisearch")


def search_total(url: str) -> int | None:
    response = httpx.get(f"{url}/api/v1/search", timeout=5)
    if response.status_code != 200 or not from_the_index(response.json()):
        return None
    total: int = response.json()["meta"]["pagination"]["total"]
    return total


def search_slugs(url: str, q: str) -> list[str] | None:
    response = httpx.get(f"{url}/api/v1/search", params={"q": q}, timeout=5)
    if response.status_code != 200 or not from_the_index(response.json()):
        return None
    return [hit["slug"] for hit in response.json()["data"]]


def test_meilisearch_killed_during_load(
    tmp_path: Path, apps: Callable[[dict[str, str], Path], App]
) -> None:
    content = tmp_path / "content"
    shutil.copytree(FIXTURE_CONTENT, content)
    env = base_env(f"sqlite:///{tmp_path / 'app.sqlite'}", content, tmp_path)
    content_sync(env)
    meili = LocalMeilisearch(tmp_path / "meili")
    restarted: LocalMeilisearch | None = None
    try:
        meili.start()
        assert meili.process is not None
        assert meili.master_key is not None
        env |= {
            "MEILI_URL": meili.url,
            "MEILI_MASTER_KEY": meili.master_key,
            "MEILI_INDEX": f"drill_{uuid.uuid4().hex[:8]}",
        }
        app = apps(env, tmp_path / "app.log")
        wait_until("the index has the three published entries", lambda: search_total(app.url) == 3)
        wait_until("/ready is 200 with nothing waiting for the index", lambda: drained(app.url))

        with Load(app.url, ("entry", "search", "submit")) as load:
            start = time.monotonic()
            load.wait_served("load sends", ("entry", "search", "submit"), start)

            killing_at = time.monotonic()
            meili.process.kill()  # SIGKILL: no goodbye
            meili.process.wait(timeout=10)
            killed_at = time.monotonic()
            _, body = wait_until(
                "/ready reports search not ready",
                lambda: (r := ready(app.url))[0] == 503 and r,
            )
            assert body["status"] == "not_ready"
            assert body["checks"]["search"]["ok"] is False
            assert "unreachable" in body["checks"]["search"]["detail"]
            assert body["checks"]["database"]["ok"] is True
            load.wait_served(
                "answered while Meilisearch is down", ("entry", "search", "submit"), killed_at, 5
            )

            # Content changes while the engine is down: the sync writes the outbox row.
            path = content / "entries" / f"{ENTRY}.md"
            path.write_text(
                path.read_text(encoding="utf-8").replace(
                    "summary: Einen Ablauf", "summary: Drillwort Quokkaprotokoll. Einen Ablauf"
                ),
                encoding="utf-8",
            )
            assert f"updated: {ENTRY}" in content_sync(env)
            _, body = ready(app.url)
            assert body["checks"]["outbox"]["detail"].startswith("1 change(s) waiting"), body
            # The checks below need searches of a down engine after every worker looked
            # again (READY_CHECK_SECONDS): on a fast machine all of the above can take less.
            load.wait_served(
                "answered after the workers looked again",
                ("search",),
                killed_at + READY_CHECK_SECONDS,
            )
            restart_at = time.monotonic()

            restarted = LocalMeilisearch(
                meili.data_dir, port=meili.port, master_key=meili.master_key
            )
            restarted.start()
            wait_until(
                "search finds the entry changed during the outage",
                lambda: search_slugs(app.url, "Quokkaprotokoll") == [ENTRY],
                timeout=90,
            )
            wait_until("/ready is 200 with the outbox drained", lambda: drained(app.url))
            converged_at = time.monotonic()
            wait_until(
                "search answers under load again", lambda: load.served("search", converged_at)
            )
        outcomes = load.snapshot()
        summary("meilisearch killed", outcomes)
    finally:
        if restarted is not None:
            restarted.stop()
        meili.stop()

    # Reads and submissions never noticed.
    assert failures([o for o in outcomes if o.kind == "entry"], {200}) == []
    assert failures([o for o in outcomes if o.kind == "submit"], {201}) == []
    # Search: answers throughout; from the database while the engine was down.
    searches = [o for o in outcomes if o.kind == "search"]
    assert failures(searches, {200}) == []
    down = [o for o in searches if killed_at < o.started and o.finished < restart_at]
    assert len(down) >= 5
    for outcome in down:
        assert outcome.body["meta"]["search"]["engine"] == "database"
        assert [hit["slug"] for hit in outcome.body["data"]] == [ENTRY]  # "Ablauf" in its title
    # Why: "unreachable". Except within READY_CHECK_SECONDS of the kill on a worker whose
    # last look at the index (search.worker.serves_queries), just before the kill, did not
    # yet count every entry in it: that worker says "index_not_ready" until it looks again.
    # Nothing else answers so without a live Meilisearch; it happened in 1 of 3 runs.
    late = [o for o in down if o.started > killed_at + READY_CHECK_SECONDS]
    assert late
    for outcome in late:
        assert outcome.body["meta"]["search"] == {"engine": "database", "reason": "unreachable"}
    assert failures([o for o in searches if o.finished < killing_at], {200}) == []
    recovered = [o for o in searches if o.started > converged_at]
    assert recovered
    assert failures(recovered, {200}) == []


# -- (b) PostgreSQL restarted during load ------------------------------------------------


def test_only_database_outages_count_as_unavailable() -> None:
    """What the drill found: connection errors from the driver become 503, the rest not."""

    async def connect_to_nothing() -> None:
        await asyncpg.connect(host="127.0.0.1", port=free_port(), user="x", timeout=5)

    with pytest.raises(ConnectionRefusedError) as refused:
        asyncio.run(connect_to_nothing())
    assert database_unavailable(refused.value)  # raised inside asyncpg: the server is down
    assert database_unavailable(asyncpg.CannotConnectNowError("the database system is starting up"))
    assert database_unavailable(asyncpg.AdminShutdownError("terminating connection"))
    wrapped = RuntimeError("query failed")
    wrapped.__cause__ = asyncpg.ConnectionDoesNotExistError("connection was closed")
    assert database_unavailable(wrapped)  # found through the cause
    assert not database_unavailable(asyncpg.QueryCanceledError("statement timeout"))
    assert not database_unavailable(asyncpg.UniqueViolationError("duplicate key"))
    assert not database_unavailable(ConnectionRefusedError("not from the database driver"))
    assert not database_unavailable(ValueError("a bug"))


class PrivateCluster:
    """A throwaway PostgreSQL cluster on a free loopback port with trust auth, owned by the
    `postgres` OS user when we are root (the server refuses to run as root). The shared
    server on port 5432 is never touched."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="mentoring40-faults-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.log = self.root / "postgres.log"
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
            self.prefix = ["runuser", "-u", "postgres", "--"]
        else:
            self.prefix = []

    def run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*self.prefix, str(self.bindir / tool), *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if check and result.returncode != 0:
            pytest.fail(
                f"{tool} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}\n{self.log_text()}"
            )
        return result

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else "(no log)"

    def init(self) -> None:
        self.run(
            *("initdb", "-D", str(self.data), "--auth=trust", "--username=postgres"),
            *("--encoding=UTF8", "--locale=C", "--no-sync"),
        )

    def start(self) -> None:
        options = (
            f"-c port={self.port} -c listen_addresses=127.0.0.1 "
            f"-c unix_socket_directories={self.root}"
        )
        self.run(
            *("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log)),
            *("-w", "-t", "60", "-o", options),
        )

    def stop(self, mode: str = "fast") -> None:
        self.run("pg_ctl", "stop", "-D", str(self.data), "-m", mode, "-w", "-t", "60")

    def running(self) -> bool:
        return self.run("pg_ctl", "status", "-D", str(self.data), check=False).returncode == 0

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        if self.data.exists() and self.running():
            self.run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def postgres_bindir() -> Path | None:
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for bindir in reversed(found):
        if all((bindir / tool).is_file() for tool in ("initdb", "pg_ctl", "postgres")):
            return bindir
    return None


@pytest.fixture
def private_postgres() -> Iterator[PrivateCluster]:
    bindir = postgres_bindir()
    if bindir is None:
        missing(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found under "
            "/usr/lib/postgresql/*/bin; install Debian's postgresql package"
        )
    assert bindir is not None
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        missing("running as root but runuser is missing (PostgreSQL refuses to run as root)")
    cluster = PrivateCluster(bindir)
    try:
        cluster.init()
        cluster.start()
        cluster.run(
            "createdb", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "mentoring40"
        )
        yield cluster
    finally:
        cluster.remove()


@pytest.mark.postgres
def test_postgres_restarted_during_load(
    tmp_path: Path,
    private_postgres: PrivateCluster,
    apps: Callable[[dict[str, str], Path], App],
) -> None:
    env = base_env(private_postgres.url("mentoring40"), FIXTURE_CONTENT, tmp_path)
    content_sync(env)
    app = apps(env, tmp_path / "app.log")
    workers = {w.pid for w in app.workers()}

    with Load(app.url, ("submit", "entry", "result", "submit")) as load:
        start = time.monotonic()
        load.wait_served("load sends", ("submit", "entry", "result"), start)

        stopping_at = time.monotonic()
        private_postgres.stop("immediate")  # like a crash: no checkpoint, WAL replay on start
        stopped_at = time.monotonic()
        time.sleep(3)  # the outage lasts a few seconds while clients keep sending
        load.wait_served(
            "answered while PostgreSQL is down", ("submit", "entry", "result"), stopped_at, 5
        )
        health = httpx.get(f"{app.url}/health", timeout=CLIENT_TIMEOUT)
        assert health.status_code == 503
        assert health.json()["database"] == "unavailable"
        status, body = ready(app.url)
        assert status == 503
        assert body["checks"]["database"]["ok"] is False, body
        restart_at = time.monotonic()
        private_postgres.start()
        started_at = time.monotonic()

        def served_again() -> bool:
            recent = [o for o in load.snapshot() if o.started > started_at]
            return len(recent) >= 10 and all(o.status in {200, 201} for o in recent[-10:])

        wait_until("the same app serves again", served_again, timeout=60)
        recovered_at = time.monotonic()
        wait_until(
            "a quiet stretch after recovery",
            lambda: all(load.served(k, recovered_at, count=5) for k in ("submit", "result")),
        )
        assert httpx.get(f"{app.url}/health", timeout=CLIENT_TIMEOUT).status_code == 200
        assert ready(app.url)[0] == 200
    outcomes = load.snapshot()
    summary("postgresql restarted", outcomes)

    assert all(o.finished - o.started < CLIENT_TIMEOUT for o in outcomes)
    assert [o.describe() for o in outcomes if o.status is None] == []  # no timeouts, no resets
    assert failures(outcomes, {200, 201, 503}) == []  # never a 500
    during = [o for o in outcomes if stopped_at < o.started and o.finished < restart_at]
    assert len(during) >= 15
    for outcome in during:
        if outcome.kind == "entry":
            # Entries are stored in every worker's memory (core.content.rendered): a
            # database outage does not reach them.
            assert outcome.status == 200, outcome.describe()
        else:
            assert_unavailable_problem(outcome, "database")
    assert failures([o for o in outcomes if o.finished < stopping_at], {200, 201}) == []
    after = [o for o in outcomes if o.started > recovered_at]
    assert failures(after, {200, 201}) == []
    assert {w.pid for w in app.workers()} == workers  # served again by the same processes

    # Nothing acknowledged was lost.
    assert len(load.tokens) >= 5
    with httpx.Client(base_url=app.url, timeout=CLIENT_TIMEOUT) as client:
        lost = [t for t in load.tokens if client.get(f"/api/v1/results/{t}").status_code != 200]
    assert lost == [], f"{len(lost)} of {len(load.tokens)} acknowledged results are gone"


# -- (c) an app worker killed during load -------------------------------------------------

GRACE_SECONDS = 3.0  # requests in flight on the killed worker may fail; later ones may not


def test_app_worker_killed_during_load(
    tmp_path: Path, apps: Callable[[dict[str, str], Path], App]
) -> None:
    env = base_env(f"sqlite:///{tmp_path / 'app.sqlite'}", FIXTURE_CONTENT, tmp_path)
    content_sync(env)
    app = apps(env, tmp_path / "app.log")
    first, second = app.workers()
    originals = {first.pid, second.pid}

    def replacement() -> psutil.Process | None:
        return next((w for w in app.workers() if w.pid not in originals), None)

    with Load(app.url, ("entry", "submit", "result", "entry"), threads=4) as load:
        start = time.monotonic()
        load.wait_served("load sends", ("entry", "submit", "result"), start)

        killed_at = time.monotonic()
        first.kill()  # SIGKILL
        first.wait(timeout=10)
        wait_until(
            "requests are served after the grace period",
            lambda: load.served("entry", killed_at + GRACE_SECONDS, count=10),
        )
        respawned = wait_until("uvicorn starts a replacement worker", replacement, timeout=90)
        wait_until("the replacement serves requests", lambda: app.served_by(respawned.pid))
        assert app.process.poll() is None

        # Now kill the other original: the replacement (and, once it is up, a replacement
        # of this one) must carry the load.
        second_killed_at = time.monotonic()
        second.kill()
        second.wait(timeout=10)
        wait_until(
            "requests are served after the second kill",
            lambda: load.served("submit", second_killed_at + GRACE_SECONDS, count=10),
        )
        wait_until("uvicorn keeps two workers", lambda: len(app.workers()) == 2, timeout=90)
    outcomes = load.snapshot()
    summary("worker killed", outcomes)
    print(f"uvicorn replaced the killed worker {first.pid} with {respawned.pid}")

    def in_grace(o: Outcome) -> bool:
        """In flight at a kill, or started within the grace period after it."""
        return any(o.finished >= t and o.started <= t + GRACE_SECONDS for t in kills)

    kills = (killed_at, second_killed_at)

    # Before the kills, after each grace period, and after the respawns: every request ok.
    settled = [o for o in outcomes if not in_grace(o)]
    assert failures(settled, {200, 201}) == []
    # Within the grace periods only connections cut by the kill fail, never with a 5xx.
    assert [
        o.describe() for o in outcomes if in_grace(o) and o.status not in {200, 201, None}
    ] == []
    assert app.process.poll() is None  # the master survived both kills
