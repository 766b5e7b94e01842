"""Anonymous aggregates of real responses, with small groups withheld.

Rules (``min_group`` is k, default 5; docs/QUICKCHECK.md says the same):
- a view (a version, optionally one perspective) with fewer than k responses is withheld;
- a one-perspective view is withheld when another perspective has 1..k-1 responses,
  because that group would follow from the overall view minus this one;
- within a view, counts form partitions (the options of an item plus "not answered",
  the Ampel colours of a dimension plus "no score"): a cell of 1..k-1 is withheld, and
  when only one cell of a partition is withheld the next smallest is withheld too, so
  it cannot be recovered by subtraction; a multiple-choice or ranking option is shown
  only when both "chose it" and "did not" are 0 or at least k;
- means need at least k values; the perspective gap needs both groups at least k.
Test runs (mode "test") never enter the statistics.
"""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

import msgspec

from core.quickcheck.engine import (
    Scores,
    asked_items,
    options_of,
)
from core.quickcheck.model import UNKNOWN_CODE, UNKNOWN_LABEL, Questionnaire, text_in

RANKING_METHOD = (
    "Borda count: in a ranking of m options the first place gets m-1 points, the second "
    "m-2 and so on; options a person did not rank get 0. Options are ordered by points."
)


class Cell(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    label: str
    count: int | None  # None: withheld


class AmpelCounts(msgspec.Struct, frozen=True, kw_only=True):
    rot: int | None
    gelb: int | None
    gruen: int | None
    ohne_wert: int | None


class DimensionStats(msgspec.Struct, frozen=True, kw_only=True):
    id: str | None
    title: str
    responses: int | None  # responses with a score in this dimension
    mean: float | None
    ampel: AmpelCounts


class NumberStats(msgspec.Struct, frozen=True, kw_only=True):
    mean: float
    median: float


class ItemStats(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    id: str
    type: str
    text: str
    answered: int | None
    options: list[Cell] = []
    number: NumberStats | None = None


class RankedOption(msgspec.Struct, frozen=True, kw_only=True):
    position: int
    code: str
    label: str
    points: int
    times_ranked: int | None
    mean_rank: float | None


class RankingStats(msgspec.Struct, frozen=True, kw_only=True):
    item: str
    text: str
    method: str
    answered: int
    options: list[RankedOption]


class GapStats(msgspec.Struct, frozen=True, kw_only=True):
    dimension: str | None
    title: str
    means: dict[str, float | None]
    gap: float | None  # first perspective's mean minus the second's


class StatsDoc(msgspec.Struct, frozen=True, kw_only=True):
    questionnaire: str
    version: int
    perspective: str | None
    min_group_size: int
    responses: int | None
    withheld: bool
    withheld_reason: str | None
    dimensions: list[DimensionStats]
    overall: DimensionStats | None
    items: list[ItemStats]
    rankings: list[RankingStats]
    perspective_gap: list[GapStats]
    ranking_method: str = RANKING_METHOD


def small(count: int, k: int) -> bool:
    return 0 < count < k


def suppress_partition(counts: list[int], k: int) -> list[int | None]:
    """Withhold small cells; if exactly one is withheld, withhold the next smallest too."""
    shown: list[int | None] = [None if small(c, k) else c for c in counts]
    hidden = [i for i, c in enumerate(shown) if c is None]
    if len(hidden) == 1:
        others = [(c, i) for i, c in enumerate(counts) if i not in hidden and c > 0]
        if others:
            shown[min(others)[1]] = None
    return shown


def compute_stats(
    d: Questionnaire,
    rows: list[dict[str, Any]],
    perspective: str | None,
    k: int,
    lang: str = "de",
) -> StatsDoc:
    """Aggregates of ``rows`` (real responses of version ``d.version``, all perspectives)."""
    per_perspective = Counter(r["perspective"] for r in rows)
    group = [r for r in rows if perspective is None or r["perspective"] == perspective]
    n = len(group)

    def withheld(reason: str) -> StatsDoc:
        return StatsDoc(
            questionnaire=d.id,
            version=d.version,
            perspective=perspective,
            min_group_size=k,
            responses=None if n else 0,
            withheld=True,
            withheld_reason=reason,
            dimensions=[],
            overall=None,
            items=[],
            rankings=[],
            perspective_gap=[],
        )

    if n < k:
        return withheld(
            f"fewer than {k} responses in this group; results of small groups are withheld"
        )
    if perspective is not None:
        derivable = [p for p, c in per_perspective.items() if p != perspective and small(c, k)]
        if derivable:
            return withheld(
                f"another perspective has fewer than {k} responses; it could be derived by "
                "subtracting this group from the overall statistics"
            )

    scores = [msgspec.convert(r["result"], Scores) for r in group]
    dimensions = [
        _dimension_stats(
            dim.id,
            text_in(dim.title, lang),
            [s.dimensions[i].score for s in scores],
            [s.dimensions[i].band for s in scores],
            [b.ampel for b in dim.bands],
            k,
        )
        for i, dim in enumerate(d.dimensions)
    ]
    overall = None
    if d.dimensions:
        overall = _dimension_stats(
            None,
            "Gesamtergebnis",
            [s.overall.score if s.overall else None for s in scores],
            [s.overall.band if s.overall else None for s in scores],
            [b.ampel for b in d.bands],
            k,
        )
    items: list[ItemStats] = []
    rankings: list[RankingStats] = []
    asked = (
        d.items if perspective is None else [i for i in d.items if i in asked_items(d, perspective)]
    )
    for item in asked:
        answers = [r["answers"].get(item.id) for r in group]
        given = [a for a in answers if a is not None]
        answered_cells = suppress_partition([len(given), n - len(given)], k)
        text = text_in(item.text, lang)
        if item.type in {"single_choice", "likert", "yes_no"}:
            options = [(o.code, text_in(o.label, lang)) for o in options_of(d, item)]
            if item.allow_unknown:
                options.append((UNKNOWN_CODE, text_in(UNKNOWN_LABEL, lang)))
            tally = Counter(given)
            counts = [tally[code] for code, _ in options]
            shown = suppress_partition([*counts, n - len(given)], k)
            items.append(
                ItemStats(
                    id=item.id,
                    type=item.type,
                    text=text,
                    answered=answered_cells[0],
                    options=[
                        Cell(code=code, label=label, count=shown[i])
                        for i, (code, label) in enumerate(options)
                    ],
                )
            )
        elif item.type in {"multiple_choice", "ranking"}:
            options = [(o.code, text_in(o.label, lang)) for o in options_of(d, item)]
            if item.allow_unknown:
                options.append((UNKNOWN_CODE, text_in(UNKNOWN_LABEL, lang)))
            chose = Counter(code for a in given for code in a)
            items.append(
                ItemStats(
                    id=item.id,
                    type=item.type,
                    text=text,
                    answered=answered_cells[0],
                    options=[
                        Cell(
                            code=code,
                            label=label,
                            count=None
                            if small(chose[code], k) or small(len(given) - chose[code], k)
                            else chose[code],
                        )
                        for code, label in options
                    ],
                )
            )
            if item.type == "ranking" and len(given) >= k:
                rankings.append(_ranking(item.id, text, options, given, k))
        elif item.type == "number":
            values = [float(a) for a in given]
            items.append(
                ItemStats(
                    id=item.id,
                    type=item.type,
                    text=text,
                    answered=answered_cells[0],
                    number=NumberStats(
                        mean=round(statistics.fmean(values), 2),
                        median=round(statistics.median(values), 2),
                    )
                    if len(values) >= k
                    else None,
                )
            )
        else:  # text: only how many answered; the texts are in the raw export
            items.append(
                ItemStats(id=item.id, type=item.type, text=text, answered=answered_cells[0])
            )

    gap: list[GapStats] = []
    if perspective is None and len(d.perspectives) >= 2:
        first, second = d.perspectives[0].id, d.perspectives[1].id
        groups = {p: [r for r in rows if r["perspective"] == p] for p in (first, second)}
        if all(len(g) >= k for g in groups.values()):
            gap = _gaps(d, groups, first, second, k, lang)

    return StatsDoc(
        questionnaire=d.id,
        version=d.version,
        perspective=perspective,
        min_group_size=k,
        responses=n,
        withheld=False,
        withheld_reason=None,
        dimensions=dimensions,
        overall=overall,
        items=items,
        rankings=rankings,
        perspective_gap=gap,
    )


def _dimension_stats(
    id_: str | None,
    title: str,
    values: list[float | None],
    bands: list[int | None],
    band_colours: list[str],
    k: int,
) -> DimensionStats:
    scored = [v for v in values if v is not None]
    colours = Counter(band_colours[b] for b in bands if b is not None)
    cells = suppress_partition(
        [colours["rot"], colours["gelb"], colours["gruen"], len(values) - len(scored)], k
    )
    return DimensionStats(
        id=id_,
        title=title,
        responses=None if small(len(scored), k) else len(scored),
        mean=round(statistics.fmean(scored), 1) if len(scored) >= k else None,
        ampel=AmpelCounts(rot=cells[0], gelb=cells[1], gruen=cells[2], ohne_wert=cells[3]),
    )


def _ranking(
    item_id: str, text: str, options: list[tuple[str, str]], given: list[Any], k: int
) -> RankingStats:
    m = len(options)
    points: Counter[str] = Counter()
    positions: dict[str, list[int]] = {code: [] for code, _ in options}
    for ranking in given:
        for place, code in enumerate(ranking, start=1):
            points[code] += m - place
            positions[code].append(place)
    ordered = sorted(options, key=lambda o: (-points[o[0]], o[1]))
    answered = len(given)
    return RankingStats(
        item=item_id,
        text=text,
        method="borda",
        answered=answered,
        options=[
            RankedOption(
                position=index,
                code=code,
                label=label,
                points=points[code],
                times_ranked=None
                if small(len(positions[code]), k) or small(answered - len(positions[code]), k)
                else len(positions[code]),
                mean_rank=round(statistics.fmean(positions[code]), 2)
                if len(positions[code]) >= k
                else None,
            )
            for index, (code, label) in enumerate(ordered, start=1)
        ],
    )


def _gaps(
    d: Questionnaire,
    groups: dict[str, list[dict[str, Any]]],
    first: str,
    second: str,
    k: int,
    lang: str,
) -> list[GapStats]:
    def means(index: int | None) -> dict[str, float | None]:
        out: dict[str, float | None] = {}
        for p, rows in groups.items():
            values = []
            for r in rows:
                s = msgspec.convert(r["result"], Scores)
                part = s.overall if index is None else s.dimensions[index]
                if part is not None and part.score is not None:
                    values.append(part.score)
            out[p] = round(statistics.fmean(values), 1) if len(values) >= k else None
        return out

    result = []
    parts: list[tuple[int | None, str | None, str]] = [
        (i, dim.id, text_in(dim.title, lang)) for i, dim in enumerate(d.dimensions)
    ]
    parts.append((None, None, "Gesamtergebnis"))
    for index, dim_id, title in parts:
        m = means(index)
        a, b = m[first], m[second]
        result.append(
            GapStats(
                dimension=dim_id,
                title=title,
                means=m,
                gap=round(a - b, 1) if a is not None and b is not None else None,
            )
        )
    return result
