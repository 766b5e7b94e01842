"""The tandem fit check: two profiles (mentor, mentee) compared criterion by criterion.

Each criterion of the profile's ``matching`` section scores 0..1 and explains itself
with the texts from the definition; criteria either person left open do not count.
The fit score is 100 × the weighted mean of the criteria that count. An exclusion
(e.g. a direct reporting line) rules the pair out whatever the score.

In a pool the Lotse marks pairs (``PairMarking``): a direct reporting line or an explicit
"not with" excludes the pair; "same team" scores the criterion that names it (rule
``different`` with ``marking: gleiches-team``). Only profiles of the same questionnaire
version can be compared (``require_comparable`` raises ``ProfileMismatch``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from typing import Annotated, Any

import msgspec

from core.quickcheck.engine import band_index, is_answered, options_of
from core.quickcheck.model import Criterion, MarkingKind, Questionnaire, Text, text_in

# rule windows: this many common slots of the day (and common weekdays) count fully.
ENOUGH = 2

Pseudonym = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]


class PairMarking(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """What the Lotse notes about one mentor–mentee pair of a pool; the two are named by
    the pseudonyms (or keys) the pool gives them, never by name. ``berichtslinie`` (one is
    the other's direct supervisor) and ``nicht-mit`` exclude the pair; ``gleiches-team``
    scores the profile's criterion with ``marking: gleiches-team`` 0."""

    mentor: Pseudonym
    mentee: Pseudonym
    kind: MarkingKind


def marks_by_pair(
    markings: Iterable[PairMarking],
) -> dict[tuple[str, str], frozenset[MarkingKind]]:
    """The markings per (mentor, mentee) pair, as ``Comparer.fit``/``score`` take them."""
    found: dict[tuple[str, str], set[MarkingKind]] = {}
    for m in markings:
        found.setdefault((m.mentor, m.mentee), set()).add(m.kind)
    return {pair: frozenset(kinds) for pair, kinds in found.items()}


# Markings that rule a pair out: (title, text).
MARKING_EXCLUSIONS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "berichtslinie": (
        {"de": "Direkte Vorgesetzten-Beziehung", "en": "Direct reporting line"},
        {
            "de": "Die Lotsin oder der Lotse hat vermerkt, dass eine der beiden Personen "
            "die direkte Vorgesetzte oder der direkte Vorgesetzte der anderen ist. Im Tandem "
            "soll man frei fragen und Unsicherheit zeigen können, ohne dass das die "
            "Zusammenarbeit im Arbeitsalltag oder eine Beurteilung berührt. Dieses Tandem "
            "kommt deshalb nicht in Frage.",
            "en": "The Lotse noted that one of the two is the other's direct supervisor. In "
            "a tandem one should be free to ask and to show uncertainty without it touching "
            "daily work or an appraisal, so this pair is ruled out.",
        },
    ),
    "nicht-mit": (
        {"de": "Von der Lotsin oder dem Lotsen ausgeschlossen", "en": "Ruled out by the Lotse"},
        {
            "de": "Die Lotsin oder der Lotse hat vermerkt, dass diese beiden kein Tandem "
            "bilden sollen. Das Tandem wird deshalb nicht vorgeschlagen.",
            "en": "The Lotse noted that these two should not form a tandem, so the pair is "
            "never proposed.",
        },
    ),
}
# A "same team" marking that no criterion of the version weighs (e.g. version 1).
SAME_TEAM_NOTE = {
    "de": "Die Lotsin oder der Lotse hat vermerkt, dass beide im selben Team arbeiten; diese "
    "Fassung des Tandem-Profils bezieht das nicht in die Passung ein.",
    "en": "The Lotse noted that both work in the same team; this version of the tandem "
    "profile does not weigh that in the fit.",
}
ALL_DAYS = {"de": "an allen Werktagen", "en": "on all working days"}
NOT_ON = {"de": ", nicht {tage}", "en": ", not {tage}"}


class ProfileMismatch(ValueError):
    """Two profiles of different questionnaires or versions: they cannot be compared.
    ``message`` is German and says which versions met."""

    def __init__(self, mentor: tuple[str, int], mentee: tuple[str, int]) -> None:
        self.mentor = mentor
        self.mentee = mentee
        if mentor[0] != mentee[0]:
            message = (
                "Die beiden Ergebnisse stammen aus verschiedenen Fragebögen; verglichen "
                "werden nur zwei Profile desselben Tandem-Profils."
            )
        else:
            message = (
                f"Die beiden Profile stammen aus verschiedenen Fassungen des Tandem-Profils "
                f"(Mentorin/Mentor: Fassung {mentor[1]}, Mentee: Fassung {mentee[1]}). "
                "Profile verschiedener Fassungen lassen sich nicht vergleichen, weil die "
                "Fragen sich unterscheiden. Bitte lassen Sie die Person mit der älteren "
                f"Fassung das Tandem-Profil in Fassung {max(mentor[1], mentee[1])} neu "
                "ausfüllen."
            )
        super().__init__(message)
        self.message = message


def require_comparable(mentor: tuple[str, int], mentee: tuple[str, int]) -> None:
    """Raise ``ProfileMismatch`` unless both (questionnaire id, version) are the same."""
    if mentor != mentee:
        raise ProfileMismatch(mentor, mentee)


class CriterionResult(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    weight: float
    score: float | None  # 0..100; None when not both answered
    explanation: str


class ExclusionResult(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    title: str
    text: str


class Fit(msgspec.Struct, frozen=True, kw_only=True):
    score: float | None
    excluded: bool
    band: int | None
    criteria: list[CriterionResult]
    exclusions: list[ExclusionResult]
    # Sentences about the pair that are neither a criterion nor an exclusion.
    notes: list[str] = []


NOT_RATED = {
    "de": "Nicht bewertbar: mindestens eine Person hat diese Frage nicht beantwortet.",
    "en": "Not rated: at least one person did not answer this question.",
}


def _fill(text: Text, lang: str, **values: str) -> str:
    out = text_in(text, lang)
    for name, value in values.items():
        out = out.replace("{" + name + "}", value)
    return out


class Comparer:
    """The matching section of one profile definition, prepared once: option labels and
    scale positions looked up by dictionary, so a pool's fit matrix (every mentor × every
    mentee) costs a few microseconds per pair. ``fit`` explains a pair in words;
    ``score`` gives only the number and whether the pair is excluded."""

    def __init__(self, d: Questionnaire, lang: str = "de") -> None:
        assert d.matching is not None
        self.d = d
        self.lang = lang
        self.matching = d.matching
        items = {i.id: i for i in d.items}
        self._labels = {
            item_id: {o.code: text_in(o.label, lang) for o in options_of(d, item)}
            for item_id, item in items.items()
        }
        self._positions: dict[str, tuple[dict[str, int], int]] = {}
        for item in items.values():
            codes = [o.code for o in options_of(d, item)]
            if len(codes) > 1:
                self._positions[item.id] = ({c: n for n, c in enumerate(codes)}, len(codes) - 1)
        self._compatible = [
            {frozenset(pair) for pair in c.compatible} for c in self.matching.criteria
        ]
        self._slots = [
            {o.code: text_in(o.label, lang) for o in c.slots} for c in self.matching.criteria
        ]
        self._weighed = {c.marking for c in self.matching.criteria if c.marking}
        # rule windows, for the fast path: each code's slots as a set, the number of days.
        self._window_sets = [
            {code: frozenset(slots) for code, slots in c.windows.items()}
            for c in self.matching.criteria
        ]
        self._day_count = [
            len(self._labels[c.days_item]) if c.days_item else 0 for c in self.matching.criteria
        ]

    def require(self, questionnaire_id: str, version: int) -> None:
        """Raise ``ProfileMismatch`` unless a profile of this id and version can be compared
        by this comparer (a pool mixes no versions)."""
        require_comparable((self.d.id, self.d.version), (questionnaire_id, version))

    def matrix(
        self,
        mentors: Sequence[tuple[str, dict[str, Any]]],
        mentees: Sequence[tuple[str, dict[str, Any]]],
        markings: Iterable[PairMarking] = (),
    ) -> list[list[float | None]]:
        """The pool's fit matrix for ``core.quickcheck.matching.assign``: one row per mentee,
        one column per mentor (each given as (pseudonym, answers)); ``None`` where the pair
        is excluded, by the profiles or by the Lotse's markings."""
        marks = marks_by_pair(markings)
        none: frozenset[MarkingKind] = frozenset()
        return [[self.score(a, b, marks.get((m, e), none)) for m, a in mentors] for e, b in mentees]

    def labels(self, item_id: str, codes: Any) -> str:
        names = self._labels[item_id]
        return ", ".join(names[c] for c in codes if c in names) or "–"

    def _excluded(self, mentor: dict[str, Any], mentee: dict[str, Any]) -> list[Any]:
        return [
            x
            for x in self.matching.exclusions
            if _names_any(mentor.get(x.item), x.codes) or _names_any(mentee.get(x.item), x.codes)
        ]

    def score(
        self,
        mentor: dict[str, Any],
        mentee: dict[str, Any],
        marks: Collection[MarkingKind] = (),
    ) -> float | None:
        """The pair's cell in a pool's fit matrix: ``None`` if the pair is excluded (by the
        profiles or a marking in ``marks``), else ``fit(...).score``, with 0 where no
        criterion could be compared (such a pair is never proposed above a threshold, but
        it is not blocked either)."""
        if any(m in MARKING_EXCLUSIONS for m in marks) or self._excluded(mentor, mentee):
            return None
        counted = 0.0
        total = 0.0
        for n, c in enumerate(self.matching.criteria):
            value = self._value(n, c, mentor, mentee, marks)
            if value is not None:
                counted += round(100 * value, 1) * c.weight
                total += c.weight
        return round(counted / total, 1) if total else 0.0

    def fit(
        self,
        mentor: dict[str, Any],
        mentee: dict[str, Any],
        marks: Collection[MarkingKind] = (),
    ) -> Fit:
        """The pair explained criterion by criterion; ``marks`` are the Lotse's markings of
        this pair (``PairMarking.kind``)."""
        lang = self.lang
        results: list[CriterionResult] = []
        for n, c in enumerate(self.matching.criteria):
            value = self._value(n, c, mentor, mentee, marks)
            if value is None:
                explanation = text_in(NOT_RATED, lang)
            else:
                words = self._words(n, c, mentor, mentee)
                key = "match" if value >= 0.75 else ("partial" if value > 0 else "none")
                template = getattr(c.texts, key) or c.texts.none
                explanation = " ".join(
                    [_fill(template, lang, **words), *self._notes(c, mentor, mentee)]
                )
            results.append(
                CriterionResult(
                    id=c.id,
                    title=text_in(c.title, lang),
                    weight=c.weight,
                    score=None if value is None else round(100 * value, 1),
                    explanation=explanation,
                )
            )
        counted = [(r.score, r.weight) for r in results if r.score is not None]
        total = sum(w for _, w in counted)
        score = round(sum(s * w for s, w in counted) / total, 1) if total else None
        exclusions = [
            ExclusionResult(id=x.id, title=text_in(x.title, lang), text=text_in(x.text, lang))
            for x in self._excluded(mentor, mentee)
        ]
        exclusions += [
            ExclusionResult(
                id=f"markierung-{kind}",
                title=text_in(MARKING_EXCLUSIONS[kind][0], lang),
                text=text_in(MARKING_EXCLUSIONS[kind][1], lang),
            )
            for kind in sorted(set(marks))
            if kind in MARKING_EXCLUSIONS
        ]
        notes = []
        if "gleiches-team" in marks and "gleiches-team" not in self._weighed:
            notes.append(text_in(SAME_TEAM_NOTE, lang))
        return Fit(
            score=score,
            excluded=bool(exclusions),
            band=band_index(self.matching.bands, score),
            criteria=results,
            exclusions=exclusions,
            notes=notes,
        )

    def _notes(self, c: Criterion, mentor: dict[str, Any], mentee: dict[str, Any]) -> list[str]:
        """The sentences a rated criterion adds: rotating shifts, the definition's notes."""
        found: list[str] = []
        if c.texts.rotating is not None and _rotates(c, mentor, mentee):
            found.append(text_in(c.texts.rotating, self.lang))
        for note in c.notes:
            if _names_any(mentor.get(note.item), note.codes) or _names_any(
                mentee.get(note.item), note.codes
            ):
                found.append(text_in(note.text, self.lang))
        return found

    def _value(
        self,
        n: int,
        c: Criterion,
        mentor: dict[str, Any],
        mentee: dict[str, Any],
        marks: Collection[MarkingKind] = (),
    ) -> float | None:
        """The criterion's score 0..1, or ``None`` when either person left it open."""
        if c.rule == "reverse_overlap":
            wanted: Any = mentor.get(c.mentor_item or "")
            offered: Any = mentee.get(c.mentee_item or "")
            if not is_answered(wanted) or not is_answered(offered) or not wanted:
                return None
            given = set(offered)
            return sum(1 for code in wanted if code in given) / len(wanted)
        if c.rule == "windows":
            return self._windows(n, c, mentor, mentee)
        if c.rule == "different":
            if c.marking is not None and c.marking in marks:
                return 0.0
            mine, theirs = mentor.get(c.item or ""), mentee.get(c.item or "")
            if not is_answered(mine) or not is_answered(theirs):
                return None
            return 1.0 if mine != theirs else 0.5
        if c.rule == "overlap":
            a: Any = mentor.get(c.mentor_item or "")
            b: Any = mentee.get(c.mentee_item or "")
            if not is_answered(a) or not is_answered(b) or not b:
                return None
            mine = set(a)
            return sum(1 for code in b if code in mine) / len(b)
        if c.rule == "same":
            a, b = mentor.get(c.item or ""), mentee.get(c.item or "")
            if not is_answered(a) or not is_answered(b):
                return None
            if a == b:
                return 1.0
            return 0.5 if frozenset((a, b)) in self._compatible[n] else 0.0
        # similarity of Likert answers, by position on the scale
        distances = []
        for item_id in c.items:
            x: Any = mentor.get(item_id)
            y: Any = mentee.get(item_id)
            if not is_answered(x) or not is_answered(y):
                continue
            positions, steps = self._positions[item_id]
            distances.append(abs(positions[x] - positions[y]) / steps)
        if not distances:
            return None
        return 1 - sum(distances) / len(distances)

    def _days(self, c: Criterion, answers: dict[str, Any]) -> tuple[list[str], list[str]]:
        """(the weekdays the person is in the company, the weekdays she is away)."""
        if c.days_item is None:
            return [], []
        away = set(_away(answers.get(c.days_item)))
        days = list(self._labels[c.days_item])
        return [d for d in days if d not in away], [d for d in days if d in away]

    def _common_time(
        self, n: int, c: Criterion, mentor: dict[str, Any], mentee: dict[str, Any]
    ) -> tuple[list[str], list[str]] | None:
        """(the slots of the day both are in the company, the weekdays both are there), or
        ``None`` when either left the working time open."""
        a: Any = mentor.get(c.item or "")
        b: Any = mentee.get(c.item or "")
        if not is_answered(a) or not is_answered(b) or a not in c.windows or b not in c.windows:
            return None
        theirs = set(c.windows[b])
        slots = [s for s in c.windows[a] if s in theirs]
        slots.sort(key=list(self._slots[n]).index)
        present_a, _ = self._days(c, mentor)
        present_b, _ = self._days(c, mentee)
        days = [d for d in present_a if d in present_b]
        return slots, days

    def _windows(
        self, n: int, c: Criterion, mentor: dict[str, Any], mentee: dict[str, Any]
    ) -> float | None:
        """Counts only (this runs for every pair of a pool); ``_common_time`` names them."""
        a: Any = mentor.get(c.item or "")
        b: Any = mentee.get(c.item or "")
        sets = self._window_sets[n]
        if a not in sets or b not in sets:  # unanswered or "keine Angabe"
            return None
        value = min(1.0, len(sets[a] & sets[b]) / ENOUGH)
        if c.days_item is not None:
            away = set(_away(mentor.get(c.days_item))) | set(_away(mentee.get(c.days_item)))
            value *= min(1.0, (self._day_count[n] - len(away)) / ENOUGH)
        if a in c.rotating or b in c.rotating:
            value *= 0.5
        return value

    def _words(
        self, n: int, c: Criterion, mentor: dict[str, Any], mentee: dict[str, Any]
    ) -> dict[str, str]:
        """The values the criterion's German sentence names."""
        if c.rule == "reverse_overlap":
            mentor_item, mentee_item = c.mentor_item or "", c.mentee_item or ""
            wanted: Any = mentor[mentor_item]
            offered: Any = mentee[mentee_item]
            return {
                "gemeinsam": self.labels(mentor_item, [x for x in wanted if x in offered]),
                "mentor": self.labels(mentor_item, wanted),
                "mentee": self.labels(mentee_item, offered),
            }
        if c.rule == "windows":
            slots, days = self._common_time(n, c, mentor, mentee) or ([], [])
            names = self._slots[n]
            item = c.item or ""
            words = {
                "gemeinsam": ", ".join(names[s] for s in slots) or "–",
                "tage": text_in(ALL_DAYS, self.lang),
                "mentor": self.labels(item, [mentor.get(item)]),
                "mentee": self.labels(item, [mentee.get(item)]),
                "mentor_tage": "",
                "mentee_tage": "",
            }
            if c.days_item is not None:
                all_days = list(self._labels[c.days_item])
                if len(days) < len(all_days):
                    words["tage"] = self.labels(c.days_item, days)
                for role, answers in (("mentor", mentor), ("mentee", mentee)):
                    _, away = self._days(c, answers)
                    if away:
                        words[f"{role}_tage"] = _fill(
                            NOT_ON, self.lang, tage=self.labels(c.days_item, away)
                        )
            return words
        if c.rule == "different":
            item = c.item or ""
            mine, theirs = mentor.get(item), mentee.get(item)
            return {
                "gemeinsam": self.labels(item, [mine]) if mine == theirs else "",
                "mentor": self.labels(item, [mine]),
                "mentee": self.labels(item, [theirs]),
            }
        if c.rule == "overlap":
            mentor_item, mentee_item = c.mentor_item or "", c.mentee_item or ""
            a: Any = mentor[mentor_item]
            b: Any = mentee[mentee_item]
            return {
                "gemeinsam": self.labels(mentee_item, [code for code in b if code in a]),
                "mentor": self.labels(mentor_item, a),
                "mentee": self.labels(mentee_item, b),
            }
        if c.rule == "same":
            item = c.item or ""
            a, b = mentor[item], mentee[item]
            words = {
                "gemeinsam": self.labels(item, [a]) if a == b else "",
                "mentor": self.labels(item, [a]),
                "mentee": self.labels(item, [b]),
            }
            if a != b and frozenset((a, b)) in self._compatible[n]:
                # What both can do: the narrower choice (the one in fewer compatible pairs).
                breadth = {x: sum(x in pair for pair in c.compatible) for x in (a, b)}
                words["gemeinsam"] = self.labels(item, [min((a, b), key=lambda x: breadth[x])])
            return words
        same = sum(
            1
            for item_id in c.items
            if is_answered(mentor.get(item_id))
            and is_answered(mentee.get(item_id))
            and mentor.get(item_id) == mentee.get(item_id)
        )
        compared = sum(
            1
            for item_id in c.items
            if is_answered(mentor.get(item_id)) and is_answered(mentee.get(item_id))
        )
        return {"gemeinsam": f"{same} von {compared}", "mentor": "", "mentee": ""}


def fit(
    d: Questionnaire,
    mentor: dict[str, Any],
    mentee: dict[str, Any],
    lang: str = "de",
    marks: Collection[MarkingKind] = (),
) -> Fit:
    """Compare the mentor's and the mentee's answers by ``d.matching``."""
    return Comparer(d, lang).fit(mentor, mentee, marks)


def _names_any(answer: Any, codes: list[str]) -> bool:
    """Whether an answer (one code, or a multiple-choice/ranking list) names one of ``codes``."""
    if isinstance(answer, list):
        return any(code in codes for code in answer)
    return answer in codes


def _rotates(c: Criterion, mentor: dict[str, Any], mentee: dict[str, Any]) -> bool:
    """Rule windows: whether either person works in a rotating pattern (``c.rotating``)."""
    item = c.item or ""
    return c.rule == "windows" and (
        mentor.get(item) in c.rotating or mentee.get(item) in c.rotating
    )


def _away(answer: Any) -> list[str]:
    """Rule windows: the days a person is away (none when the question was hidden/open)."""
    return answer if isinstance(answer, list) and is_answered(answer) else []
