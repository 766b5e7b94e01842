"""tests/test_server.py's checks against Granian, by hand (issue 19): not a test, it prints.

Starts the app under Granian (``--workers 2``, if installed in this venv) on the
database of benchmarks/submit_profile.py (run that first) and checks what the suite
checks of core.server:

- Nagle: 40 sequential requests on one keep-alive connection, each answered in well under
  a millisecond of work; with Nagle's algorithm on, an answer written in two parts waits
  for the client's delayed ACK (~40 ms). Prints the median and the slowest.
- Spread: one client holding 4N keep-alive connections to N=2 workers; which worker
  process holds each (the kernel's connection table, as tests/test_server.py reads it).
- A Quickcheck submission and a stored entry read answer as under uvicorn (status, body
  identical apart from the token).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import statistics
import sys
import time
from pathlib import Path

import psutil
from load import POSTGRES_ADMIN_URLS, QUESTIONNAIRE, answer_sets, get_json
from serve_bench import app_env, start, tree

from search.local_server import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent
WORKERS = 2


def main() -> int:
    granian = Path(sys.executable).parent / "granian"
    if not granian.exists():
        raise SystemExit("granian is not installed in this venv")
    url = f"{POSTGRES_ADMIN_URLS[0].rsplit('/', 1)[0]}/mentoring40_submit_bench"
    env = app_env(url)
    servers = {
        "uvicorn (core.server)": [
            sys.executable,
            *("-m", "core.server", "core.app:create_app_from_env", "--factory"),
            *("--workers", str(WORKERS), "--host", "127.0.0.1", "--no-access-log"),
        ],
        "granian": [
            str(granian),
            *("--interface", "asgi", "--workers", str(WORKERS), "--factory"),
            *("--host", "127.0.0.1", "--no-access-log"),
            "core.app:create_app_from_env",
        ],
    }
    answers: dict[str, bytes] = {}
    for name, command in servers.items():
        with contextlib.ExitStack() as stack:
            started = start(
                stack,
                name.split()[0],
                [*command, "--port", str(free_port())],
                PROJECT_ROOT,
                env,
            )
            if started is None:
                print(f"{name}: did not start")
                continue
            process, base = started
            port = int(base.rsplit(":", 1)[1])
            time.sleep(8)  # every worker up (each starts the app on its own)
            workers = {p.pid for p in tree(process) if p.pid != process.pid}
            slug = get_json(f"{base}/api/v1/entries?page_size=1")["data"][0]["slug"]
            # Nagle: sequential requests on one keep-alive connection.
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            took = []
            for _ in range(40):
                t = time.perf_counter()
                conn.request("GET", f"/api/v1/entries/{slug}")
                got = conn.getresponse()
                got.read()
                took.append((time.perf_counter() - t) * 1000)
            conn.close()
            # Spread: 4N connections held, two requests each.
            held = [
                http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                for _ in range(4 * WORKERS)
            ]
            for c in held:
                for _ in range(2):
                    c.request("GET", f"/api/v1/entries/{slug}")
                    c.getresponse().read()
            ports = {c.sock.getsockname()[1] for c in held}
            by_worker = {
                pid: sum(
                    1
                    for k in psutil.Process(pid).net_connections(kind="tcp")
                    if k.status == psutil.CONN_ESTABLISHED and k.raddr and k.raddr.port in ports
                )
                for pid in workers
            }
            for c in held:
                c.close()
            # A submission: the answer apart from its token.
            definition = get_json(
                f"{base}/api/v1/questionnaires/{QUESTIONNAIRE}?perspective=mitarbeitende"
            )["data"]
            body = answer_sets(definition, random.Random(19), 1)[0]
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request(
                "POST",
                f"/api/v1/questionnaires/{QUESTIONNAIRE}/responses",
                json.dumps(body),
                {"Content-Type": "application/json"},
            )
            got = conn.getresponse()
            raw = got.read()
            token = json.loads(raw)["data"]["token"] if got.status == 201 else ""
            answers[name] = raw.replace(token.encode(), b"TOKEN") if token else raw
            conn.close()
            print(
                f"{name}: keep-alive request p50 {statistics.median(took):.2f} ms, slowest "
                f"{max(took):.2f} ms, {sum(t > 30 for t in took)} of {len(took)} over 30 ms; "
                f"{len(held)} held connections by worker {by_worker}; "
                f"submission {got.status}"
            )
    if len(answers) == 2:
        first, second = answers.values()
        print(f"submission answers identical apart from the token: {first == second}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
