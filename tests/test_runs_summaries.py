"""The dashboard's stored group summaries (run_group_summary) on SQLite and PostgreSQL:
after submissions, the repeat measurement, feedback, closing and deleting a run, the
dashboard the API answers is the one recomputed from the raw responses, and every stored
summary equals its group recomputed from them (issue 16)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from typing import Any

import asyncpg
import msgspec
import pytest

from core.runs.dashboard import DashboardFilter, Summaries, compute_dashboard, summarise
from core.runs.model import RunInfo
from core.runs.service import GroupRow, group_of
from core.settings import Settings
from tests.conftest import run
from tests.runs_support import NEW_RUN, Client, answer, app_on, bearer, link_of
from tests.test_runs_privacy import FB, QC

REGION = "bremen"  # only this module's runs are there


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Client, dict[str, str], Settings]]:
    yield from app_on(request, tmp_path_factory.mktemp("summaries"))


def rows_of(url: str, sql: str) -> list[dict[str, Any]]:
    """Rows read on a connection of its own (the app's pool lives in the client's loop)."""
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(url[len("sqlite:///") :])) as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute(sql).fetchall()]

    async def go() -> list[dict[str, Any]]:
        conn = await asyncpg.connect(url)
        try:
            return [dict(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()

    return run(go())


def decoded(raw: Any) -> Any:
    return json.loads(raw) if isinstance(raw, str | bytes) else raw


def raw_state(url: str) -> tuple[list[RunInfo], list[GroupRow]]:
    runs = [
        msgspec.convert(r, RunInfo, strict=False)
        for r in rows_of(
            url,
            "SELECT id, owner_account, company, site, region, sector, size_class, starts_on, "
            "ends_on, state, created_at, closed_at FROM run ORDER BY starts_on DESC, id",
        )
    ]
    rows = [
        GroupRow(
            run=r["run"],
            phase=r["phase"],
            perspective=r["perspective"],
            answers=decoded(r["answers"]),
            result=decoded(r["result"]),
        )
        for r in rows_of(
            url,
            "SELECT rr.run, rr.phase, rr.perspective, qr.answers, qr.result FROM run_response rr "
            "JOIN questionnaire_response qr ON qr.id = rr.response ORDER BY rr.response",
        )
    ]
    return runs, rows


def agree(client: Client, keys: dict[str, str], settings: Settings, **query: str) -> Any:
    """The API's dashboard (``query`` as filters) equals the one recomputed from the raw
    responses, and every stored summary equals its group's recomputation."""
    got = client.get(
        "/api/v1/runs/dashboard", params={"region": REGION, **query}, headers=bearer(keys["read"])
    )
    assert got.status_code == 200, got.text
    url, k = settings.database_url, settings.run_min_group
    runs, rows = raw_state(url)
    flt = DashboardFilter(region=REGION, state=query.get("state"))
    chosen = [r for r in runs if flt.matches(r)]
    wanted = {r.id for r in chosen}
    labels = {c["key"]: c["label"] for c in got.json()["data"]["by_site"]}  # not a figure
    expected = compute_dashboard(
        QC, FB, chosen, [r for r in rows if r.run in wanted], k, flt, site_labels=labels
    )
    assert got.json()["data"] == json.loads(msgspec.json.encode(expected))

    fresh = summarise(QC, rows, k, Summaries(means={}, rankings={}))
    stored = rows_of(url, "SELECT * FROM run_group_summary")
    groups = {(r.run, r.phase, group_of(r.phase, r.perspective)) for r in rows}
    assert {(s["run"], s["phase"], s["perspective"]) for s in stored} == groups
    for s in stored:
        if s["run"] not in wanted:
            continue  # not read by this view: may be stale, is recomputed when read
        assert s["definition_hash"]
        assert s["min_group"] == k
        key = (s["run"], s["phase"], s["perspective"])
        if s["phase"] == "feedback":
            assert decoded(s["rankings"]) == fresh.rankings.get(s["run"], [])
        else:
            means = decoded(s["means"])
            assert (dict(means) if means is not None else None) == (fresh.means.get(key))
    return got.json()["data"]


def test_summaries_follow_every_change_of_a_run(
    app: tuple[Client, dict[str, str], Settings],
) -> None:
    client, keys, settings = app
    write = bearer(keys["write"])
    docs = []
    for company in ("Bäckerei Ost", "Druckerei West"):
        got = client.post("/api/v1/runs", json=NEW_RUN | {"company": company, "region": REGION},
                          headers=write)  # fmt: skip
        assert got.status_code == 201, got.text
        docs.append(got.json()["data"])
    first, second = docs
    assert agree(client, keys, settings)["runs"] == 2

    # Start: two management answers, then employees one by one (blocks of three).
    for level in ("voll", "eher"):
        assert answer(client, link_of(first, "start", "unternehmen"), level).status_code == 201
    for i, level in enumerate(("kaum", "eher", "kaum", "voll")):
        got = answer(client, link_of(first, "start", "mitarbeitende"), level)
        assert got.status_code == 201, got.text
        board = agree(client, keys, settings)
        assert board["runs_with_employee_figures"] == (1 if i >= 2 else 0)
    assert answer(client, link_of(second, "start", "mitarbeitende"), "voll").status_code == 201
    agree(client, keys, settings)

    # Repeat measurement and feedback of the first run.
    end = client.post(f"/api/v1/runs/{first['id']}/phases", json={"phase": "ende"}, headers=write)
    assert end.status_code == 200, end.text
    for _ in range(3):
        got = answer(client, link_of(end.json()["data"], "ende", "mitarbeitende"), "voll")
        assert got.status_code == 201
    board = agree(client, keys, settings)
    change = {(c["dimension"], c["perspective"]): c for c in board["change"]}
    assert change[(None, "mitarbeitende")]["runs"] == 1
    fb = client.post(
        f"/api/v1/runs/{first['id']}/phases", json={"phase": "feedback"}, headers=write
    ).json()["data"]
    for perspective in ("mentor", "mentee", "mentee"):
        got = answer(
            client,
            link_of(fb, "feedback", perspective),
            "eher",
            **{"hindernisse-ja-nein": "ja", "barrieren-rangfolge": ["zeitmangel", "technik"]},
        )
        assert got.status_code == 201, got.text
    board = agree(client, keys, settings)
    assert board["barriers"]["options"][0]["code"] == "zeitmangel"

    # Closing: the state filter is applied in the database, figures stay the same.
    assert client.post(f"/api/v1/runs/{first['id']}/close", headers=write).status_code == 200
    closed = agree(client, keys, settings, state="abgeschlossen")
    assert closed["runs"] == 1
    assert closed["runs_with_employee_figures"] == 1
    assert agree(client, keys, settings, state="laeuft")["runs_with_employee_figures"] == 0

    # Deleting: its summaries go with it.
    assert client.delete(f"/api/v1/runs/{first['id']}", headers=write).status_code == 204
    board = agree(client, keys, settings)
    assert (board["runs"], board["runs_with_employee_figures"]) == (1, 0)
    left = rows_of(settings.database_url, "SELECT run FROM run_group_summary")
    assert {r["run"] for r in left} == {second["id"]}


def test_stale_summaries_are_recomputed_when_read(
    app: tuple[Client, dict[str, str], Settings],
) -> None:
    """A database whose summaries were never computed (as right after the migration's
    backfill) or were computed with another definition gets them on first use."""
    client, keys, settings = app
    got = client.post("/api/v1/runs", json=NEW_RUN | {"company": "Gärtnerei Süd",
                      "region": REGION}, headers=bearer(keys["write"]))  # fmt: skip
    doc = got.json()["data"]
    for level in ("kaum", "kaum", "eher"):
        assert answer(client, link_of(doc, "start", "mitarbeitende"), level).status_code == 201
    before = agree(client, keys, settings)
    forget = "UPDATE run_group_summary SET definition_hash = '', means = NULL"
    if settings.database_url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(settings.database_url[len("sqlite:///") :])) as db:
            db.execute(forget)
            db.commit()
    else:
        rows_of(settings.database_url, forget + " RETURNING id")
    assert agree(client, keys, settings) == before
