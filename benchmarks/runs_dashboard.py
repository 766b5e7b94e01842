"""The programme dashboard over 1,000 runs and 20,000 responses on PostgreSQL (issue 16).

Not a test: it creates a throwaway PostgreSQL database, syncs the shipped content,
writes 1,000 runs with 20 responses each (2 + 7 at the start, 1 + 6 at the end,
4 feedback answers; answers drawn at random, results scored by the engine), then asks
the running app for GET /api/v1/runs/dashboard (all runs, and three filters) and prints
per view: the first request (wall and CPU), then p50 / p95 / max of the wall time, the
CPU time per request (of this process: the app and the test client together) and the SQL
statements per request. The responses are written directly, as a database that existed
before run_group_summary did: the migration's backfill then marks their groups stale, so
the first request computes them. The database is dropped at the end.

    .venv/bin/python benchmarks/runs_dashboard.py [--requests 40]

MENTORING40_TEST_POSTGRES_URL names the server (default postgresql://root@127.0.0.1:5432/postgres).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import statistics
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADMIN_URL = os.environ.get(
    "MENTORING40_TEST_POSTGRES_URL", "postgresql://root@127.0.0.1:5432/postgres"
)
RUNS = 1000
PLAN = [
    ("start", "unternehmen", 2),
    ("start", "mitarbeitende", 7),
    ("ende", "unternehmen", 1),
    ("ende", "mitarbeitende", 6),
    ("feedback", "mentor", 2),
    ("feedback", "mentee", 2),
]


async def admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(ADMIN_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def answers(d, perspective: str, rng: random.Random, lean: int) -> dict:  # type: ignore[no-untyped-def]
    from core.quickcheck.engine import asked_items, options_of

    out: dict = {}
    for item in asked_items(d, perspective):
        if item.type == "likert":
            codes = [o.code for o in options_of(d, item)]
            out[item.id] = codes[min(len(codes) - 1, max(0, lean + rng.randint(-1, 1)))]
    if d.id == "feedback-durchlauf" and rng.random() < 0.7:
        out["hindernisse-ja-nein"] = "ja"
        options = ["zeitmangel", "technik", "scheu", "ziele-unklar", "vorgesetzte"]
        out["barrieren-rangfolge"] = rng.sample(options, rng.randint(1, 3))
    return out


async def fill(url: str) -> None:
    import msgspec

    from core.db.engine import engine_from_url, use_engine
    from core.db.tables import QuestionnaireResponse, Run, RunCode, RunResponse
    from core.quickcheck import engine, store
    from core.runs.model import PHASES, REGIONS, SECTORS, SIZE_CLASSES
    from core.runs.service import new_code

    use_engine(engine_from_url(url))
    qc = (await store.latest_published("quickcheck-reverse-mentoring")).definition  # type: ignore[union-attr]
    fb = (await store.latest_published("feedback-durchlauf")).definition  # type: ignore[union-attr]
    rng = random.Random(16)
    now = dt.datetime.now(dt.UTC)
    for batch in range(RUNS // 100):
        runs = [
            Run(
                site=rng.choice(["werkzeugkasten", "musterverband"]),
                region=rng.choice(list(REGIONS)),
                company=f"Betrieb {batch * 100 + i}",
                sector=rng.choice(list(SECTORS)),
                size_class=rng.choice(list(SIZE_CLASSES)),
                starts_on=dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 700)),
                ends_on=dt.date(2027, 6, 30),
                state=rng.choice(["laeuft", "abgeschlossen"]),
                created_at=now,
            )
            for i in range(100)
        ]
        ids = [r["id"] for r in await Run.insert(*runs)]
        codes, responses, links = [], [], []
        for run_id in ids:
            for phase, (qid, perspectives) in PHASES.items():
                for p in perspectives:
                    codes.append(RunCode(run=run_id, code=new_code(), questionnaire_id=qid,
                                         perspective=p, phase=phase, opened_at=now))  # fmt: skip
            lean = rng.randint(0, 4)
            for phase, perspective, count in PLAN:
                d = fb if phase == "feedback" else qc
                for _ in range(count):
                    a = answers(d, perspective, rng, lean)
                    result = msgspec.to_builtins(engine.score(d, perspective, a))
                    responses.append(
                        QuestionnaireResponse(
                            token_hash=uuid.uuid4().hex + uuid.uuid4().hex,
                            questionnaire_id=d.id, version=d.version, definition_hash="bench",
                            engine_version=engine.ENGINE_VERSION, perspective=perspective,
                            mode="real", answers=msgspec.json.encode(a).decode(),
                            result=msgspec.json.encode(result).decode(), submitted_on=now.date(),
                        )
                    )  # fmt: skip
                    links.append((run_id, phase, perspective))
        await RunCode.insert(*codes)
        response_ids = [r["id"] for r in await QuestionnaireResponse.insert(*responses)]
        await RunResponse.insert(
            *[
                RunResponse(run=run_id, response=rid, phase=phase, perspective=p)
                for rid, (run_id, phase, p) in zip(response_ids, links, strict=True)
            ]
        )
    print(f"stored {await Run.count()} runs, {await QuestionnaireResponse.count()} responses")


QUERIES = [0]


def count_queries() -> None:
    """Count every SQL statement the app sends (Piccolo's PostgreSQL engine)."""
    from piccolo.engine.postgres import PostgresEngine

    for name in ("run_querystring", "run_ddl"):
        original = getattr(PostgresEngine, name)

        async def counted(self, *args, __original=original, **kwargs):  # type: ignore[no-untyped-def]
            QUERIES[0] += 1
            return await __original(self, *args, **kwargs)

        setattr(PostgresEngine, name, counted)


async def backfill(url: str) -> None:
    try:
        from core.db.migrations.mentoring40_2026_11_30t19_06_22_000000 import BACKFILL
    except ImportError:  # a tree from before run_group_summary
        return
    from core.db.engine import engine_from_url

    await engine_from_url(url).run_ddl(BACKFILL)


def measure(url: str, requests: int) -> None:
    from litestar.testing import TestClient

    from core.app import create_app
    from core.auth import create_key
    from core.plugins import build_registry
    from core.settings import Settings
    from tests.conftest import SHIPPED_CONTENT

    settings = Settings(database_url=url, content_dir=SHIPPED_CONTENT, load_plugins=())
    with TestClient(create_app(settings, build_registry(settings))) as client:
        token = client.blocking_portal.call(lambda: create_key("bench", ["runs:read"]))[0]
        headers = {"Authorization": f"Bearer {token}"}
        for query in ("", "?region=bayern", "?sector=handwerk&size_class=klein",
                      "?started_from=2025-06-01&started_to=2025-12-31"):  # fmt: skip
            QUERIES[0] = 0
            wall, cpu = time.perf_counter(), time.process_time()
            got = client.get(f"/api/v1/runs/dashboard{query}", headers=headers)
            assert got.status_code == 200, got.text[:500]
            first = (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000
            first_queries = QUERIES[0]
            times, cpus = [], []
            QUERIES[0] = 0
            for _ in range(requests):
                wall, cpu = time.perf_counter(), time.process_time()
                client.get(f"/api/v1/runs/dashboard{query}", headers=headers)
                times.append((time.perf_counter() - wall) * 1000)
                cpus.append((time.process_time() - cpu) * 1000)
            times.sort()
            p95 = times[max(0, round(0.95 * len(times)) - 1)]
            runs = got.json()["data"]["runs"]
            print(
                f"/api/v1/runs/dashboard{query or ' (all runs)'}: runs={runs} "
                f"first={first[0]:.0f} ms (cpu {first[1]:.0f} ms, {first_queries} SQL) "
                f"p50={statistics.median(times):.0f} ms p95={p95:.0f} ms max={times[-1]:.0f} ms "
                f"cpu/request={statistics.fmean(cpus):.1f} ms "
                f"SQL/request={QUERIES[0] / requests:.1f} load={os.getloadavg()}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    from core.settings import Settings
    from tests.conftest import SHIPPED_CONTENT, sync

    name = f"mentoring40_bench_{uuid.uuid4().hex[:8]}"
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    url = f"{ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    try:
        sync(Settings(database_url=url, content_dir=SHIPPED_CONTENT, load_plugins=()))
        started = time.perf_counter()
        asyncio.run(fill(url))
        asyncio.run(backfill(url))
        print(f"filled in {time.perf_counter() - started:.0f} s")
        count_queries()
        measure(url, args.requests)
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
