"""The tandem fit check: two profiles (mentor, mentee) compared criterion by criterion.

Each criterion of the profile's ``matching`` section scores 0..1 and explains itself
with the texts from the definition; criteria either person left open do not count.
The fit score is 100 × the weighted mean of the criteria that count. An exclusion
(e.g. a direct reporting line) rules the pair out whatever the score.
"""

from __future__ import annotations

from typing import Any

import msgspec

from core.quickcheck.engine import band_index, is_answered, options_of
from core.quickcheck.model import Criterion, Questionnaire, Text, text_in


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

    def labels(self, item_id: str, codes: Any) -> str:
        names = self._labels[item_id]
        return ", ".join(names[c] for c in codes if c in names) or "–"

    def _excluded(self, mentor: dict[str, Any], mentee: dict[str, Any]) -> list[Any]:
        return [
            x
            for x in self.matching.exclusions
            if _names_any(mentor.get(x.item), x.codes) or _names_any(mentee.get(x.item), x.codes)
        ]

    def score(self, mentor: dict[str, Any], mentee: dict[str, Any]) -> float | None:
        """The pair's cell in a pool's fit matrix: ``None`` if the pair is excluded, else
        ``fit(...).score``, with 0 where no criterion could be compared (such a pair is
        never proposed above a threshold, but it is not blocked either)."""
        if self._excluded(mentor, mentee):
            return None
        counted = 0.0
        total = 0.0
        for n, c in enumerate(self.matching.criteria):
            value = self._value(n, c, mentor, mentee)
            if value is not None:
                counted += round(100 * value, 1) * c.weight
                total += c.weight
        return round(counted / total, 1) if total else 0.0

    def fit(self, mentor: dict[str, Any], mentee: dict[str, Any]) -> Fit:
        lang = self.lang
        results: list[CriterionResult] = []
        for n, c in enumerate(self.matching.criteria):
            value = self._value(n, c, mentor, mentee)
            if value is None:
                explanation = text_in(NOT_RATED, lang)
            else:
                words = self._words(n, c, mentor, mentee)
                key = "match" if value >= 0.75 else ("partial" if value > 0 else "none")
                template = getattr(c.texts, key) or c.texts.none
                explanation = _fill(template, lang, **words)
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
        return Fit(
            score=score,
            excluded=bool(exclusions),
            band=band_index(self.matching.bands, score),
            criteria=results,
            exclusions=exclusions,
        )

    def _value(
        self, n: int, c: Criterion, mentor: dict[str, Any], mentee: dict[str, Any]
    ) -> float | None:
        """The criterion's score 0..1, or ``None`` when either person left it open."""
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

    def _words(
        self, n: int, c: Criterion, mentor: dict[str, Any], mentee: dict[str, Any]
    ) -> dict[str, str]:
        """The values the criterion's German sentence names."""
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


def fit(d: Questionnaire, mentor: dict[str, Any], mentee: dict[str, Any], lang: str = "de") -> Fit:
    """Compare the mentor's and the mentee's answers by ``d.matching``."""
    return Comparer(d, lang).fit(mentor, mentee)


def _names_any(answer: Any, codes: list[str]) -> bool:
    """Whether an answer (one code, or a multiple-choice/ranking list) names one of ``codes``."""
    if isinstance(answer, list):
        return any(code in codes for code in answer)
    return answer in codes
