"""Questionnaire versions and responses in the database."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

import msgspec

from core.content.model import Problem
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


async def get_version(questionnaire_id: str, version: int) -> StoredVersion | None:
    """Any stored version that is not a draft (retired ones too: old results need them)."""
    row = (
        await QuestionnaireVersion.select(*_VERSION_COLUMNS)
        .where(QuestionnaireVersion.key == version_key(questionnaire_id, version))
        .where(QuestionnaireVersion.status != "draft")
        .first()
    )
    return None if row is None else _decode_version(row)


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


async def save_response(
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
) -> tuple[str, dict[str, Any]]:
    """Store a response; return its token (shown once; only its hash is stored) and the
    row as ``get_response`` would read it back, without reading it back."""
    token = new_token()
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
    await QuestionnaireResponse.insert(
        QuestionnaireResponse(
            token_hash=token_hash(token),
            **{
                **row,
                "answers": answers_json.decode(),
                "result": result_json.decode(),
            },
        )
    )
    return token, row


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
