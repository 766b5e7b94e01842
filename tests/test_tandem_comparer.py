"""The tandem comparer on the shipped tandem profile, version 2: time in the company with
shifts and days away (vocational school), the mentee's experience against what the mentor
wants to learn (the reverse direction), the Lotse's pair markings, and profiles of
different versions. No database; the expected numbers follow from the rules in
docs/QUICKCHECK.md, the sentences are what the Lotse reads."""

from __future__ import annotations

from functools import cache
from typing import Any

import msgspec
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from core.quickcheck.engine import validate_answers
from core.quickcheck.loader import load_questionnaires
from core.quickcheck.matching import assign
from core.quickcheck.model import Questionnaire
from core.quickcheck.tandem import (
    Comparer,
    Fit,
    PairMarking,
    ProfileMismatch,
    fit,
    marks_by_pair,
    require_comparable,
)
from tests.conftest import SHIPPED_CONTENT
from tests.test_quickcheck_property import STABLE, _slugs, answer_sets

FOLDER = SHIPPED_CONTENT / "questionnaires"


@cache
def profile(version: int) -> Questionnaire:
    path = FOLDER / ("tandem-profil.yaml" if version == 2 else f"tandem-profil-v{version}.yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    loaded, problems = load_questionnaires([("core", path)], set(_slugs(data)))
    assert problems == [], "\n".join(map(str, problems))
    (one,) = loaded
    assert (one.definition.id, one.definition.version) == ("tandem-profil", version)
    return one.definition


# A mentor (an apprentice in day work) and a mentee (a skilled worker) who fit on
# everything but what each test changes.
MENTOR: dict[str, Any] = {
    "themen": ["videokonferenzen", "cloud-ablage"],
    "erfahrung": ["kundenkontakt", "ablaeufe"],
    "arbeitszeit": "tagsueber",
    "abwesenheit": "nein",
    "treffen-form": "vor-ort",
    "bereich": "verwaltung",
    "ausprobieren": "voll",
    "fehler-lernchance": "voll",
    "termine-verlaesslich": "eher",
    "direkte-rueckmeldung": "eher",
    "fester-plan": "kaum",
}
MENTEE: dict[str, Any] = {**MENTOR, "bereich": "produktion"}


def pair(mentor: dict[str, Any] | None = None, mentee: dict[str, Any] | None = None) -> Fit:
    """The fit of MENTOR and MENTEE changed by the given answers, validated as the API would."""
    d = profile(2)
    answers = []
    for perspective, base, change in (("mentor", MENTOR, mentor), ("mentee", MENTEE, mentee)):
        given_answers = {**base, **(change or {})}
        clean, problems = validate_answers(d, perspective, given_answers)
        assert problems == [], problems
        answers.append(clean)
    return fit(d, *answers)


def criterion(result: Fit, criterion_id: str) -> tuple[float | None, str]:
    found = next(c for c in result.criteria if c.id == criterion_id)
    return found.score, found.explanation


def test_the_alike_pair_fits_fully() -> None:
    result = pair()
    assert result.score == 100.0
    assert not result.excluded
    assert criterion(result, "zeitfenster") == (
        100.0,
        "Beide sind zur selben Zeit im Betrieb: vormittags (8 bis 12 Uhr), mittags "
        "(12 bis 14 Uhr), nachmittags (14 bis 17 Uhr); an allen Werktagen.",
    )
    assert criterion(result, "bereich")[1].startswith("Verschiedene Bereiche (Mentorin/Mentor:")


# -- time in the company: shifts and days away -----------------------------------------------


@pytest.mark.parametrize(
    ("mentor_time", "mentee_time", "score", "slots"),
    [
        # Early shift 6–14 and day work share the morning and midday.
        ("tagsueber", "fruehschicht", 100.0, "vormittags (8 bis 12 Uhr), mittags (12 bis 14 Uhr)"),
        # Late shift 14–22 and day work share only the afternoon: one slot is half.
        ("tagsueber", "spaetschicht", 50.0, "nachmittags (14 bis 17 Uhr)"),
        ("teilzeit-vormittags", "gleitzeit", 50.0, "vormittags (8 bis 12 Uhr)"),
        ("spaetschicht", "spaetschicht", 100.0, "nachmittags (14 bis 17 Uhr), abends"),
    ],
)
def test_working_times_share_slots_of_the_day(
    mentor_time: str, mentee_time: str, score: float, slots: str
) -> None:
    value, text = criterion(
        pair({"arbeitszeit": mentor_time}, {"arbeitszeit": mentee_time}), "zeitfenster"
    )
    assert value == score
    assert slots in text
    # The same pair the other way round: time in the company is symmetric.
    back, _ = criterion(
        pair({"arbeitszeit": mentee_time}, {"arbeitszeit": mentor_time}), "zeitfenster"
    )
    assert back == score


@pytest.mark.parametrize(
    ("mentor_time", "mentee_time"),
    [("fruehschicht", "spaetschicht"), ("tagsueber", "nachtschicht")],
)
def test_shifts_that_never_meet_score_nothing_and_say_so(
    mentor_time: str, mentee_time: str
) -> None:
    result = pair({"arbeitszeit": mentor_time}, {"arbeitszeit": mentee_time})
    value, text = criterion(result, "zeitfenster")
    assert value == 0.0
    assert text.startswith("Keine gemeinsame Zeit im Betrieb")
    assert "Schichtwechsel" in text
    assert result.score is not None
    assert result.score < 100


def test_alternating_shifts_fit_only_some_weeks() -> None:
    value, text = criterion(pair(mentee={"arbeitszeit": "wechselschicht"}), "zeitfenster")
    # Day work shares three slots with early/late shifts, but only in some weeks.
    assert value == 50.0
    assert text.startswith("Nur begrenzt gemeinsame Zeit im Betrieb: vormittags")
    assert text.endswith("Termine nach dem Schichtplan vereinbaren.")


def test_school_days_of_the_apprentice_and_the_mentees_days_off_are_matched() -> None:
    apprentice = {"abwesenheit": "feste-tage", "abwesenheitstage": ["montag", "donnerstag"]}
    # The mentee works part time, away Tuesday, Wednesday and Friday: no common day.
    part_time = {
        "abwesenheit": "feste-tage",
        "abwesenheitstage": ["dienstag", "mittwoch", "freitag"],
    }
    value, text = criterion(pair(apprentice, part_time), "zeitfenster")
    assert value == 0.0
    assert "nicht montags, donnerstags" in text
    assert "nicht dienstags, mittwochs, freitags" in text
    # Away only on Thursday: Tuesday, Wednesday and Friday are common — enough.
    value, text = criterion(
        pair(apprentice, {"abwesenheit": "feste-tage", "abwesenheitstage": ["donnerstag"]}),
        "zeitfenster",
    )
    assert value == 100.0
    assert text.endswith("; dienstags, mittwochs, freitags.")
    # School on Monday to Wednesday, the mentee away on Thursday: only Friday is left.
    value, text = criterion(
        pair(
            {"abwesenheit": "feste-tage", "abwesenheitstage": ["montag", "dienstag", "mittwoch"]},
            {"abwesenheit": "feste-tage", "abwesenheitstage": ["donnerstag"]},
        ),
        "zeitfenster",
    )
    assert value == 50.0
    assert "; freitags (Mentorin/Mentor:" in text


def test_school_days_and_a_late_shift_together() -> None:
    """The apprentice is at school on Monday and Thursday, the mentee works late shifts:
    the afternoon on three days is what they share."""
    value, text = criterion(
        pair(
            {"abwesenheit": "feste-tage", "abwesenheitstage": ["montag", "donnerstag"]},
            {"arbeitszeit": "spaetschicht"},
        ),
        "zeitfenster",
    )
    assert value == 50.0  # one slot of the day, three days
    assert "nachmittags (14 bis 17 Uhr); dienstags, mittwochs, freitags" in text


def test_block_release_adds_a_sentence_without_changing_the_score() -> None:
    value, text = criterion(pair({"abwesenheit": "blockunterricht"}), "zeitfenster")
    assert value == 100.0
    assert text.endswith("Termine nach dem Schulplan vereinbaren.")


def test_an_unknown_working_time_is_not_rated() -> None:
    result = pair(mentee={"arbeitszeit": "keine-angabe"})
    value, text = criterion(result, "zeitfenster")
    assert value is None
    assert text.startswith("Nicht bewertbar")
    assert result.score == 100.0  # the criteria left are all fine


# -- the reverse direction: what the mentee passes on -------------------------------------------


def test_the_mentees_experience_is_compared_with_what_the_mentor_wants_to_learn() -> None:
    mentor = {"erfahrung": ["kundenkontakt", "netzwerk"]}
    mentee = {"erfahrung": ["kundenkontakt", "fachwissen", "qualitaet"]}
    value, text = criterion(pair(mentor, mentee), "erfahrung")
    # One of the two things the mentor wants; the mentee's other experience does not count.
    assert value == 50.0
    assert text == (
        "Der Mentee kann einen Teil dessen weitergeben, was die Mentorin oder der Mentor "
        "lernen möchte: Umgang mit Kundinnen und Kunden. Gewünscht ist insgesamt: Umgang mit "
        "Kundinnen und Kunden, Kontakte im Betrieb und zu Lieferanten und Partnern."
    )
    # The other way round it would be one of three: the direction matters.
    value, _ = criterion(pair(mentee, mentor), "erfahrung")
    assert value == 33.3
    value, text = criterion(pair({"erfahrung": ["betriebsgeschichte"]}), "erfahrung")
    assert value == 0.0
    assert text.startswith("Der Mentee bringt andere Erfahrung mit (Umgang mit Kundinnen")
    # A mentor who names nothing to learn: not rated, not zero.
    d = profile(2)
    mentor_answers = {k: v for k, v in MENTOR.items() if k != "erfahrung"}
    assert criterion(fit(d, mentor_answers, MENTEE), "erfahrung")[0] is None


def test_the_topics_still_go_from_mentor_to_mentee() -> None:
    value, text = criterion(
        pair({"themen": ["videokonferenzen"]}, {"themen": ["videokonferenzen", "teamchat"]}),
        "themen",
    )
    assert value == 50.0
    assert text.startswith("Digitale Themen passen teilweise: Videokonferenzen.")


# -- pair markings of the Lotse -----------------------------------------------------------------


def test_a_reporting_line_or_not_with_rules_the_pair_out() -> None:
    comparer = Comparer(profile(2))
    assert comparer.score(MENTOR, MENTEE) == 100.0
    for kind, title in (
        ("berichtslinie", "Direkte Vorgesetzten-Beziehung"),
        ("nicht-mit", "Von der Lotsin oder dem Lotsen ausgeschlossen"),
    ):
        assert comparer.score(MENTOR, MENTEE, {kind}) is None
        result = comparer.fit(MENTOR, MENTEE, {kind})
        assert result.excluded
        assert result.score == 100.0  # the score alone would say "fits"
        (exclusion,) = result.exclusions
        assert (exclusion.id, exclusion.title) == (f"markierung-{kind}", title)
        assert exclusion.text.startswith("Die Lotsin oder der Lotse hat vermerkt")


def test_the_same_team_is_weighed_as_a_criterion() -> None:
    comparer = Comparer(profile(2))
    result = comparer.fit(MENTOR, MENTEE, {"gleiches-team"})
    assert not result.excluded
    value, text = criterion(result, "bereich")
    assert value == 0.0
    assert text.startswith("Die Lotsin oder der Lotse hat vermerkt, dass beide im selben Team")
    # 10 of 11 weight points at 100, the department at 0.
    assert result.score == round(1000 / 11, 1)
    assert comparer.score(MENTOR, MENTEE, {"gleiches-team"}) == result.score
    # Without the marking, the same department counts half and says so.
    value, text = criterion(comparer.fit(MENTOR, MENTOR), "bereich")
    assert value == 50.0
    assert text.startswith("Beide arbeiten im Bereich Verwaltung, Buchhaltung und Personal:")


def test_version_1_notes_a_same_team_marking_and_honours_the_others() -> None:
    v1 = Comparer(profile(1))
    answers = {"themen": ["videokonferenzen"], "zeitfenster": "vormittags", "berichtslinie": "nein"}
    result = v1.fit(answers, answers, {"gleiches-team"})
    assert result.notes == [
        "Die Lotsin oder der Lotse hat vermerkt, dass beide im selben Team arbeiten; diese "
        "Fassung des Tandem-Profils bezieht das nicht in die Passung ein."
    ]
    assert v1.score(answers, answers, {"nicht-mit"}) is None
    # Its own exclusion from the answers still works.
    assert v1.score(answers, {**answers, "berichtslinie": "ja"}) is None


def test_markings_decode_strictly_and_make_the_matrix_the_assignment_respects() -> None:
    markings = msgspec.json.decode(
        b'[{"mentor": "M1", "mentee": "E1", "kind": "berichtslinie"},'
        b' {"mentor": "M2", "mentee": "E1", "kind": "gleiches-team"}]',
        type=list[PairMarking],
    )
    assert marks_by_pair(markings) == {
        ("M1", "E1"): frozenset({"berichtslinie"}),
        ("M2", "E1"): frozenset({"gleiches-team"}),
    }
    for bad in (
        b'[{"mentor": "M1", "mentee": "E1", "kind": "chef"}]',
        b'[{"mentor": "", "mentee": "E1", "kind": "nicht-mit"}]',
        b'[{"mentor": "M1", "mentee": "E1", "kind": "nicht-mit", "name": "Frau X"}]',
    ):
        with pytest.raises(msgspec.ValidationError):
            msgspec.json.decode(bad, type=list[PairMarking])

    comparer = Comparer(profile(2))
    mentors = [("M1", MENTOR), ("M2", MENTOR)]
    mentees = [("E1", MENTEE), ("E2", {**MENTEE, "arbeitszeit": "nachtschicht"})]
    matrix = comparer.matrix(mentors, mentees, markings)
    same_team = round(1000 / 11, 1)
    night = round((11 - 2) * 100 / 11, 1)
    assert matrix == [[None, same_team], [night, night]]
    # The best total puts E1 with M2 (the blocked M1 is never proposed) and E2 with M1.
    result = assign(matrix, [1, 1])
    assert {(p.mentee, p.mentor) for p in result.pairs} == {(0, 1), (1, 0)}


# -- versions -------------------------------------------------------------------------------------


def test_profiles_of_different_versions_are_refused_in_german() -> None:
    with pytest.raises(ProfileMismatch) as caught:
        require_comparable(("tandem-profil", 1), ("tandem-profil", 2))
    assert caught.value.message == (
        "Die beiden Profile stammen aus verschiedenen Fassungen des Tandem-Profils "
        "(Mentorin/Mentor: Fassung 1, Mentee: Fassung 2). Profile verschiedener Fassungen "
        "lassen sich nicht vergleichen, weil die Fragen sich unterscheiden. Bitte lassen Sie "
        "die Person mit der älteren Fassung das Tandem-Profil in Fassung 2 neu ausfüllen."
    )
    with pytest.raises(ProfileMismatch, match="verschiedenen Fragebögen"):
        Comparer(profile(2)).require("quickcheck-reverse-mentoring", 2)
    Comparer(profile(2)).require("tandem-profil", 2)  # the same version passes


# -- properties -----------------------------------------------------------------------------------

MARKS = st.frozensets(st.sampled_from(["gleiches-team", "berichtslinie", "nicht-mit"]))


@STABLE
@given(data=st.data(), marks=MARKS)
def test_any_two_valid_profiles_and_markings_compare_and_explain_themselves(
    data: st.DataObject, marks: frozenset[Any]
) -> None:
    d = profile(2)
    profiles = []
    for perspective in ("mentor", "mentee"):
        clean, problems = validate_answers(d, perspective, data.draw(answer_sets(d, perspective)))
        assert problems == []
        profiles.append(clean)
    mentor, mentee = profiles
    comparer = Comparer(d)
    result = comparer.fit(mentor, mentee, marks)
    blocked = bool(marks & {"berichtslinie", "nicht-mit"})
    assert result.excluded is blocked
    assert comparer.score(mentor, mentee, marks) == (
        None if blocked else (result.score if result.score is not None else 0.0)
    )
    for c in result.criteria:
        assert c.explanation, c
        assert "{" not in c.explanation, c
        assert c.score is None or 0 <= c.score <= 100
    if "gleiches-team" in marks:
        assert criterion(result, "bereich")[0] == 0.0
    # Time in the company does not depend on who is the mentor.
    swapped = comparer.fit(mentee, mentor, marks)
    assert criterion(swapped, "zeitfenster")[0] == criterion(result, "zeitfenster")[0]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "        nachtschicht: [nachts]\n",
            "",
            "option 'nachtschicht' of 'arbeitszeit' has no time slots",
        ),
        (
            "teilzeit-nachmittags: [nachmittags]",
            "teilzeit-nachmittags: [spaet]",
            "'spaet' is not one of the slots",
        ),
        ("rotating: [wechselschicht]", "rotating: [schicht]", "'schicht' is not a key of windows"),
        (
            "codes: [blockunterricht]",
            "codes: [block]",
            "'block' is not an option code of 'abwesenheit'",
        ),
        (
            "days_item: abwesenheitstage",
            "days_item: abwesenheit",
            "this rule needs multiple_choice",
        ),
        (
            "      item: treffen-form\n",
            "      item: treffen-form\n      marking: gleiches-team\n",
            "only a criterion with rule: different uses a marking",
        ),
        ("rule: reverse_overlap", "rule: reverse_overlap\n      item: bereich", None),
    ],
)
def test_a_broken_matching_section_is_reported(
    tmp_path: Any, old: str, new: str, message: str | None
) -> None:
    """What the checker says to a content author who gets the new rules wrong."""
    text = (FOLDER / "tandem-profil.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "tandem-profil.yaml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    data = yaml.safe_load(text)
    loaded, problems = load_questionnaires([("core", path)], set(_slugs(data)))
    found = [str(p) for p in problems]
    if message is None:  # an item a rule does not use is harmless
        assert found == []
        return
    assert loaded == []
    assert any(message in p for p in found), found
