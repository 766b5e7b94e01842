"""Where a Quickcheck submission's time goes (issue 19, item 4): `make bench-submit`.

Not a test: it prints figures. On a fresh PostgreSQL database (127.0.0.1:5432, trust
auth) with the shipped content:

- ``--profile N`` (default 2000): N valid submissions through the whole ASGI app in this
  process (every middleware, the router, validation, scoring, the database, the encoding
  of the answer), one at a time. Prints the CPU ms per submission of this process and of
  the database's PostgreSQL backends, and with ``--cprofile`` the functions by own and
  cumulative time.
- ``--paths N`` (default 0, off): N valid submissions as plain ASGI calls (no HTTP
  client) to the app as built and, alternating in blocks, to the same app with the
  submission layer in front of Litestar's router left out (core.api.submissions): the
  app CPU ms per submission of each path, measured side by side in the same minutes.
- ``--wrk SECONDS`` (default 0, off): the app as deployed (``core.server``, 2 workers)
  under ``wrk`` with 10 connections POSTing the same answer sets; submissions per second,
  errors and CPU ms per submission (app processes, PostgreSQL backends).

Keep runs short on a shared machine; the load average is printed beside every figure.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import sys
import time
from pathlib import Path
from typing import Any

import psutil
import uvloop
from load import POSTGRES_ADMIN_URLS, QUESTIONNAIRE, answer_sets, recreate_database, say
from serve_bench import (
    WORK,
    _backend_pids,
    app_env,
    backends,
    cpu_seconds,
    setup_database,
    start,
    tree,
    wrk,
)

from search.local_server import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATABASE = "mentoring40_submit_bench"


async def answer_bodies(client: Any) -> list[bytes]:
    rng = random.Random(19)
    sets: list[Any] = []
    for perspective in ("mitarbeitende", "unternehmen"):
        got = await client.get(f"/api/v1/questionnaires/{QUESTIONNAIRE}?perspective={perspective}")
        sets += answer_sets(got.json()["data"], rng, 20)
    return [json.dumps(body).encode() for body in sets]


async def profile(url: str, count: int, use_cprofile: bool) -> None:
    import httpx

    from core.app import create_app
    from core.settings import Settings

    os.environ.update(app_env(url))
    settings = Settings.from_env()
    app = create_app(settings)
    path = f"/api/v1/questionnaires/{QUESTIONNAIRE}/responses"
    headers = {"content-type": "application/json"}
    async with app.lifespan():  # type: ignore[attr-defined]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            bodies = await answer_bodies(client)
            for i in range(200):  # warm-up: caches, the pool's connections
                got = await client.post(path, content=bodies[i % len(bodies)], headers=headers)
                assert got.status_code == 201, got.text
            pg = [psutil.Process(pid) for pid in await _backend_pids(url)]
            profiler = cProfile.Profile() if use_cprofile else None
            load = os.getloadavg()[0]
            cpu0, pg0, wall0 = time.process_time(), cpu_seconds(pg), time.perf_counter()
            if profiler:
                profiler.enable()
            for i in range(count):
                got = await client.post(path, content=bodies[i % len(bodies)], headers=headers)
                if got.status_code != 201:
                    raise SystemExit(f"submission {i}: {got.status_code} {got.text}")
            if profiler:
                profiler.disable()
            cpu, pg_cpu = time.process_time() - cpu0, cpu_seconds(pg) - pg0
            wall = time.perf_counter() - wall0
    print(
        f"{count} submissions in process, one at a time, load average {load:.1f}–"
        f"{os.getloadavg()[0]:.1f}: app {cpu * 1000 / count:.3f} ms CPU, PostgreSQL backends "
        f"{pg_cpu * 1000 / count:.3f} ms CPU, wall {wall * 1000 / count:.3f} ms per submission"
        + (" (under cProfile: app CPU inflated)" if profiler else "")
    )
    if profiler:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(60)
        stats.sort_stats("tottime").print_stats(40)


async def paths(url: str, count: int) -> None:
    import core.app
    from core.settings import Settings

    os.environ.update(app_env(url))
    settings = Settings.from_env()
    apps = {"in front of the router": core.app.create_app(settings)}
    original = core.app.quickcheck_submissions
    core.app.quickcheck_submissions = lambda app, settings: app  # type: ignore[assignment]
    try:
        apps["route alone"] = core.app.create_app(settings)
    finally:
        core.app.quickcheck_submissions = original
    path = f"/api/v1/questionnaires/{QUESTIONNAIRE}/responses"

    async def post(app: Any, body: bytes) -> int:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "root_path": "",
            "query_string": b"",
            "headers": [
                (b"host", b"bench"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent: list[Any] = []
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> Any:
            return messages.pop() if messages else {"type": "http.disconnect"}

        async def send(message: Any) -> None:
            sent.append(message)

        await app(scope, receive, send)
        return int(sent[0]["status"])

    import contextlib

    import httpx

    async with contextlib.AsyncExitStack() as stack:
        for app in apps.values():
            await stack.enter_async_context(app.lifespan())  # type: ignore[attr-defined]
        transport = httpx.ASGITransport(app=apps["route alone"])
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            bodies = await answer_bodies(client)
        cpu = dict.fromkeys(apps, 0.0)
        load = os.getloadavg()[0]
        block = 250
        for round_ in range(-1, max(1, count // (2 * block))):  # round -1: warm-up
            for name, app in apps.items():
                started = time.process_time()
                for i in range(block):
                    status = await post(app, bodies[i % len(bodies)])
                    if status != 201:
                        raise SystemExit(f"{name}: {status}")
                if round_ >= 0:
                    cpu[name] += time.process_time() - started
        done = max(1, count // (2 * block)) * block
    print(
        f"{done} submissions per path as plain ASGI calls, alternating blocks of {block}, "
        f"load average {load:.1f}–{os.getloadavg()[0]:.1f}: app CPU ms per submission "
        + ", ".join(f"{name} {seconds * 1000 / done:.3f}" for name, seconds in cpu.items())
    )


def served(url: str, seconds: int) -> None:
    import contextlib
    import urllib.request

    env = app_env(url)
    with contextlib.ExitStack() as stack:
        command = [sys.executable, "-m", "core.server", "core.app:create_app_from_env"]
        command += ["--factory", "--workers", "2", "--host", "127.0.0.1", "--no-access-log"]
        command += ["--port", str(free_port())]
        started = start(stack, "app", command, PROJECT_ROOT, env)
        if started is None:
            raise SystemExit("the app did not start")
        process, base = started
        sets: list[Any] = []
        rng = random.Random(19)
        for perspective in ("mitarbeitende", "unternehmen"):
            with urllib.request.urlopen(
                f"{base}/api/v1/questionnaires/{QUESTIONNAIRE}?perspective={perspective}"
            ) as answer:
                sets += answer_sets(json.load(answer)["data"], rng, 20)
        path = f"/api/v1/questionnaires/{QUESTIONNAIRE}/responses"
        posts = [("POST", path, json.dumps(body)) for body in sets]
        procs: list[psutil.Process] = tree(process)
        load = os.getloadavg()[0]
        figures = wrk(base, posts, seconds, procs + backends(url))
        # The same run once more, split: app processes and PostgreSQL backends apart.
        app_only = wrk(base, posts, seconds, procs)
        pg_only = wrk(base, posts, seconds, backends(url))
    print(
        f"wrk -t2 -c10 {seconds} s, app as deployed (2 workers), load average {load:.1f}–"
        f"{os.getloadavg()[0]:.1f}: {figures['rate']:,.0f}/s, p50 {figures['p50']:.1f} ms, "
        f"p99 {figures['p99']:.1f} ms, {figures['errors']:.0f} errors; CPU per submission "
        f"{figures['cpu_ms']:.2f} ms (app {app_only['cpu_ms']:.2f}, PostgreSQL "
        f"{pg_only['cpu_ms']:.2f}; rates of those runs {app_only['rate']:,.0f}/s, "
        f"{pg_only['rate']:,.0f}/s, errors {app_only['errors']:.0f}, {pg_only['errors']:.0f})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", type=int, default=2000, metavar="N")
    parser.add_argument("--cprofile", action="store_true")
    parser.add_argument("--paths", type=int, default=0, metavar="N")
    parser.add_argument("--wrk", type=int, default=0, metavar="SECONDS")
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    url = recreate_database(POSTGRES_ADMIN_URLS, DATABASE)
    setup_database(sys.executable, PROJECT_ROOT, app_env(url), WORK / "submit-setup.log")
    say(f"database {url} ready; load average {os.getloadavg()}")
    if args.profile:
        # The event loop the app is served with (core.server: uvicorn with uvloop).
        uvloop.run(profile(url, args.profile, args.cprofile))
    if args.paths:
        uvloop.run(paths(url, args.paths))
    if args.wrk:
        served(url, args.wrk)
    return 0


if __name__ == "__main__":
    sys.exit(main())
