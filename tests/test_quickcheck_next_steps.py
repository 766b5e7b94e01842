"""The next steps of a Quickcheck result: at most three, none twice, weakest area first,
and addressed to the perspective the respondent answered from."""

from __future__ import annotations

import itertools
from typing import Any

import msgspec
import pytest

from core.content.collect import load_all
from core.content.model import ContentSet
from core.plugins import build_registry
from core.quickcheck.engine import DimensionScore, Scores, score
from core.quickcheck.model import Band, BandWording, Dimension, Questionnaire
from core.quickcheck.next_steps import choose_next_steps
from core.settings import Settings
from tests.conftest import SHIPPED_CONTENT
from tests.test_shipped_questionnaires import extreme_answers

QUICKCHECK = "quickcheck-reverse-mentoring"
# Who an entry must be for (its ``audiences``) to be recommended to a perspective.
AUDIENCES = {"mitarbeitende": {"mentor", "mentee"}, "unternehmen": {"unternehmen"}}


@pytest.fixture(scope="module")
def quickcheck() -> Questionnaire:
    settings = Settings(content_dir=SHIPPED_CONTENT)
    loaded, problems = load_all(build_registry(settings), settings)
    assert problems == [], "\n".join(map(str, problems))
    definition: Questionnaire = next(
        q.definition for q in loaded.questionnaires if q.definition.id == QUICKCHECK
    )
    return definition


@pytest.fixture(scope="module")
def audiences(shipped_content_set: ContentSet) -> dict[str, set[str]]:
    return {e.slug: set(e.audiences) for e in shipped_content_set.entries}


def all_bands(d: Questionnaire) -> list[tuple[str, Band]]:
    return [(dim.id, b) for dim in d.dimensions for b in dim.bands] + [
        ("gesamt", b) for b in d.bands
    ]


def test_every_shipped_recommendation_is_for_the_perspective_it_is_given_to(
    quickcheck: Questionnaire, audiences: dict[str, set[str]]
) -> None:
    wrong = [
        (perspective, where, band.ampel, slug, sorted(audiences[slug]))
        for perspective, wanted in AUDIENCES.items()
        for where, band in all_bands(quickcheck)
        for slug in band.recommendations_for(perspective)
        if not audiences[slug] & wanted
    ]
    assert wrong == []
    # The example from the consultation: the management is not told to win itself over.
    for _, band in all_bands(quickcheck):
        assert "geschaeftsfuehrung-gewinnen" not in band.recommendations_for("unternehmen")
        assert "Gewinnen Sie zuerst die Geschäftsführung" not in str(band.text_for("unternehmen"))


def scores_of(d: Questionnaire, perspective: str, pattern: tuple[bool, ...]) -> Scores:
    """Each dimension answered at its best (True) or worst (False) end."""
    best = extreme_answers(d, perspective, best=True)
    worst = extreme_answers(d, perspective, best=False)
    chosen = {dim.id: good for dim, good in zip(d.dimensions, pattern, strict=True)}
    answers = {
        item.id: (best if chosen.get(item.dimension or "", True) else worst)[item.id]
        for item in d.items
        if item.id in best
    }
    return score(d, perspective, answers)


def test_three_distinct_steps_for_the_perspective_weakest_area_first(
    quickcheck: Questionnaire, audiences: dict[str, set[str]]
) -> None:
    n = len(quickcheck.dimensions)
    for perspective, wanted in AUDIENCES.items():
        for pattern in itertools.product([True, False], repeat=n):
            scores = scores_of(quickcheck, perspective, pattern)
            steps = choose_next_steps(quickcheck, scores, perspective, set(audiences))
            slugs = [s.slug for s in steps]
            assert len(slugs) == 3, (perspective, pattern, slugs)
            assert len(set(slugs)) == 3, (perspective, pattern, slugs)
            assert all(audiences[s] & wanted for s in slugs), (perspective, slugs)
            # A weak (red) area comes before any strong one.
            weak = [dim.id for dim, good in zip(quickcheck.dimensions, pattern, strict=True)
                    if not good]  # fmt: skip
            if weak:
                assert steps[0].dimension in weak, (pattern, steps)


def tiny(recommendations: dict[str, list[str]], overall: list[str]) -> Questionnaire:
    """A definition with one band per dimension, enough for the selection."""

    def band(slugs: list[str], company: list[str] | None = None) -> Band:
        return Band(
            from_=0, to=100, ampel="gelb", title="t", text="t", recommendations=slugs,
            for_perspective={"chef": BandWording(recommendations=company)} if company else {},
        )  # fmt: skip

    raw: dict[str, Any] = {
        "id": "tiny", "version": 1, "status": "published", "purpose": "assessment",
        "title": "Tiny", "perspectives": [{"id": "team", "label": "Team"}],
        "items": [{"id": "x", "type": "text", "text": "x"}],
    }  # fmt: skip
    d = msgspec.convert(raw, Questionnaire)
    dims = [Dimension(id=k, title=k, bands=[band(v)]) for k, v in recommendations.items()]
    return msgspec.structs.replace(d, dimensions=dims, bands=[band(overall, ["o-chef"])])


def scored(**values: float) -> Scores:
    return Scores(
        dimensions=[
            DimensionScore(id=k, score=v, counted=1, asked=1, unknown=0, band=0)
            for k, v in values.items()
        ],
        overall=DimensionScore(id=None, score=50, counted=1, asked=1, unknown=0, band=0),
    )


def test_a_step_another_area_took_is_skipped_and_missing_entries_are_left_out() -> None:
    d = tiny({"a": ["x", "y"], "b": ["x", "z"], "c": ["gone", "w"]}, ["o"])
    # b is weakest, then c, then a; b takes x, c's "gone" does not exist, a's x is taken.
    steps = choose_next_steps(d, scored(a=60, b=10, c=30), "team", {"x", "y", "z", "w", "o"})
    assert [(s.slug, s.dimension) for s in steps] == [("x", "b"), ("w", "c"), ("y", "a")]


def test_the_overall_band_fills_up_and_its_perspective_wording_counts() -> None:
    d = tiny({"a": ["x"]}, ["o"])
    available = {"x", "o", "o-chef"}
    assert [s.slug for s in choose_next_steps(d, scored(a=10), "team", available)] == ["x", "o"]
    assert [s.slug for s in choose_next_steps(d, scored(a=10), "chef", available)] == [
        "x",
        "o-chef",
    ]
    # No score at all: nothing but the overall band to go by.
    none = Scores(dimensions=[], overall=None)
    assert choose_next_steps(d, none, "team", available) == []
