"""Load run: the production server shape under a realistic mix, beside nginx.

Not a test: it prints figures. Run with `make load` (about four minutes with the
defaults). Everything is set up here and stopped at the end, also on Ctrl-C or an error:

1. a fresh PostgreSQL database (default ``mentoring40_load``, dropped and created again on
   every run, left in place afterwards for inspection) on 127.0.0.1:5432;
2. the embedded Meilisearch (the pinned binary) on a free loopback port with a master key;
3. ``mentoring40 migrate`` and ``mentoring40 content sync`` (shipped content and the NRW
   plugin), then the app as deploy/systemd/mentoring40.service runs it: ``uvicorn
   core.app:create_app_from_env --factory --workers 2`` with the settings of
   deploy/.env.example (rate limits off), on a free port of 127.0.0.1;
4. a private nginx on 127.0.0.1 serving every entry's detail JSON, exactly as the app
   sends it, as static files: the ceiling for an entry read on this machine.

Then, for each client count, three runs of locust (benchmarks/locustfile.py, headless,
each ``--duration`` seconds): the mix against the app, entry reads only against the app
and entry reads only against nginx. Printed: requests, req/s, p50/p95/p99 per endpoint,
errors, CPU per component, the RSS of every uvicorn process. Any error makes the exit
status 1. Files (logs, locust CSVs, the report) stay under var/load/.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import getpass
import json
import os
import platform
import random
import resource
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from search_bench import queries  # type: ignore[import-not-found]

from search.local_server import LocalMeilisearch, free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORK = PROJECT_ROOT / "var" / "load"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
QUESTIONNAIRE = "quickcheck-reverse-mentoring"
POSTGRES_ADMIN_URLS = (
    "postgresql://postgres@127.0.0.1:5432/postgres",
    "postgresql://root@127.0.0.1:5432/postgres",
)


def say(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)


# -- setting up ------------------------------------------------------------------------------


def recreate_database(admin_urls: tuple[str, ...], name: str) -> str:
    """Drop and create ``name`` with the first admin URL that connects; its URL."""

    async def run(url: str) -> None:
        conn = await asyncpg.connect(url, timeout=5)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', timeout=60)
            await conn.execute(f'CREATE DATABASE "{name}"', timeout=60)
        finally:
            await conn.close()

    problems = []
    for url in admin_urls:
        try:
            asyncio.run(run(url))
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            problems.append(f"{url}: {exc}")
            continue
        return f"{url.rsplit('/', 1)[0]}/{name}"
    raise SystemExit("No usable PostgreSQL (trust auth on 127.0.0.1:5432):\n" + "\n".join(problems))


def production_env(database_url: str, meili: LocalMeilisearch) -> dict[str, str]:
    """deploy/.env.example as the service's EnvironmentFile, pointed at this run's services."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MENTORING40_", "MEILI_", "DATABASE_URL", "PROMETHEUS_"))
    }
    for line in (PROJECT_ROOT / "deploy" / ".env.example").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    assert meili.master_key is not None
    env |= {
        "DATABASE_URL": database_url,
        "MEILI_URL": meili.url,
        "MEILI_MASTER_KEY": meili.master_key,
        # The rate limits (being added in parallel) would answer most of this load with 429.
        "MENTORING40_RATE_LIMIT_SEARCH": "off",
        "MENTORING40_RATE_LIMIT_SUBMIT": "off",
    }
    return env


@contextlib.contextmanager
def running(
    command: list[str], log: Path, env: dict[str, str] | None = None, stop: int = signal.SIGTERM
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command`` with its output in ``log``; stop it (then kill it) when done."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=PROJECT_ROOT
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(stop)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def wait_until(check: Any, what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Poll ``check()`` until it is true, for at most 90 s."""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{what}: the process exited ({process.returncode}); see {log}")
        with contextlib.suppress(OSError, ValueError):
            if check():
                return
        time.sleep(0.3)
    raise SystemExit(f"{what} did not happen within 90 s; see {log}")


def answer_sets(definition: dict[str, Any], rng: random.Random, count: int) -> list[Any]:
    """``count`` varied, valid answer sets for one perspective of a questionnaire."""
    sets = []
    for _ in range(count):
        answers: dict[str, Any] = {}
        for item in definition["items"]:
            # The shipped Quickcheck has only "shown when item X is Y" conditions.
            cond = item.get("visible_if")
            if cond and (cond["op"] != "eq" or answers.get(cond["item"]) != cond["value"]):
                continue
            codes = [o["code"] for o in item.get("options", [])]
            if item["type"] in {"likert", "single_choice", "yes_no"}:
                answers[item["id"]] = rng.choice(codes)
            elif item["type"] == "number":
                answers[item["id"]] = rng.randint(int(item["min"]), int(item["max"]))
            elif item["type"] in {"multiple_choice", "ranking"}:
                answers[item["id"]] = rng.sample(codes, item.get("min_choices") or 1)
            # Free text is optional in the Quickcheck: left empty, as most people do.
        sets.append(
            {
                "version": definition["version"],
                "perspective": definition["perspective"],
                "answers": answers,
            }
        )
    return sets


def prepare_data(api: str, static_root: Path) -> dict[str, Any]:
    """Real slugs, topics, queries and answer sets for the clients; entries as static files."""
    listing = get_json(f"{api}/api/v1/entries?page_size=100")
    slugs = [e["slug"] for e in listing["data"]]
    assert len(slugs) == listing["meta"]["pagination"]["total"], "more than 100 entries"
    for slug in slugs:
        with urllib.request.urlopen(f"{api}/api/v1/entries/{slug}", timeout=10) as response:
            target = static_root / "api" / "v1" / "entries" / slug
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(response.read())
    taxonomy = get_json(f"{api}/api/v1/taxonomy")["data"]
    topics = [t["slug"] for t in taxonomy["topics"] if t["count"] > 0]
    rng = random.Random(6)
    submit_path = f"/api/v1/questionnaires/{QUESTIONNAIRE}/responses"
    sets = []
    for perspective in ("mitarbeitende", "unternehmen"):
        definition = get_json(
            f"{api}/api/v1/questionnaires/{QUESTIONNAIRE}?perspective={perspective}"
        )
        sets += answer_sets(definition["data"], rng, 20)
    return {
        "slugs": slugs,
        "topics": topics,
        "queries": queries(),
        "answer_sets": sets,
        "submit_path": submit_path,
    }


def nginx_conf(folder: Path, port: int, static_root: Path) -> Path:
    """A private nginx: 2 workers like the app, static JSON on 127.0.0.1:``port``."""
    # As root nginx drops its workers to `user`; keep them as us so they read our files.
    user = f"user {getpass.getuser()};\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {folder / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = folder / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 2;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        f"    access_log {folder / 'access.log'};\n{temp}"
        "    default_type application/json;\n"
        "    sendfile on;\n"
        f"    server {{\n        listen 127.0.0.1:{port};\n        root {static_root};\n"
        "    }\n"
        "}\n",
        encoding="utf-8",
    )
    return conf


def start_app(
    stack: contextlib.ExitStack, env: dict[str, str], plain_uvicorn: bool
) -> tuple[subprocess.Popen[bytes], str]:
    """Migrate, sync the content, start uvicorn as the systemd unit does; wait for the index."""
    setup_log = WORK / "setup.log"
    with setup_log.open("wb") as log:
        for step in (["migrate"], ["content", "sync"]):
            command = [sys.executable, "-m", "core.cli", *step]
            done = subprocess.run(command, env=env, stdout=log, stderr=log, timeout=300)
            if done.returncode:
                raise SystemExit(f"`mentoring40 {' '.join(step)}` failed; see {setup_log}")
    port = free_port()
    # As deployed: core.server (uvicorn with its TCP_NODELAY fix); --plain-uvicorn: before.
    uvicorn = ["-m", "uvicorn"] if plain_uvicorn else ["-m", "core.server"]
    command = [sys.executable, *uvicorn, "core.app:create_app_from_env", "--factory"]
    command += ["--workers", "2", "--host", "127.0.0.1", "--port", str(port)]
    if plain_uvicorn:  # core.server leaves X-Forwarded-For to the app (trusted proxies)
        command += ["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"]
    app_log = WORK / "app.log"
    app = stack.enter_context(running(command, app_log, env))
    api = f"http://127.0.0.1:{port}"
    wait_until(lambda: get_json(f"{api}/health")["status"] == "ok", "app up", app, app_log)
    total = get_json(f"{api}/api/v1/entries")["meta"]["pagination"]["total"]
    wait_until(
        lambda: get_json(f"{api}/api/v1/search?q=")["meta"]["pagination"]["total"] == total,
        "search index filled",
        app,
        app_log,
    )
    say(f"app on {api}: 2 uvicorn workers, {total} entries indexed")
    return app, api


def start_nginx(
    stack: contextlib.ExitStack, static_root: Path
) -> tuple[subprocess.Popen[bytes], str]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    folder = WORK / "nginx"
    folder.mkdir()
    port = free_port()
    conf = nginx_conf(folder, port, static_root)
    base = [nginx, "-p", f"{folder}/", "-e", str(folder / "error.log"), "-c", str(conf)]
    subprocess.run([*base, "-t"], check=True, capture_output=True, timeout=30)
    process = stack.enter_context(
        running([*base, "-g", "daemon off;"], folder / "out.log", stop=signal.SIGQUIT)
    )
    return process, f"http://127.0.0.1:{port}"


# -- measuring -------------------------------------------------------------------------------


@dataclass
class Row:
    name: str
    requests: int
    failures: int
    rate: float
    p50: str
    p95: str
    p99: str


@dataclass
class Run:
    clients: int
    title: str
    rows: list[Row]
    failures: list[str]
    cpu: dict[str, float]  # component -> % of one core over the run
    busy: float  # % of the whole machine busy over the run (everything, not only us)
    cpu_ms: dict[str, float]  # component -> CPU milliseconds per answered request


def processes(groups: dict[str, list[psutil.Process]]) -> dict[str, dict[int, float]]:
    """CPU seconds so far of every process in each group, by pid."""
    seen: dict[str, dict[int, float]] = {}
    for name, procs in groups.items():
        seen[name] = {}
        for proc in procs:
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                seen[name][proc.pid] = times.user + times.system
    return seen


def component_groups(
    app: subprocess.Popen[bytes], meili: LocalMeilisearch, nginx: subprocess.Popen[bytes], db: str
) -> dict[str, list[psutil.Process]]:
    def tree(pid: int) -> list[psutil.Process]:
        parent = psutil.Process(pid)
        return [parent, *parent.children(recursive=True)]

    assert meili.process is not None
    postgres = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        # Backends serving this run's database (the app's pool); not the whole server.
        if proc.info["name"] == "postgres" and db in " ".join(proc.info["cmdline"] or []):
            postgres.append(proc)
    return {
        "uvicorn (all)": tree(app.pid),
        "PostgreSQL backends": postgres,
        "Meilisearch": tree(meili.process.pid),
        "nginx": tree(nginx.pid),
    }


def percent(value: str) -> str:
    return value if value != "N/A" else "–"


def locust(
    title: str,
    user: str,
    host: str,
    clients: int,
    duration: int,
    groups: dict[str, list[psutil.Process]],
    data_file: Path,
) -> Run:
    """One headless locust run; its stats per endpoint, failures and CPU per component."""
    prefix = WORK / f"{user}-{clients}-{title.split()[-1]}"
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless"]
    command += ["-u", str(clients), "-r", str(clients), "-t", f"{duration}s"]
    command += ["--reset-stats", "--only-summary", "--csv", str(prefix), "--host", host]
    command += ["--stop-timeout", "5", "--loglevel", "WARNING", "--skip-log-setup", user]
    say(f"{clients} clients, {title}: {duration} s")
    before, rusage = processes(groups), resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_before, start = psutil.cpu_times(), time.monotonic()
    result = subprocess.run(
        command,
        env={**os.environ, "LOAD_DATA": str(data_file)},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=duration + 90,
        check=False,
    )
    wall = time.monotonic() - start
    after, rusage_after = processes(groups), resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_after = psutil.cpu_times()
    (prefix.parent / f"{prefix.name}.log").write_text(result.stdout + result.stderr)

    def spent(name: str) -> float:
        return sum(t - before[name][pid] for pid, t in after[name].items() if pid in before[name])

    cpu = {name: 100 * spent(name) / wall for name in groups}
    locust_seconds = (
        rusage_after.ru_utime + rusage_after.ru_stime - rusage.ru_utime - rusage.ru_stime
    )
    cpu["locust"] = 100 * locust_seconds / wall
    total = sum(machine_after) - sum(machine_before)
    idle = (machine_after.idle + machine_after.iowait) - (
        machine_before.idle + machine_before.iowait
    )
    busy = 100 * (1 - idle / total) if total else 0.0
    # Everything else: other people's tests, the kernel, locust's parent (this script).
    cpu["everything else"] = max(0.0, busy * (os.cpu_count() or 1) - sum(cpu.values()))
    rows = []
    with open(f"{prefix}_stats.csv", encoding="utf-8") as handle:
        for line in csv.DictReader(handle):
            name = (
                line["Name"] if line["Name"] == "Aggregated" else f"{line['Type']} {line['Name']}"
            )
            rows.append(
                Row(
                    name=name,
                    requests=int(line["Request Count"]),
                    failures=int(line["Failure Count"]),
                    rate=float(line["Requests/s"]),
                    p50=percent(line["50%"]),
                    p95=percent(line["95%"]),
                    p99=percent(line["99%"]),
                )
            )
    failures = []
    with open(f"{prefix}_failures.csv", encoding="utf-8") as handle:
        for line in csv.DictReader(handle):
            failures.append(
                f"{line['Occurrences']}× {line['Method']} {line['Name']}: {line['Error']}"
            )
    if result.returncode not in (0, 1) or not rows:  # 1: there were failures, listed above
        failures.append(f"locust exited with {result.returncode}: {result.stderr[-2000:]}")
    # Requests answered while all clients ran (locust's rate) over the CPU of the whole run:
    # a slight overestimate, as the first second's requests are not counted.
    answered = rows[-1].rate * duration if rows else 0
    cpu_ms = {name: 1000 * spent(name) / answered for name in groups} if answered else {}
    return Run(clients, title, rows, failures, cpu, busy, cpu_ms)


def rss_by_process(app: subprocess.Popen[bytes]) -> list[tuple[str, float]]:
    """RSS in MiB of the uvicorn master and each of its workers."""
    master = psutil.Process(app.pid)
    found = [("master", master.memory_info().rss / 2**20)]
    workers = 0
    for child in master.children():
        with contextlib.suppress(psutil.Error):
            if "spawn_main" in " ".join(child.cmdline()):
                workers += 1
                name = f"worker {workers}"
            else:
                name = "multiprocessing resource tracker"
            found.append((name, child.memory_info().rss / 2**20))
    return found


# -- reporting -------------------------------------------------------------------------------


def report(
    runs: list[Run],
    rss: dict[str, list[tuple[str, float]]],
    facts: list[str],
) -> str:
    lines = [*facts, ""]
    lines += [
        "| clients | run | endpoint | requests | req/s | p50 ms | p95 ms | p99 ms | errors |",
        "|---:|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for run in runs:
        for row in run.rows:
            name = f"**{row.name}**" if row.name == "Aggregated" else f"`{row.name}`"
            lines.append(
                f"| {run.clients} | {run.title} | {name} | {row.requests} | {row.rate:.0f} | "
                f"{row.p50} | {row.p95} | {row.p99} | {row.failures} |"
            )
    lines += ["", "Entry detail read: ours / nginx static file", ""]
    lines += ["| clients | req/s ours | req/s nginx | throughput ours/nginx | p50 ours/nginx ms |"]
    lines += ["|---:|---:|---:|---:|---:|"]
    by_key = {(r.clients, r.title): r for r in runs}
    for clients in sorted({r.clients for r in runs}):
        ours = by_key[(clients, "entry reads, app")].rows[-1]
        ceiling = by_key[(clients, "entry reads, nginx")].rows[-1]
        lines.append(
            f"| {clients} | {ours.rate:.0f} | {ceiling.rate:.0f} | "
            f"{ours.rate / ceiling.rate:.2f} | {ours.p50} / {ceiling.p50} |"
        )
    lines += ["", "CPU over each run, % of one core (the machine has "]
    lines[-1] += f"{os.cpu_count()} cores; busy = the whole machine, other users included)"
    names = list(runs[0].cpu)
    lines += ["", "| clients | run | " + " | ".join(names) + " | machine busy |"]
    lines += ["|---:|---|" + "---:|" * (len(names) + 1)]
    for run in runs:
        cells = " | ".join(f"{run.cpu[n]:.0f}" for n in names)
        lines.append(f"| {run.clients} | {run.title} | {cells} | {run.busy:.0f} % |")
    lines += ["", "CPU time per answered request, ms (all processes of each component)", ""]
    lines += ["| clients | run | " + " | ".join(runs[0].cpu_ms) + " |"]
    lines += ["|---:|---|" + "---:|" * len(runs[0].cpu_ms)]
    for run in runs:
        cells = " | ".join(f"{run.cpu_ms[n]:.2f}" for n in run.cpu_ms)
        lines.append(f"| {run.clients} | {run.title} | {cells} |")
    lines += ["", "RSS of the uvicorn processes, MiB", "", "| process | after start | at the end |"]
    lines += ["|---|---:|---:|"]
    for (name, start), (_, end) in zip(rss["start"], rss["end"], strict=False):
        lines.append(f"| {name} | {start:.0f} | {end:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", default="10,100", help="client counts (default 10,100)")
    parser.add_argument("--duration", type=int, default=30, help="seconds per run (default 30)")
    parser.add_argument("--database", default="mentoring40_load", help="database to recreate")
    parser.add_argument("--postgres", help="admin URL (default: postgres@, then root@ on :5432)")
    parser.add_argument(
        "--plain-uvicorn",
        action="store_true",
        help="start plain uvicorn instead of core.server (without its TCP_NODELAY fix, "
        "uvicorn issue #3149): the 'before' of that fix",
    )
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    if not os.access(shutil.which("nginx") or "/usr/sbin/nginx", os.X_OK):
        raise SystemExit("nginx not found; `make nginx` installs Debian's nginx (as root)")
    # Ctrl-C (also when started in the background, where SIGINT comes in ignored) and
    # SIGTERM (systemd, `timeout`) stop everything through the same cleanup.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    load_before = os.getloadavg()
    started = datetime.now(UTC)
    admin = (args.postgres,) if args.postgres else POSTGRES_ADMIN_URLS
    database_url = recreate_database(admin, args.database)
    say(f"database {database_url} recreated")
    runs: list[Run] = []
    rss: dict[str, list[tuple[str, float]]] = {}
    with contextlib.ExitStack() as stack:
        meili = stack.enter_context(LocalMeilisearch(WORK / "meili"))
        say(f"Meilisearch on {meili.url}")
        env = production_env(database_url, meili)
        app, api = start_app(stack, env, args.plain_uvicorn)
        data = prepare_data(api, WORK / "static")
        data_file = WORK / "data.json"
        data_file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        ngx, static = start_nginx(stack, WORK / "static")
        slug = data["slugs"][0]
        wait_until(
            lambda: (
                get_json(f"{static}/api/v1/entries/{slug}")
                == get_json(f"{api}/api/v1/entries/{slug}")
            ),
            "nginx serves the entries as the app does",
            ngx,
            WORK / "nginx" / "error.log",
        )
        groups = component_groups(app, meili, ngx, args.database)
        rss["start"] = rss_by_process(app)
        locust("warm-up", "Mix", api, levels[0], 5, groups, data_file)
        for clients in levels:
            for title, user, host in (
                ("mix, app", "Mix", api),
                ("entry reads, app", "EntryOnly", api),
                ("entry reads, nginx", "EntryOnly", static),
            ):
                runs.append(locust(title, user, host, clients, args.duration, groups, data_file))
        rss["end"] = rss_by_process(app)
    load_after = os.getloadavg()

    facts = [
        f"Date: {started:%Y-%m-%d %H:%M} UTC. Machine: {platform.platform()}, "
        f"{os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB, "
        f"Python {platform.python_version()}.",
        f"Command: `{' '.join(['python', 'benchmarks/load.py', *sys.argv[1:]])}` (options "
        f"--clients {args.clients} --duration {args.duration}); locust, no think time, all "
        "clients started at once, statistics from when all run.",
        f"Load average (1/5/15 min) before: {' '.join(f'{x:.2f}' for x in load_before)}, "
        f"after: {' '.join(f'{x:.2f}' for x in load_after)}.",
    ]
    text = report(runs, rss, facts)
    (WORK / "report.md").write_text(text, encoding="utf-8")
    print(text)
    failed = [f"{run.clients} clients, {run.title}: {f}" for run in runs for f in run.failures]
    if failed:
        print("ERRORS — these requests failed:\n" + "\n".join(failed), file=sys.stderr)
        return 1
    say(f"no errors; report in {WORK / 'report.md'}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("interrupted; everything this run started is stopped")
        sys.exit(130)
