"""Pool matching (core.quickcheck.matching): the proposed assignment respects every
exclusion, pin, forbidden pair, capacity and the threshold, and is as good as brute force
on small pools — for the best total and for the most balanced assignment."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.content.model import ContentSet
from core.quickcheck.matching import Assignment, MatchingError, assign

Fits = list[list[float | None]]
Pool = tuple[Fits, list[int], float, set[tuple[int, int]], set[tuple[int, int]]]


@st.composite
def pools(
    draw: st.DrawFn,
) -> tuple[Fits, list[int], float, set[tuple[int, int]], set[tuple[int, int]]]:
    mentees = draw(st.integers(1, 5))
    mentors = draw(st.integers(1, 3))
    # Round fits often, so ties and fits exactly at the threshold are common.
    cell = st.one_of(
        st.none(),
        st.sampled_from([0.0, 25.0, 50.0, 70.0, 100.0]),
        st.integers(0, 1000).map(lambda t: t / 10),
    )
    fits = [[draw(cell) for _ in range(mentors)] for _ in range(mentees)]
    capacities = [draw(st.integers(0, 2)) for _ in range(mentors)]
    threshold = draw(st.sampled_from([0.0, 25.0, 50.0, 70.0]))
    cells = [(i, j) for i in range(mentees) for j in range(mentors)]
    forbidden = set(draw(st.lists(st.sampled_from(cells), max_size=3)))
    # Pins that are themselves valid: allowed cells, one per mentee, within capacity.
    pins: set[tuple[int, int]] = set()
    used = [0] * mentors
    for i, j in draw(st.lists(st.sampled_from(cells), max_size=2)):
        if fits[i][j] is None or (i, j) in forbidden or any(p == i for p, _ in pins):
            continue
        if used[j] < capacities[j]:
            pins.add((i, j))
            used[j] += 1
    return fits, capacities, threshold, pins, forbidden


def _all_assignments(
    fits: Fits,
    capacities: list[int],
    threshold: float,
    pins: set[tuple[int, int]],
    forbidden: set[tuple[int, int]],
) -> Iterator[dict[int, int]]:
    """Every valid assignment (mentee -> mentor), by enumeration."""
    mentors = len(capacities)
    pinned = dict(pins)
    choices = []
    for i, row in enumerate(fits):
        if i in pinned:
            choices.append([pinned[i]])
            continue
        options: list[int | None] = [None]
        for j in range(mentors):
            value = row[j]
            if value is not None and (i, j) not in forbidden and value >= threshold:
                options.append(j)
        choices.append(options)  # type: ignore[arg-type]
    for combo in itertools.product(*choices):
        load = [0] * mentors
        for j in combo:
            if j is not None:
                load[j] += 1
        if all(load[j] <= capacities[j] for j in range(mentors)):
            yield {i: j for i, j in enumerate(combo) if j is not None}


def _score(fits: Fits, chosen: dict[int, int]) -> tuple[float, int]:
    return round(sum(fits[i][j] or 0 for i, j in chosen.items()), 1), len(chosen)


def _respects(
    result: Assignment,
    fits: Fits,
    capacities: list[int],
    threshold: float,
    pins: set[tuple[int, int]],
    forbidden: set[tuple[int, int]],
) -> None:
    pairs = {(p.mentee, p.mentor) for p in result.pairs}
    assert pins <= pairs, "every pinned pair is kept"
    assert not pairs & forbidden, "no forbidden pair"
    assert all(fits[i][j] is not None for i, j in pairs), "no excluded pair"
    assert all((fits[i][j] or 0) >= threshold for i, j in pairs - pins), "threshold held"
    mentees = [i for i, _ in pairs]
    assert len(mentees) == len(set(mentees)), "a mentee has at most one mentor"
    for j, cap in enumerate(capacities):
        assert sum(1 for _, m in pairs if m == j) <= cap, "capacity held"
    assert result.total == round(sum(fits[i][j] or 0 for i, j in pairs), 1)
    assert set(result.unmatched_mentees) == set(range(len(fits))) - set(mentees)


@settings(max_examples=300, deadline=None)
@given(pools())
def test_best_total_equals_brute_force(pool: Pool) -> None:
    fits, capacities, threshold, pins, forbidden = pool
    result = assign(fits, capacities, threshold=threshold, pins=pins, forbidden=forbidden)
    _respects(result, fits, capacities, threshold, pins, forbidden)
    best = max(
        _score(fits, a) for a in _all_assignments(fits, capacities, threshold, pins, forbidden)
    )
    assert (result.total, len(result.pairs)) == best


@settings(max_examples=300, deadline=None)
@given(pools())
def test_most_balanced_equals_brute_force(pool: Pool) -> None:
    fits, capacities, threshold, pins, forbidden = pool
    total = assign(fits, capacities, threshold=threshold, pins=pins, forbidden=forbidden)
    result = assign(
        fits, capacities, threshold=threshold, pins=pins, forbidden=forbidden, objective="balanced"
    )
    _respects(result, fits, capacities, threshold, pins, forbidden)
    # As many tandems as the best total, the weakest as strong as possible, then the total.
    assert len(result.pairs) == len(total.pairs)
    candidates = [
        a
        for a in _all_assignments(fits, capacities, threshold, pins, forbidden)
        if len(a) == len(total.pairs)
    ]

    def key(a: dict[int, int]) -> tuple[float, float]:
        values = [fits[i][j] or 0 for i, j in a.items()]
        return (min(values) if values else 0.0, round(sum(values), 1))

    best_min, best_total = max(key(a) for a in candidates)
    assert (result.minimum or 0.0, result.total) == (best_min, best_total)
    assert result.total <= total.total


def test_capacity_lets_one_mentor_take_two_mentees() -> None:
    fits: Fits = [[90.0, 20.0], [80.0, 10.0], [70.0, 60.0]]
    result = assign(fits, [2, 1])
    assert {(p.mentee, p.mentor) for p in result.pairs} == {(0, 0), (1, 0), (2, 1)}
    assert result.total == 230.0
    assert result.minimum == 60.0


def test_people_stay_unmatched_below_the_threshold() -> None:
    fits: Fits = [[90.0], [30.0]]
    result = assign(fits, [2], threshold=50)
    assert [(p.mentee, p.mentor) for p in result.pairs] == [(0, 0)]
    assert result.unmatched_mentees == [1]


def test_balanced_trades_total_for_the_weakest_pair() -> None:
    # Best total: 0-0 (100) + 1-1 (10) = 110. Balanced: 0-1 (50) + 1-0 (50) = 100.
    fits: Fits = [[100.0, 50.0], [50.0, 10.0]]
    best = assign(fits, [1, 1])
    balanced = assign(fits, [1, 1], objective="balanced")
    assert (best.total, best.minimum) == (110.0, 10.0)
    assert (balanced.total, balanced.minimum) == (100.0, 50.0)


def test_a_pin_is_kept_even_below_the_threshold_and_blocks_its_slot() -> None:
    fits: Fits = [[20.0, 90.0], [95.0, 30.0]]
    result = assign(fits, [1, 1], threshold=50, pins={(0, 0)})
    assert {(p.mentee, p.mentor, p.pinned) for p in result.pairs} == {(0, 0, True)}
    assert result.unmatched_mentees == [1]  # 1-1 is below the threshold, 1-0 is taken


@pytest.mark.parametrize(
    ("fits", "capacities", "kwargs", "words"),
    [
        ([], [1], {}, "nur Mentorinnen/Mentoren"),
        ([[50.0]], [], {}, "nur Mentees"),
        ([[None]], [1], {"pins": {(0, 0)}}, "gesperrt"),
        ([[50.0, 60.0]], [1, 1], {"pins": {(0, 0), (0, 1)}}, "zwei festgelegten Tandems"),
        ([[50.0], [60.0]], [1], {"pins": {(0, 0), (1, 0)}}, "mehr Tandems festgelegt"),
        ([[50.0]], [1], {"pins": {(0, 0)}, "forbidden": {(0, 0)}}, "zugleich festgelegt"),
        ([[50.0]], [11], {}, "0 bis 10 Mentees"),
        ([[150.0]], [1], {}, "zwischen 0 und 100"),
        ([[50.0]], [1], {"pins": {(3, 0)}}, "nicht im Pool"),
    ],
)
def test_contradictory_requests_are_explained_in_german(
    fits: Fits, capacities: list[int], kwargs: dict[str, Any], words: str
) -> None:
    with pytest.raises(MatchingError) as raised:
        assign(fits, capacities, **kwargs)
    assert words in raised.value.message


def test_every_pair_excluded_gives_an_empty_proposal_not_an_error() -> None:
    result = assign([[None, None], [None, None]], [1, 1])
    assert result.pairs == []
    assert result.minimum is None
    assert result.unmatched_mentees == [0, 1]
    assert result.unmatched_mentors == [0, 1]


def test_the_pool_score_is_the_fit_checks_score(shipped_content_set: ContentSet) -> None:
    """The fit matrix's fast path gives exactly the number the explained fit check gives
    (None for an excluded pair), over seeded random profiles and pair markings of each
    shipped version of the tandem profile."""
    import random

    from core.quickcheck.loader import load_questionnaires
    from tests.conftest import SHIPPED_CONTENT

    slugs = {e.slug for e in shipped_content_set.entries}
    loaded, problems = load_questionnaires([("core", SHIPPED_CONTENT / "questionnaires")], slugs)
    assert problems == []
    rng = random.Random(18)
    for version in (1, 2):  # both shipped versions, each chosen explicitly
        profile = next(
            q.definition
            for q in loaded
            if (q.definition.id, q.definition.version) == ("tandem-profil", version)
        )
        _fast_path_equals_explained(profile, rng)


def _fast_path_equals_explained(profile: Any, rng: Any) -> None:
    from core.quickcheck.engine import asked_items, codes_of
    from core.quickcheck.tandem import Comparer, fit

    def answers(perspective: str) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for item in asked_items(profile, perspective):
            codes = codes_of(profile, item)
            if item.type == "multiple_choice":
                out[item.id] = rng.sample(codes, rng.randint(1, 3))
            elif item.type != "text" and rng.random() < 0.9:
                out[item.id] = rng.choice(codes)
        return out

    comparer = Comparer(profile)
    excluded = 0
    for _ in range(300):
        mentor, mentee = answers("mentor"), answers("mentee")
        # The Lotse's pair markings as a pool passes them (version 2 excludes only by them).
        marks = rng.choice([(), (), ("gleiches-team",), ("berichtslinie",), ("nicht-mit",)])
        explained = fit(profile, mentor, mentee, marks=marks)
        excluded += explained.excluded
        expected = None if explained.excluded else (explained.score or 0.0)
        assert comparer.score(mentor, mentee, marks) == expected
    assert 0 < excluded < 300  # both kinds of pair were compared
