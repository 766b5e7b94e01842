"""The questionnaire engine as pure functions: scores, bands, conditions, answer checks,
version immutability and the tandem fit. No database; every expected value is derived by
hand in a comment next to it."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import msgspec
import pytest
import yaml

from core.quickcheck.checks import Checker
from core.quickcheck.engine import (
    MAX_ANSWERS,
    AnswerProblem,
    DimensionScore,
    Scores,
    band_index,
    evaluate,
    item_score,
    score,
    validate_answers,
)
from core.quickcheck.loader import load_questionnaires
from core.quickcheck.model import (
    OPERATORS,
    UNKNOWN_CODE,
    Condition,
    LoadedQuestionnaire,
    Questionnaire,
    canonical_hash,
)
from core.quickcheck.tandem import NOT_RATED, fit
from core.quickcheck.versions import check_immutable

FIXTURES = Path(__file__).parent / "fixtures" / "content" / "questionnaires"
# The entries the probe fixtures recommend (tests/fixtures/content/entries).
FIXTURE_SLUGS = {"ueberblick", "aufgabenliste", "arbeitsablauf"}


def load_fixture(name: str) -> LoadedQuestionnaire:
    loaded, problems = load_questionnaires([("core", FIXTURES / f"{name}.yaml")], FIXTURE_SLUGS)
    assert problems == [], [str(p) for p in problems]
    (one,) = loaded
    return one


@pytest.fixture(scope="module")
def probe() -> Questionnaire:
    return load_fixture("probe").definition


@pytest.fixture(scope="module")
def profil() -> Questionnaire:
    return load_fixture("probe-profil").definition


def build(text: str) -> Questionnaire:
    """Decode an inline definition and require that the loader accepts it as it is."""
    text = textwrap.dedent(text)
    definition = msgspec.convert(yaml.safe_load(text), Questionnaire)
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    problems = Checker(definition, root, "inline.yaml", set()).run()
    assert problems == [], [str(p) for p in problems]
    return definition


def dim(scores: Scores, dimension_id: str) -> DimensionScore:
    return next(d for d in scores.dimensions if d.id == dimension_id)


def cond(data: dict[str, Any]) -> Condition:
    return msgspec.convert(data, Condition)


# [0, 40) rot, [40, 70) gelb, [70, 100] gruen
BANDS = (
    "[{from: 0, to: 40, ampel: rot, title: Rot, text: Rot.},"
    " {from: 40, to: 70, ampel: gelb, title: Gelb, text: Gelb.},"
    " {from: 70, to: 100, ampel: gruen, title: Grün, text: Grün.}]"
)


def header(qid: str) -> str:
    return f"""
    id: {qid}
    version: 1
    status: draft
    purpose: assessment
    title: {qid}
    perspectives: [{{id: alle, label: Alle}}]
    bands: {BANDS}
    """


# A scored number item 0..1000 (its score is value / 10, so bands are easy to hit) and a
# reversed number item 0..10 in a second dimension.
ZAHL = build(
    header("zahl")
    + f"""
    dimensions:
      - id: d
        title: D
        bands: {BANDS}
      - id: e
        title: E
        bands: {BANDS}
    items:
      - {{id: n, type: number, min: 0, max: 1000, dimension: d, required: false, text: N}}
      - {{id: r, type: number, min: 0, max: 10, dimension: e, reverse: true, text: R}}
    """
)

# Dimension weights 3, 1 and 0; item weights 1, 3 and 0.
GEWICHTE = build(
    header("gewichte")
    + f"""
    dimensions:
      - id: a
        title: A
        weight: 3
        bands: {BANDS}
      - id: b
        title: B
        bands: {BANDS}
      - id: z
        title: Z
        weight: 0
        bands: {BANDS}
    items:
      - {{id: a1, type: number, min: 0, max: 10, dimension: a, required: false, text: A1}}
      - {{id: a2, type: number, min: 0, max: 10, dimension: a, weight: 3, text: A2}}
      - {{id: a0, type: number, min: 0, max: 10, dimension: a, weight: 0, text: A0}}
      - {{id: b1, type: number, min: 0, max: 10, dimension: b, required: false, text: B1}}
      - {{id: z1, type: number, min: 0, max: 10, dimension: z, required: false, text: Z1}}
    """
)

# A dimension whose items all offer "keine Angabe", next to one that does not.
UNBEKANNT = build(
    header("unbekannt")
    + f"""
    scales:
      - id: skala
        options:
          - {{code: voll, label: voll, score: 4}}
          - {{code: eher, label: eher, score: 3}}
          - {{code: teils, label: teils, score: 2}}
          - {{code: kaum, label: kaum, score: 1}}
          - {{code: nicht, label: nicht, score: 0}}
    dimensions:
      - id: d
        title: D
        bands: {BANDS}
      - id: e
        title: E
        bands: {BANDS}
    items:
      - {{id: u1, type: likert, scale: skala, dimension: d, allow_unknown: true, text: U1}}
      - id: u2
        type: multiple_choice
        dimension: d
        allow_unknown: true
        text: U2
        options:
          - {{code: a, label: A, score: 1}}
          - {{code: b, label: B, score: 1}}
      - {{id: e1, type: likert, scale: skala, dimension: e, text: E1}}
    """
)

# A multiple choice with a negative option: lowest sum -1, highest sum 2 + 1 = 3.
AUSWAHL = build(
    header("auswahl")
    + f"""
    dimensions:
      - id: d
        title: D
        bands: {BANDS}
    items:
      - id: m
        type: multiple_choice
        dimension: d
        text: M
        options:
          - {{code: plus, label: Plus, score: 2}}
          - {{code: minus, label: Minus, score: -1}}
          - {{code: eins, label: Eins, score: 1}}
          - {{code: nix, label: Nix, score: 0}}
    """
)

# A chain of conditions: b shows when a is ja, c when b is ja.
KETTE = build(
    header("kette")
    + f"""
    dimensions:
      - id: d
        title: D
        bands: {BANDS}
    items:
      - id: a
        type: yes_no
        text: A
        options: [{{code: ja, label: Ja}}, {{code: nein, label: Nein}}]
      - id: b
        type: yes_no
        dimension: d
        text: B
        visible_if: {{item: a, op: eq, value: ja}}
        options: [{{code: ja, label: Ja, score: 1}}, {{code: nein, label: Nein, score: 0}}]
      - id: c
        type: yes_no
        dimension: d
        text: C
        visible_if: {{item: b, op: eq, value: ja}}
        options: [{{code: ja, label: Ja, score: 1}}, {{code: nein, label: Nein, score: 0}}]
    """
)

# Valid answers to the probe from the employees' perspective (as in the API tests).
BASE = {
    "geraete": "voll",
    "chaos": "nicht",
    "wlan": "ja",
    "programm": "nein",
    "offenheit": "teils",
}


# -- scoring --------------------------------------------------------------------------------


def test_probe_scores_with_skipped_items_and_keine_angabe(probe: Questionnaire) -> None:
    answers = {
        "geraete": "eher",
        "chaos": UNKNOWN_CODE,
        "wlan": "nein",
        "programm": "nein",
        "offenheit": "eher",
    }
    result = score(probe, "mitarbeitende", answers)
    technik, kultur = result.dimensions
    # technik: geraete eher = (3-0)/(4-0) = 0.75 (w1), chaos unknown (left out),
    # wlan nein = 0 (w2), werkzeuge unanswered: (0.75 + 0×2) / 3 = 0.25 → 25.0, rot.
    assert technik == DimensionScore(
        id="technik", score=25.0, counted=2, asked=4, unknown=1, band=0
    )
    # kultur: programm-erfahrung hidden (programm nein), stunden unanswered,
    # offenheit 0.75 → 75.0 of 2 visible items; band [50, 100) = 1.
    assert kultur == DimensionScore(id="kultur", score=75.0, counted=1, asked=2, unknown=0, band=1)
    # Overall: (25 + 75) / 2 = 50.0 → gelb [40, 70).
    assert result.overall == DimensionScore(
        id=None, score=50.0, counted=3, asked=6, unknown=1, band=1
    )


def test_keine_angabe_scores_like_an_absent_answer_not_like_zero(probe: Questionnaire) -> None:
    unknown = {**BASE, "geraete": UNKNOWN_CODE}
    absent = {k: v for k, v in BASE.items() if k != "geraete"}
    with_unknown = dim(score(probe, "mitarbeitende", unknown), "technik")
    without = dim(score(probe, "mitarbeitende", absent), "technik")
    # Both: chaos nicht reversed = 1, wlan ja = 1×2 → (1 + 2) / 3 = 100.0.
    # Counted as zero it would be (0 + 1 + 2) / 4 = 75.0.
    assert (with_unknown.score, with_unknown.counted) == (100.0, 2)
    assert (without.score, without.counted) == (100.0, 2)
    assert (with_unknown.unknown, without.unknown) == (1, 0)
    assert with_unknown.asked == without.asked == 4


def test_a_dimension_of_unknowns_only_has_no_score_and_no_band() -> None:
    result = score(UNBEKANNT, "alle", {"u1": UNKNOWN_CODE, "u2": [UNKNOWN_CODE], "e1": "eher"})
    # d: both items "keine Angabe" (the multiple choice as ["keine-angabe"]).
    assert dim(result, "d") == DimensionScore(
        id="d", score=None, counted=0, asked=2, unknown=2, band=None
    )
    # e: eher = 3/4 → 75.0 gruen. Overall from e alone: 75.0 (d is left out, not 0,
    # which would give 37.5).
    assert (dim(result, "e").score, dim(result, "e").band) == (75.0, 2)
    assert result.overall is not None
    assert (result.overall.score, result.overall.band) == (75.0, 2)
    assert (result.overall.counted, result.overall.asked, result.overall.unknown) == (1, 3, 2)


def test_without_any_counted_item_the_overall_has_no_score() -> None:
    result = score(UNBEKANNT, "alle", {"u1": UNKNOWN_CODE})
    assert [d.score for d in result.dimensions] == [None, None]
    assert result.overall == DimensionScore(
        id=None, score=None, counted=0, asked=3, unknown=1, band=None
    )


def test_profile_without_dimensions_has_no_overall(profil: Questionnaire) -> None:
    result = score(profil, "mentor", {"themen": ["video"], "treffen": "digital"})
    assert result == Scores(dimensions=[], overall=None)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # zustimmung: voll 4 … nicht 0; reversed 1 - (s - 0) / 4.
        ("voll", 0.0),
        ("eher", 0.25),
        ("teils", 0.5),
        ("kaum", 0.75),
        ("nicht", 1.0),
        (UNKNOWN_CODE, None),
    ],
)
def test_reverse_item_scores(probe: Questionnaire, code: str, expected: float | None) -> None:
    chaos = next(i for i in probe.items if i.id == "chaos")
    assert item_score(probe, chaos, code) == expected


def test_reverse_item_in_the_dimension_score(probe: Questionnaire) -> None:
    # geraete voll 1, chaos voll reversed 0, wlan ja 1×2: (1 + 0 + 2) / 4 = 75.0.
    result = score(probe, "mitarbeitende", {**BASE, "chaos": "voll"})
    assert (dim(result, "technik").score, dim(result, "technik").band) == (75.0, 2)
    # A reversed number: r = 2 of 0..10 → 1 - 0.2 = 0.8 → 80.0.
    assert dim(score(ZAHL, "alle", {"r": 2}), "e").score == 80.0


def test_item_weights(probe: Questionnaire) -> None:
    # wlan weighs 2: geraete voll 1, chaos voll 0, wlan nein 0 → (1 + 0 + 0) / 4 = 25.0;
    # with weight 1 it would be 1 / 3 = 33.3.
    result = score(probe, "mitarbeitende", {**BASE, "chaos": "voll", "wlan": "nein"})
    assert dim(result, "technik").score == 25.0


def test_item_and_dimension_weights_and_weight_zero() -> None:
    answers = {"a1": 10, "a2": 2, "a0": 10, "b1": 5, "z1": 10}
    result = score(GEWICHTE, "alle", answers)
    # a: a1 1.0×1 + a2 0.2×3 = 1.6 over weight 4 → 40.0 (gelb); a0 weighs 0: not asked.
    assert dim(result, "a") == DimensionScore(
        id="a", score=40.0, counted=2, asked=2, unknown=0, band=1
    )
    assert dim(result, "b").score == 50.0
    assert dim(result, "z").score == 100.0
    # Overall: (3×40 + 1×50) / 4 = 42.5; z (weight 0) does not count.
    assert result.overall is not None
    assert (result.overall.score, result.overall.band) == (42.5, 1)


def test_a_dimension_of_weight_zero_alone_gives_no_overall() -> None:
    result = score(GEWICHTE, "alle", {"z1": 10})
    assert dim(result, "z").score == 100.0
    assert result.overall is not None
    assert (result.overall.score, result.overall.band) == (None, None)


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        # probe werkzeuge: chat 1, cloud 1, fax 0 → lowest sum 0, highest 2.
        (["chat"], 50.0),
        (["chat", "cloud"], 100.0),
        (["cloud", "fax"], 50.0),
        (["fax"], 0.0),
        ([], 0.0),
    ],
)
def test_multiple_choice_sums_the_chosen_scores(
    probe: Questionnaire, chosen: list[str], expected: float
) -> None:
    # Only werkzeuge in technik: leave geraete, chaos and wlan open.
    result = score(probe, "mitarbeitende", {"werkzeuge": chosen})
    assert dim(result, "technik").score == expected
    assert dim(result, "technik").counted == 1


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        # (sum - (-1)) / (3 - (-1)):
        ([], 25.0),  # (0 + 1) / 4
        (["minus"], 0.0),  # (-1 + 1) / 4
        (["nix"], 25.0),
        (["plus", "minus"], 50.0),  # (1 + 1) / 4
        (["plus", "eins"], 100.0),  # (3 + 1) / 4
        (["plus", "minus", "eins", "nix"], 75.0),  # (2 + 1) / 4
    ],
)
def test_multiple_choice_with_a_negative_option(chosen: list[str], expected: float) -> None:
    assert dim(score(AUSWAHL, "alle", {"m": chosen}), "d").score == expected


def test_number_item_maps_its_range(probe: Questionnaire) -> None:
    # stunden 0..10: 2.5 → 0.25, the only kultur answer (offenheit left open).
    result = score(probe, "mitarbeitende", {"programm": "nein", "stunden": 2.5})
    assert (dim(result, "kultur").score, dim(result, "kultur").counted) == (25.0, 1)
    # offenheit teils 0.5 and stunden 10 → 1.0: (0.5 + 1) / 2 = 75.0.
    result = score(probe, "mitarbeitende", {**BASE, "stunden": 10})
    assert dim(result, "kultur").score == 75.0


@pytest.mark.parametrize(
    ("value", "expected_score", "expected_band"),
    [
        (0, 0.0, 0),  # the first band starts at 0
        (399, 39.9, 0),  # just below 40: rot
        (400, 40.0, 1),  # from is inclusive: gelb
        (699, 69.9, 1),
        (700, 70.0, 2),
        (1000, 100.0, 2),  # the last band includes 100
        # Rounded to one decimal before banding:
        (399.6, 40.0, 1),  # 39.96 → 40.0 → gelb, not rot
        (399.4, 39.9, 0),  # 39.94 → 39.9 → rot
        (699.94, 70.0, 2),  # 69.994 → 70.0 → gruen
    ],
)
def test_bands_at_their_boundaries(value: float, expected_score: float, expected_band: int) -> None:
    result = score(ZAHL, "alle", {"n": value})
    d = dim(result, "d")
    assert (d.score, d.band) == (expected_score, expected_band)
    # One dimension with weight: the overall is the same score in the same bands.
    assert result.overall is not None
    assert (result.overall.score, result.overall.band) == (expected_score, expected_band)


def test_band_index_directly(probe: Questionnaire) -> None:
    bands = probe.bands  # [0, 40) rot, [40, 70) gelb, [70, 100] gruen
    assert [band_index(bands, s) for s in (0, 39.9, 40, 69.9, 70, 99.9, 100)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        2,
    ]
    assert band_index(bands, None) is None
    assert band_index([], 50.0) is None


# -- conditions -----------------------------------------------------------------------------

CONDITION_CASES: list[tuple[str, Any, dict[str, Any], bool]] = [
    # (op, value, answers, expected)
    ("eq", "ja", {"x": "ja"}, True),
    ("eq", "ja", {"x": "nein"}, False),
    ("eq", "ja", {}, False),
    ("eq", 5, {"x": 5.0}, True),
    ("ne", "ja", {"x": "nein"}, True),
    ("ne", "ja", {"x": "ja"}, False),
    ("ne", "ja", {}, True),  # also true when unanswered
    ("in", ["a", "b"], {"x": "b"}, True),
    ("in", ["a", "b"], {"x": "c"}, False),
    ("in", ["a", "b"], {}, False),
    ("not_in", ["a", "b"], {"x": "c"}, True),
    ("not_in", ["a", "b"], {"x": "a"}, False),
    ("not_in", ["a", "b"], {}, True),  # also true when unanswered
    ("contains", "a", {"x": ["b", "a"]}, True),
    ("contains", "a", {"x": ["b"]}, False),
    ("contains", "a", {"x": "abc"}, False),  # a text is not a list: no substring match
    ("contains", "a", {}, False),
    ("gt", 4, {"x": 5}, True),
    ("gt", 4, {"x": 4}, False),
    ("gt", 4, {"x": "5"}, False),  # not a number
    ("gt", 0, {"x": True}, False),  # true/false is not a number
    ("gt", 4, {}, False),
    ("gte", 4, {"x": 4}, True),
    ("gte", 4, {"x": 3.9}, False),
    ("gte", 4, {"x": UNKNOWN_CODE}, False),
    ("lt", 4, {"x": 3}, True),
    ("lt", 4, {"x": 4}, False),
    ("lte", 4, {"x": 4}, True),
    ("lte", 4, {"x": 4.1}, False),
    ("lte", 4, {}, False),
    ("answered", True, {"x": "ja"}, True),
    ("answered", True, {"x": UNKNOWN_CODE}, False),
    ("answered", True, {"x": [UNKNOWN_CODE]}, False),
    ("answered", True, {}, False),
    ("answered", False, {}, True),
    ("answered", False, {"x": UNKNOWN_CODE}, True),
    ("answered", False, {"x": 0}, False),  # 0 is an answer
]


@pytest.mark.parametrize(("op", "value", "answers", "expected"), CONDITION_CASES)
def test_each_operator(op: str, value: Any, answers: dict[str, Any], expected: bool) -> None:
    assert evaluate(cond({"item": "x", "op": op, "value": value}), answers) is expected


def test_the_cases_cover_every_operator_both_ways() -> None:
    seen = {(op, expected) for op, _, _, expected in CONDITION_CASES}
    assert {op for op, _ in seen} == set(OPERATORS)
    assert all((op, True) in seen and (op, False) in seen for op in OPERATORS)


def test_unknown_operator_raises() -> None:
    with pytest.raises(ValueError, match="unknown operator 'like'"):
        evaluate(cond({"item": "x", "op": "like", "value": 1}), {"x": 1})


NESTED = {
    "all": [
        {"any": [{"item": "a", "op": "eq", "value": "ja"}, {"item": "n", "op": "gte", "value": 5}]},
        {"not": {"item": "m", "op": "contains", "value": "fax"}},
    ]
}


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        ({"a": "ja", "m": ["chat"]}, True),  # any via a, not(contains fax) true
        ({"a": "nein", "n": 5, "m": []}, True),  # any via n ≥ 5
        ({"a": "nein", "n": 4.9}, False),  # any false
        ({"a": "ja", "m": ["chat", "fax"]}, False),  # not(...) false
        ({}, False),  # any false: nothing answered
        ({"n": 7}, True),  # m unanswered: contains false, not → true
    ],
)
def test_nested_all_any_not(answers: dict[str, Any], expected: bool) -> None:
    assert evaluate(cond(NESTED), answers) is expected


def test_empty_all_is_true_and_empty_any_is_false() -> None:
    # The loader rejects both; the evaluator follows Python's all() and any().
    assert evaluate(cond({"all": []}), {}) is True
    assert evaluate(cond({"any": []}), {}) is False


def test_a_hidden_item_is_not_scored_even_if_answered(probe: Questionnaire) -> None:
    answers = {**BASE, "offenheit": "nicht", "programm-erfahrung": "gut"}
    kultur = dim(score(probe, "mitarbeitende", answers), "kultur")
    # programm nein hides programm-erfahrung: only offenheit nicht = 0 counts.
    assert (kultur.score, kultur.counted, kultur.asked) == (0.0, 1, 2)
    # Shown (programm ja), gut = 2/2 = 1 counts: (1 + 0) / 2 = 50.0.
    shown = dim(score(probe, "mitarbeitende", {**answers, "programm": "ja"}), "kultur")
    assert (shown.score, shown.counted, shown.asked) == (50.0, 2, 3)


def test_hidden_items_hide_what_depends_on_them() -> None:
    # a nein hides b; b hidden means c's condition (b eq ja) sees no answer: c hidden too.
    raw = {"a": "nein", "b": "ja", "c": "ja"}
    clean, problems = validate_answers(KETTE, "alle", raw)
    assert clean == {"a": "nein"}
    assert problems == [
        AnswerProblem("b", "is hidden by its condition; leave it out"),
        AnswerProblem("c", "is hidden by its condition; leave it out"),
    ]
    assert dim(score(KETTE, "alle", raw), "d") == DimensionScore(
        id="d", score=None, counted=0, asked=0, unknown=0, band=None
    )
    # a ja, b nein: b counts 0, c hidden (its "ja" would have made 50.0).
    d = dim(score(KETTE, "alle", {"a": "ja", "b": "nein", "c": "ja"}), "d")
    assert (d.score, d.counted, d.asked) == (0.0, 1, 1)


# -- answer validation ----------------------------------------------------------------------


def test_valid_answers_come_back_clean_in_item_order(probe: Questionnaire) -> None:
    answers = {
        "anmerkung": "  Danke!  ",
        "offenheit": "teils",
        "programm": "ja",
        "programm-erfahrung": "gemischt",
        "wlan": "ja",
        "chaos": "nicht",
        "geraete": UNKNOWN_CODE,
        "werkzeuge": [UNKNOWN_CODE],
        "stunden": 0,
        "hindernisse": ["scheu", "zeit"],
    }
    clean, problems = validate_answers(probe, "mitarbeitende", answers)
    assert problems == []
    assert list(clean) == [
        "geraete",
        "chaos",
        "wlan",
        "werkzeuge",
        "programm",
        "programm-erfahrung",
        "offenheit",
        "stunden",
        "hindernisse",
        "anmerkung",
    ]
    assert clean["anmerkung"] == "Danke!"  # trimmed


def test_blank_optional_text_is_dropped(probe: Questionnaire) -> None:
    clean, problems = validate_answers(probe, "mitarbeitende", {**BASE, "anmerkung": "   "})
    assert problems == []
    assert "anmerkung" not in clean


GERAETE_CODES = "voll, eher, teils, kaum, nicht, keine-angabe"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"gibtsnicht": "ja"}, [AnswerProblem("gibtsnicht", "unknown item")]),
        (
            {"nur-unternehmen": "klein"},
            [AnswerProblem("nur-unternehmen", "is not asked in the perspective 'mitarbeitende'")],
        ),
        (
            {"geraete": "super"},
            [
                AnswerProblem(
                    "geraete", f"unknown option code 'super'; expected one of: {GERAETE_CODES}"
                )
            ],
        ),
        ({"wlan": None}, [AnswerProblem("wlan", "is required")]),
        (
            {"programm-erfahrung": "gut"},
            [AnswerProblem("programm-erfahrung", "is hidden by its condition; leave it out")],
        ),
        # Shown (programm ja) and required, but left open.
        ({"programm": "ja"}, [AnswerProblem("programm-erfahrung", "is required")]),
        # "keine Angabe" where the item does not offer it.
        (
            {"offenheit": UNKNOWN_CODE},
            [
                AnswerProblem(
                    "offenheit",
                    "unknown option code 'keine-angabe'; expected one of: "
                    "voll, eher, teils, kaum, nicht",
                )
            ],
        ),
        (
            {"wlan": UNKNOWN_CODE},
            [
                AnswerProblem(
                    "wlan", "unknown option code 'keine-angabe'; expected one of: ja, nein"
                )
            ],
        ),
        (
            {"hindernisse": [UNKNOWN_CODE]},
            [
                AnswerProblem(
                    "hindernisse",
                    "unknown option code(s) 'keine-angabe'; expected: zeit, technik, scheu, ziele",
                )
            ],
        ),
        # Wrong types, one per item type.
        (
            {"geraete": 3},
            [AnswerProblem("geraete", f"expected one option code ({GERAETE_CODES}), got a number")],
        ),
        (
            {"wlan": True},
            [AnswerProblem("wlan", "expected one option code (ja, nein), got true/false")],
        ),
        (
            {"programm": "ja", "programm-erfahrung": ["gut"]},
            [
                AnswerProblem(
                    "programm-erfahrung",
                    "expected one option code (gut, gemischt, schlecht), got a list",
                )
            ],
        ),
        (
            {"werkzeuge": "chat"},
            [
                AnswerProblem(
                    "werkzeuge",
                    "expected a list of option codes (chat, cloud, fax, keine-angabe), got a text",
                )
            ],
        ),
        (
            {"hindernisse": {"zeit": 1}},
            [
                AnswerProblem(
                    "hindernisse",
                    "expected a list of option codes (zeit, technik, scheu, ziele), got an object",
                )
            ],
        ),
        ({"stunden": "drei"}, [AnswerProblem("stunden", "expected a number, got a text")]),
        ({"stunden": False}, [AnswerProblem("stunden", "expected a number, got true/false")]),
        ({"stunden": float("nan")}, [AnswerProblem("stunden", "expected a finite number")]),
        ({"anmerkung": 42}, [AnswerProblem("anmerkung", "expected a text, got a number")]),
        # Lists of codes.
        (
            {"hindernisse": ["zeit", "scheu", "zeit"]},
            [AnswerProblem("hindernisse", "names an option more than once")],
        ),
        (
            {"hindernisse": ["zeit", "scheu", "ziele", "technik"]},
            [AnswerProblem("hindernisse", "choose between 1 and 3 options, got 4")],
        ),
        (
            {"hindernisse": []},
            [AnswerProblem("hindernisse", "choose between 1 and 3 options, got 0")],
        ),
        (
            {"werkzeuge": ["chat", UNKNOWN_CODE]},
            [AnswerProblem("werkzeuge", "'keine-angabe' cannot be combined with options")],
        ),
        (
            {"werkzeuge": ["chat", "chat"]},
            [AnswerProblem("werkzeuge", "names an option more than once")],
        ),
        # Ranges and lengths.
        ({"stunden": -0.5}, [AnswerProblem("stunden", "must be at least 0")]),
        ({"stunden": 10.5}, [AnswerProblem("stunden", "must be at most 10")]),
        (
            {"anmerkung": "x" * 201},
            [AnswerProblem("anmerkung", "is 201 characters long; at most 200")],
        ),
    ],
)
def test_answer_problems(
    probe: Questionnaire, change: dict[str, Any], expected: list[AnswerProblem]
) -> None:
    answers = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    clean, problems = validate_answers(probe, "mitarbeitende", answers)
    assert problems == expected
    for problem in expected:
        assert problem.item not in clean


@pytest.mark.parametrize(
    "change",
    [
        {"stunden": 0},
        {"stunden": 10},
        {"anmerkung": "x" * 200},
        {"hindernisse": ["ziele", "zeit", "scheu"]},
        {"werkzeuge": []},
        {"werkzeuge": ["fax", "cloud", "chat"]},
    ],
)
def test_answers_at_the_limits_are_accepted(probe: Questionnaire, change: dict[str, Any]) -> None:
    clean, problems = validate_answers(probe, "mitarbeitende", {**BASE, **change})
    assert problems == []
    assert clean == {**BASE, **change}


def test_every_problem_is_listed_at_once(probe: Questionnaire) -> None:
    answers = {"geraete": 3, "gibtsnicht": 1, "stunden": True, "programm": "nein"}
    _, problems = validate_answers(probe, "mitarbeitende", answers)
    # The unknown key first, then the items in order.
    assert [p.item for p in problems] == [
        "gibtsnicht",
        "geraete",
        "chaos",
        "wlan",
        "offenheit",
        "stunden",
    ]


def test_too_many_answers_are_refused_outright(probe: Questionnaire) -> None:
    answers = {f"x{i}": 1 for i in range(MAX_ANSWERS + 1)}
    assert validate_answers(probe, "mitarbeitende", answers) == (
        {},
        [AnswerProblem("answers", f"has {MAX_ANSWERS + 1} answers; at most {MAX_ANSWERS}")],
    )


def test_a_perspective_item_is_required_only_where_it_is_asked(probe: Questionnaire) -> None:
    # nur-unternehmen is optional anyway; the company sees it and may answer it.
    clean, problems = validate_answers(probe, "unternehmen", {**BASE, "nur-unternehmen": "klein"})
    assert problems == []
    assert clean["nur-unternehmen"] == "klein"


# -- version immutability -------------------------------------------------------------------


def loaded_as(definition: Questionnaire) -> LoadedQuestionnaire:
    return LoadedQuestionnaire(
        definition=definition,
        source="core",
        source_path="questionnaires/probe.yaml",
        hash=canonical_hash(definition),
    )


def reworded(definition: Questionnaire) -> Questionnaire:
    items = [
        msgspec.structs.replace(i, text="Fragen ist erwünscht.") if i.id == "offenheit" else i
        for i in definition.items
    ]
    return msgspec.structs.replace(definition, items=items)


def test_unchanged_published_version_passes(probe: Questionnaire) -> None:
    original = loaded_as(probe)
    assert check_immutable([original], {("probe", 1): (original.hash, "published")}) == []


def test_changed_published_version_must_bump_the_version(probe: Questionnaire) -> None:
    original = loaded_as(probe)
    changed = loaded_as(reworded(probe))
    assert changed.hash != original.hash
    (problem,) = check_immutable([changed], {("probe", 1): (original.hash, "published")})
    assert (problem.file, problem.field) == ("questionnaires/probe.yaml", "version")
    assert problem.message.startswith("'probe' version 1 is published and its content changed")
    assert f"stored {original.hash[:12]}, file {changed.hash[:12]}" in problem.message
    assert problem.message.endswith(
        "set version: 2 for the change (older versions stay in the database)"
    )


def test_changed_retired_version_is_refused_too(probe: Questionnaire) -> None:
    original = loaded_as(probe)
    changed = loaded_as(msgspec.structs.replace(reworded(probe), status="retired"))
    (problem,) = check_immutable([changed], {("probe", 1): (original.hash, "retired")})
    assert "'probe' version 1 is retired and its content changed" in problem.message


def test_retiring_a_published_version_is_not_a_change(probe: Questionnaire) -> None:
    original = loaded_as(probe)
    retired = loaded_as(msgspec.structs.replace(probe, status="retired"))
    assert retired.hash == original.hash  # the hash leaves status out
    assert check_immutable([retired], {("probe", 1): (original.hash, "published")}) == []


def test_a_changed_draft_may_change(probe: Questionnaire) -> None:
    draft = msgspec.structs.replace(probe, status="draft")
    changed = loaded_as(reworded(draft))
    assert check_immutable([changed], {("probe", 1): (loaded_as(draft).hash, "draft")}) == []


def test_a_published_version_cannot_become_a_draft_again(probe: Questionnaire) -> None:
    original = loaded_as(probe)
    draft = loaded_as(msgspec.structs.replace(probe, status="draft"))
    (problem,) = check_immutable([draft], {("probe", 1): (original.hash, "published")})
    assert problem.field == "status"
    assert "already published; it cannot become a draft again" in problem.message


def test_versions_not_in_the_database_are_not_checked(probe: Questionnaire) -> None:
    changed = loaded_as(reworded(probe))
    assert check_immutable([changed], {("probe", 2): ("0" * 64, "published")}) == []


# -- tandem fit -----------------------------------------------------------------------------

PROFILE = {
    "themen": ["video", "cloud"],
    "treffen": "vor-ort",
    "ausprobieren": "voll",
    "puenktlich": "voll",
    "berichtslinie": "nein",
}


def criteria(result: Any) -> dict[str, tuple[float | None, str]]:
    return {c.id: (c.score, c.explanation) for c in result.criteria}


def test_fit_criteria_with_partial_and_missing_answers(profil: Questionnaire) -> None:
    mentor = {**PROFILE, "themen": ["video"], "treffen": UNKNOWN_CODE}
    mentee = {**PROFILE, "themen": ["video", "cloud"], "puenktlich": "eher"}
    result = fit(profil, mentor, mentee)
    assert criteria(result) == {
        # The mentor covers 1 of the mentee's 2 topics: 0.5 → partial text.
        "themen": (50.0, "Teilweise: Videokonferenzen"),
        # "keine Angabe" on one side: not rated.
        "treffen": (None, NOT_RATED["de"]),
        # Distances on the 4-point scale: ausprobieren 0, puenktlich voll/eher 1/3:
        # 1 - (1/3) / 2 = 0.8333 → 83.3 ≥ 75 → match; 1 of 2 answers identical.
        "haltung": (83.3, "Ähnliche Haltung (1 von 2 gleich)"),
    }
    # (2×50 + 1×83.3) / 3 = 61.1 → [50, 80) Möglich.
    assert (result.score, result.band, result.excluded) == (61.1, 1, False)


def test_fit_with_no_common_ground(profil: Questionnaire) -> None:
    mentor = {**PROFILE, "themen": ["chat"], "treffen": "vor-ort", "puenktlich": "nicht"}
    mentee = {**PROFILE, "themen": ["video", "cloud"], "treffen": "digital"}
    result = fit(profil, mentor, mentee)
    assert criteria(result) == {
        "themen": (
            0.0,
            "Keine gemeinsamen Themen: Mentor bietet Messenger, "
            "Mentee sucht Videokonferenzen, Cloud-Ablage",
        ),
        # vor-ort / digital are not a compatible pair.
        "treffen": (0.0, "Unterschiedlich: vor Ort / digital"),
        # puenktlich voll/nicht: distance 3/3 = 1; 1 - 1/2 = 0.5 → no partial text → none.
        "haltung": (50.0, "Verschiedene Haltung (1 von 2 gleich)"),
    }
    # (2×0 + 0 + 50) / 4 = 12.5 → rot.
    assert (result.score, result.band) == (12.5, 0)


def test_fit_same_rule_and_compatible_pairs(profil: Questionnaire) -> None:
    both = fit(profil, {**PROFILE, "treffen": "digital"}, {**PROFILE, "treffen": "digital"})
    assert criteria(both)["treffen"] == (100.0, "Beide bevorzugen Treffen digital")
    # digital and beides are compatible: half, and what both can do is "digital".
    half = fit(profil, {**PROFILE, "treffen": "beides"}, {**PROFILE, "treffen": "digital"})
    assert criteria(half)["treffen"] == (50.0, "Vereinbar: digital")


def test_fit_in_english_and_nothing_rated(profil: Questionnaire) -> None:
    result = fit(profil, {}, {"themen": ["video"]}, lang="en")
    assert [c.explanation for c in result.criteria] == [NOT_RATED["en"]] * 3
    assert (result.score, result.band, result.excluded) == (None, None, False)


@pytest.mark.parametrize("who", ["mentor", "mentee"])
def test_an_exclusion_rules_out_a_perfect_pair(profil: Questionnaire, who: str) -> None:
    mentor = {**PROFILE, "themen": ["video", "cloud", "chat"]}
    mentee = dict(PROFILE)
    (mentor if who == "mentor" else mentee)["berichtslinie"] = "ja"
    result = fit(profil, mentor, mentee)
    # Everything matches: 100.0 in the top band, and still excluded.
    assert (result.score, result.band) == (100.0, 2)
    assert result.excluded is True
    assert [(x.id, x.title, x.text) for x in result.exclusions] == [
        ("berichtslinie", "Direkte Berichtslinie", "Wer direkt berichtet, fragt nicht frei.")
    ]


def test_keine_angabe_on_the_exclusion_item_does_not_exclude(profil: Questionnaire) -> None:
    result = fit(profil, {**PROFILE, "berichtslinie": UNKNOWN_CODE}, PROFILE)
    assert (result.excluded, result.exclusions) == (False, [])


# An exclusion on a multiple-choice item, which the loader accepts.
ROLLEN = build(
    """
    id: rollen
    version: 1
    status: draft
    purpose: profile
    title: Rollen
    perspectives: [{id: mentor, label: Mentor}, {id: mentee, label: Mentee}]
    items:
      - id: themen
        type: multiple_choice
        text: Themen
        options: [{code: video, label: Video}, {code: chat, label: Chat}]
      - id: rollen
        type: multiple_choice
        required: false
        text: Was trifft auf Ihre Tandem-Person zu?
        options:
          - {code: vorgesetzt, label: ist meine Vorgesetzte}
          - {code: team, label: im selben Team}
          - {code: fremd, label: kenne ich nicht}
    matching:
      mentor: mentor
      mentee: mentee
      criteria:
        - id: themen
          title: Themen
          rule: overlap
          mentor_item: themen
          mentee_item: themen
          texts: {match: Passt, none: Passt nicht}
      exclusions:
        - {id: vorgesetzt, title: Vorgesetzt, text: Nicht frei., item: rollen, codes: [vorgesetzt]}
      bands: [{from: 0, to: 100, ampel: gelb, title: Alle, text: Alle.}]
    """
)


@pytest.mark.parametrize(
    ("mentee_rollen", "excluded"),
    [
        (["team", "vorgesetzt"], True),  # the list names an excluding code
        (["vorgesetzt"], True),
        (["team", "fremd"], False),
        ([], False),
    ],
)
def test_an_exclusion_on_a_multiple_choice_item(mentee_rollen: list[str], excluded: bool) -> None:
    # Regression: the list answer was compared as a whole with the codes (never equal),
    # so such an exclusion never fired.
    mentor = {"themen": ["video"], "rollen": ["fremd"]}
    mentee = {"themen": ["video"], "rollen": mentee_rollen}
    result = fit(ROLLEN, mentor, mentee)
    assert result.score == 100.0  # 1 of 1 topic covered
    assert result.excluded is excluded
    assert [x.id for x in result.exclusions] == (["vorgesetzt"] if excluded else [])
