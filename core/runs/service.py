"""Runs and their invitation codes in the database, and answering through a code.

Nothing here knows about HTTP: refusals are ``RunError``s carrying data (which field,
which code, why); the API makes problem documents of them, the pages German messages.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Any

import msgspec

from core.db.engine import write_transaction
from core.db.tables import (
    QuestionnaireResponse,
    Run,
    RunCode,
    RunGroupSummary,
    RunPoolMember,
    RunResponse,
)
from core.quickcheck import service as quickcheck
from core.quickcheck import store as quickcheck_store
from core.quickcheck.overlay import Overlay
from core.quickcheck.present import ResultDoc
from core.runs import pool
from core.runs.model import (
    PHASES,
    REGIONS,
    SECTORS,
    SIZE_CLASSES,
    CodeInfo,
    RunIn,
    RunInfo,
)

# secrets.token_urlsafe(16): 22 characters of the URL-safe alphabet, 128 random bits.
CODE_RE = re.compile(r"^[A-Za-z0-9_-]{22}$")
MAX_RUN_DAYS = 3 * 366


class RunError(Exception):
    """A request about runs that is refused; nothing was changed."""


class RunInvalid(RunError):
    """The run's fields have problems: (field, reason) pairs, every one at once."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{f}: {r}" for f, r in problems))


class RunNotFound(RunError):
    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(f"no run {run_id}")


class RunClosed(RunError):
    """The run is finished; nothing can be opened in it any more."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        super().__init__(f"run {run_id} is closed")


class CodeRefused(RunError):
    """An answer through this code is refused. ``reason``: "malformed" (not a code at
    all, e.g. mistyped), "unknown", "closed", "questionnaire" (the code belongs to
    ``expected_questionnaire``), "perspective" (to ``expected_perspective``), "test"
    (a trial run cannot count for a run)."""

    def __init__(
        self,
        reason: str,
        *,
        expected_questionnaire: str | None = None,
        expected_perspective: str | None = None,
    ) -> None:
        self.reason = reason
        self.expected_questionnaire = expected_questionnaire
        self.expected_perspective = expected_perspective
        super().__init__(f"run code refused: {reason}")


def new_code() -> str:
    """An unguessable invitation code (128 random bits, URL-safe)."""
    return secrets.token_urlsafe(16)


def check_run(data: RunIn, sites: list[str]) -> list[tuple[str, str]]:
    """Every problem of a new run's fields (reasons in English for the API; the pages
    word them in German from the field name)."""
    problems: list[tuple[str, str]] = []
    company = data.company.strip()
    if not company:
        problems.append(("company", "required: a pseudonym for the company"))
    elif len(company) > 120 or any(ord(ch) < 32 for ch in company):
        problems.append(("company", "at most 120 characters, no control characters"))
    checks = (
        ("site", data.site, sites),
        ("region", data.region, list(REGIONS)),
        ("sector", data.sector, list(SECTORS)),
        ("size_class", data.size_class, list(SIZE_CLASSES)),
    )
    for name, value, allowed in checks:
        if value not in allowed:
            problems.append((name, f"one of: {', '.join(allowed)}"))
    if data.ends_on < data.starts_on:
        problems.append(("ends_on", "must not be before starts_on"))
    elif (data.ends_on - data.starts_on).days > MAX_RUN_DAYS:
        problems.append(("ends_on", "a run lasts at most three years"))
    return problems


async def _add_codes(run_id: int, phase: str, now: dt.datetime) -> None:
    questionnaire_id, perspectives = PHASES[phase]
    await RunCode.insert(
        *[
            RunCode(
                run=run_id,
                code=new_code(),
                questionnaire_id=questionnaire_id,
                perspective=p,
                phase=phase,
                opened_at=now,
            )
            for p in perspectives
        ]
    )


async def create_run(data: RunIn, *, owner_account: int | None, sites: list[str]) -> RunInfo:
    """Store a run with the invitation codes of its start measurement."""
    problems = check_run(data, sites)
    if problems:
        raise RunInvalid(problems)
    now = dt.datetime.now(dt.UTC)
    async with write_transaction(Run._meta.db):
        rows = await Run.insert(
            Run(
                owner_account=owner_account,
                site=data.site,
                region=data.region,
                company=data.company.strip(),
                sector=data.sector,
                size_class=data.size_class,
                starts_on=data.starts_on,
                ends_on=data.ends_on,
                state="laeuft",
                created_at=now,
            )
        )
        run_id = int(rows[0]["id"])
        await _add_codes(run_id, "start", now)
    return await get_run(run_id)


def _code_info(row: dict[str, Any]) -> CodeInfo:
    return CodeInfo(
        code=row["code"],
        run_id=row["run"],
        questionnaire_id=row["questionnaire_id"],
        perspective=row["perspective"],
        phase=row["phase"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
    )


_RUN_COLUMNS = (
    Run.id,
    Run.owner_account,
    Run.company,
    Run.site,
    Run.region,
    Run.sector,
    Run.size_class,
    Run.starts_on,
    Run.ends_on,
    Run.state,
    Run.created_at,
    Run.closed_at,
)


async def list_runs(
    *,
    owner_account: int | None = None,
    site: str | None = None,
    equal: dict[str, str] | None = None,
    started_from: dt.date | None = None,
    started_to: dt.date | None = None,
) -> list[RunInfo]:
    """Runs, newest start first, optionally of one owner or one site (codes left out);
    ``equal`` (column -> value: region, sector, size_class, state, site) and the start
    period narrow them further, in the database."""
    query = Run.select(*_RUN_COLUMNS).order_by(Run.starts_on, ascending=False).order_by(Run.id)
    if owner_account is not None:
        query = query.where(Run.owner_account == owner_account)
    if site is not None:
        query = query.where(Run.site == site)
    for name, value in (equal or {}).items():
        if name not in _FILTERABLE:
            raise ValueError(f"runs cannot be filtered by {name!r}")
        query = query.where(_FILTERABLE[name] == value)
    if started_from is not None:
        query = query.where(Run.starts_on >= started_from)
    if started_to is not None:
        query = query.where(Run.starts_on <= started_to)
    return [msgspec.convert(r, RunInfo) for r in await query]


_FILTERABLE = {
    "region": Run.region,
    "site": Run.site,
    "sector": Run.sector,
    "size_class": Run.size_class,
    "state": Run.state,
}


async def get_run(run_id: int) -> RunInfo:
    """One run with its codes and how many responses each phase and perspective has."""
    row = await Run.select(*_RUN_COLUMNS).where(Run.id == run_id).first()
    if row is None:
        raise RunNotFound(run_id)
    codes = await RunCode.select().where(RunCode.run == run_id).order_by(RunCode.id)
    links = await RunResponse.select(RunResponse.phase, RunResponse.perspective).where(
        RunResponse.run == run_id
    )
    counts: dict[str, int] = {}
    for link in links:
        key = f"{link['phase']}/{link['perspective']}"
        counts[key] = counts.get(key, 0) + 1
    return msgspec.convert(
        {**row, "codes": [msgspec.to_builtins(_code_info(c)) for c in codes], "responses": counts},
        RunInfo,
        strict=False,
    )


async def open_phase(run_id: int, phase: str) -> RunInfo:
    """Open the repeat measurement ("ende": the start links close, so a late start answer
    cannot count as the end) or the feedback; opening an open phase again changes nothing."""
    if phase not in PHASES or phase == "start":
        raise ValueError(f"cannot open phase {phase!r}")
    run = await get_run(run_id)
    if run.state != "laeuft":
        raise RunClosed(run_id)
    if any(c.phase == phase for c in run.codes):
        return run
    now = dt.datetime.now(dt.UTC)
    async with write_transaction(Run._meta.db):
        if phase == "ende":
            await RunCode.update({RunCode.closed_at: now}).where(
                (RunCode.run == run_id) & (RunCode.phase == "start") & RunCode.closed_at.is_null()
            )
        await _add_codes(run_id, phase, now)
    return await get_run(run_id)


async def close_code(run_id: int, code: str) -> RunInfo:
    """Close one link: answers through it are refused from now on."""
    run = await get_run(run_id)
    if code not in {c.code for c in run.codes}:
        raise CodeRefused("unknown")
    await RunCode.update({RunCode.closed_at: dt.datetime.now(dt.UTC)}).where(
        (RunCode.code == code) & RunCode.closed_at.is_null()
    )
    return await get_run(run_id)


async def close_run(run_id: int) -> RunInfo:
    """Finish the run: every link closes."""
    await get_run(run_id)
    now = dt.datetime.now(dt.UTC)
    async with write_transaction(Run._meta.db):
        await RunCode.update({RunCode.closed_at: now}).where(
            (RunCode.run == run_id) & RunCode.closed_at.is_null()
        )
        await Run.update({Run.state: "abgeschlossen", Run.closed_at: now}).where(
            (Run.id == run_id) & (Run.state == "laeuft")
        )
    return await get_run(run_id)


async def delete_run(run_id: int) -> int:
    """Delete the run, its codes and every response given through it (they are not kept
    anonymously elsewhere: a run's responses could be told apart by their day). Return
    how many responses were deleted."""
    await get_run(run_id)
    async with write_transaction(Run._meta.db):
        links = await RunResponse.select(RunResponse.response).where(RunResponse.run == run_id)
        ids = [link["response"] for link in links]
        profiles = await RunPoolMember.select(RunPoolMember.response).where(
            (RunPoolMember.run == run_id) & RunPoolMember.response.is_not_null()
        )
        ids += [p["response"] for p in profiles]
        if ids:
            await QuestionnaireResponse.delete().where(QuestionnaireResponse.id.is_in(ids))
        await RunGroupSummary.delete().where(RunGroupSummary.run == run_id)
        await Run.delete().where(Run.id == run_id)
    return len(ids)


async def resolve_code(code: str) -> CodeInfo:
    """The code's run, questionnaire, perspective and phase; ``CodeRefused`` when it is
    malformed, unknown or closed."""
    if not CODE_RE.match(code or ""):
        raise CodeRefused("malformed")
    row = await RunCode.select().where(RunCode.code == code).first()
    if row is None:
        raise CodeRefused("unknown")
    info = _code_info(row)
    if not info.is_open:
        raise CodeRefused("closed")
    return info


async def submit_for_run(
    code: str,
    questionnaire_id: str,
    *,
    version: int,
    perspective: str | None,
    mode: str,
    answers: dict[str, Any],
    lang: str,
    site: str | None = None,
    overlay: Overlay | None = None,
    pseudonym: str | None = None,
) -> ResultDoc:
    """Submit like ``core.quickcheck.service.submit_answers``, counted for the code's run
    (``site``, ``overlay``: the partner site it was submitted on, as there).

    A tandem profile (phase "profil") needs a ``pseudonym`` and joins the run's matching
    pool under it (``core.runs.pool``) instead of the run's views; ``PseudonymRefused``
    when it is not a usable pseudonym or already has a profile in the pool.

    The code decides the perspective; a different one, another questionnaire or a trial
    run is refused. Response and link are written in one transaction, after the code was
    checked again inside it, so a code closed meanwhile stores nothing.
    """
    info = await resolve_code(code)
    if info.questionnaire_id != questionnaire_id:
        raise CodeRefused("questionnaire", expected_questionnaire=info.questionnaire_id)
    if perspective is not None and perspective != info.perspective:
        raise CodeRefused("perspective", expected_perspective=info.perspective)
    if mode != "real":
        raise CodeRefused("test")
    profile = info.phase == "profil"
    if profile:
        pseudonym = pool.checked_pseudonym(pseudonym)
        await pool.check_free(info.run_id, info.perspective, pseudonym)
    async with write_transaction(Run._meta.db):
        await resolve_code(code)  # closed meanwhile?
        doc = await quickcheck.submit_answers(
            questionnaire_id,
            version=version,
            perspective=info.perspective,
            mode=mode,
            answers=answers,
            lang=lang,
            site=site,
            overlay=overlay,
        )
        response = (
            await QuestionnaireResponse.select(QuestionnaireResponse.id)
            .where(QuestionnaireResponse.token_hash == quickcheck_store.token_hash(doc.token))
            .first()
        )
        assert response is not None
        if profile:
            assert pseudonym is not None
            await pool.attach_profile(info.run_id, info.perspective, pseudonym, response["id"])
            return doc
        await RunResponse.insert(
            RunResponse(
                run=info.run_id,
                response=response["id"],
                phase=info.phase,
                perspective=info.perspective,
            )
        )
        await _mark_stale(info.run_id, info.phase, info.perspective)
    return doc


def group_of(phase: str, perspective: str) -> str:
    """The group a response counts in: its perspective, all feedback together."""
    return "feedback" if phase == "feedback" else perspective


async def _mark_stale(run_id: int, phase: str, perspective: str) -> None:
    """The group's summary no longer holds (called inside the submission's transaction)."""
    group = group_of(phase, perspective)
    key = f"{run_id}/{phase}/{group}"
    await RunGroupSummary.insert(
        RunGroupSummary(key=key, run=run_id, phase=phase, perspective=group)
    ).on_conflict(target=RunGroupSummary.key, action="DO NOTHING")
    await RunGroupSummary.update(
        {
            RunGroupSummary.version: RunGroupSummary.version + 1,
            RunGroupSummary.definition_hash: "",
        }
    ).where(RunGroupSummary.key == key)


class StoredSummary(msgspec.Struct, frozen=True, kw_only=True):
    """A row of run_group_summary (core.db.tables.RunGroupSummary)."""

    key: str
    run: int
    phase: str
    perspective: str  # "feedback" for the feedback
    version: int
    definition_hash: str
    min_group: int
    means: list[tuple[str | None, float | None]] | None
    rankings: list[list[str]] | None


_MEANS = msgspec.json.Decoder(list[tuple[str | None, float | None]] | None)
_RANKINGS = msgspec.json.Decoder(list[list[str]] | None)


def _typed(raw: Any, decoder: msgspec.json.Decoder[Any]) -> Any:
    """A JSON column as the engine returns it: text (SQLite) or already decoded (asyncpg)."""
    if raw is None:
        return None
    if isinstance(raw, str | bytes):
        return decoder.decode(raw)
    return msgspec.convert(raw, decoder.type)


async def stored_summaries(run_ids: list[int] | None) -> list[StoredSummary]:
    """The group summaries of these runs (all runs: None), in one query."""
    query = RunGroupSummary.select(
        RunGroupSummary.key,
        RunGroupSummary.run,
        RunGroupSummary.phase,
        RunGroupSummary.perspective,
        RunGroupSummary.version,
        RunGroupSummary.definition_hash,
        RunGroupSummary.min_group,
        RunGroupSummary.means,
        RunGroupSummary.rankings,
    )
    if run_ids is not None:
        if not run_ids:
            return []
        if len(run_ids) < 500:  # a long IN list costs more than reading the few others
            query = query.where(RunGroupSummary.run.is_in(run_ids))
    wanted = None if run_ids is None else set(run_ids)
    return [
        StoredSummary(
            key=r["key"],
            run=r["run"],
            phase=r["phase"],
            perspective=r["perspective"],
            version=r["version"],
            definition_hash=r["definition_hash"],
            min_group=r["min_group"],
            means=_typed(r["means"], _MEANS),
            rankings=_typed(r["rankings"], _RANKINGS),
        )
        for r in await query
        if wanted is None or r["run"] in wanted
    ]


async def store_summaries(rows: list[StoredSummary]) -> None:
    """Write computed summaries back, each only if no submission reached its group since
    it was read (same ``version``): a summary is never newer than its responses. A few
    statements for any number of rows (UPDATE ... FROM a VALUES list, 300 rows each)."""
    db = RunGroupSummary._meta.db
    postgres = db.engine_type in {"postgres", "cockroach"}
    as_json = "CAST({} AS JSON)" if postgres else "{}"
    for start in range(0, len(rows), 300):
        chunk = rows[start : start + 300]
        values = ", ".join(
            f"(CAST({{}} AS TEXT), CAST({{}} AS INTEGER), CAST({{}} AS TEXT), "
            f"CAST({{}} AS INTEGER), {as_json}, {as_json})"
            for _ in chunk
        )
        args: list[Any] = []
        for row in chunk:
            args += [
                row.key,
                row.version,
                row.definition_hash,
                row.min_group,
                None if row.means is None else msgspec.json.encode(row.means).decode(),
                None if row.rankings is None else msgspec.json.encode(row.rankings).decode(),
            ]
        await RunGroupSummary.raw(
            f"WITH v(key, version, h, k, m, r) AS (VALUES {values}) "
            "UPDATE run_group_summary SET definition_hash = v.h, min_group = v.k, "
            "means = v.m, rankings = v.r FROM v "
            "WHERE run_group_summary.key = v.key AND run_group_summary.version = v.version",
            *args,
        )


class GroupRow(msgspec.Struct, frozen=True, kw_only=True):
    """One response of a run, as the views need it (oldest first within a run)."""

    run: int
    phase: str
    perspective: str
    answers: dict[str, Any]
    result: dict[str, Any]


def _decoded(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str | bytes):
        value: dict[str, Any] = msgspec.json.decode(raw)
        return value
    return dict(raw or {})


async def run_responses(run_ids: list[int] | None, *, answers: bool = True) -> list[GroupRow]:
    """The responses of these runs (all runs: None), in the order they arrived. Without
    ``answers`` only the feedback's answers are read (the dashboard needs no more)."""
    query = RunResponse.select(
        RunResponse.run,
        RunResponse.phase,
        RunResponse.perspective,
        RunResponse.response.answers.as_alias("answers"),
        RunResponse.response.result.as_alias("result"),
    ).order_by(RunResponse.response)
    if run_ids is not None:
        if not run_ids:
            return []
        query = query.where(RunResponse.run.is_in(run_ids))
    return [
        GroupRow(
            run=r["run"],
            phase=r["phase"],
            perspective=r["perspective"],
            answers=_decoded(r["answers"]) if answers or r["phase"] == "feedback" else {},
            result=_decoded(r["result"]),
        )
        for r in await query
    ]
