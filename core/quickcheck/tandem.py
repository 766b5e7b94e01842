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


def fit(d: Questionnaire, mentor: dict[str, Any], mentee: dict[str, Any], lang: str = "de") -> Fit:
    """Compare the mentor's and the mentee's answers by ``d.matching``."""
    assert d.matching is not None
    items = {i.id: i for i in d.items}

    def labels(item_id: str, codes: Any) -> str:
        names = {o.code: text_in(o.label, lang) for o in options_of(d, items[item_id])}
        return ", ".join(names[c] for c in codes if c in names) or "–"

    results: list[CriterionResult] = []
    for c in d.matching.criteria:
        value, words = _criterion(d, c, mentor, mentee, labels)
        if value is None:
            explanation = text_in(NOT_RATED, lang)
        else:
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
        for x in d.matching.exclusions
        if _names_any(mentor.get(x.item), x.codes) or _names_any(mentee.get(x.item), x.codes)
    ]
    return Fit(
        score=score,
        excluded=bool(exclusions),
        band=band_index(d.matching.bands, score),
        criteria=results,
        exclusions=exclusions,
    )


def _names_any(answer: Any, codes: list[str]) -> bool:
    """Whether an answer (one code, or a multiple-choice/ranking list) names one of ``codes``."""
    if isinstance(answer, list):
        return any(code in codes for code in answer)
    return answer in codes


def _criterion(
    d: Questionnaire,
    c: Criterion,
    mentor: dict[str, Any],
    mentee: dict[str, Any],
    labels: Any,
) -> tuple[float | None, dict[str, str]]:
    if c.rule == "overlap":
        mentor_item, mentee_item = c.mentor_item or "", c.mentee_item or ""
        a: Any = mentor.get(mentor_item)
        b: Any = mentee.get(mentee_item)
        if not is_answered(a) or not is_answered(b) or not b:
            return None, {}
        shared = [code for code in b if code in a]
        words = {
            "gemeinsam": labels(mentee_item, shared),
            "mentor": labels(mentor_item, a),
            "mentee": labels(mentee_item, b),
        }
        return len(shared) / len(b), words
    if c.rule == "same":
        item = c.item or ""
        a, b = mentor.get(item), mentee.get(item)
        if not is_answered(a) or not is_answered(b):
            return None, {}
        words = {
            "gemeinsam": labels(item, [a]) if a == b else "",
            "mentor": labels(item, [a]),
            "mentee": labels(item, [b]),
        }
        if a == b:
            return 1.0, words
        compatible = any({a, b} == set(pair) for pair in c.compatible)
        if compatible:
            # What both can do: the narrower choice (the one in fewer compatible pairs).
            breadth = {x: sum(x in pair for pair in c.compatible) for x in (a, b)}
            words["gemeinsam"] = labels(item, [min((a, b), key=lambda x: breadth[x])])
        return (0.5 if compatible else 0.0), words
    # similarity of Likert answers, by position on the scale
    distances = []
    same = 0
    for item_id in c.items:
        x: Any = mentor.get(item_id)
        y: Any = mentee.get(item_id)
        a, b = x, y
        if not is_answered(a) or not is_answered(b):
            continue
        codes = [o.code for o in options_of(d, next(i for i in d.items if i.id == item_id))]
        distances.append(abs(codes.index(a) - codes.index(b)) / (len(codes) - 1))
        same += a == b
    if not distances:
        return None, {}
    words = {"gemeinsam": f"{same} von {len(distances)}", "mentor": "", "mentee": ""}
    return 1 - sum(distances) / len(distances), words
