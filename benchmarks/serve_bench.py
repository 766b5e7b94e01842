"""Serving speed side by side (issue 19), printed as ratios: `make bench-serve`.

Not a test: it prints figures. Everything runs on this machine, set up here and stopped
at the end (files under var/serve-bench/):

- a fresh PostgreSQL database (127.0.0.1:5432, trust auth) with the shipped content;
- the app as deployed, ``python -m core.server ... --workers 2`` (uvicorn with httptools
  and uvloop, a listening socket per worker), and beside it, for the comparison of
  servers, the same app under uvicorn with h11 + asyncio and under Granian (if
  installed); with ``--before DIR``, the app of another checkout (e.g. /work/main, the
  code before issue 19) on its own database;
- nginx serving every entry's detail JSON, the bytes the app sends, as static files;
- nginx with the shipped deploy/nginx/mentoring40.conf (plain HTTP on loopback instead
  of TLS) in front of the app, its cache warmed by one request per entry;
- Wagtail API v2 on the same entries (``--wagtail``): a venv of its own under
  var/serve-bench/wagtail with Wagtail and gunicorn from the package index, SQLite or the
  same PostgreSQL; skipped with a message when it cannot be installed.

Each target gets ``wrk`` (Debian's, C) with 10 connections and 2 threads for
``--seconds`` after a 1 s warm-up, GET rotating over all entries; the submissions run
POSTs valid Quickcheck answers. The rounds are interleaved (every target once per
round, ``--rounds`` rounds), so every ratio compares figures of the same minute; the
spread over rounds is printed. CPU per request: user+system time of the app's processes
(and of this database's PostgreSQL backends) over a run, divided by its requests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncpg
import psutil
from load import (  # type: ignore[import-not-found]
    POSTGRES_ADMIN_URLS,
    QUESTIONNAIRE,
    answer_sets,
    get_json,
    nginx_conf,
    recreate_database,
    running,
    say,
)

from search.local_server import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORK = PROJECT_ROOT / "var" / "serve-bench"
NGINX_CONF = PROJECT_ROOT / "deploy" / "nginx" / "mentoring40.conf"
CONNECTIONS = 10


def app_env(database_url: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MENTORING40_", "MEILI_", "DATABASE_URL", "PROMETHEUS_"))
    }
    env |= {
        "DATABASE_URL": database_url,
        "MENTORING40_RATE_LIMIT_SEARCH": "off",
        "MENTORING40_RATE_LIMIT_SUBMIT": "off",
        "MENTORING40_LOG_LEVEL": "warning",
    }
    return env


def setup_database(python: str, cwd: Path, env: dict[str, str], log: Path) -> None:
    with log.open("ab") as out:
        for step in (["migrate"], ["content", "sync"]):
            done = subprocess.run(
                [python, "-m", "core.cli", *step], env=env, cwd=cwd, stdout=out, stderr=out
            )
            if done.returncode:
                raise SystemExit(f"`mentoring40 {' '.join(step)}` failed in {cwd}; see {log}")


def start(
    stack: contextlib.ExitStack, name: str, command: list[str], cwd: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str] | None:
    log = WORK / f"{name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)
    stack.callback(_stop, process)
    url = "http://127.0.0.1:" + command[command.index("--port") + 1] if "--port" in command else ""
    if not url:
        url = "http://" + command[command.index("--bind") + 1]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            say(f"{name}: exited ({log})")
            return None
        with contextlib.suppress(OSError, ValueError):
            if get_json(f"{url}/health").get("status") == "ok":
                return process, url
        time.sleep(0.5)
    say(f"{name}: not up in 120 s ({log})")
    return None


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


def tree(process: subprocess.Popen[bytes]) -> list[psutil.Process]:
    root = psutil.Process(process.pid)
    return [root, *root.children(recursive=True)]


def cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


async def _backend_pids(url: str) -> list[int]:
    conn = await asyncpg.connect(url)
    try:
        name = url.rsplit("/", 1)[1]
        rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", name)
        return [row["pid"] for row in rows if row["pid"] != conn.get_server_pid()]
    finally:
        await conn.close()


def backends(url: str | None) -> list[psutil.Process]:
    import asyncio

    if url is None:
        return []
    found = []
    for pid in asyncio.run(_backend_pids(url)):
        with contextlib.suppress(psutil.Error):
            found.append(psutil.Process(pid))
    return found


def lua(requests: list[tuple[str, str, str | None]]) -> str:
    def text(value: str) -> str:
        return "[==[" + value + "]==]"

    rows = ",\n".join(
        f"  {{{text(m)}, {text(p)}, {text(b) if b is not None else 'nil'}}}" for m, p, b in requests
    )
    return f"""
local requests = {{
{rows}
}}
local i = 0
local bad = 0
request = function()
  i = i % #requests + 1
  local r = requests[i]
  local headers = {{}}
  if r[3] then headers["Content-Type"] = "application/json" end
  return wrk.format(r[1], r[2], headers, r[3])
end
response = function(status, headers, body)
  if status >= 400 then bad = bad + 1 end
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format(
    '{{"p50_us": %d, "p99_us": %d, "requests": %d, "duration_us": %d, "errors": %d}}\\n',
    latency:percentile(50), latency:percentile(99), summary.requests, summary.duration,
    e.connect + e.read + e.write + e.status + e.timeout))
end
"""


def wrk(
    base: str,
    requests: list[tuple[str, str, str | None]],
    seconds: int,
    procs: list[psutil.Process],
) -> dict[str, float]:
    script = WORK / f"wrk-{time.monotonic_ns()}.lua"
    script.write_text(lua(requests), encoding="utf-8")
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", "--timeout", "10s", "-s", str(script), base]
    subprocess.run(["wrk", "-d1s", *command[1:]], capture_output=True, check=True)
    before = cpu_seconds(procs)
    out = subprocess.run(
        ["wrk", f"-d{seconds}s", *command[1:]], capture_output=True, text=True, check=True
    ).stdout
    cpu = cpu_seconds(procs) - before
    result = json.loads(out.strip().splitlines()[-1])
    count = max(result["requests"], 1)
    return {
        "rate": result["requests"] / (result["duration_us"] / 1e6),
        "p50": result["p50_us"] / 1000,
        "p99": result["p99_us"] / 1000,
        "errors": result["errors"],
        "cpu_ms": cpu * 1000 / count,
    }


def proxy_conf(folder: Path, port: int, app_port: int) -> Path:
    """deploy/nginx/mentoring40.conf, plain HTTP on loopback, in a private nginx."""
    text = NGINX_CONF.read_text(encoding="utf-8")
    site = text.split("server {\n    listen 443", 1)
    redirect_end = site[0].rindex("server {")
    text = site[0][:redirect_end] + "server {\n    listen 443" + site[1]
    for old, new in {
        "listen 443 ssl http2;": f"listen 127.0.0.1:{port};",
        "server 127.0.0.1:8000;": f"server 127.0.0.1:{app_port};",
        "/var/cache/nginx/mentoring40": str(folder / "cache"),
    }.items():
        text = text.replace(old, new)
    text = "\n".join(line for line in text.splitlines() if "ssl_" not in line.split("#")[0])
    user = "user root;\n" if os.geteuid() == 0 else ""
    temp = "".join(
        f"    {kind}_temp_path {folder / kind};\n"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = folder / "nginx.conf"
    conf.write_text(
        f"{user}worker_processes 2;\npid {folder / 'nginx.pid'};\n"
        f"error_log {folder / 'error.log'} warn;\nevents {{ worker_connections 1024; }}\n"
        f"http {{\n    access_log off;\n{temp}{text}\n}}\n",
        encoding="utf-8",
    )
    return conf


def start_nginx(
    stack: contextlib.ExitStack, name: str, conf_of: Any
) -> tuple[str, list[psutil.Process]]:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    folder = WORK / name
    folder.mkdir()
    port = free_port()
    conf = conf_of(folder, port)
    base = [nginx, "-p", f"{folder}/", "-e", str(folder / "error.log"), "-c", str(conf)]
    subprocess.run([*base, "-t"], check=True, capture_output=True, timeout=30)
    master = stack.enter_context(
        running([*base, "-g", "daemon off;"], folder / "out.log", stop=signal.SIGQUIT)
    )
    time.sleep(0.5)
    return f"http://127.0.0.1:{port}", tree(master)


def submissions(api: str) -> list[tuple[str, str, str | None]]:
    rng = random.Random(19)
    path = f"/api/v1/questionnaires/{QUESTIONNAIRE}/responses"
    sets = []
    for perspective in ("mitarbeitende", "unternehmen"):
        definition = get_json(
            f"{api}/api/v1/questionnaires/{QUESTIONNAIRE}?perspective={perspective}"
        )
        sets += answer_sets(definition["data"], rng, 20)
    return [("POST", path, json.dumps(body)) for body in sets]


@contextlib.contextmanager
def wagtail(
    stack: contextlib.ExitStack, entries: list[dict[str, Any]], database_url: str | None
) -> Iterator[tuple[str, list[str], subprocess.Popen[bytes]] | None]:
    """Wagtail API v2 with the same entries, or None (a message says why)."""
    from wagtail_site import start_wagtail  # type: ignore[import-not-found]

    try:
        yield start_wagtail(stack, WORK / "wagtail", entries, database_url)
    except Exception as exc:  # any failure to set it up: skip with the reason
        say(f"Wagtail skipped: {exc}")
        yield None


def median_spread(values: list[float]) -> str:
    if not values:
        return "–"
    med = statistics.median(values)
    return f"{med:,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", type=Path, help="another checkout with its own .venv")
    parser.add_argument("--wagtail", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--servers", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: `make wrk` (Debian's wrk)")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    say(f"load average {os.getloadavg()}")

    with contextlib.ExitStack() as stack:
        url = recreate_database(POSTGRES_ADMIN_URLS, "mentoring40_serve_bench")
        env = app_env(url)
        setup_database(sys.executable, PROJECT_ROOT, env, WORK / "setup.log")
        targets: dict[str, tuple[str, list[psutil.Process], str | None]] = {}
        common = ["core.app:create_app_from_env", "--factory", "--workers", "2"]
        common += ["--host", "127.0.0.1", "--no-access-log"]
        servers = {"app": [sys.executable, "-m", "core.server", *common]}
        if args.servers:
            servers["app h11+asyncio"] = [*servers["app"], "--http", "h11", "--loop", "asyncio"]
            if shutil.which("granian") or (Path(sys.executable).parent / "granian").exists():
                servers["app granian"] = [
                    str(Path(sys.executable).parent / "granian"),
                    *("--interface", "asgi", "--workers", "2", "--factory"),
                    *("--host", "127.0.0.1", "--no-access-log"),
                    "core.app:create_app_from_env",
                ]
        for name, command in servers.items():
            port = str(free_port())
            command = [*command, "--port", port]
            started = start(stack, name.replace(" ", "-"), command, PROJECT_ROOT, env)
            if started:
                targets[name] = (started[1], tree(started[0]), url)
        if args.before:
            before_url = recreate_database(POSTGRES_ADMIN_URLS, "mentoring40_serve_bench_before")
            before_env = app_env(before_url)
            python = str(args.before / ".venv" / "bin" / "python")
            setup_database(python, args.before, before_env, WORK / "setup-before.log")
            command = [python, "-m", "core.server", *common, "--port", str(free_port())]
            started = start(stack, "before", command, args.before, before_env)
            if started:
                targets["before"] = (started[1], tree(started[0]), before_url)

        api = targets["app"][0]
        listing = get_json(f"{api}/api/v1/entries?page_size=100")
        slugs = [e["slug"] for e in listing["data"]]
        static = WORK / "static"
        for slug in slugs:
            with urllib.request.urlopen(f"{api}/api/v1/entries/{slug}", timeout=10) as answer:
                target = static / "api" / "v1" / "entries" / slug
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(answer.read())
        nginx_static, static_procs = start_nginx(
            stack, "nginx-static", lambda f, p: nginx_conf(f, p, static)
        )
        app_port = int(api.rsplit(":", 1)[1])
        nginx_proxy, proxy_procs = start_nginx(
            stack, "nginx-proxy", lambda f, p: proxy_conf(f, p, app_port)
        )
        reads = [("GET", f"/api/v1/entries/{slug}", None) for slug in slugs]
        for _, path, _ in reads:  # warm the proxy's cache
            urllib.request.urlopen(nginx_proxy + path, timeout=10).read()
        wagtail_target = None
        if args.wagtail:
            entries = [get_json(f"{api}/api/v1/entries/{slug}")["data"] for slug in slugs]
            found = stack.enter_context(wagtail(stack, entries, None))
            if found:
                wagtail_base, wagtail_paths, wagtail_process = found
                wagtail_target = (wagtail_base, wagtail_paths, tree(wagtail_process))

        # Each target's own questionnaire: a checkout of before may serve an older version,
        # and answers to the current one would only measure its 4xx.
        posts = {name: submissions(base) for name, (base, _, _) in targets.items()}
        results: dict[str, list[dict[str, float]]] = {}
        say(f"{len(slugs)} entries; load average {os.getloadavg()}")
        for round_ in range(args.rounds):
            say(f"round {round_ + 1} of {args.rounds}, load average {os.getloadavg()}")
            plan: list[tuple[str, str, list[tuple[str, str, str | None]], list[psutil.Process]]]
            plan = [("nginx static", nginx_static, reads, static_procs)]
            plan.append(("nginx proxy, warm cache", nginx_proxy, reads, proxy_procs))
            for name, (base, procs, db) in targets.items():
                plan.append((f"{name}: entry read", base, reads, procs + backends(db)))
            if wagtail_target:
                base, paths, procs = wagtail_target
                plan.append(
                    ("wagtail API v2: detail", base, [("GET", p, None) for p in paths], procs)
                )
            for name in ("app", "before"):
                if name in targets:
                    base, procs, db = targets[name]
                    plan.append((f"{name}: submissions", base, posts[name], procs + backends(db)))
            for name, base, requests, procs in plan:
                figures = wrk(base, requests, args.seconds, procs)
                results.setdefault(name, []).append(figures)
                say(f"  {name}: {figures['rate']:,.0f}/s, {figures['cpu_ms']:.2f} ms CPU, "
                    f"{figures['errors']:.0f} errors")  # fmt: skip

    print(f"\n## Serving speed, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    print(f"wrk -t2 -c{CONNECTIONS}, {args.seconds} s per run, {args.rounds} interleaved rounds; "
          f"load average at the end {os.getloadavg()[0]:.1f}\n")  # fmt: skip
    print("| target | req/s median (min–max) | p50 ms | p99 ms | CPU ms/request | errors |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, runs in results.items():
        print(
            f"| {name} | {median_spread([r['rate'] for r in runs])} "
            f"| {statistics.median(r['p50'] for r in runs):.2f} "
            f"| {statistics.median(r['p99'] for r in runs):.2f} "
            f"| {statistics.median(r['cpu_ms'] for r in runs):.2f} "
            f"| {sum(r['errors'] for r in runs):.0f} |"
        )

    def ratios(top: str, bottom: str) -> str:
        if top not in results or bottom not in results:
            return "–"
        pairs = zip(results[top], results[bottom], strict=True)
        each = [a["rate"] / b["rate"] for a, b in pairs if b["rate"] > 0]
        if not each:
            return f"– ({bottom} answered nothing)"
        return f"{statistics.median(each):.3f} ({min(each):.3f}–{max(each):.3f})"

    print("\n| ratio (per round, median and range) | value | goal |\n|---|---:|---:|")
    rows = [
        ("app entry read / nginx static", "app: entry read", "nginx static", "≥ 0.10"),
        ("nginx proxy, warm cache / nginx static", "nginx proxy, warm cache", "nginx static",
         "≥ 0.5"),
        ("app entry read / Wagtail API v2 detail", "app: entry read", "wagtail API v2: detail",
         "≥ 10"),
        ("app entry read / before", "app: entry read", "before: entry read", ""),
        ("app entry read / h11+asyncio", "app: entry read", "app h11+asyncio: entry read", ""),
        ("app entry read / granian", "app: entry read", "app granian: entry read", ""),
        ("submissions / before", "app: submissions", "before: submissions", ""),
    ]  # fmt: skip
    for label, top, bottom, goal in rows:
        print(f"| {label} | {ratios(top, bottom)} | {goal} |")
    errors = sum(r["errors"] for runs in results.values() for r in runs)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
