"""Questionnaire versions and responses in the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine

from core.content.model import Problem
from core.db.engine import fetch
from core.db.tables import QuestionnaireResponse, QuestionnaireVersion
from core.quickcheck.model import LoadedQuestionnaire, Questionnaire
from core.quickcheck.versions import check_immutable


class ContentRejected(Exception):
    """The files would damage stored data (e.g. change a published version); nothing written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = problems


class QuestionnaireSyncReport(msgspec.Struct, kw_only=True):
    added: list[str] = []
    updated: list[str] = []
    removed: list[str] = []
    unchanged: int = 0


def version_key(questionnaire_id: str, version: int) -> str:
    return f"{questionnaire_id}@{version}"


async def stored_versions() -> dict[tuple[str, int], tuple[str, str]]:
    """(id, version) -> (hash, status) of every stored version."""
    rows = await QuestionnaireVersion.select(
        QuestionnaireVersion.questionnaire_id,
        QuestionnaireVersion.version,
        QuestionnaireVersion.hash,
        QuestionnaireVersion.status,
    )
    return {(r["questionnaire_id"], r["version"]): (r["hash"], r["status"]) for r in rows}


class PublishedComparison(msgspec.Struct, frozen=True, kw_only=True):
    stored: int  # versions in the database
    problems: list[Problem]  # files that would change a published version


async def compare_with_published(
    loaded: list[LoadedQuestionnaire],
) -> PublishedComparison | None:
    """Check questionnaire files against the stored versions without writing anything:
    a published version must not change in place. None when the database has no
    questionnaire table yet (nothing was ever published there)."""
    if not await QuestionnaireVersion.table_exists():
        return None
    versions = await stored_versions()
    return PublishedComparison(stored=len(versions), problems=check_immutable(loaded, versions))


async def sync_questionnaires(loaded: list[LoadedQuestionnaire]) -> QuestionnaireSyncReport:
    """Write the definitions; call inside the sync transaction.

    Published and retired versions are never changed in content or deleted, even when
    their file is gone (stored results need them); drafts follow their files.
    """
    report = QuestionnaireSyncReport()
    stored = await stored_versions()
    problems = check_immutable(loaded, stored)
    if problems:
        raise ContentRejected(problems)
    now = dt.datetime.now(dt.UTC)
    wanted = {(q.definition.id, q.definition.version): q for q in loaded}
    for key, (_hash, status) in sorted(stored.items()):
        if key not in wanted and status == "draft":
            await QuestionnaireVersion.delete().where(QuestionnaireVersion.key == version_key(*key))
            report.removed.append(version_key(*key))
    for key, item in sorted(wanted.items()):
        d = item.definition
        values: dict[str, Any] = {
            "status": d.status,
            "purpose": d.purpose,
            "hash": item.hash,
            "definition": msgspec.json.encode(d).decode(),
            "source": item.source,
            "source_path": item.source_path,
            "synced_at": now,
        }
        previous = stored.get(key)
        if previous is None:
            await QuestionnaireVersion.insert(
                QuestionnaireVersion(
                    key=version_key(*key), questionnaire_id=d.id, version=d.version, **values
                )
            )
            report.added.append(version_key(*key))
        elif previous != (item.hash, d.status):
            await QuestionnaireVersion.update(
                {getattr(QuestionnaireVersion, k): v for k, v in values.items()}
            ).where(QuestionnaireVersion.key == version_key(*key))
            report.updated.append(version_key(*key))
        else:
            report.unchanged += 1
    return report


class StoredVersion(msgspec.Struct, frozen=True, kw_only=True):
    definition: Questionnaire
    hash: str
    status: str
    source: str


# Decoded definitions by their hash: a definition never changes under its hash (published
# versions are immutable), so each worker decodes it once instead of on every submission.
_DECODED: dict[str, Questionnaire] = {}
_MAX_DECODED = 256


def _decode_version(row: dict[str, Any]) -> StoredVersion:
    definition = _DECODED.get(row["hash"])
    if definition is None:
        raw = row["definition"]
        definition = (
            msgspec.json.decode(raw, type=Questionnaire)
            if isinstance(raw, str | bytes)
            else msgspec.convert(raw, Questionnaire)
        )
        if len(_DECODED) < _MAX_DECODED:
            _DECODED[row["hash"]] = definition
    return StoredVersion(
        definition=definition, hash=row["hash"], status=row["status"], source=row["source"]
    )


_VERSION_COLUMNS = (
    QuestionnaireVersion.definition,
    QuestionnaireVersion.hash,
    QuestionnaireVersion.status,
    QuestionnaireVersion.source,
)


# The versions this worker last read by (id, version), for submissions in one round trip
# (``submit_response``): a stored version's definition never changes under its hash, its
# status may (published -> retired), so the statement that stores a response checks both.
_SEEN: dict[tuple[str, int], StoredVersion] = {}


async def get_version(questionnaire_id: str, version: int) -> StoredVersion | None:
    """Any stored version that is not a draft (retired ones too: old results need them)."""
    row = (
        await QuestionnaireVersion.select(*_VERSION_COLUMNS)
        .where(QuestionnaireVersion.key == version_key(questionnaire_id, version))
        .where(QuestionnaireVersion.status != "draft")
        .first()
    )
    if row is None:
        return None
    found = _decode_version(row)
    if len(_SEEN) < _MAX_DECODED:
        _SEEN[(questionnaire_id, version)] = found
    return found


def seen_version(questionnaire_id: str, version: int) -> StoredVersion | None:
    """The version as this worker last read it, if ``submit_response`` can store a
    response to it (on PostgreSQL), else None: then ask ``get_version``. Its status may
    have changed since."""
    if not isinstance(QuestionnaireResponse._meta.db, PostgresEngine):
        return None
    return _SEEN.get((questionnaire_id, version))


async def latest_published(questionnaire_id: str) -> StoredVersion | None:
    row = (
        await QuestionnaireVersion.select(*_VERSION_COLUMNS)
        .where(QuestionnaireVersion.questionnaire_id == questionnaire_id)
        .where(QuestionnaireVersion.status == "published")
        .order_by(QuestionnaireVersion.version, ascending=False)
        .first()
    )
    return None if row is None else _decode_version(row)


async def version_overview() -> dict[str, list[tuple[int, str]]]:
    """Questionnaire id -> [(version, status)] of the versions that are not drafts."""
    rows = (
        await QuestionnaireVersion.select(
            QuestionnaireVersion.questionnaire_id,
            QuestionnaireVersion.version,
            QuestionnaireVersion.status,
        )
        .where(QuestionnaireVersion.status != "draft")
        .order_by(QuestionnaireVersion.questionnaire_id)
        .order_by(QuestionnaireVersion.version)
    )
    overview: dict[str, list[tuple[int, str]]] = {}
    for r in rows:
        overview.setdefault(r["questionnaire_id"], []).append((r["version"], r["status"]))
    return overview


# -- responses ----------------------------------------------------------------------------


def new_token() -> str:
    """An unguessable result token (192 random bits, URL-safe)."""
    return secrets.token_urlsafe(24)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class NewResponse(msgspec.Struct, frozen=True, kw_only=True):
    """A response about to be stored: its token (shown once; only its hash is stored),
    the row as ``get_response`` would read it back, and its JSON columns as sent."""

    token: str
    row: dict[str, Any]
    answers_json: bytes
    result_json: bytes


def new_response(
    *,
    questionnaire_id: str,
    version: int,
    definition_hash: str,
    engine_version: str,
    perspective: str,
    mode: str,
    answers: dict[str, Any],
    result: dict[str, Any],
    today: dt.date | None = None,
    site: str | None = None,
) -> NewResponse:
    answers_json = msgspec.json.encode(answers)
    result_json = msgspec.json.encode(result)
    row: dict[str, Any] = {
        "questionnaire_id": questionnaire_id,
        "version": version,
        "definition_hash": definition_hash,
        "engine_version": engine_version,
        "perspective": perspective,
        "mode": mode,
        "answers": msgspec.json.decode(answers_json),
        "result": msgspec.json.decode(result_json),
        "submitted_on": today or dt.datetime.now(dt.UTC).date(),
        "site": site,
    }
    return NewResponse(
        token=new_token(), row=row, answers_json=answers_json, result_json=result_json
    )


# One statement, one round trip (issue 19): store the response if its version is still
# published under the hash it was validated against, and read the published entries its
# result recommends. No row: nothing was stored. Otherwise one row per entry found (a
# single row of NULLs beside the id when none is).
_SUBMIT = """
WITH stored AS (
    INSERT INTO questionnaire_response (token_hash, questionnaire_id, version,
        definition_hash, engine_version, perspective, mode, answers, result, submitted_on, site)
    SELECT $1::text, $2::text, $3::integer, $4::text, $5::text, $6::text, $7::text,
        $8::json, $9::json, $10::date, $11::text
    WHERE EXISTS (
        SELECT 1 FROM questionnaire_version
        WHERE key = $12::text AND status = 'published' AND hash = $4::text
    )
    RETURNING id
)
SELECT stored.id, entry.slug, entry.title, entry.summary
FROM stored LEFT JOIN entry ON entry.slug = ANY($13::text[]) AND entry.status = 'published'
"""


async def submit_response(
    new: NewResponse, entry_slugs: set[str]
) -> list[tuple[str, str, str]] | None:
    """Store ``new`` (PostgreSQL, a version from ``seen_version``) if its version is still
    published with the hash it names, and return (slug, title, summary) of the published
    entries among ``entry_slugs``; None, and nothing stored, if the version is not."""
    engine = QuestionnaireResponse._meta.db
    assert isinstance(engine, PostgresEngine)
    row = new.row
    rows = await fetch(
        engine,
        _SUBMIT,
        token_hash(new.token),
        row["questionnaire_id"],
        row["version"],
        row["definition_hash"],
        row["engine_version"],
        row["perspective"],
        row["mode"],
        new.answers_json.decode(),
        new.result_json.decode(),
        row["submitted_on"],
        row["site"],
        version_key(row["questionnaire_id"], row["version"]),
        sorted(entry_slugs),
    )
    if not rows:
        return None
    return [(r["slug"], r["title"], r["summary"]) for r in rows if r["slug"] is not None]


async def save_response(new: NewResponse) -> None:
    """Store ``new`` (any database; the version was read and checked before)."""
    await QuestionnaireResponse.insert(
        QuestionnaireResponse(
            token_hash=token_hash(new.token),
            **{
                **new.row,
                "answers": new.answers_json.decode(),
                "result": new.result_json.decode(),
            },
        )
    )


_RESPONSE_COLUMNS = (
    QuestionnaireResponse.questionnaire_id,
    QuestionnaireResponse.version,
    QuestionnaireResponse.definition_hash,
    QuestionnaireResponse.engine_version,
    QuestionnaireResponse.perspective,
    QuestionnaireResponse.mode,
    QuestionnaireResponse.answers,
    QuestionnaireResponse.result,
    QuestionnaireResponse.submitted_on,
    QuestionnaireResponse.site,
)


async def get_response(token: str) -> dict[str, Any] | None:
    if not token or len(token) > 100:
        return None
    row: dict[str, Any] | None = (
        await QuestionnaireResponse.select(*_RESPONSE_COLUMNS)
        .where(QuestionnaireResponse.token_hash == token_hash(token))
        .output(load_json=True)
        .first()
    )
    return row


async def responses(
    questionnaire_id: str,
    version: int | None = None,
    *,
    include_test: bool = False,
    sites: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Stored responses of a questionnaire (real ones unless ``include_test``; only those
    submitted on one of ``sites`` if given), oldest first."""
    query = (
        QuestionnaireResponse.select(QuestionnaireResponse.id, *_RESPONSE_COLUMNS)
        .where(QuestionnaireResponse.questionnaire_id == questionnaire_id)
        .order_by(QuestionnaireResponse.id)
        .output(load_json=True)
    )
    if version is not None:
        query = query.where(QuestionnaireResponse.version == version)
    if not include_test:
        query = query.where(QuestionnaireResponse.mode == "real")
    if sites is not None:
        query = query.where(QuestionnaireResponse.site.is_in(sites or [""]))
    rows: list[dict[str, Any]] = await query
    return rows
