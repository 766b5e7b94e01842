"""What a content author reads when a questionnaire definition is broken: every problem
names the file, the field path, the line and the offending value."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from core.content.model import Problem
from core.quickcheck.loader import load_questionnaires
from core.quickcheck.model import LoadedQuestionnaire, canonical_hash

SLUGS = {"ueberblick", "aufgabenliste"}

ASSESSMENT = textwrap.dedent(
    """\
    id: mini
    version: 1
    status: published
    purpose: assessment
    title: Mini
    perspectives:
      - {id: alle, label: Alle}
    scales:
      - id: zustimmung
        options:
          - {code: voll, label: voll, score: 2}
          - {code: teils, label: teils, score: 1}
          - {code: nicht, label: nicht, score: 0}
    dimensions:
      - id: d
        title: D
        bands:
          - {from: 0, to: 50, ampel: rot, title: Rot, text: Rot.}
          - {from: 50, to: 100, ampel: gruen, title: Grün, text: Grün.}
    items:
      - id: wlan
        type: yes_no
        dimension: d
        text: Gibt es WLAN?
        options:
          - {code: ja, label: Ja, score: 1}
          - {code: nein, label: Nein, score: 0}
      - id: offen
        type: likert
        scale: zustimmung
        dimension: d
        text: Offen?
      - id: werkzeuge
        type: multiple_choice
        required: false
        text: Welche Werkzeuge?
        options:
          - {code: chat, label: Chat}
          - {code: cloud, label: Cloud}
      - id: warum
        type: text
        required: false
        text: Warum nicht?
        visible_if: {item: wlan, op: eq, value: nein}
    bands:
      - {from: 0, to: 40, ampel: rot, title: Rot, text: Rot., recommendations: [ueberblick]}
      - {from: 40, to: 70, ampel: gelb, title: Gelb, text: Gelb.}
      - {from: 70, to: 100, ampel: gruen, title: Grün, text: Grün.}
    """
)

PROFILE = textwrap.dedent(
    """\
    id: profil
    version: 1
    status: published
    purpose: profile
    title: Profil
    perspectives:
      - {id: mentor, label: Mentor}
      - {id: mentee, label: Mentee}
    items:
      - id: themen
        type: multiple_choice
        text: Themen
        options:
          - {code: video, label: Video}
          - {code: chat, label: Chat}
      - id: treffen
        type: single_choice
        text: Treffen
        options:
          - {code: vor-ort, label: vor Ort}
          - {code: digital, label: digital}
      - id: berichtslinie
        type: yes_no
        text: Berichtslinie?
        options:
          - {code: ja, label: Ja}
          - {code: nein, label: Nein}
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
        - id: treffen
          title: Treffen
          rule: same
          item: treffen
          texts: {match: Gleich, none: Verschieden}
      exclusions:
        - {id: linie, title: Linie, text: Nicht frei., item: berichtslinie, codes: [ja]}
      bands:
        - {from: 0, to: 50, ampel: rot, title: Schwer, text: Schwer.}
        - {from: 50, to: 100, ampel: gruen, title: Gut, text: Gut.}
    """
)


def load(tmp_path: Path, text: str) -> tuple[Path, list[LoadedQuestionnaire], list[Problem]]:
    path = tmp_path / "fragebogen.yaml"
    path.write_text(text, encoding="utf-8")
    loaded, problems = load_questionnaires([("core", path)], SLUGS)
    return path, loaded, problems


def edit(base: str, old: str, new: str) -> str:
    assert base.count(old) == 1, f"{old!r} must occur once"
    return base.replace(old, new)


def line(text: str, needle: str) -> int:
    """The 1-based line holding ``needle`` (which must occur on exactly one line)."""
    found = [n for n, content in enumerate(text.splitlines(), start=1) if needle in content]
    assert len(found) == 1, f"{needle!r} is on lines {found}"
    return found[0]


@pytest.mark.parametrize("base", [ASSESSMENT, PROFILE], ids=["assessment", "profile"])
def test_the_bases_are_valid(tmp_path: Path, base: str) -> None:
    path, loaded, problems = load(tmp_path, base)
    assert problems == []
    (one,) = loaded
    assert (one.source, one.source_path) == ("core", str(path))
    assert one.hash == canonical_hash(one.definition)


# (base, old, new, field, the text on the reported line, words the message contains)
CASES = [
    pytest.param(
        ASSESSMENT,
        "{item: wlan, op: eq, value: nein}",
        "{item: wlaan, op: eq, value: nein}",
        "items[3].visible_if.item",
        "item: wlaan",
        ["unknown item 'wlaan'"],
        id="condition-unknown-item",
    ),
    pytest.param(
        ASSESSMENT,
        "    text: Offen?\n",
        "    text: Offen?\n    visible_if: {item: warum, op: answered, value: true}\n",
        "items[1].visible_if.item",
        "item: warum, op: answered",
        ["refers to 'warum', which comes later", "only to earlier items"],
        id="condition-forward-reference",
    ),
    pytest.param(
        ASSESSMENT,
        "    text: Offen?\n",
        "    text: Offen?\n"
        "    visible_if:\n"
        "      all:\n"
        "        - {item: wlan, op: eq, value: ja}\n"
        "        - not: {item: werkzeuge, op: contains, value: chat}\n",
        "items[1].visible_if.all[1].not.item",
        "not: {item: werkzeuge",
        ["refers to 'werkzeuge', which comes later"],
        id="condition-nested-forward-reference",
    ),
    pytest.param(
        ASSESSMENT,
        "{item: wlan, op: eq, value: nein}",
        "{item: warum, op: answered, value: true}",
        "items[3].visible_if.item",
        "item: warum, op: answered",
        ["an item cannot depend on its own answer"],
        id="condition-self-reference",
    ),
    pytest.param(
        ASSESSMENT,
        "{item: wlan, op: eq, value: nein}",
        "{item: wlan, op: equals, value: nein}",
        "items[3].visible_if.op",
        "op: equals",
        [
            "unknown operator 'equals'; allowed: eq, ne, in, not_in, contains, gt, gte, lt, "
            "lte, answered"
        ],
        id="condition-unknown-operator",
    ),
    pytest.param(
        ASSESSMENT,
        "{item: wlan, op: eq, value: nein}",
        "{item: wlan, op: eq, value: vielleicht}",
        "items[3].visible_if.value",
        "value: vielleicht",
        ["'vielleicht' is not an option code of 'wlan'; expected one of: ja, nein"],
        id="condition-unknown-code",
    ),
    pytest.param(
        ASSESSMENT,
        "{item: wlan, op: eq, value: nein}",
        "{item: wlan, op: gte, value: 3}",
        "items[3].visible_if.value",
        "op: gte",
        ["operator 'gte' on the yes_no item 'wlan' needs a number item"],
        id="condition-operator-for-numbers",
    ),
    pytest.param(
        ASSESSMENT,
        "{from: 0, to: 50, ampel: rot, title: Rot, text: Rot.}",
        "{from: 0, to: 40, ampel: rot, title: Rot, text: Rot.}",
        "dimensions[0].bands[1].from",
        "{from: 50, to: 100",
        ["starts at 50 but the previous band ends at 40 (a gap)", "without gap or overlap"],
        id="band-gap",
    ),
    pytest.param(
        ASSESSMENT,
        "{from: 0, to: 50, ampel: rot, title: Rot, text: Rot.}",
        "{from: 0, to: 60, ampel: rot, title: Rot, text: Rot.}",
        "dimensions[0].bands[1].from",
        "{from: 50, to: 100",
        ["starts at 50 but the previous band ends at 60 (an overlap)"],
        id="band-overlap",
    ),
    pytest.param(
        ASSESSMENT,
        "{from: 0, to: 40, ampel: rot, title: Rot, text: Rot., recommendations",
        "{from: 5, to: 40, ampel: rot, title: Rot, text: Rot., recommendations",
        "bands[0].from",
        "{from: 5, to: 40",
        ["starts at 5 but the previous band ends at 0 (a gap)"],
        id="band-not-from-0",
    ),
    pytest.param(
        ASSESSMENT,
        "{from: 70, to: 100, ampel: gruen",
        "{from: 70, to: 95, ampel: gruen",
        "bands[2].to",
        "to: 95",
        ["the last band ends at 95; it must end at 100"],
        id="band-not-to-100",
    ),
    pytest.param(
        PROFILE,
        "{from: 50, to: 100, ampel: gruen, title: Gut",
        "{from: 50, to: 99.5, ampel: gruen, title: Gut",
        "matching.bands[1].to",
        "to: 99.5",
        ["the last band ends at 99.5; it must end at 100"],
        id="fit-band-not-to-100",
    ),
    pytest.param(
        ASSESSMENT,
        "recommendations: [ueberblick]",
        "recommendations: [ueberblick, gibtsnicht]",
        "bands[0].recommendations[1]",
        "gibtsnicht",
        ["no published entry has the slug 'gibtsnicht'", "the file name without .md"],
        id="recommendation-unknown-slug",
    ),
    pytest.param(
        ASSESSMENT,
        "recommendations: [ueberblick]",
        "recommendations: [ueberblick, ueberblick]",
        "bands[0].recommendations",
        "recommendations: [ueberblick, ueberblick]",
        ["an entry is recommended twice"],
        id="recommendation-repeated",
    ),
    pytest.param(
        ASSESSMENT,
        "recommendations: [ueberblick]}",
        "recommendations: [ueberblick], for_perspective: {chef: {recommendations: []}}}",
        "bands[0].for_perspective.chef",
        "for_perspective",
        ["unknown perspective 'chef'"],
        id="band-wording-unknown-perspective",
    ),
    pytest.param(
        ASSESSMENT,
        "{code: cloud, label: Cloud}",
        "{code: chat, label: Cloud}",
        "items[2].options[1].code",
        "{code: chat, label: Cloud}",
        ["duplicate option code 'chat'"],
        id="option-duplicate-code",
    ),
    pytest.param(
        ASSESSMENT,
        "{code: cloud, label: Cloud}",
        "{code: keine-angabe, label: weiß nicht}",
        "items[2].options[1].code",
        "code: keine-angabe",
        ["the code 'keine-angabe' is reserved", "set allow_unknown: true"],
        id="option-reserved-code",
    ),
    pytest.param(
        ASSESSMENT,
        "{code: nicht, label: nicht, score: 0}",
        "{code: keine-angabe, label: nicht, score: 0}",
        "scales[0].options[2].code",
        "code: keine-angabe",
        ["the code 'keine-angabe' is reserved"],
        id="scale-reserved-code",
    ),
    pytest.param(
        ASSESSMENT,
        "  - id: werkzeuge\n",
        "  - id: wlan\n",
        "items[2].id",
        "  - id: wlan\n    type: multiple_choice",
        ["duplicate item id 'wlan'"],
        id="item-duplicate-id",
    ),
    pytest.param(
        ASSESSMENT,
        "    text: Offen?\n",
        "    text: Offen?\n    hint: Tipp\n",
        "items[1].hint",
        "hint: Tipp",
        ["unknown field; allowed fields are: id, type, text, wording, help,", "max_length"],
        id="unknown-field-in-item",
    ),
    pytest.param(
        ASSESSMENT,
        "title: Mini\n",
        "title: Mini\ntitel: Mini\n",
        "titel",
        "titel: Mini",
        ["unknown field; allowed fields are: id, version, status, purpose, title,"],
        id="unknown-field-at-top",
    ),
    pytest.param(
        ASSESSMENT,
        "{code: ja, label: Ja, score: 1}",
        "{code: ja, label: Ja, points: 1}",
        "items[0].options[0].points",
        "points: 1",
        ["unknown field; allowed fields are: code, label, score"],
        id="unknown-field-in-option",
    ),
    pytest.param(
        ASSESSMENT,
        "    text: Offen?\n",
        "    text: Offen?\n    weight: viel\n",
        "items[1].weight",
        "weight: viel",
        ["expected a number, got text"],
        id="wrong-type-number",
    ),
    pytest.param(
        ASSESSMENT,
        "    text: Offen?\n",
        "    text: 42\n",
        "items[1].text",
        "text: 42",
        ["expected text or a mapping of names to values, got a number (put it in quotes)"],
        id="wrong-type-text",
    ),
    pytest.param(
        ASSESSMENT,
        "    text: Offen?\n",
        "",
        "items[1].text",
        "  - id: offen",
        ["required field is missing"],
        id="missing-field",
    ),
    pytest.param(
        ASSESSMENT,
        "    scale: zustimmung\n",
        "",
        "items[1].scale",
        "  - id: offen",
        ["a likert item names a scale"],
        id="likert-without-scale",
    ),
    pytest.param(
        PROFILE,
        "      mentor_item: themen\n",
        "      mentor_item: thema\n",
        "matching.criteria[0].mentor_item",
        "mentor_item: thema",
        ["unknown item 'thema'"],
        id="criterion-unknown-item",
    ),
    pytest.param(
        PROFILE,
        "      item: treffen\n",
        "      item: themen\n",
        "matching.criteria[1].item",
        "      item: themen",
        ["'themen' is a multiple_choice item; this rule needs single_choice or yes_no"],
        id="criterion-wrong-item-type",
    ),
    pytest.param(
        PROFILE,
        "item: berichtslinie, codes: [ja]",
        "item: berichtslinie, codes: [jein]",
        "matching.exclusions[0].codes[0]",
        "codes: [jein]",
        ["'jein' is not an option code of 'berichtslinie'"],
        id="exclusion-unknown-code",
    ),
    pytest.param(
        PROFILE,
        "item: berichtslinie, codes: [ja]",
        "item: linie, codes: [ja]",
        "matching.exclusions[0].item",
        "item: linie",
        ["unknown item 'linie'"],
        id="exclusion-unknown-item",
    ),
    pytest.param(
        PROFILE,
        "  mentee: mentee\n",
        "  mentee: lernende\n",
        "matching.mentee",
        "mentee: lernende",
        ["unknown perspective 'lernende'; expected one of: mentee, mentor"],
        id="matching-unknown-perspective",
    ),
]


@pytest.mark.parametrize(("base", "old", "new", "field", "on_line", "words"), CASES)
def test_a_broken_definition_names_field_line_and_culprit(
    tmp_path: Path,
    base: str,
    old: str,
    new: str,
    field: str,
    on_line: str,
    words: list[str],
) -> None:
    text = edit(base, old, new)
    path, loaded, problems = load(tmp_path, text)
    assert loaded == []
    (problem,) = problems
    expected_line = line(text, on_line) if "\n" not in on_line else _block_line(text, on_line)
    assert (problem.file, problem.field, problem.line) == (str(path), field, expected_line)
    for word in words:
        assert word in problem.message
    # What the author sees on the console: file:line: field: message.
    assert str(problem) == f"{path}:{expected_line}: {field}: {problem.message}"


def _block_line(text: str, block: str) -> int:
    """The line where a multi-line ``block`` starts."""
    assert text.count(block) == 1
    return text[: text.index(block)].count("\n") + 1


def test_likert_with_unknown_scale(tmp_path: Path) -> None:
    text = edit(ASSESSMENT, "    scale: zustimmung\n", "    scale: zustimmig\n")
    _, loaded, problems = load(tmp_path, text)
    assert loaded == []
    # One problem: not also "a scored item needs at least two different option scores",
    # which only followed from the scale being unknown.
    (problem,) = problems
    assert (problem.field, problem.line) == ("items[1].scale", line(text, "scale: zustimmig"))
    assert problem.message == "unknown scale 'zustimmig'; expected one of: zustimmung"


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    text = ASSESSMENT
    for old, new in [
        ("{item: wlan, op: eq, value: nein}", "{item: wlaan, op: eq, value: nein}"),
        ("{code: cloud, label: Cloud}", "{code: chat, label: Cloud}"),
        ("recommendations: [ueberblick]", "recommendations: [gibtsnicht]"),
        ("{from: 70, to: 100, ampel: gruen", "{from: 70, to: 90, ampel: gruen"),
    ]:
        text = edit(text, old, new)
    _, loaded, problems = load(tmp_path, text)
    assert loaded == []
    # In the order of the checks: items, then the bands.
    assert [p.field for p in problems] == [
        "items[2].options[1].code",
        "items[3].visible_if.item",
        "bands[0].recommendations[0]",
        "bands[2].to",
    ]


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    text = edit(ASSESSMENT, "    text: Offen?\n", "    text: [Offen?\n")
    path, loaded, problems = load(tmp_path, text)
    assert loaded == []
    (problem,) = problems
    assert problem.file == str(path)
    assert problem.message.startswith("is not valid YAML")
    # The parser notices the unclosed list on a later line, never before it.
    assert problem.line is not None
    assert problem.line >= line(text, "text: [Offen?")


def test_a_file_that_is_not_a_mapping(tmp_path: Path) -> None:
    _, _, problems = load(tmp_path, "- id: mini\n")
    assert [(p.line, p.message) for p in problems] == [
        (1, "must be a YAML mapping of field names to values")
    ]


def test_the_same_version_in_two_files(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(ASSESSMENT, encoding="utf-8")
    (tmp_path / "b.yaml").write_text(ASSESSMENT, encoding="utf-8")
    loaded, problems = load_questionnaires([("core", tmp_path)], SLUGS)
    # The folder is read in name order: a.yaml is loaded, b.yaml is refused.
    assert [q.source_path for q in loaded] == [str(tmp_path / "a.yaml")]
    (problem,) = problems
    assert (problem.file, problem.field, problem.line) == (
        str(tmp_path / "b.yaml"),
        "version",
        line(ASSESSMENT, "version: 1"),
    )
    assert problem.message == (
        f"'mini' version 1 is also defined in {tmp_path / 'a.yaml'}; each version lives in one file"
    )


def test_a_missing_file(tmp_path: Path) -> None:
    loaded, problems = load_questionnaires([("core", tmp_path / "weg.yaml")], SLUGS)
    assert loaded == []
    assert [p.message for p in problems] == ["questionnaire file does not exist"]


def test_an_unknown_item_type_lists_the_item_types(tmp_path: Path) -> None:
    text = edit(ASSESSMENT, "    type: yes_no\n", "    type: yesno\n")
    _, _, problems = load(tmp_path, text)
    (problem,) = problems
    assert (problem.field, problem.line) == ("items[0].type", line(text, "type: yesno"))
    assert "'yesno'" in problem.message
    assert "single_choice" in problem.message
    assert "published" not in problem.message
