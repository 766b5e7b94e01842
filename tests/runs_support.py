"""Helpers for the runs (Durchläufe) tests: the app over the shipped content on one
database per module, API keys, and valid answers built from the questionnaire itself."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest
from litestar.testing import TestClient

from core.app import create_app
from core.auth import create_key, known_scopes
from core.plugins import build_registry
from core.settings import Settings
from tests.conftest import SHIPPED_CONTENT, make_settings, run, sync

Client = TestClient[Any]
QC = "quickcheck-reverse-mentoring"
FB = "feedback-durchlauf"
NEW_RUN = {
    "company": "Tischlerei Nord",
    "site": "werkzeugkasten",
    "region": "niedersachsen",
    "sector": "handwerk",
    "size_class": "klein",
    "starts_on": "2026-09-01",
    "ends_on": "2027-02-28",
}


async def reset_schema(url: str) -> None:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


def app_on(
    request: pytest.FixtureRequest, tmp: Any, **settings: Any
) -> Iterator[tuple[Client, dict[str, str], Settings]]:
    """The app over the shipped content on a fresh SQLite file or PostgreSQL schema, with
    API keys: "write" (runs:write), "read" (runs:read), "muster" (runs:site:musterverband),
    "stats" (stats:read: no runs scope)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp / 'runs.sqlite'}"
    else:
        url = request.getfixturevalue("postgres_database")
        run(reset_schema(url))
    app_settings = make_settings(
        url, SHIPPED_CONTENT, rate_limit_submit=None, load_plugins=(), **settings
    )
    registry = build_registry(app_settings)
    sync(app_settings, registry)
    allowed = known_scopes(registry, app_settings)
    keys = {}
    for name, scopes in (
        ("write", ["runs:write"]),
        ("read", ["runs:read"]),
        ("muster", ["runs:site:musterverband"]),
        ("stats", ["stats:read"]),
    ):
        keys[name] = run(create_key(name, scopes, allowed=allowed))[0]
    with TestClient(create_app(app_settings, registry)) as client:
        yield client, keys, app_settings


def count_rows(url: str, table: str) -> int:
    """Rows in ``table``, read on a connection of its own (the app's pool lives in the
    test client's event loop)."""
    return int(sql_value(url, f"SELECT count(*) FROM {table}"))


def sql_value(url: str, statement: str) -> Any:
    """Run ``statement`` on a connection of its own (committed); the first value of its
    first row, or None. As another process or instance would change the database."""
    if url.startswith("sqlite"):
        with contextlib.closing(sqlite3.connect(url[len("sqlite:///") :])) as db:
            row = db.execute(statement).fetchone()
            db.commit()
            return None if row is None else row[0]

    async def go() -> Any:
        conn = await asyncpg.connect(url)
        try:
            return await conn.fetchval(statement)
        finally:
            await conn.close()

    return run(go())


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def answers_for(
    client: Client, questionnaire: str, perspective: str, code: str, **overrides: Any
) -> dict[str, Any]:
    """Valid answers: every required, always visible choice item answered with its
    option ``code`` if it has one, else its first option; ``overrides`` win."""
    d = client.get(f"/api/v1/questionnaires/{questionnaire}?perspective={perspective}").json()
    answers: dict[str, Any] = {}
    for item in d["data"]["items"]:
        if item.get("visible_if") or not item.get("required", True):
            continue
        codes = [o["code"] for o in item.get("options") or []]
        if item["type"] == "yes_no" and "nein" in codes:
            answers[item["id"]] = "nein"  # follow-up questions stay hidden
        elif item["type"] in {"likert", "single_choice", "yes_no"} and codes:
            answers[item["id"]] = code if code in codes else codes[0]
    answers.update(overrides)
    return answers


def current_version(client: Client, questionnaire: str) -> int:
    """The questionnaire's published version (a form or API client sends the one it shows)."""
    version: int = client.get(f"/api/v1/questionnaires/{questionnaire}").json()["data"]["version"]
    return version


def answer(client: Client, link: dict[str, Any], level: str, **overrides: Any) -> Any:
    """Submit through an invitation ``link`` (a code of the run document): answers built
    for its questionnaire and perspective; the body names no perspective."""
    body = {
        "version": current_version(client, link["questionnaire"]),
        "run": link["code"],
        "answers": answers_for(client, link["questionnaire"], link["perspective"], level)
        | overrides,
    }
    return client.post(f"/api/v1/questionnaires/{link['questionnaire']}/responses", json=body)


def link_of(run_doc: dict[str, Any], phase: str, perspective: str) -> dict[str, Any]:
    found = [c for c in run_doc["codes"] if c["phase"] == phase and c["perspective"] == perspective]
    assert found, (phase, perspective, run_doc["codes"])
    return found[-1]
