"""The company view of one run: what management and employees answered, side by side.

Privacy (docs/RUNS.md): employees' answers count only in whole blocks of ``k`` (the
setting MENTORING40_RUN_MIN_GROUP), oldest first. With fewer than ``k`` employee answers
nothing of theirs is shown; with 4 and k = 3 the first 3 are shown and the fourth waits
for two more. So two views of the same run, taken at any two times, differ by whole
blocks of at least ``k`` answers, and no single answer can be recovered by comparing
them. The same holds for the feedback (mentors and mentees together). Management
answers speak for the company and are shown as they are.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

import msgspec

from core.quickcheck.engine import Scores, band_index, options_of
from core.quickcheck.model import (
    AMPEL_LABEL,
    UNKNOWN_CODE,
    UNKNOWN_LABEL,
    Questionnaire,
    text_in,
)
from core.quickcheck.stats import RankingStats, _ranking, suppress_partition
from core.runs.model import (
    BARRIER_ITEM,
    EMPLOYEES,
    MANAGEMENT,
    PERSPECTIVE_LABEL,
)
from core.runs.service import GroupRow

QUICKCHECK_PERSPECTIVES = (MANAGEMENT, EMPLOYEES)
# Points apart (0–100) from which the two views differ noticeably / strongly; a choice
# of this tool to start the conversation, not a statistical test.
GAP_NOTICEABLE = 10.0
GAP_STRONG = 20.0
AMPEL_WEIGHT = {"rot": 3, "gelb": 2, "gruen": 1}


def evaluated(rows: list[GroupRow], perspective: str, k: int) -> list[GroupRow]:
    """The rows of a group that may be shown: management all, everybody else the
    oldest whole blocks of ``k`` (none below ``k``)."""
    if perspective == MANAGEMENT:
        return rows
    return rows[: (len(rows) // k) * k]


class GroupState(msgspec.Struct, frozen=True, kw_only=True):
    perspective: str
    label: str
    shown: int  # answers that enter the figures
    waiting: bool  # answers that arrived but wait for a full block (never how many)
    withheld: bool  # nothing of this group is shown yet


class Score(msgspec.Struct, frozen=True, kw_only=True):
    score: float | None
    ampel: str | None
    ampel_label: str | None


class DimensionRow(msgspec.Struct, frozen=True, kw_only=True):
    id: str | None  # None: the overall result
    title: str
    scores: dict[str, Score]  # perspective -> its group's mean
    gap: float | None  # management minus employees
    gap_level: str | None  # "gering", "spuerbar", "deutlich"
    gap_sentence: str | None


class OptionCount(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    label: str
    count: int | None  # None: withheld (a cell of 1..k-1, or the next smallest)


class ItemDistribution(msgspec.Struct, frozen=True, kw_only=True):
    item: str
    text: str
    perspective: str
    options: list[OptionCount]
    not_answered: int | None


class RankedEntry(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    points: int  # rot 3, gelb 2, grün 1, summed over every dimension and perspective
    reasons: list[str]


class PhaseView(msgspec.Struct, frozen=True, kw_only=True):
    phase: str
    groups: list[GroupState]
    dimensions: list[DimensionRow]
    items: list[ItemDistribution]
    recommendations: list[RankedEntry]


class ProgressRow(msgspec.Struct, frozen=True, kw_only=True):
    id: str | None
    title: str
    perspective: str
    start: float | None
    end: float | None
    change: float | None


class FeedbackView(msgspec.Struct, frozen=True, kw_only=True):
    shown: int
    waiting: bool
    withheld: bool
    dimensions: list[DimensionRow]  # scores under the key "feedback"
    barriers: RankingStats | None


class CompanyView(msgspec.Struct, frozen=True, kw_only=True):
    min_group: int
    start: PhaseView
    end: PhaseView | None
    progress: list[ProgressRow]
    feedback: FeedbackView | None


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def group_means(d: Questionnaire, rows: list[GroupRow]) -> dict[str | None, float | None]:
    """Dimension id (None: overall) -> the group's mean score (None without any)."""
    values: dict[str | None, list[float]] = {dim.id: [] for dim in d.dimensions}
    values[None] = []
    for r in rows:
        s = msgspec.convert(r.result, Scores)
        for part in s.dimensions:
            if part.score is not None and part.id in values:
                values[part.id].append(part.score)
        if s.overall is not None and s.overall.score is not None:
            values[None].append(s.overall.score)
    return {key: _mean(found) for key, found in values.items()}


def _score(d: Questionnaire, dim_id: str | None, value: float | None) -> Score:
    bands = d.bands if dim_id is None else next(x.bands for x in d.dimensions if x.id == dim_id)
    index = band_index(bands, value)
    ampel = bands[index].ampel if index is not None else None
    return Score(score=value, ampel=ampel, ampel_label=AMPEL_LABEL[ampel] if ampel else None)


def gap_sentence(title: str, gap: float) -> tuple[str, str]:
    """The gap's level and a sentence a Lotse can read out (management minus employees)."""
    points = abs(round(gap))
    if abs(gap) < GAP_NOTICEABLE:
        return "gering", (
            f"Bei „{title}“ sehen Geschäftsführung und Beschäftigte den Betrieb ähnlich "
            f"({points} Punkte Unterschied)."
        )
    higher, lower = ("die Geschäftsführung", "die Beschäftigten")
    if gap < 0:
        higher, lower = lower, higher
    level = "deutlich" if abs(gap) >= GAP_STRONG else "spuerbar"
    strength = "deutlich" if level == "deutlich" else "spürbar"
    return level, (
        f"Bei „{title}“ schätzt {higher} die Lage {strength} besser ein als {lower} "
        f"({points} Punkte von 100). Sprechen Sie den Unterschied an: oft sieht die eine "
        "Seite Hindernisse, die die andere im Alltag nicht bemerkt."
    )


def _dimension_rows(
    d: Questionnaire, means: dict[str, dict[str | None, float | None]], lang: str
) -> list[DimensionRow]:
    parts: list[tuple[str | None, str]] = [(x.id, text_in(x.title, lang)) for x in d.dimensions]
    parts.append((None, "Gesamtergebnis"))
    rows = []
    for dim_id, title in parts:
        scores = {p: _score(d, dim_id, m.get(dim_id)) for p, m in means.items()}
        a = means.get(MANAGEMENT, {}).get(dim_id)
        b = means.get(EMPLOYEES, {}).get(dim_id)
        gap = round(a - b, 1) if a is not None and b is not None else None
        level, sentence = gap_sentence(title, gap) if gap is not None else (None, None)
        rows.append(
            DimensionRow(
                id=dim_id,
                title=title,
                scores=scores,
                gap=gap,
                gap_level=level,
                gap_sentence=sentence,
            )
        )
    return rows


def _distributions(
    d: Questionnaire, perspective: str, rows: list[GroupRow], k: int, lang: str
) -> list[ItemDistribution]:
    """Per choice item, how the (evaluated) group answered; only for groups of at least
    k, with small cells withheld as in the programme statistics."""
    if len(rows) < k:
        return []
    out = []
    for item in d.items:
        if item.type not in {"likert", "single_choice", "yes_no"}:
            continue
        if item.perspectives is not None and perspective not in item.perspectives:
            continue
        options = [(o.code, text_in(o.label, lang)) for o in options_of(d, item)]
        if item.allow_unknown:
            options.append((UNKNOWN_CODE, text_in(UNKNOWN_LABEL, lang)))
        tally = Counter(r.answers.get(item.id) for r in rows)
        counts = [tally[code] for code, _ in options]
        missing = len(rows) - sum(counts)
        shown = suppress_partition([*counts, missing], k)
        out.append(
            ItemDistribution(
                item=item.id,
                text=text_in(item.text, lang),
                perspective=perspective,
                options=[
                    OptionCount(code=code, label=label, count=shown[i])
                    for i, (code, label) in enumerate(options)
                ],
                not_answered=shown[-1],
            )
        )
    return out


def _recommendations(d: Questionnaire, rows: list[DimensionRow]) -> list[RankedEntry]:
    """Entries recommended by the bands of every shown score, merged: an entry scores
    3 per red, 2 per yellow, 1 per green band that recommends it."""
    points: Counter[str] = Counter()
    reasons: dict[str, list[str]] = {}
    order: dict[str, int] = {}
    for row in rows:
        bands = d.bands if row.id is None else next(x.bands for x in d.dimensions if x.id == row.id)
        for perspective, s in row.scores.items():
            index = band_index(bands, s.score)
            if index is None:
                continue
            band = bands[index]
            for slug in band.recommendations:
                points[slug] += AMPEL_WEIGHT.get(band.ampel, 1)
                order.setdefault(slug, len(order))
                reasons.setdefault(slug, []).append(
                    f"{row.title}: {PERSPECTIVE_LABEL[perspective]} {AMPEL_LABEL[band.ampel]}"
                )
    ranked = sorted(points, key=lambda slug: (-points[slug], order[slug]))
    return [RankedEntry(slug=s, points=points[s], reasons=reasons[s]) for s in ranked]


def _by(rows: list[GroupRow], phase: str, perspective: str) -> list[GroupRow]:
    return [r for r in rows if r.phase == phase and r.perspective == perspective]


def phase_view(d: Questionnaire, rows: list[GroupRow], phase: str, k: int, lang: str) -> PhaseView:
    groups, means, items = [], {}, []
    for p in QUICKCHECK_PERSPECTIVES:
        arrived = _by(rows, phase, p)
        shown = evaluated(arrived, p, k)
        groups.append(
            GroupState(
                perspective=p,
                label=PERSPECTIVE_LABEL[p],
                shown=len(shown),
                waiting=len(arrived) > len(shown),
                withheld=not shown,
            )
        )
        if shown:
            means[p] = group_means(d, shown)
            items.extend(_distributions(d, p, shown, k, lang))
    dims = _dimension_rows(d, means, lang) if means else []
    return PhaseView(
        phase=phase,
        groups=groups,
        dimensions=dims,
        items=items,
        recommendations=_recommendations(d, dims),
    )


def _progress(start: PhaseView, end: PhaseView) -> list[ProgressRow]:
    out = []
    ends = {row.id: row for row in end.dimensions}
    for row in start.dimensions:
        for p in QUICKCHECK_PERSPECTIVES:
            a = row.scores.get(p)
            other = ends.get(row.id)
            b = other.scores.get(p) if other else None
            if a is None and b is None:
                continue
            sa = a.score if a else None
            sb = b.score if b else None
            out.append(
                ProgressRow(
                    id=row.id,
                    title=row.title,
                    perspective=p,
                    start=sa,
                    end=sb,
                    change=round(sb - sa, 1) if sa is not None and sb is not None else None,
                )
            )
    return out


def feedback_view(fd: Questionnaire, rows: list[GroupRow], k: int, lang: str) -> FeedbackView:
    """Mentors and mentees together, in whole blocks of k (two mentors out of a handful
    of tandems would be recognisable on their own)."""
    arrived = [r for r in rows if r.phase == "feedback"]
    shown = arrived[: (len(arrived) // k) * k]
    dims = _dimension_rows(fd, {"feedback": group_means(fd, shown)}, lang) if shown else []
    barriers = None
    item = next((i for i in fd.items if i.id == BARRIER_ITEM), None)
    given = [r.answers[BARRIER_ITEM] for r in shown if r.answers.get(BARRIER_ITEM)]
    if item is not None and shown:
        options = [(o.code, text_in(o.label, lang)) for o in options_of(fd, item)]
        barriers = _ranking(item.id, text_in(item.text, lang), options, given, k)
    return FeedbackView(
        shown=len(shown),
        waiting=len(arrived) > len(shown),
        withheld=not shown,
        dimensions=dims,
        barriers=barriers,
    )


def company_view(
    d: Questionnaire, fd: Questionnaire | None, rows: list[GroupRow], k: int, lang: str = "de"
) -> CompanyView:
    """The whole company view of one run's ``rows`` (oldest first)."""
    start = phase_view(d, rows, "start", k, lang)
    has_end = any(r.phase == "ende" for r in rows)
    end = phase_view(d, rows, "ende", k, lang) if has_end else None
    has_feedback = fd is not None and any(r.phase == "feedback" for r in rows)
    return CompanyView(
        min_group=k,
        start=start,
        end=end,
        progress=_progress(start, end) if end else [],
        feedback=feedback_view(fd, rows, k, lang) if fd is not None and has_feedback else None,
    )


def as_builtins(view: Any) -> Any:
    return msgspec.to_builtins(view)
