"""The next steps of a Quickcheck result: three recommended entries, none twice, for the
perspective the respondent answered from, weakest area first.

The bands name their recommendations in order of priority, per perspective where it
matters (``Band.recommendations_for``). Listing every band's recommendations gave up to
17 links, some repeated; a respondent needs a short list that starts where the result
is weakest. The order is: one recommendation from each dimension, weakest score first
(ties in the order of the definition), then a second round, and so on; the overall
band's recommendations fill up what is left.
"""

from __future__ import annotations

from collections.abc import Collection

import msgspec

from core.quickcheck.engine import DimensionScore, Scores
from core.quickcheck.model import Band, Questionnaire

NEXT_STEPS = 3


class NextStep(msgspec.Struct, frozen=True, kw_only=True):
    slug: str
    # The dimension whose result recommends it; None for the overall result.
    dimension: str | None


def _band(bands: list[Band], score: DimensionScore) -> Band | None:
    return bands[score.band] if score.band is not None else None


def choose_next_steps(
    definition: Questionnaire,
    scores: Scores,
    perspective: str,
    available: Collection[str],
    limit: int = NEXT_STEPS,
) -> list[NextStep]:
    """Up to ``limit`` distinct recommendations among the ``available`` entry slugs."""
    bands = {dim.id: dim.bands for dim in definition.dimensions}
    rated = [s for s in scores.dimensions if s.score is not None and s.id in bands]
    # sorted() is stable: equal scores keep the definition's order.
    rated.sort(key=lambda s: s.score if s.score is not None else 0.0)
    queues: list[tuple[str | None, list[str]]] = []
    for s in rated:
        band = _band(bands[s.id or ""], s)
        if band is not None:
            queues.append((s.id, band.recommendations_for(perspective)))
    if scores.overall is not None and (band := _band(definition.bands, scores.overall)):
        overall = band.recommendations_for(perspective)
    else:
        overall = []

    chosen: list[NextStep] = []
    seen: set[str] = set()
    # Each round takes from every dimension its next recommendation not chosen yet.
    pending = [(dimension, iter(queue)) for dimension, queue in queues]
    while pending and len(chosen) < limit:
        still = []
        for dimension, rest in pending:
            if len(chosen) >= limit:
                break
            slug = next((x for x in rest if x not in seen and x in available), None)
            if slug is not None:
                seen.add(slug)
                chosen.append(NextStep(slug=slug, dimension=dimension))
                still.append((dimension, rest))
        pending = still
    for slug in overall:
        if len(chosen) >= limit:
            break
        if slug not in seen and slug in available:
            seen.add(slug)
            chosen.append(NextStep(slug=slug, dimension=None))
    return chosen
