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
from core.quickcheck.model import AMPEL_LABEL, Questionnaire
from core.quickcheck.present import Recommendation, entry_refs
from core.quickcheck.tandem import Comparer, CriterionResult
from core.runs import pool
from core.runs.model import PROFILE_ID
from core.runs.pool import BLOCKING, MARK_LABEL, Member, PoolError

# The toolbox entries for the first tandem meetings, in the order they are used.
FIRST_MEETINGS = ("tandem-steckbrief", "tandem-ziele-vereinbaren", "ablauf-tandem-treffen")
OBJECTIVE_LABEL = {"total": "Beste Gesamtpassung", "balanced": "Ausgewogenste Zuordnung"}


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


async def matrix(run_id: int, *, explain: bool = True) -> Matrix:
    """Every mentor × mentee of the pool with fit, Ampel, blocked cells and (``explain``)
    the per-criterion explanations."""
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
    notes = _pool_notes(members, mentors, mentees, left_out, version, capacities)
    if version is None:
        return Matrix(
            version=None, mentors=[], mentees=[], cells=[], capacities={}, left_out=left_out,
            notes=notes,
        )  # fmt: skip
    d = await _definition(version)
    assert d.matching is not None
    comparer = Comparer(d)
    marked: dict[tuple[str, str], list[str]] = {}
    for mark in await pool.marks(run_id):
        marked.setdefault((mark.mentor, mark.mentee), []).append(mark.kind)
    cells = []
    for mentee in mentees:
        row = []
        for mentor in mentors:
            kinds = marked.get((mentor.pseudonym, mentee.pseudonym), [])
            fit = comparer.fit(mentor.answers, mentee.answers) if explain else None
            because = [x.title + ": " + x.text for x in fit.exclusions] if fit else []
            score = comparer.score(mentor.answers, mentee.answers)
            if score is None and not because:
                because = ["Ausschluss laut Tandem-Profil"]
            because += [
                f"Markierung der Lotsin/des Lotsen: {MARK_LABEL[k]}"
                for k in kinds
                if k in BLOCKING or k == "forbid"
            ]
            blocked = bool(because)
            index = None if blocked else band_index(d.matching.bands, score)
            ampel = d.matching.bands[index].ampel if index is not None else None
            row.append(
                Cell(
                    mentor=mentor.pseudonym,
                    mentee=mentee.pseudonym,
                    score=None if blocked else score,
                    ampel=ampel,
                    ampel_label=AMPEL_LABEL[ampel] if ampel else None,
                    blocked=blocked,
                    blocked_because=because,
                    marks=kinds,
                    criteria=fit.criteria if fit else [],
                )
            )
        cells.append(row)
    if mentors and mentees and all(c.blocked for row in cells for c in row):
        notes.append(
            "Jedes mögliche Tandem ist ausgeschlossen (durch das Tandem-Profil oder Ihre "
            "Markierungen); so lässt sich kein Tandem bilden. Prüfen Sie die Markierungen."
        )
    return Matrix(
        version=version,
        mentors=[m.pseudonym for m in mentors],
        mentees=[m.pseudonym for m in mentees],
        cells=cells,
        capacities=capacities,
        left_out=left_out,
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
    """Compute the assignment (pins and forbidden pairs of the Lotse, exclusions, pair
    markings, capacities, threshold), store it as the run's proposal and say what changed
    against the proposal before."""
    found = await matrix(run_id, explain=False)
    settings = await pool.settings(run_id)
    if found.version is None or not found.mentors or not found.mentees:
        raise MatchingRefused("pool incomplete", " ".join(found.notes))
    if all(c.blocked for row in found.cells for c in row):
        raise MatchingRefused("every pair excluded", found.notes[-1])
    if sum(found.capacities.values()) == 0:
        raise MatchingRefused(
            "no capacity",
            "Keine Mentorin und kein Mentor kann ein Mentee begleiten (Kapazität 0); "
            "erhöhen Sie die Kapazität.",
            field="capacity",
        )
    mentor_at = {p: j for j, p in enumerate(found.mentors)}
    mentee_at = {p: i for i, p in enumerate(found.mentees)}
    pins = set()
    for mark in await pool.marks(run_id):
        if mark.kind == "pin" and mark.mentor in mentor_at and mark.mentee in mentee_at:
            pins.add((mentee_at[mark.mentee], mentor_at[mark.mentor]))
    fits = [[c.score for c in row] for row in found.cells]
    try:
        result: Assignment = assign(
            fits,
            [found.capacities[p] for p in found.mentors],
            threshold=settings.threshold,
            pins=pins,
            objective=objective,
        )
    except MatchingError as exc:
        raise MatchingRefused("cannot be matched", exc.message, exc.field or "pool") from exc
    proposal = Proposal(
        objective=objective,
        version=found.version,
        threshold=settings.threshold,
        pairs=[
            PairDoc(
                mentor=found.mentors[p.mentor],
                mentee=found.mentees[p.mentee],
                fit=p.fit,
                pinned=p.pinned,
            )
            for p in result.pairs
        ],
        total=result.total,
        minimum=result.minimum,
        unmatched_mentees=[found.mentees[i] for i in result.unmatched_mentees],
        unmatched_mentors=[found.mentors[j] for j in result.unmatched_mentors],
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
    pairs = []
    for p in current.agreed.pairs:
        a, b = members.get(("mentor", p.mentor)), members.get(("mentee", p.mentee))
        ok = a is not None and b is not None and a.version == b.version == d.version
        fit = comparer.fit(a.answers, b.answers) if ok and a and b else None
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
                note=None
                if fit
                else "Ein Profil dieses Tandems wurde inzwischen entfernt oder geändert; "
                "die Erklärung fehlt deshalb.",
            )
        )
    return Handout(agreed_at=current.agreed_at, pairs=pairs, entries=entries)
