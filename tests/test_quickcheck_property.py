"""Property tests over every shipped questionnaire (and the probe fixtures): any valid
answer set passes validation unchanged, and scoring never fails and stays in 0–100."""

from __future__ import annotations

import math
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.quickcheck.engine import (
    asked_items,
    codes_of,
    evaluate,
    options_of,
    score,
    validate_answers,
)
from core.quickcheck.loader import load_questionnaires
from core.quickcheck.model import SINGLE_CODE_TYPES, UNKNOWN_CODE, Item, Questionnaire
from core.quickcheck.tandem import fit
from tests.conftest import FIXTURE_CONTENT, SHIPPED_CONTENT

FILES = [
    *sorted((SHIPPED_CONTENT / "questionnaires").glob("*.yaml")),
    FIXTURE_CONTENT / "questionnaires" / "probe.yaml",
    FIXTURE_CONTENT / "questionnaires" / "probe-profil.yaml",
]

# Stable in CI: the same examples on every run, no example database, no time limit.
STABLE = settings(
    derandomize=True,
    database=None,
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _slugs(data: Any) -> Iterator[str]:
    """Every recommended slug in the raw YAML (whether they exist is checked elsewhere)."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == "recommendations" and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            else:
                yield from _slugs(value)
    elif isinstance(data, list):
        for value in data:
            yield from _slugs(value)


@cache
def load(path: Path) -> Questionnaire:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    loaded, problems = load_questionnaires([("core", path)], set(_slugs(data)))
    assert problems == [], "\n".join(map(str, problems))
    (one,) = loaded
    return one.definition


def _cases() -> list[Any]:
    """(file, perspective) for every perspective; a file that cannot be read still shows up."""
    cases = []
    for path in FILES:
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            ids = [p["id"] for p in data["perspectives"]]
        except Exception:  # reported by the test itself, through the loader
            ids = ["?"]
        cases.extend(pytest.param(path, p, id=f"{path.stem}-{p}") for p in ids)
    return cases


CASES = _cases()
PROFILES = [pytest.param(p, id=p.stem) for p in FILES if "matching:" in p.read_text("utf-8")]


# -- strategies -----------------------------------------------------------------------------


def values_for(d: Questionnaire, item: Item) -> st.SearchStrategy[Any]:
    """Valid answers to ``item``, "keine Angabe" included where the item offers it."""
    t = item.type
    if t in SINGLE_CODE_TYPES:
        return st.sampled_from(codes_of(d, item))
    if t in {"multiple_choice", "ranking"}:
        codes = [o.code for o in options_of(d, item)]
        low = item.min_choices if item.min_choices is not None else (1 if t == "ranking" else 0)
        high = item.max_choices if item.max_choices is not None else len(codes)
        # unique lists in drawn order: for a ranking, a random order of a random subset
        chosen = st.lists(st.sampled_from(codes), min_size=low, max_size=high, unique=True)
        return st.one_of(chosen, st.just([UNKNOWN_CODE])) if item.allow_unknown else chosen
    if t == "number":
        low = item.min if item.min is not None else -1e9
        high = item.max if item.max is not None else 1e9
        numbers: st.SearchStrategy[Any] = st.floats(
            low, high, allow_nan=False, allow_infinity=False
        )
        if math.ceil(low) <= math.floor(high):
            numbers = st.one_of(st.integers(math.ceil(low), math.floor(high)), numbers)
        return numbers
    # text: a required one needs something besides white space (it is trimmed)
    texts = st.text(max_size=item.max_length)
    return texts.filter(str.strip) if item.required else texts


@st.composite
def answer_sets(draw: Any, d: Questionnaire, perspective: str) -> dict[str, Any]:
    """A valid answer set, drawn in item order: only visible items are answered, optional
    ones are sometimes skipped."""
    answers: dict[str, Any] = {}
    kept: dict[str, Any] = {}  # what validation keeps: texts trimmed, blank ones dropped
    for item in asked_items(d, perspective):
        if item.visible_if is not None and not evaluate(item.visible_if, kept):
            continue
        if not item.required and draw(st.booleans()):
            continue
        value = draw(values_for(d, item))
        answers[item.id] = value
        if isinstance(value, str) and item.type == "text":
            value = value.strip() or None
        if value is not None:
            kept[item.id] = value
    return answers


def expected_clean(d: Questionnaire, answers: dict[str, Any]) -> dict[str, Any]:
    types = {i.id: i.type for i in d.items}
    out = {}
    for key, value in answers.items():
        if types[key] == "text":
            value = value.strip() or None
        if value is not None:
            out[key] = value
    return out


# -- properties -----------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "perspective"), CASES)
@STABLE
@given(data=st.data())
def test_valid_answers_validate_and_score_in_range(
    path: Path, perspective: str, data: st.DataObject
) -> None:
    d = load(path)
    answers = data.draw(answer_sets(d, perspective), label="answers")
    clean, problems = validate_answers(d, perspective, answers)
    assert problems == []
    assert clean == expected_clean(d, answers)

    result = score(d, perspective, clean)
    assert [s.id for s in result.dimensions] == [dim.id for dim in d.dimensions]
    parts = [*result.dimensions, *([result.overall] if result.overall else [])]
    for part in parts:
        assert 0 <= part.counted <= part.asked
        assert part.counted + part.unknown <= part.asked
        if part.score is None:
            assert part.band is None
        else:
            assert 0 <= part.score <= 100
            assert round(part.score, 1) == part.score
            assert part.band is not None
    for part in result.dimensions:
        assert (part.score is None) == (part.counted == 0)


@pytest.mark.parametrize(("path", "perspective"), CASES)
@STABLE
@given(data=st.data())
def test_overall_is_between_the_dimension_scores(
    path: Path, perspective: str, data: st.DataObject
) -> None:
    d = load(path)
    clean, _ = validate_answers(d, perspective, data.draw(answer_sets(d, perspective)))
    result = score(d, perspective, clean)
    if not d.dimensions:
        assert result.overall is None
        return
    assert result.overall is not None
    weighted = [
        s.score
        for dim, s in zip(d.dimensions, result.dimensions, strict=True)
        if s.score is not None and dim.weight > 0
    ]
    if not weighted:
        assert result.overall.score is None
    else:
        # The overall is the weighted mean of the dimensions that have a score.
        assert result.overall.score is not None
        assert min(weighted) <= result.overall.score <= max(weighted)


@pytest.mark.parametrize("path", PROFILES)
@STABLE
@given(data=st.data())
def test_tandem_fit_of_valid_profiles_is_in_range(path: Path, data: st.DataObject) -> None:
    d = load(path)
    assert d.matching is not None
    profiles = []
    for perspective in (d.matching.mentor, d.matching.mentee):
        clean, problems = validate_answers(d, perspective, data.draw(answer_sets(d, perspective)))
        assert problems == []
        profiles.append(clean)
    result = fit(d, *profiles)
    rated = [c.score for c in result.criteria if c.score is not None]
    for value in rated:
        assert 0 <= value <= 100
    if rated:
        assert result.score is not None
        assert min(rated) <= result.score <= max(rated)
        assert result.band is not None
    else:
        assert (result.score, result.band) == (None, None)
    assert result.excluded is bool(result.exclusions)
    assert all(c.explanation for c in result.criteria)


def test_the_probe_fixtures_are_always_among_the_cases() -> None:
    names = {p.name for p in FILES}
    assert {"probe.yaml", "probe-profil.yaml"} <= names
    assert len(CASES) >= 4  # probe: 2 perspectives, probe-profil: 2
