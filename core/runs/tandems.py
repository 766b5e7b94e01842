"""Tandems of a run: the fit matrix of its pool, the proposed and the agreed assignment,
and the hand-out.

The fit of each pair comes from the tandem profile's own fit check
(``core.quickcheck.tandem.Comparer``), whatever version of the profile the pool used;
the assignment from ``core.quickcheck.matching`` (exact, SciPy). Profiles of different
questionnaire versions are not compared: the version most of the pool answered wins
(the newer one on a tie) and the others are named as left out.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import msgspec

from core.quickcheck import store as quickcheck_store
from core.quickcheck.engine import band_index
from core.quickcheck.matching import Assignment, MatchingError, Objective, assign
from core.quickcheck.model import AMPEL_LABEL, MarkingKind, Questionnaire
from core.quickcheck.present import Recommendation, entry_refs
from core.quickcheck.tandem import (
    Comparer,
    CriterionResult,
    PairMarking,
    ProfileMismatch,
    marks_by_pair,
    require_comparable,
)
from core.runs import pool
from core.runs.model import PROFILE_ID
from core.runs.pool import COMPARER_KIND, Member, PoolError

# The toolbox entries for the first tandem meetings, in the order they are used.
FIRST_MEETINGS = ("tandem-steckbrief", "tandem-ziele-vereinbaren", "ablauf-tandem-treffen")
OBJECTIVE_LABEL = {"total": "Beste Gesamtpassung", "balanced": "Ausgewogenste Zuordnung"}
REMOVED = (
    "Ein Profil dieses Tandems wurde inzwischen entfernt oder geändert; die Erklärung fehlt "
    "deshalb."
)
FORBIDDEN = (
    "Von Ihnen für die Zuordnung ausgeschlossen: Dieses Tandem wird nicht vorgeschlagen, "
    "solange Sie den Ausschluss nicht aufheben."
)


class MatchingRefused(PoolError):
    """The pool cannot be matched as it is; ``german`` says why and what helps."""

    def __init__(self, reason: str, german: str, field: str = "pool") -> None:
        super().__init__(field, reason, german, status=422)


class Cell(msgspec.Struct, frozen=True, kw_only=True):
    mentor: str
    mentee: str
    score: float | None  # 0..100; None: blocked
    ampel: str | None
    ampel_label: str | None
    blocked: bool
    blocked_because: list[str]  # German: the profile's exclusions and the Lotse's markings
    marks: list[str]  # every marking and decision of the pair (pool.MARKS, DECISIONS)
    criteria: list[CriterionResult]  # per criterion: score and German explanation
    notes: list[str] = []  # German: e.g. a "same team" marking this version does not weigh


class Matrix(msgspec.Struct, frozen=True, kw_only=True):
    version: int | None  # the profile version compared; None without profiles
    mentors: list[str]
    mentees: list[str]
    cells: list[list[Cell]]  # [mentee][mentor]
    capacities: dict[str, int]  # mentor -> mentees she or he takes
    left_out: dict[str, str]  # pseudonym -> why it is not in the matrix (German)
    notes: list[str]  # German: what the Lotse should know before matching


class PairDoc(msgspec.Struct, frozen=True, kw_only=True):
    mentor: str
    mentee: str
    fit: float
    pinned: bool = False


class Proposal(msgspec.Struct, frozen=True, kw_only=True):
    objective: str
    version: int
    threshold: int
    pairs: list[PairDoc]
    total: float
    minimum: float | None
    unmatched_mentees: list[str]
    unmatched_mentors: list[str]
    made_at: dt.datetime


class Change(msgspec.Struct, frozen=True, kw_only=True):
    added: list[PairDoc]
    removed: list[PairDoc]
    kept: int
    total_before: float | None
    total_after: float
    minimum_before: float | None
    minimum_after: float | None


def _names(people: list[str]) -> str:
    quoted = [f"„{p}“" for p in people]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " und " + quoted[-1]


async def _definition(version: int) -> Questionnaire:
    found = await quickcheck_store.get_version(PROFILE_ID, version)
    if found is None or found.definition.matching is None:
        raise MatchingRefused(
            "profile version missing",
            f"Die Fassung {version} des Tandem-Profils ist nicht mehr vorhanden; die Profile "
            "lassen sich nicht vergleichen.",
        )
    return found.definition


def _chosen_version(members: list[Member]) -> int | None:
    counts = Counter(m.version for m in members if m.version is not None)
    if not counts:
        return None
    return max(counts, key=lambda v: (counts[v], v))


def markings(marks: list[pool.Mark]) -> list[PairMarking]:
    """The Lotse's stored pair markings (English kinds, as the API names them) in the fit
    check's words (``pool.COMPARER_KIND``); pins and forbidden pairs are decisions for the
    matching and not markings of the comparer."""
    return [
        PairMarking(mentor=m.mentor, mentee=m.mentee, kind=COMPARER_KIND[m.kind])
        for m in marks
        if m.kind in COMPARER_KIND
    ]


class _Pool(msgspec.Struct, kw_only=True):
    """What the matrix and the proposal both start from."""

    version: int | None
    mentors: list[Member]
    mentees: list[Member]
    capacities: dict[str, int]
    left_out: dict[str, str]
    notes: list[str]
    marks: list[pool.Mark]


async def _pool(run_id: int) -> _Pool:
    members = await pool.members(run_id)
    settings = await pool.settings(run_id)
    version = _chosen_version(members)
    left_out: dict[str, str] = {}
    for m in members:
        if m.version is None:
            left_out[m.pseudonym] = "hat noch kein Tandem-Profil ausgefüllt"
        elif m.version != version:
            left_out[m.pseudonym] = (
                f"hat Fassung {m.version} des Tandem-Profils ausgefüllt, verglichen wird "
                f"Fassung {version}; bitte das Profil in der aktuellen Fassung neu ausfüllen"
            )
    compared = [m for m in members if m.version is not None and m.version == version]
    mentors = [m for m in compared if m.role == "mentor"]
    mentees = [m for m in compared if m.role == "mentee"]
    capacities = {
        m.pseudonym: settings.capacity if m.capacity is None else m.capacity for m in mentors
    }
    return _Pool(
        version=version,
        mentors=mentors,
        mentees=mentees,
        capacities=capacities,
        left_out=left_out,
        notes=_pool_notes(members, mentors, mentees, left_out, version, capacities),
        marks=await pool.marks(run_id),
    )


async def _comparer(version: int, mentors: list[Member], mentees: list[Member]) -> Comparer:
    comparer = Comparer(await _definition(version))
    for m in (*mentors, *mentees):
        assert m.version is not None
        comparer.require(PROFILE_ID, m.version)  # the pool above compares one version
    return comparer


ALL_BLOCKED = (
    "Jedes mögliche Tandem ist ausgeschlossen (durch das Tandem-Profil oder Ihre "
    "Markierungen); so lässt sich kein Tandem bilden. Prüfen Sie die Markierungen."
)


async def matrix(run_id: int) -> Matrix:
    """Every mentor × mentee of the pool with fit, Ampel, blocked cells and the
    per-criterion explanations. The comparer weighs the Lotse's pair markings (it blocks
    reporting lines and "not with", and scores "same team" in its criterion); a pair the
    Lotse forbade for the assignment is shown blocked as well."""
    p = await _pool(run_id)
    if p.version is None:
        return Matrix(
            version=None, mentors=[], mentees=[], cells=[], capacities={}, left_out=p.left_out,
            notes=p.notes,
        )  # fmt: skip
    d = await _definition(p.version)
    assert d.matching is not None
    comparer = await _comparer(p.version, p.mentors, p.mentees)
    by_pair = marks_by_pair(markings(p.marks))
    kinds_of: dict[tuple[str, str], list[str]] = {}
    for mark in p.marks:
        kinds_of.setdefault((mark.mentor, mark.mentee), []).append(mark.kind)
    none: frozenset[MarkingKind] = frozenset()
    cells = []
    for mentee in p.mentees:
        row = []
        for mentor in p.mentors:
            pair = (mentor.pseudonym, mentee.pseudonym)
            kinds = kinds_of.get(pair, [])
            fit = comparer.fit(mentor.answers, mentee.answers, by_pair.get(pair, none))
            because = [x.title + ": " + x.text for x in fit.exclusions]
            if "forbid" in kinds:
                because.append(FORBIDDEN)
            blocked = bool(because)
            score = None if blocked else (fit.score or 0.0)
            index = None if score is None else band_index(d.matching.bands, score)
            ampel = d.matching.bands[index].ampel if index is not None else None
            row.append(
                Cell(
                    mentor=mentor.pseudonym,
                    mentee=mentee.pseudonym,
                    score=score,
                    ampel=ampel,
                    ampel_label=AMPEL_LABEL[ampel] if ampel else None,
                    blocked=blocked,
                    blocked_because=because,
                    marks=kinds,
                    criteria=fit.criteria,
                    notes=fit.notes,
                )
            )
        cells.append(row)
    notes = list(p.notes)
    if p.mentors and p.mentees and all(c.blocked for row in cells for c in row):
        notes.append(ALL_BLOCKED)
    return Matrix(
        version=p.version,
        mentors=[m.pseudonym for m in p.mentors],
        mentees=[m.pseudonym for m in p.mentees],
        cells=cells,
        capacities=p.capacities,
        left_out=p.left_out,
        notes=notes,
    )


def _pool_notes(
    members: list[Member],
    mentors: list[Member],
    mentees: list[Member],
    left_out: dict[str, str],
    version: int | None,
    capacities: dict[str, int],
) -> list[str]:
    notes = []
    if not members:
        notes.append(
            "Der Pool ist noch leer. Geben Sie die Profil-Links aus oder tragen Sie Pseudonyme ein."
        )
    elif not mentors and not mentees:
        notes.append("Es liegt noch kein vergleichbares Tandem-Profil vor.")
    elif not mentors:
        notes.append(
            "Im Pool gibt es nur Mentees und keine Mentorin und keinen Mentor mit Profil; "
            "es lässt sich kein Tandem bilden."
        )
    elif not mentees:
        notes.append(
            "Im Pool gibt es nur Mentorinnen und Mentoren und keine Mentees mit Profil; "
            "es lässt sich kein Tandem bilden."
        )
    other = sorted({m.version for m in members if m.version not in (None, version)})
    if other:
        people = [m.pseudonym for m in members if m.version in other]
        notes.append(
            f"Verglichen werden nur Profile derselben Fassung (Fassung {version}). "
            f"Nicht verglichen: {_names(people)} (Fassung "
            f"{', '.join(str(v) for v in other)})."
        )
    without = [p for p, why in left_out.items() if why.startswith("hat noch kein")]
    if without:
        notes.append(f"Noch ohne Tandem-Profil: {_names(without)}.")
    room = sum(capacities.values())
    if mentors and mentees and room < len(mentees):
        notes.append(
            f"Die Mentorinnen und Mentoren können zusammen höchstens {room} Mentees "
            f"begleiten; von {len(mentees)} Mentees bleiben mindestens "
            f"{len(mentees) - room} ohne Tandem. Erhöhen Sie die Kapazität, wenn das nicht "
            "gewollt ist."
        )
    return notes


async def propose(run_id: int, objective: Objective = "total") -> tuple[Proposal, Change]:
    """Compute the assignment (exclusions and pair markings through the comparer's scores,
    the Lotse's pins and forbidden pairs, capacities, threshold), store it as the run's
    proposal and say what changed against the proposal before. Needs only the scores
    (``Comparer.matrix``), not the explanations."""
    p = await _pool(run_id)
    settings = await pool.settings(run_id)
    if p.version is None or not p.mentors or not p.mentees:
        raise MatchingRefused("pool incomplete", " ".join(p.notes))
    comparer = await _comparer(p.version, p.mentors, p.mentees)
    fits = comparer.matrix(
        [(m.pseudonym, m.answers) for m in p.mentors],
        [(m.pseudonym, m.answers) for m in p.mentees],
        markings(p.marks),
    )
    mentors = [m.pseudonym for m in p.mentors]
    mentees = [m.pseudonym for m in p.mentees]
    mentor_at = {name: j for j, name in enumerate(mentors)}
    mentee_at = {name: i for i, name in enumerate(mentees)}
    decided: dict[str, set[tuple[int, int]]] = {"pin": set(), "forbid": set()}
    for mark in p.marks:
        if mark.kind in decided and mark.mentor in mentor_at and mark.mentee in mentee_at:
            decided[mark.kind].add((mentee_at[mark.mentee], mentor_at[mark.mentor]))
    if all(
        fits[i][j] is None or (i, j) in decided["forbid"]
        for i in range(len(mentees))
        for j in range(len(mentors))
    ):
        raise MatchingRefused("every pair excluded", ALL_BLOCKED)
    if sum(p.capacities.values()) == 0:
        raise MatchingRefused(
            "no capacity",
            "Keine Mentorin und kein Mentor kann ein Mentee begleiten (Kapazität 0); "
            "erhöhen Sie die Kapazität.",
            field="capacity",
        )
    try:
        result: Assignment = assign(
            fits,
            [p.capacities[name] for name in mentors],
            threshold=settings.threshold,
            pins=decided["pin"],
            forbidden=decided["forbid"],
            objective=objective,
        )
    except MatchingError as exc:
        raise MatchingRefused("cannot be matched", exc.message, exc.field or "pool") from exc
    proposal = Proposal(
        objective=objective,
        version=p.version,
        threshold=settings.threshold,
        pairs=[
            PairDoc(
                mentor=mentors[pair.mentor],
                mentee=mentees[pair.mentee],
                fit=pair.fit,
                pinned=pair.pinned,
            )
            for pair in result.pairs
        ],
        total=result.total,
        minimum=result.minimum,
        unmatched_mentees=[mentees[i] for i in result.unmatched_mentees],
        unmatched_mentors=[mentors[j] for j in result.unmatched_mentors],
        made_at=dt.datetime.now(dt.UTC),
    )
    before = (await pool.stored_assignments(run_id))["proposal"]
    await pool.store_proposal(run_id, msgspec.to_builtins(proposal))
    return proposal, change(before, proposal)


def _as_proposal(raw: Any) -> Proposal | None:
    return None if raw is None else msgspec.convert(raw, Proposal, strict=False)


def change(before_raw: Any, after: Proposal) -> Change:
    before = _as_proposal(before_raw)
    old = {(p.mentor, p.mentee): p for p in before.pairs} if before else {}
    new = {(p.mentor, p.mentee): p for p in after.pairs}
    return Change(
        added=[p for key, p in new.items() if key not in old],
        removed=[p for key, p in old.items() if key not in new],
        kept=sum(1 for key in new if key in old),
        total_before=before.total if before else None,
        total_after=after.total,
        minimum_before=before.minimum if before else None,
        minimum_after=after.minimum,
    )


class State(msgspec.Struct, frozen=True, kw_only=True):
    proposal: Proposal | None
    change: Change | None  # the proposal against the one before
    agreed: Proposal | None
    agreed_at: dt.datetime | None


async def state(run_id: int) -> State:
    stored = await pool.stored_assignments(run_id)
    proposal = _as_proposal(stored["proposal"])
    return State(
        proposal=proposal,
        change=change(stored["previous"], proposal) if proposal else None,
        agreed=_as_proposal(stored["agreed"]),
        agreed_at=stored["agreed_at"],
    )


async def agree(run_id: int) -> Proposal:
    """The current proposal becomes the agreed tandems of the run."""
    proposal = (await state(run_id)).proposal
    if proposal is None:
        raise MatchingRefused(
            "no proposal", "Es gibt noch keinen Vorschlag; lassen Sie zuerst einen berechnen."
        )
    if not proposal.pairs:
        raise MatchingRefused(
            "empty proposal",
            "Der Vorschlag enthält kein Tandem; senken Sie die Mindestpassung oder prüfen Sie "
            "die Markierungen.",
        )
    await pool.store_agreed(run_id, msgspec.to_builtins(proposal))
    return proposal


class HandoutPair(msgspec.Struct, frozen=True, kw_only=True):
    mentor: str
    mentee: str
    fit: float
    ampel: str | None
    ampel_label: str | None
    criteria: list[CriterionResult]  # empty when a profile was removed since
    note: str | None


class Handout(msgspec.Struct, frozen=True, kw_only=True):
    agreed_at: dt.datetime | None
    pairs: list[HandoutPair]
    entries: list[Recommendation]  # the toolbox entries for the first meetings


async def handout(run_id: int) -> Handout:
    """The agreed tandems with their fit explained now (from the stored profiles) and the
    entries for the first meetings."""
    current = await state(run_id)
    refs = await entry_refs(set(FIRST_MEETINGS))
    entries = [refs[s] for s in FIRST_MEETINGS if s in refs]
    if current.agreed is None:
        return Handout(agreed_at=None, pairs=[], entries=entries)
    members = {(m.role, m.pseudonym): m for m in await pool.members(run_id)}
    d = await _definition(current.agreed.version)
    assert d.matching is not None
    comparer = Comparer(d)
    by_pair = marks_by_pair(markings(await pool.marks(run_id)))
    pairs = []
    for p in current.agreed.pairs:
        a, b = members.get(("mentor", p.mentor)), members.get(("mentee", p.mentee))
        fit, note = None, REMOVED
        if a is not None and b is not None and a.version is not None and b.version is not None:
            try:  # a profile given again in another version since the agreement
                require_comparable((PROFILE_ID, a.version), (PROFILE_ID, b.version))
            except ProfileMismatch as exc:
                note = exc.message
            if a.version == b.version == d.version:
                pair = (p.mentor, p.mentee)
                fit = comparer.fit(a.answers, b.answers, by_pair.get(pair, frozenset()))
        index = band_index(d.matching.bands, p.fit)
        ampel = d.matching.bands[index].ampel if index is not None else None
        pairs.append(
            HandoutPair(
                mentor=p.mentor,
                mentee=p.mentee,
                fit=p.fit,
                ampel=ampel,
                ampel_label=AMPEL_LABEL[ampel] if ampel else None,
                criteria=fit.criteria if fit else [],
                note=None if fit else note,
            )
        )
    return Handout(agreed_at=current.agreed_at, pairs=pairs, entries=entries)
