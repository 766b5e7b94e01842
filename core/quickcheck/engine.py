"""The questionnaire engine: which items are visible, whether answers are valid, the scores.

Pure functions over a definition and an answer mapping; no database, no I/O, so
the same code scores a new response and recomputes a stored one.

Scoring (documented in docs/QUICKCHECK.md):
- a choice item scores (option score - lowest) / (highest - lowest) of its options,
  reversed items 1 - that; a multiple-choice item scores the sum of the chosen
  options' scores between the lowest and highest possible sum; a number item maps
  min..max onto 0..1;
- "keine Angabe", unanswered and hidden items are not counted (never as zero);
- a dimension scores 100 × the weighted mean of its counted items;
- the overall score is the weighted mean of the dimension scores that exist.
"""

from __future__ import annotations

import math
from typing import Any

import msgspec

from core.quickcheck.model import (
    SINGLE_CODE_TYPES,
    UNKNOWN_CODE,
    Band,
    Condition,
    Item,
    Option,
    Questionnaire,
)

# Bump when scoring changes; stored results keep the version that computed them.
ENGINE_VERSION = "1"

# More answers than this in one request is not a real submission.
MAX_ANSWERS = 500


class AnswerProblem(msgspec.Struct, frozen=True):
    item: str
    reason: str


class DimensionScore(msgspec.Struct, frozen=True, kw_only=True):
    """What is stored for a dimension (or, with id None, the overall result)."""

    id: str | None
    score: float | None
    counted: int  # items that entered the score
    asked: int  # scored items that were visible
    unknown: int  # of those answered with "keine Angabe"
    band: int | None  # index into the bands, None without a score


class Scores(msgspec.Struct, frozen=True, kw_only=True):
    dimensions: list[DimensionScore]
    overall: DimensionScore | None


def options_of(definition: Questionnaire, item: Item) -> list[Option]:
    """The item's options, from its scale for Likert items (without "keine Angabe")."""
    if item.type == "likert":
        scale = next(s for s in definition.scales if s.id == item.scale)
        return list(scale.options)
    return list(item.options)


def codes_of(definition: Questionnaire, item: Item) -> list[str]:
    codes = [o.code for o in options_of(definition, item)]
    return [*codes, UNKNOWN_CODE] if item.allow_unknown else codes


class ItemTable(msgspec.Struct, frozen=True):
    """What validating and scoring an item needs of its options, worked out once."""

    codes: frozenset[str]  # the valid codes, "keine Angabe" included where allowed
    allowed: str  # the valid codes as the problems list them
    scores: dict[str, float]  # option code -> its score
    low: float  # the lowest score (multiple choice: the lowest sum) ...
    high: float  # ... and the highest


# Tables by definition (id() of the object, kept alive beside): a stored definition is
# decoded once per worker and hash (core.quickcheck.store), so its tables are made once.
_TABLES: dict[int, tuple[Questionnaire, dict[str, ItemTable]]] = {}
_MAX_TABLES = 64


def item_tables(definition: Questionnaire) -> dict[str, ItemTable]:
    """Item id -> its ``ItemTable`` (items with options or a scale)."""
    found = _TABLES.get(id(definition))
    if found is not None and found[0] is definition:
        return found[1]
    tables = {}
    for item in definition.items:
        codes = codes_of(definition, item)
        scores = {o.code: float(o.score or 0) for o in options_of(definition, item)}
        if item.type == "multiple_choice":
            low = sum(s for s in scores.values() if s < 0)
            high = sum(s for s in scores.values() if s > 0)
        else:
            low, high = min(scores.values(), default=0.0), max(scores.values(), default=0.0)
        tables[item.id] = ItemTable(frozenset(codes), ", ".join(codes), scores, low, high)
    if len(_TABLES) >= _MAX_TABLES:
        _TABLES.clear()
    _TABLES[id(definition)] = (definition, tables)
    return tables


def asked_items(definition: Questionnaire, perspective: str) -> list[Item]:
    """The items of ``perspective``, in order."""
    return [i for i in definition.items if i.perspectives is None or perspective in i.perspectives]


# -- conditions ---------------------------------------------------------------------------


def is_answered(value: Any) -> bool:
    return value is not None and value != UNKNOWN_CODE and value != [UNKNOWN_CODE]


def evaluate(condition: Condition, answers: dict[str, Any]) -> bool:
    """Evaluate a condition tree over the answers given so far. Never executes text."""
    if condition.all is not None:
        return all(evaluate(c, answers) for c in condition.all)
    if condition.any is not None:
        return any(evaluate(c, answers) for c in condition.any)
    if condition.not_ is not None:
        return not evaluate(condition.not_, answers)
    answer = answers.get(condition.item or "")
    op, value = condition.op, condition.value
    if op == "answered":
        return is_answered(answer) is bool(value)
    if op == "eq":
        return answer is not None and answer == value
    if op == "ne":
        return answer is None or answer != value
    if op == "in":
        return answer is not None and answer in value
    if op == "not_in":
        return answer is None or answer not in value
    if op == "contains":
        return isinstance(answer, list) and value in answer
    if not isinstance(answer, int | float) or isinstance(answer, bool):
        return False
    if op == "gt":
        return bool(answer > value)
    if op == "gte":
        return bool(answer >= value)
    if op == "lt":
        return bool(answer < value)
    if op == "lte":
        return bool(answer <= value)
    raise ValueError(f"unknown operator {op!r}")  # the loader rejects these


# -- validation ---------------------------------------------------------------------------


def validate_answers(
    definition: Questionnaire, perspective: str, answers: dict[str, Any]
) -> tuple[dict[str, Any], list[AnswerProblem]]:
    """Check ``answers`` against the definition as seen from ``perspective``.

    Returns the cleaned answers (visible, valid, in item order) and every problem.
    An item's visibility is decided on the earlier answers that were valid.
    """
    problems: list[AnswerProblem] = []
    if len(answers) > MAX_ANSWERS:
        return {}, [AnswerProblem("answers", f"has {len(answers)} answers; at most {MAX_ANSWERS}")]
    asked = asked_items(definition, perspective)
    asked_ids = {i.id for i in asked}
    all_ids = {i.id for i in definition.items}
    for key in answers:
        if key not in all_ids:
            problems.append(AnswerProblem(key, "unknown item"))
        elif key not in asked_ids:
            problems.append(AnswerProblem(key, f"is not asked in the perspective {perspective!r}"))
    clean: dict[str, Any] = {}
    tables = item_tables(definition)
    for item in asked:
        value = answers.get(item.id)
        if isinstance(value, str) and item.type == "text":
            value = value.strip() or None
        shown = item.visible_if is None or evaluate(item.visible_if, clean)
        if not shown:
            if value is not None:
                problems.append(AnswerProblem(item.id, "is hidden by its condition; leave it out"))
            continue
        if value is None:
            if item.required:
                problems.append(AnswerProblem(item.id, "is required"))
            continue
        reason = _check_value(tables[item.id], item, value)
        if reason:
            problems.append(AnswerProblem(item.id, reason))
        else:
            clean[item.id] = value
    return clean, problems


def _check_value(table: ItemTable, item: Item, value: Any) -> str | None:
    """Why ``value`` is not a valid answer to ``item``, or None if it is."""
    t = item.type
    codes, allowed = table.codes, table.allowed
    if t in SINGLE_CODE_TYPES:
        if not isinstance(value, str):
            return f"expected one option code ({allowed}), got {_kind(value)}"
        if value not in codes:
            return f"unknown option code {value!r}; expected one of: {allowed}"
        return None
    if t in {"multiple_choice", "ranking"}:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return f"expected a list of option codes ({allowed}), got {_kind(value)}"
        unknown = [v for v in value if v not in codes or (t == "ranking" and v == UNKNOWN_CODE)]
        if unknown:
            return f"unknown option code(s) {', '.join(map(repr, unknown))}; expected: {allowed}"
        if len(set(value)) != len(value):
            return "names an option more than once"
        if UNKNOWN_CODE in value:
            return None if len(value) == 1 else f"{UNKNOWN_CODE!r} cannot be combined with options"
        low = item.min_choices if item.min_choices is not None else (1 if t == "ranking" else 0)
        high = item.max_choices if item.max_choices is not None else len(item.options)
        if not low <= len(value) <= high:
            return f"choose between {low} and {high} options, got {len(value)}"
        return None
    if t == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"expected a number, got {_kind(value)}"
        if not math.isfinite(value):
            return "expected a finite number"
        if item.min is not None and value < item.min:
            return f"must be at least {item.min:g}"
        if item.max is not None and value > item.max:
            return f"must be at most {item.max:g}"
        return None
    # text
    if not isinstance(value, str):
        return f"expected a text, got {_kind(value)}"
    if len(value) > item.max_length:
        return f"is {len(value)} characters long; at most {item.max_length}"
    return None


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a text"
    if isinstance(value, list):
        return "a list"
    return "an object"


# -- scoring ------------------------------------------------------------------------------


def item_score(definition: Questionnaire, item: Item, value: Any) -> float | None:
    """The item's score in 0..1, or None when it does not count."""
    if item.dimension is None or item.weight == 0 or not is_answered(value):
        return None
    if item.type == "number":
        low, high = item.min, item.max
        if low is None or high is None:
            return None
        raw = (float(value) - low) / (high - low)
    else:
        table = item_tables(definition)[item.id]
        scores, low, high = table.scores, table.low, table.high
        if item.type == "multiple_choice":
            chosen = sum(scores[code] for code in value)
        else:
            chosen = scores[value]
        if high == low:
            return None
        raw = (chosen - low) / (high - low)
    raw = min(1.0, max(0.0, raw))
    return 1.0 - raw if item.reverse else raw


def band_index(bands: list[Band], score: float | None) -> int | None:
    """The band a score falls into: from ≤ score < to, and 100 into the last band."""
    if score is None or not bands:
        return None
    for index, band in enumerate(bands):
        if band.from_ <= score < band.to:
            return index
    return len(bands) - 1 if score >= bands[-1].to else None


def score(definition: Questionnaire, perspective: str, answers: dict[str, Any]) -> Scores:
    """Score validated, cleaned answers (see ``validate_answers``)."""
    visible: dict[str, Item] = {}
    shown_answers: dict[str, Any] = {}
    for item in asked_items(definition, perspective):
        if item.visible_if is None or evaluate(item.visible_if, shown_answers):
            visible[item.id] = item
            if item.id in answers:
                shown_answers[item.id] = answers[item.id]
    dimensions: list[DimensionScore] = []
    weighted: list[tuple[float, float]] = []
    for dim in definition.dimensions:
        total = weight_sum = 0.0
        counted = asked = unknown = 0
        for item in visible.values():
            if item.dimension != dim.id or item.weight == 0:
                continue
            asked += 1
            value = shown_answers.get(item.id)
            s = item_score(definition, item, value)
            if s is None:
                unknown += value is not None and not is_answered(value)
                continue
            counted += 1
            total += s * item.weight
            weight_sum += item.weight
        value_ = round(100 * total / weight_sum, 1) if weight_sum else None
        dimensions.append(
            DimensionScore(
                id=dim.id,
                score=value_,
                counted=counted,
                asked=asked,
                unknown=unknown,
                band=band_index(dim.bands, value_),
            )
        )
        if value_ is not None and dim.weight > 0:
            weighted.append((value_, dim.weight))
    overall = None
    if definition.dimensions:
        total_weight = sum(w for _, w in weighted)
        value_ = round(sum(s * w for s, w in weighted) / total_weight, 1) if total_weight else None
        overall = DimensionScore(
            id=None,
            score=value_,
            counted=sum(d.counted for d in dimensions),
            asked=sum(d.asked for d in dimensions),
            unknown=sum(d.unknown for d in dimensions),
            band=band_index(definition.bands, value_),
        )
    return Scores(dimensions=dimensions, overall=overall)
