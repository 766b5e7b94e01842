"""A run's matching pool: mentors and mentees under pseudonyms, their tandem profiles,
the Lotse's pair markings and her matching settings.

Nothing identifying is stored: a member is a **pseudonym** (entered by the person on the
profile form, or by the Lotse), a role, an optional capacity and the anonymous profile
response. ``checked_pseudonym`` refuses what looks like an e-mail address, a phone number
or a web address. Refusals are ``PoolError``s with an English reason for the API and a
German sentence for the pages; nothing is changed by a refused request.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

import msgspec

from core.db.engine import write_transaction
from core.db.tables import QuestionnaireResponse, RunMatching, RunPairMark, RunPoolMember
from core.quickcheck.model import MarkingKind

ROLES = ("mentor", "mentee")
ROLE_LABEL = {"mentor": "Mentorin/Mentor", "mentee": "Mentee"}
# Pair markings (the Lotse knows the company) and her decisions for the assignment.
MARKS = ("same_team", "reports_to", "not_with")
DECISIONS = ("pin", "forbid")
MARK_LABEL = {
    "same_team": "gleiches Team",
    "reports_to": "direkte Vorgesetzten-Beziehung",
    "not_with": "nicht miteinander",
    "pin": "festgelegt",
    "forbid": "ausgeschlossen",
}
# The one place where the stored and API kinds (English, like every API field) meet the
# fit check's vocabulary (core.quickcheck.model.MarkingKind): the comparer excludes
# reports_to/not_with pairs and weighs same_team itself; pin/forbid stay with the matching.
COMPARER_KIND: dict[str, MarkingKind] = {
    "same_team": "gleiches-team",
    "reports_to": "berichtslinie",
    "not_with": "nicht-mit",
}
PSEUDONYM_MIN, PSEUDONYM_MAX = 2, 30
MAX_DIGITS = 3  # "Team 4", "Azubi 12" — not a phone or personnel number
MAX_MEMBERS = 500  # per role, as core.quickcheck.matching.MAX_PEOPLE
MAX_CAPACITY = 10
DEFAULT_CAPACITY = 1
DEFAULT_THRESHOLD = 50
# Letters, digits, space, dot, hyphen, apostrophe; starting with a letter or digit.
_PSEUDONYM = re.compile(r"^[^\W_][\w .'\-]*$")
_SPACES = re.compile(r"\s+")


class PoolError(Exception):
    """A refused change of the pool; ``field`` names what is wrong, ``reason`` says why
    (English, for the API), ``german`` says it to the Lotse or the person."""

    def __init__(self, field: str, reason: str, german: str, *, status: int = 422) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason
        self.german = german
        self.status = status


PSEUDONYM_RULE = (
    f"Ein Pseudonym hat {PSEUDONYM_MIN} bis {PSEUDONYM_MAX} Zeichen: Buchstaben, Ziffern "
    f"(höchstens {MAX_DIGITS}), Leerzeichen, Punkt, Bindestrich oder Apostroph — also keine "
    "E-Mail-Adresse, keine Telefonnummer und keinen vollen Namen, z. B. „Lernfuchs“ oder "
    "„Team Blau 2“."
)


def checked_pseudonym(raw: str | None) -> str:
    """The pseudonym, tidied (spaces collapsed, NFC); ``PoolError`` when it is missing,
    too short or long, or looks like an e-mail address, phone number or web address."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFC", raw or "")).strip()
    if not text:
        raise PoolError(
            "pseudonym", "required", "Bitte geben Sie ein Pseudonym an. " + PSEUDONYM_RULE
        )
    if (
        not PSEUDONYM_MIN <= len(text) <= PSEUDONYM_MAX
        or not _PSEUDONYM.match(text)
        or sum(ch.isdigit() for ch in text) > MAX_DIGITS
    ):
        raise PoolError(
            "pseudonym",
            f"{PSEUDONYM_MIN}-{PSEUDONYM_MAX} letters, digits (at most {MAX_DIGITS}), spaces, "
            "'.', '-' or an apostrophe; nothing like an e-mail address or phone number",
            "Dieses Pseudonym geht nicht. " + PSEUDONYM_RULE,
        )
    return text


class Member(msgspec.Struct, frozen=True, kw_only=True):
    pseudonym: str
    role: str
    capacity: int | None  # mentors: None = the run's setting
    version: int | None  # the profile's questionnaire version; None: no profile yet
    answers: dict[str, Any] = {}


class Mark(msgspec.Struct, frozen=True, kw_only=True):
    mentor: str
    mentee: str
    kind: str


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    capacity: int = DEFAULT_CAPACITY
    threshold: int = DEFAULT_THRESHOLD


def _key(pseudonym: str) -> str:
    return pseudonym.casefold()


async def _rows(run_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = (
        await RunPoolMember.select(
            RunPoolMember.id,
            RunPoolMember.role,
            RunPoolMember.pseudonym,
            RunPoolMember.capacity,
            RunPoolMember.response,
        )
        .where(RunPoolMember.run == run_id)
        .order_by(RunPoolMember.id)
    )
    return rows


async def _find(run_id: int, pseudonym: str) -> dict[str, Any] | None:
    wanted = _key(pseudonym)
    return next((r for r in await _rows(run_id) if _key(r["pseudonym"]) == wanted), None)


def _decoded(raw: Any) -> dict[str, Any]:
    if isinstance(raw, str | bytes):
        value: dict[str, Any] = msgspec.json.decode(raw)
        return value
    return dict(raw or {})


async def members(run_id: int, *, answers: bool = True) -> list[Member]:
    """The pool in the order the members joined, with their profile answers."""
    rows = await _rows(run_id)
    ids = [r["response"] for r in rows if r["response"] is not None]
    profiles: dict[int, dict[str, Any]] = {}
    if ids:
        columns = [QuestionnaireResponse.id, QuestionnaireResponse.version]
        if answers:
            columns.append(QuestionnaireResponse.answers)
        for p in await QuestionnaireResponse.select(*columns).where(
            QuestionnaireResponse.id.is_in(ids)
        ):
            profiles[p["id"]] = p
    out = []
    for r in rows:
        profile = profiles.get(r["response"]) if r["response"] is not None else None
        out.append(
            Member(
                pseudonym=r["pseudonym"],
                role=r["role"],
                capacity=r["capacity"],
                version=profile["version"] if profile else None,
                answers=_decoded(profile.get("answers")) if profile and answers else {},
            )
        )
    return out


def _taken(pseudonym: str) -> PoolError:
    return PoolError(
        "pseudonym",
        "already in this run's pool",
        f"Das Pseudonym „{pseudonym}“ ist in diesem Pool schon vergeben. Bitte wählen Sie "
        "ein anderes (oder fragen Sie die Lotsin/den Lotsen).",
        status=409,
    )


async def check_free(run_id: int, role: str, pseudonym: str) -> None:
    """May a profile be given under ``pseudonym``? Yes when nobody has it, or when the
    Lotse added it for this role and no profile came in yet."""
    found = await _find(run_id, pseudonym)
    if found is not None and (found["response"] is not None or found["role"] != role):
        raise _taken(pseudonym)


async def attach_profile(run_id: int, role: str, pseudonym: str, response_id: int) -> None:
    """Store the profile response under the pseudonym (inside the caller's transaction)."""
    found = await _find(run_id, pseudonym)
    if found is not None:
        await RunPoolMember.update({RunPoolMember.response: response_id}).where(
            (RunPoolMember.id == found["id"]) & RunPoolMember.response.is_null()
        )
        return
    await RunPoolMember.insert(
        RunPoolMember(
            run=run_id,
            role=role,
            pseudonym=pseudonym,
            response=response_id,
            added_at=dt.datetime.now(dt.UTC),
        )
    )


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise PoolError("role", "mentor or mentee", "Bitte wählen Sie Mentorin/Mentor oder Mentee.")


def _check_capacity(capacity: int | None) -> None:
    if capacity is not None and not 0 <= capacity <= MAX_CAPACITY:
        raise PoolError(
            "capacity",
            f"0 to {MAX_CAPACITY}",
            f"Eine Mentorin oder ein Mentor begleitet 0 bis {MAX_CAPACITY} Mentees.",
        )


async def add_member(run_id: int, role: str, raw: str, capacity: int | None = None) -> Member:
    """The Lotse adds a pseudonym to the pool (its profile may follow via the link)."""
    _check_role(role)
    pseudonym = checked_pseudonym(raw)
    _check_capacity(capacity)
    if capacity is not None and role != "mentor":
        raise PoolError(
            "capacity", "mentors only", "Nur Mentorinnen und Mentoren haben eine Kapazität."
        )
    async with write_transaction(RunPoolMember._meta.db):
        rows = await _rows(run_id)
        if any(_key(r["pseudonym"]) == _key(pseudonym) for r in rows):
            raise _taken(pseudonym)
        if sum(r["role"] == role for r in rows) >= MAX_MEMBERS:
            raise PoolError(
                "role",
                f"at most {MAX_MEMBERS} per role",
                f"Ein Pool hat höchstens {MAX_MEMBERS} Personen je Rolle.",
            )
        await RunPoolMember.insert(
            RunPoolMember(
                run=run_id,
                role=role,
                pseudonym=pseudonym,
                capacity=capacity,
                added_at=dt.datetime.now(dt.UTC),
            )
        )
    return Member(pseudonym=pseudonym, role=role, capacity=capacity, version=None)


def _unknown(pseudonym: str) -> PoolError:
    return PoolError(
        "pseudonym",
        "not in this run's pool",
        f"„{pseudonym[:40]}“ ist nicht im Pool dieses Durchlaufs.",
        status=404,
    )


async def remove_member(run_id: int, pseudonym: str) -> None:
    """Remove a member with its profile answers and every marking that names it."""
    found = await _find(run_id, pseudonym)
    if found is None:
        raise _unknown(pseudonym)
    name = found["pseudonym"]
    async with write_transaction(RunPoolMember._meta.db):
        await RunPoolMember.delete().where(RunPoolMember.id == found["id"])
        if found["response"] is not None:
            await QuestionnaireResponse.delete().where(
                QuestionnaireResponse.id == found["response"]
            )
        column = RunPairMark.mentor if found["role"] == "mentor" else RunPairMark.mentee
        await RunPairMark.delete().where((RunPairMark.run == run_id) & (column == name))


async def set_capacity(run_id: int, pseudonym: str, capacity: int | None) -> None:
    """A mentor's own capacity (None: the run's setting)."""
    _check_capacity(capacity)
    found = await _find(run_id, pseudonym)
    if found is None:
        raise _unknown(pseudonym)
    if found["role"] != "mentor":
        raise PoolError(
            "capacity", "mentors only", "Nur Mentorinnen und Mentoren haben eine Kapazität."
        )
    await RunPoolMember.update({RunPoolMember.capacity: capacity}).where(
        RunPoolMember.id == found["id"]
    )


async def marks(run_id: int) -> list[Mark]:
    rows = (
        await RunPairMark.select(RunPairMark.mentor, RunPairMark.mentee, RunPairMark.kind)
        .where(RunPairMark.run == run_id)
        .order_by(RunPairMark.id)
    )
    return [msgspec.convert(r, Mark) for r in rows]


async def _pair(run_id: int, mentor: str, mentee: str) -> tuple[str, str]:
    """The two pool members' stored spelling; ``PoolError`` unless they are a mentor and
    a mentee of this pool."""
    rows = await _rows(run_id)
    names = {(_key(r["pseudonym"]), r["role"]): r["pseudonym"] for r in rows}
    a, b = names.get((_key(mentor), "mentor")), names.get((_key(mentee), "mentee"))
    if a is None:
        raise PoolError(
            "mentor",
            "no mentor of this pool",
            f"„{mentor[:40]}“ ist keine Mentorin und kein Mentor in diesem Pool.",
        )
    if b is None:
        raise PoolError(
            "mentee", "no mentee of this pool", f"„{mentee[:40]}“ ist kein Mentee in diesem Pool."
        )
    return a, b


async def set_mark(run_id: int, mentor: str, mentee: str, kind: str) -> Mark:
    """Mark a pair. A pair has at most one pair marking and at most one decision (pin or
    forbid); a new one replaces the old. Pinning a pair unpins the mentee's other pin."""
    if kind not in MARKS + DECISIONS:
        raise PoolError(
            "kind",
            f"one of: {', '.join(MARKS + DECISIONS)}",
            "Unbekannte Markierung; wählen Sie gleiches Team, direkte Vorgesetzten-Beziehung "
            "oder nicht miteinander.",
        )
    a, b = await _pair(run_id, mentor, mentee)
    group = MARKS if kind in MARKS else DECISIONS
    async with write_transaction(RunPairMark._meta.db):
        await RunPairMark.delete().where(
            (RunPairMark.run == run_id)
            & (RunPairMark.mentor == a)
            & (RunPairMark.mentee == b)
            & RunPairMark.kind.is_in(list(group))
        )
        if kind == "pin":
            await RunPairMark.delete().where(
                (RunPairMark.run == run_id)
                & (RunPairMark.mentee == b)
                & (RunPairMark.kind == "pin")
            )
        await RunPairMark.insert(RunPairMark(run=run_id, mentor=a, mentee=b, kind=kind))
    return Mark(mentor=a, mentee=b, kind=kind)


async def clear_mark(run_id: int, mentor: str, mentee: str, kind: str) -> bool:
    """Remove one marking or decision; False when there was none."""
    a, b = await _pair(run_id, mentor, mentee)
    where = (
        (RunPairMark.run == run_id)
        & (RunPairMark.mentor == a)
        & (RunPairMark.mentee == b)
        & (RunPairMark.kind == kind)
    )
    if not await RunPairMark.exists().where(where):
        return False
    await RunPairMark.delete().where(where)
    return True


async def settings(run_id: int) -> Settings:
    row = (
        await RunMatching.select(RunMatching.capacity, RunMatching.threshold)
        .where(RunMatching.run == run_id)
        .first()
    )
    return msgspec.convert(row, Settings) if row else Settings()


async def save_settings(run_id: int, capacity: int, threshold: int) -> Settings:
    _check_capacity(capacity)
    if not 0 <= threshold <= 100:
        raise PoolError("threshold", "0 to 100", "Die Mindestpassung liegt zwischen 0 und 100.")
    await _ensure(run_id)
    await RunMatching.update(
        {RunMatching.capacity: capacity, RunMatching.threshold: threshold}
    ).where(RunMatching.run == run_id)
    return Settings(capacity=capacity, threshold=threshold)


async def _ensure(run_id: int) -> None:
    if not await RunMatching.exists().where(RunMatching.run == run_id):
        await RunMatching.insert(
            RunMatching(run=run_id, capacity=DEFAULT_CAPACITY, threshold=DEFAULT_THRESHOLD)
        )


async def stored_assignments(run_id: int) -> dict[str, Any]:
    """``proposal``, ``previous`` and ``agreed`` as stored (None where there is none)."""
    row = (
        await RunMatching.select(
            RunMatching.proposal, RunMatching.previous, RunMatching.agreed, RunMatching.agreed_at
        )
        .where(RunMatching.run == run_id)
        .first()
    )
    if row is None:
        return {"proposal": None, "previous": None, "agreed": None, "agreed_at": None}
    for name in ("proposal", "previous", "agreed"):
        if isinstance(row[name], str | bytes):
            row[name] = msgspec.json.decode(row[name])
    return row


async def store_proposal(run_id: int, proposal: dict[str, Any]) -> None:
    """The new proposal; the one before it is kept to show what changed."""
    await _ensure(run_id)
    async with write_transaction(RunMatching._meta.db):
        old = await stored_assignments(run_id)
        await RunMatching.update(
            {RunMatching.previous: old["proposal"], RunMatching.proposal: proposal}
        ).where(RunMatching.run == run_id)


async def store_agreed(run_id: int, agreed: dict[str, Any]) -> None:
    await _ensure(run_id)
    await RunMatching.update(
        {RunMatching.agreed: agreed, RunMatching.agreed_at: dt.datetime.now(dt.UTC)}
    ).where(RunMatching.run == run_id)
